//! The throwaway PostgreSQL cluster: started on a free loopback port with the asked
//! `max_connections`, and gone (process and files) once dropped.

use std::path::Path;

use coldfront::orchestrate::postgres::{ClusterOptions, PgCluster};

#[test]
fn cluster_starts_and_leaves_nothing_behind() {
    let cluster = PgCluster::start(&ClusterOptions {
        max_connections: 23,
    })
    .unwrap();
    let pid = cluster.server_pid().unwrap();
    let dir = cluster.dir().to_path_buf();
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    std::net::TcpStream::connect(("127.0.0.1", cluster.port())).unwrap();
    let conf = std::fs::read_to_string(dir.join("data/postmaster.opts")).unwrap();
    assert!(conf.contains("max_connections=23"), "{conf}");
    assert!(cluster.app_url().starts_with("postgres://app@127.0.0.1:"));

    // The application role is not a superuser, so the reserved slots apply to it.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        cluster.bootstrap().await.unwrap();
        cluster.bootstrap().await.expect("idempotent");
        let (client, connection) =
            tokio_postgres::connect(&cluster.app_url(), tokio_postgres::NoTls)
                .await
                .unwrap();
        tokio::spawn(connection);
        let row = client
            .query_one(
                "SELECT current_user::text, rolsuper FROM pg_roles WHERE rolname = current_user",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, String>(0), "app");
        assert!(!row.get::<_, bool>(1));
        client
            .batch_execute("CREATE TABLE t (id int)")
            .await
            .expect("the app owns its database");
    });
    drop(runtime);
    drop(cluster);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "postmaster still running"
    );
    assert!(!dir.exists(), "cluster files left in {}", dir.display());
}

/// The server must outlive the thread that started it: a tokio blocking-pool thread retires
/// after its keep-alive, and a parent-death signal tied to it would kill PostgreSQL mid-run.
#[test]
fn cluster_outlives_the_thread_that_started_it() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_keep_alive(std::time::Duration::from_millis(50))
        .enable_all()
        .build()
        .unwrap();
    let cluster = runtime
        .block_on(async {
            tokio::task::spawn_blocking(|| PgCluster::start(&ClusterOptions::default())).await
        })
        .unwrap()
        .unwrap();
    // Let the blocking thread retire.
    std::thread::sleep(std::time::Duration::from_millis(800));
    let pid = cluster.server_pid().unwrap();
    assert!(
        Path::new(&format!("/proc/{pid}")).exists(),
        "postgres died with its starter thread"
    );
    std::net::TcpStream::connect(("127.0.0.1", cluster.port())).unwrap();
}
