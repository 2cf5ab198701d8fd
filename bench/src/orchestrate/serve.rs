//! `coldfront serve serverless|persistent [-- COMMAND…]`: one built-in target on 127.0.0.1,
//! on the given database or a throwaway cluster it provisions itself, until SIGINT or SIGTERM.
//! Prints `listening on http://ADDR` first (the harness and scripts read it). Its settings are
//! the JSON object in `COLDFRONT_TARGET_SETTINGS` when set (the harness's way), else its flags
//! (`coldfront_targets::settings::from_env_or_flags`); the same for the application to run
//! instead of the built-in one (`COLDFRONT_TARGET_APP` or `-- COMMAND…`, `--cwd`, `--env`, …).
//! With a command, the persistent kind's address is the application's own (no proxy in
//! between), and the built-in schema is not set up (the harness runs `[database] init_sql`).

use std::io::Write;
use std::time::Duration;

use anyhow::Context as _;
use coldfront_targets::command::{self, AppCommand};
use coldfront_targets::serverless::InstanceCommand;
use coldfront_targets::settings::{
    app_from_env_or_flags, from_env_or_flags, PersistentSettings, ServerlessSettings,
};
use coldfront_targets::{db, persistent, serverless};

use super::postgres::{ClusterOptions, PgCluster};
use crate::cli::{ServeCommand, ServeCommon};
use crate::Exit;

pub(crate) fn serve_command(command: &ServeCommand) -> anyhow::Result<Exit> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("coldfront-target")
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let exit = runtime.block_on(async {
        let (common, app) = match command {
            ServeCommand::Serverless(args) => (&args.common, &args.app),
            ServeCommand::Persistent(args) => (&args.common, &args.app),
        };
        let app = app_from_env_or_flags(app)?.resolve();
        // Read before anything starts, so a bad setting fails at once.
        let settings = match command {
            ServeCommand::Serverless(args) => {
                Settings::Serverless(from_env_or_flags(&args.settings)?)
            }
            ServeCommand::Persistent(args) => {
                Settings::Persistent(from_env_or_flags(&args.settings)?)
            }
        };
        let (database_url, cluster) = database(common).await?;
        if app.is_none() {
            db::setup(&database_url)
                .await
                .with_context(|| format!("setting up the schema in {database_url}"))?;
        }
        let result = match (settings, app) {
            (Settings::Persistent(_), Some(app)) => run_app(&app, &database_url).await,
            (settings, app) => {
                let listener = tokio::net::TcpListener::bind(("127.0.0.1", common.port))
                    .await
                    .with_context(|| format!("binding 127.0.0.1:{}", common.port))?;
                announce(listener.local_addr()?);
                match settings {
                    Settings::Serverless(settings) => {
                        let instances = match app {
                            Some(app) => InstanceCommand::App(app),
                            None => InstanceCommand::BuiltIn(builtin_instance()?),
                        };
                        let config = settings.resolve(database_url, instances);
                        serverless::serve(config, listener, shutdown_signal()).await
                    }
                    Settings::Persistent(settings) => {
                        let config = settings.resolve(database_url);
                        persistent::serve(config, listener, shutdown_signal()).await
                    }
                }
            }
        };
        if let Some(cluster) = cluster {
            tokio::task::spawn_blocking(move || drop(cluster)).await?;
        }
        result.map(|()| Exit::Success)
    });
    // Work still running on blocking threads (a long `POST /api/report` whose client left) is
    // not waited for: the grace period has passed, and the process ends now.
    runtime.shutdown_timeout(Duration::from_millis(200));
    exit
}

/// `listening on http://ADDR`, the line the harness waits for.
fn announce(addr: std::net::SocketAddr) {
    println!("listening on http://{addr}");
    let _ = std::io::stdout().flush();
}

/// The command that runs one built-in serverless instance: this program's `__instance`.
fn builtin_instance() -> anyhow::Result<Vec<std::ffi::OsString>> {
    let exe = std::env::current_exe().context("locating coldfront for instances")?;
    Ok(vec![exe.into_os_string(), "__instance".into()])
}

/// The persistent kind with the user's application: it runs once, its output on stderr, and
/// its own address is announced once it is ready.
async fn run_app(app: &AppCommand, database_url: &str) -> anyhow::Result<()> {
    use std::os::fd::AsFd;
    let stderr = std::io::stderr();
    command::persistent::run(
        app,
        database_url,
        stderr.as_fd(),
        announce,
        shutdown_signal(),
    )
    .await
}

/// The given URL, or a throwaway cluster (bootstrapped) and its application URL.
async fn database(common: &ServeCommon) -> anyhow::Result<(String, Option<PgCluster>)> {
    if let Some(url) = &common.database_url {
        return Ok((url.clone(), None));
    }
    let options = ClusterOptions {
        max_connections: common.max_connections,
    };
    let cluster = tokio::task::spawn_blocking(move || PgCluster::start(&options)).await??;
    cluster.bootstrap().await?;
    eprintln!(
        "database: {} (throwaway cluster in {})",
        cluster.app_url(),
        cluster.dir().display()
    );
    Ok((cluster.app_url(), Some(cluster)))
}

/// The settings of the target to serve.
enum Settings {
    Serverless(ServerlessSettings),
    Persistent(PersistentSettings),
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
