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
    drop(cluster);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "postmaster still running"
    );
    assert!(!dir.exists(), "cluster files left in {}", dir.display());
}
