//! `coldfront serve serverless|persistent`: one built-in target on 127.0.0.1, on the given
//! database or a throwaway cluster it provisions itself, until SIGINT or SIGTERM. Prints
//! `listening on http://ADDR` first (the harness and scripts read it).

use std::io::Write;
use std::time::Duration;

use anyhow::Context as _;
use coldfront_targets::app::AppConfig;
use coldfront_targets::{db, persistent, serverless};

use super::postgres::{ClusterOptions, PgCluster};
use crate::cli::{ServeCommand, ServeCommon, ServePersistentArgs, ServeServerlessArgs};
use crate::Exit;

pub fn serve_command(command: &ServeCommand) -> anyhow::Result<Exit> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("coldfront-target")
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(async {
        let common = match command {
            ServeCommand::Serverless(args) => &args.common,
            ServeCommand::Persistent(args) => &args.common,
        };
        let (database_url, cluster) = database(common).await?;
        db::setup(&database_url)
            .await
            .with_context(|| format!("setting up the schema in {database_url}"))?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", common.port))
            .await
            .with_context(|| format!("binding 127.0.0.1:{}", common.port))?;
        println!("listening on http://{}", listener.local_addr()?);
        let _ = std::io::stdout().flush();
        let result = match command {
            ServeCommand::Serverless(args) => {
                let config = serverless_config(args, database_url)?;
                serverless::serve(config, listener, shutdown_signal()).await
            }
            ServeCommand::Persistent(args) => {
                persistent::serve(
                    persistent_config(args, database_url),
                    listener,
                    shutdown_signal(),
                )
                .await
            }
        };
        if let Some(cluster) = cluster {
            tokio::task::spawn_blocking(move || drop(cluster)).await?;
        }
        result.map(|()| Exit::Success)
    })
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

fn persistent_config(
    args: &ServePersistentArgs,
    database_url: String,
) -> persistent::PersistentConfig {
    persistent::PersistentConfig {
        database_url,
        pool: args.pool,
        pool_timeout: Duration::from_secs(5),
        app: AppConfig::default(),
    }
}

/// The preset's values, overridden by the flags given.
fn serverless_config(
    args: &ServeServerlessArgs,
    database_url: String,
) -> anyhow::Result<serverless::ServerlessConfig> {
    let name = args.preset.as_deref().unwrap_or(serverless::DEFAULT_PRESET);
    let preset = serverless::preset(name).with_context(|| {
        let known: Vec<&str> = serverless::presets().iter().map(|p| p.name).collect();
        format!(
            "unknown preset {name:?}; expected one of {}",
            known.join(", ")
        )
    })?;
    let db_connect = match args.db_connect.as_deref() {
        Some("per-request") => serverless::DbConnect::PerRequest,
        _ => serverless::DbConnect::PerInstance,
    };
    let exe = std::env::current_exe().context("locating coldfront for instances")?;
    Ok(serverless::ServerlessConfig {
        database_url,
        keep_warm: args.keep_warm.unwrap_or(preset.keep_warm),
        init: args.init.unwrap_or(preset.init),
        max_instances: args.max_instances.unwrap_or(preset.max_instances),
        max_duration: args.max_duration.unwrap_or(preset.max_duration),
        queue_timeout: args.queue_timeout.unwrap_or(preset.queue_timeout),
        db_connect,
        app: AppConfig::default(),
        instance_command: vec![exe.into_os_string(), "__instance".into()],
    })
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
