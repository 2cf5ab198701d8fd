//! Built-in targets as child processes: `coldfront serve <kind> --port 0 …`, each on a fresh
//! throwaway PostgreSQL cluster (or the `--database-url` given) with `[database] init_sql`
//! applied, pinned to CPU 1 with `--pin`, stopped with SIGTERM (then SIGKILL), and sent SIGTERM
//! by the kernel if coldfront itself dies (so it still stops what it started: instances,
//! a command target's application and whatever that forked). The scenario's settings for the
//! target reach the child as one JSON object in `COLDFRONT_TARGET_SETTINGS`, a command
//! target's application as one in `COLDFRONT_TARGET_APP` (`coldfront_targets::settings`), not
//! as flags.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use coldfront_targets::settings;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

use super::{LaunchError, LaunchOptions, RunningTarget};
use crate::load::Endpoint;
use crate::model::TargetKind;
use crate::orchestrate::postgres::{ClusterOptions, PgCluster};
use crate::scenario::{AppPlan, DatabasePlan};

/// How long a built-in target may take to print its address (it sets up its schema first).
const READY_WITHIN: Duration = Duration::from_secs(60);
/// How long a target gets to shut down gracefully before SIGKILL.
const STOP_WITHIN: Duration = Duration::from_secs(5);

/// A running built-in target process and the cluster it uses.
pub(crate) struct TargetProcess {
    child: Child,
    cluster: Option<PgCluster>,
}

impl TargetProcess {
    /// SIGTERM, wait, SIGKILL if needed; then the cluster is stopped and deleted.
    pub(crate) async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            // SAFETY: signalling the child we started, by its PID.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
        }
        if tokio::time::timeout(STOP_WITHIN, self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
        if let Some(cluster) = self.cluster.take() {
            let _ = tokio::task::spawn_blocking(move || drop(cluster)).await;
        }
    }
}

/// What to start: one built-in target of a scenario.
pub(crate) struct Launch<'a> {
    pub name: &'a str,
    pub kind: TargetKind,
    /// Its kind's settings struct as JSON (see [`settings::to_env_value`]).
    pub settings: String,
    /// A command target's application.
    pub app: Option<&'a AppPlan>,
    pub database: &'a DatabasePlan,
    /// The file that receives the target's output.
    pub log: &'a Path,
}

/// Starts `coldfront serve <kind>` with the settings in [`settings::SETTINGS_ENV`] (and the
/// application in [`settings::APP_ENV`]).
pub(crate) async fn start(
    launch: &Launch<'_>,
    options: &LaunchOptions,
) -> Result<RunningTarget, LaunchError> {
    let Launch {
        name,
        kind,
        app,
        database,
        log,
        ..
    } = *launch;
    let spawn_error = |reason: String| LaunchError::Spawn {
        target: name.to_string(),
        kind,
        reason,
    };
    let (database_url, probe_url, cluster) = target_database(name, database, options).await?;
    let exe =
        std::env::current_exe().map_err(|e| spawn_error(format!("locating coldfront: {e}")))?;
    let log_file =
        start_log(log, app).map_err(|e| spawn_error(format!("{}: {e}", log.display())))?;
    let mut command = Command::new(exe);
    command
        .args([
            "serve",
            kind.as_str(),
            "--port",
            "0",
            "--database-url",
            &database_url,
        ])
        .env(settings::SETTINGS_ENV, &launch.settings)
        .env_remove(settings::APP_ENV)
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log_file)
        .kill_on_drop(true);
    if let Some(app) = app {
        command.env(settings::APP_ENV, settings::to_env_value(&app.settings));
    }
    set_child_guards(&mut command, options.pin);
    let mut child = command.spawn().map_err(|e| spawn_error(e.to_string()))?;
    let addr = match tokio::time::timeout(READY_WITHIN, read_address(&mut child, log)).await {
        Ok(Ok(addr)) => addr,
        Ok(Err(reason)) => {
            let tail = coldfront_targets::command::log_tail(log, 20);
            return Err(spawn_error(format!(
                "{reason}; the end of its output:\n{tail}"
            )));
        }
        Err(_) => {
            return Err(spawn_error(format!(
                "no address printed within {READY_WITHIN:?}; see {}",
                log.display()
            )))
        }
    };
    let base_url = format!("http://{addr}").parse().expect("a valid URL");
    Ok(RunningTarget {
        endpoint: Endpoint {
            base_url,
            addrs: vec![addr],
            tls: None,
        },
        tls_verified: None,
        // A persistent command target's address is the application's own: it has no
        // coldfront metrics (the gateway of a serverless one has).
        metrics: (app.is_none() || kind == TargetKind::Serverless).then_some(addr),
        database_probe_url: Some(probe_url),
        database_url: Some(database_url),
        process: Some(TargetProcess { child, cluster }),
    })
}

/// The target's database, `init_sql` applied: the `--database-url` given or a fresh cluster.
/// Returns the application's URL, the URL its connections are counted with, and the cluster.
async fn target_database(
    name: &str,
    database: &DatabasePlan,
    options: &LaunchOptions,
) -> Result<(String, String, Option<PgCluster>), LaunchError> {
    let (database_url, probe_url, cluster) = match &options.database_url {
        Some(url) => (url.clone(), url.clone(), None),
        None => {
            let cluster = start_cluster(database.max_connections)
                .await
                .map_err(|source| LaunchError::Database {
                    target: name.to_string(),
                    source,
                })?;
            (cluster.app_url(), cluster.admin_url(), Some(cluster))
        }
    };
    if let Some(file) = &database.init_sql {
        super::app::init_sql(&database_url, file)
            .await
            .map_err(|reason| LaunchError::App {
                target: name.to_string(),
                reason,
            })?;
    }
    Ok((database_url, probe_url, cluster))
}

async fn start_cluster(
    max_connections: u32,
) -> Result<PgCluster, crate::orchestrate::postgres::PgError> {
    let options = ClusterOptions { max_connections };
    let cluster = tokio::task::spawn_blocking(move || PgCluster::start(&options))
        .await
        .expect("cluster start does not panic")?;
    cluster.bootstrap().await?;
    Ok(cluster)
}

/// Reads the child's stdout until `listening on http://ADDR`, then copies the rest to the log.
async fn read_address(child: &mut Child, log: &Path) -> Result<SocketAddr, String> {
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    while let Some(line) = lines.next_line().await.map_err(|e| e.to_string())? {
        if let Some(url) = line.trim().strip_prefix("listening on http://") {
            let addr = url
                .trim_end_matches('/')
                .parse()
                .map_err(|e| format!("bad address {url:?}: {e}"))?;
            let log = log.to_path_buf();
            tokio::spawn(async move {
                let Ok(mut file) = tokio::fs::OpenOptions::new().append(true).open(&log).await
                else {
                    return;
                };
                while let Ok(Some(line)) = lines.next_line().await {
                    let _ = file.write_all(format!("{line}\n").as_bytes()).await;
                }
            });
            return Ok(addr);
        }
    }
    let status = child.wait().await.map_err(|e| e.to_string())?;
    Err(format!(
        "exited ({status}) before listening; see {}",
        log.display()
    ))
}

/// The target's log, starting with what a command target's `prepare` printed.
fn start_log(log: &Path, app: Option<&AppPlan>) -> std::io::Result<std::fs::File> {
    use std::io::Write;
    let mut file = std::fs::File::create(log)?;
    if let Some(app) = app.filter(|app| !app.prepare.is_empty()) {
        let prepare_log = super::app::cwd(app).join(super::app::PREPARE_LOG);
        writeln!(
            file,
            "== prepare `{}` (from {})",
            app.prepare.join(" "),
            prepare_log.display()
        )?;
        if let Ok(text) = std::fs::read(&prepare_log) {
            file.write_all(&text)?;
        }
        writeln!(file, "== the target")?;
    }
    Ok(file)
}

/// The child gets SIGTERM when coldfront dies (parent-death signal), so it can stop what it
/// started, and runs on CPU 1 when pinned.
fn set_child_guards(command: &mut Command, pin: bool) {
    // SAFETY: prctl and sched_setaffinity are async-signal-safe; they run in the child between
    // fork and exec and touch only the child's own state.
    unsafe {
        command.pre_exec(move || {
            libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGTERM as libc::c_ulong,
                0,
                0,
                0,
            );
            if pin {
                crate::load::workers::pin_current_thread(1)?;
            }
            Ok(())
        });
    }
}
