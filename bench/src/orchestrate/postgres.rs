//! The throwaway PostgreSQL cluster the harness starts itself: find the server binaries,
//! `initdb` a temporary cluster, start `postgres` on a free loopback port, and tear it all down
//! when the [`PgCluster`] is dropped (on success, error, panic or Ctrl-C). As root, the server
//! runs as an unprivileged user. If coldfront itself is killed, the kernel sends the server
//! SIGQUIT (parent-death signal), PostgreSQL's immediate shutdown, and the next cluster started
//! removes the directory left behind ([`super::leftovers`]).

use std::fs::File;
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use super::leftovers;

/// The superuser (used by the harness: setup, sampling) and the application role (a
/// non-superuser, so PostgreSQL's reserved superuser slots apply to the targets as in
/// production).
pub(crate) const SUPERUSER: &str = "coldfront";
pub(crate) const APP_USER: &str = "app";
pub(crate) const DATABASE: &str = "coldfront";

#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error(
        "PostgreSQL server binaries (initdb, postgres) not found on PATH or in /usr/lib/postgresql/*/bin. \
         Install them (Debian: `apt-get install postgresql`) or pass --database-url / set DATABASE_URL \
         to use an existing server"
    )]
    NotInstalled,
    #[error("{step}: {source}")]
    Io {
        step: String,
        source: std::io::Error,
    },
    #[error("{step} failed ({status}); its output:\n{output}")]
    Failed {
        step: String,
        status: String,
        output: String,
    },
    #[error("{0}")]
    Bootstrap(String),
    #[error("PostgreSQL did not accept connections on port {port} within {waited:?}; server log:\n{log}")]
    NotReady {
        port: u16,
        waited: Duration,
        log: String,
    },
}

fn io_error(step: impl Into<String>) -> impl FnOnce(std::io::Error) -> PgError {
    let step = step.into();
    move |source| PgError::Io { step, source }
}

#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// PostgreSQL's `max_connections` (its default is 100).
    pub max_connections: u32,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            max_connections: 100,
        }
    }
}

/// The binaries of one PostgreSQL installation.
#[derive(Debug, Clone)]
pub(crate) struct PgBinaries {
    pub initdb: PathBuf,
    pub postgres: PathBuf,
}

impl PgBinaries {
    /// PATH first, then the newest `/usr/lib/postgresql/*/bin`.
    pub(crate) fn find() -> Result<PgBinaries, PgError> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        Self::find_in(&path, Path::new("/usr/lib/postgresql"))
    }

    /// The search of [`PgBinaries::find`] over a given `PATH` value and versions directory.
    pub(crate) fn find_in(
        path: &std::ffi::OsStr,
        versions_dir: &Path,
    ) -> Result<PgBinaries, PgError> {
        let on_path = |name: &str| {
            std::env::split_paths(path)
                .map(|dir| dir.join(name))
                .find(|candidate| candidate.is_file())
        };
        if let (Some(initdb), Some(postgres)) = (on_path("initdb"), on_path("postgres")) {
            return Ok(PgBinaries { initdb, postgres });
        }
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(versions_dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let version = entry.file_name().to_str()?.parse().ok()?;
                let bin = entry.path().join("bin");
                (bin.join("initdb").is_file() && bin.join("postgres").is_file())
                    .then_some((version, bin))
            })
            .collect();
        versions.sort();
        let (_, bin) = versions.pop().ok_or(PgError::NotInstalled)?;
        Ok(PgBinaries {
            initdb: bin.join("initdb"),
            postgres: bin.join("postgres"),
        })
    }
}

/// Who the server runs as: ourselves, or (as root) an unprivileged account.
#[derive(Debug, Clone, Copy)]
struct RunAs {
    uid: u32,
    gid: u32,
}

impl RunAs {
    fn pick() -> Option<RunAs> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return None;
        }
        ["postgres", "nobody"]
            .iter()
            .find_map(|name| lookup_user(name))
    }

    fn apply(self, command: &mut Command) {
        command.uid(self.uid).gid(self.gid);
    }
}

fn lookup_user(name: &str) -> Option<RunAs> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.len() < 4 || fields[0] != name {
            return None;
        }
        Some(RunAs {
            uid: fields[2].parse().ok()?,
            gid: fields[3].parse().ok()?,
        })
    })
}

/// A running throwaway cluster. Dropping it stops the server and deletes its files.
pub struct PgCluster {
    dir: tempfile::TempDir,
    server: Option<ServerProcess>,
    port: u16,
}

impl PgCluster {
    pub fn start(options: &ClusterOptions) -> Result<PgCluster, PgError> {
        let binaries = PgBinaries::find()?;
        let run_as = RunAs::pick();
        let root =
            leftovers::clusters_root().map_err(io_error("creating the clusters directory"))?;
        leftovers::sweep(&root);
        let dir = tempfile::Builder::new()
            .prefix(leftovers::CLUSTER_PREFIX)
            .tempdir_in(&root)
            .map_err(io_error("creating the cluster directory"))?;
        leftovers::claim(dir.path()).map_err(io_error("marking the cluster directory"))?;
        prepare_dir(dir.path(), run_as)?;
        initdb(&binaries, dir.path(), run_as)?;
        let mut cluster = PgCluster {
            dir,
            server: None,
            port: 0,
        };
        let mut last_error = None;
        // A free port can be taken between choosing and binding it: try a few.
        for _ in 0..3 {
            cluster.port = free_port().map_err(io_error("choosing a port"))?;
            cluster.server = Some(spawn_postgres(
                &binaries,
                cluster.dir.path(),
                cluster.port,
                options,
                run_as,
            )?);
            match cluster.wait_ready(Duration::from_secs(30)) {
                Ok(()) => return Ok(cluster),
                Err(error) => {
                    cluster.stop_server();
                    last_error = Some(error);
                }
            }
        }
        Err(last_error.expect("at least one attempt"))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// URL of the application role's database (what targets use).
    pub fn app_url(&self) -> String {
        format!("postgres://{APP_USER}@127.0.0.1:{}/{DATABASE}", self.port)
    }

    /// URL of the superuser (for setup and sampling).
    pub fn admin_url(&self) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{DATABASE}", self.port)
    }

    /// Creates the application role and its database (idempotent), as the superuser.
    pub async fn bootstrap(&self) -> Result<(), PgError> {
        let url = format!("postgres://{SUPERUSER}@127.0.0.1:{}/postgres", self.port);
        let step = |what: &str| format!("bootstrap: {what}");
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .map_err(|e| PgError::Bootstrap(step(&format!("connecting as {SUPERUSER}: {e}"))))?;
        let connection = tokio::spawn(connection);
        let exists = |sql: &'static str| {
            let client = &client;
            async move {
                client
                    .query_opt(sql, &[])
                    .await
                    .map(|row| row.is_some())
                    .map_err(|e| PgError::Bootstrap(step(&format!("{sql}: {e}"))))
            }
        };
        if !exists("SELECT 1 FROM pg_roles WHERE rolname = 'app'").await? {
            client
                .batch_execute(&format!("CREATE ROLE {APP_USER} LOGIN"))
                .await
                .map_err(|e| PgError::Bootstrap(step(&format!("creating role {APP_USER}: {e}"))))?;
        }
        if !exists("SELECT 1 FROM pg_database WHERE datname = 'coldfront'").await? {
            client
                .batch_execute(&format!("CREATE DATABASE {DATABASE} OWNER {APP_USER}"))
                .await
                .map_err(|e| {
                    PgError::Bootstrap(step(&format!("creating database {DATABASE}: {e}")))
                })?;
        }
        drop(client);
        let _ = connection.await;
        Ok(())
    }

    /// PID of the postmaster.
    pub fn server_pid(&self) -> Option<u32> {
        self.server.as_ref().map(|server| server.pid)
    }

    /// The cluster's data and log directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<(), PgError> {
        let started = Instant::now();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], self.port));
        while started.elapsed() < limit {
            if let Some(status) = self.server.as_ref().and_then(ServerProcess::exit_status) {
                return Err(PgError::Failed {
                    step: "postgres".into(),
                    status: status.to_string(),
                    output: self.log(),
                });
            }
            // The database exists once initdb + bootstrap SQL ran; a TCP accept plus the log's
            // ready line means it takes connections.
            if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok()
                && self
                    .log()
                    .contains("database system is ready to accept connections")
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        Err(PgError::NotReady {
            port: self.port,
            waited: limit,
            log: self.log(),
        })
    }

    fn stop_server(&mut self) {
        if let Some(mut server) = self.server.take() {
            server.stop();
        }
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.stop_server();
        // The TempDir removes the files when it drops, right after this.
    }
}

fn prepare_dir(dir: &Path, run_as: Option<RunAs>) -> Result<(), PgError> {
    std::fs::create_dir(dir.join("socket")).map_err(io_error("creating the socket directory"))?;
    if let Some(run_as) = run_as {
        for path in [dir.to_path_buf(), dir.join("socket")] {
            std::os::unix::fs::chown(&path, Some(run_as.uid), Some(run_as.gid)).map_err(
                io_error(format!("giving {} to the server's user", path.display())),
            )?;
        }
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(io_error("restricting the cluster directory"))?;
    }
    Ok(())
}

fn initdb(binaries: &PgBinaries, dir: &Path, run_as: Option<RunAs>) -> Result<(), PgError> {
    let mut command = Command::new(&binaries.initdb);
    command
        .arg("--pgdata")
        .arg(dir.join("data"))
        .args([
            "--username",
            SUPERUSER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
        ])
        .arg("--no-sync")
        .env_remove("PGDATA")
        .current_dir(dir);
    if let Some(run_as) = run_as {
        run_as.apply(&mut command);
    }
    let output = command
        .output()
        .map_err(io_error(format!("running {}", binaries.initdb.display())))?;
    if !output.status.success() {
        return Err(PgError::Failed {
            step: "initdb".into(),
            status: output.status.to_string(),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        });
    }
    Ok(())
}

fn spawn_postgres(
    binaries: &PgBinaries,
    dir: &Path,
    port: u16,
    options: &ClusterOptions,
    run_as: Option<RunAs>,
) -> Result<ServerProcess, PgError> {
    let log =
        File::create(dir.join("postgres.log")).map_err(io_error("creating the server log"))?;
    if let Some(run_as) = run_as {
        let _ =
            std::os::unix::fs::chown(dir.join("postgres.log"), Some(run_as.uid), Some(run_as.gid));
    }
    let mut command = Command::new(&binaries.postgres);
    command
        .arg("-D")
        .arg(dir.join("data"))
        .args(["-p", &port.to_string(), "-h", "127.0.0.1", "-k"])
        .arg(dir.join("socket"))
        .args([
            "-c",
            &format!("max_connections={}", options.max_connections),
        ])
        // A throwaway cluster: durability off, so the database is not what gets measured.
        .args([
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ])
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(io_error("server log"))?)
        .stderr(log)
        .current_dir(dir);
    if let Some(run_as) = run_as {
        run_as.apply(&mut command);
    }
    // SAFETY: prctl and getppid are async-signal-safe; this runs in the child before exec, after
    // the uid change (which would otherwise clear the parent-death signal).
    unsafe {
        command.pre_exec(|| {
            libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGQUIT as libc::c_ulong,
                0,
                0,
                0,
            );
            Ok(())
        });
    }
    ServerProcess::spawn(command).map_err(io_error(format!(
        "starting {}",
        binaries.postgres.display()
    )))
}

/// The server process, owned by a thread of its own that lives exactly as long as the server.
/// The parent-death signal fires when the *thread* that spawned a process exits, so the server
/// must not be spawned from a pool thread that may retire (tokio's blocking threads do after
/// 10 s idle, which would take the database down in the middle of a run).
struct ServerProcess {
    pid: u32,
    exited: Arc<Mutex<Option<ExitStatus>>>,
    stop: mpsc::Sender<()>,
    keeper: Option<std::thread::JoinHandle<()>>,
}

impl ServerProcess {
    fn spawn(mut command: Command) -> std::io::Result<ServerProcess> {
        let (started_tx, started_rx) = mpsc::channel();
        let (stop, stop_rx) = mpsc::channel();
        let exited = Arc::new(Mutex::new(None));
        let status_slot = exited.clone();
        let keeper = std::thread::Builder::new()
            .name("coldfront-postgres".into())
            .spawn(move || {
                let child = match command.spawn() {
                    Ok(child) => child,
                    Err(error) => {
                        let _ = started_tx.send(Err(error));
                        return;
                    }
                };
                let _ = started_tx.send(Ok(child.id()));
                let status = keep(child, &stop_rx);
                *status_slot.lock().expect("not poisoned") = status;
            })?;
        let pid = started_rx
            .recv()
            .map_err(|_| std::io::Error::other("the server thread ended early"))??;
        Ok(ServerProcess {
            pid,
            exited,
            stop,
            keeper: Some(keeper),
        })
    }

    /// `Some` once the server has exited.
    fn exit_status(&self) -> Option<ExitStatus> {
        *self.exited.lock().expect("not poisoned")
    }

    /// Asks the keeper to shut the server down and waits for it.
    fn stop(&mut self) {
        let _ = self.stop.send(());
        if let Some(keeper) = self.keeper.take() {
            let _ = keeper.join();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Watches the server until it exits or a stop is asked: then fast shutdown (SIGINT) and
/// SIGKILL after 5 s.
fn keep(mut child: Child, stop: &mpsc::Receiver<()>) -> Option<ExitStatus> {
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        match stop.recv_timeout(Duration::from_millis(20)) {
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    // SAFETY: signalling the server process we started, by its PID.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    child.wait().ok()
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "").unwrap();
    }

    #[test]
    fn missing_postgresql_says_how_to_install_it_or_pass_a_url() {
        let empty = tempfile::tempdir().unwrap();
        let error = PgBinaries::find_in(empty.path().as_os_str(), empty.path()).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("apt-get install postgresql"), "{message}");
        assert!(message.contains("--database-url"), "{message}");
        assert!(message.contains("DATABASE_URL"), "{message}");
    }

    #[test]
    fn path_wins_then_the_newest_installed_version() {
        let root = tempfile::tempdir().unwrap();
        let versions = root.path().join("lib");
        for version in ["13", "16", "9"] {
            touch(&versions.join(version).join("bin/initdb"));
            touch(&versions.join(version).join("bin/postgres"));
        }
        let nothing_on_path = root.path().join("empty");
        let found = PgBinaries::find_in(nothing_on_path.as_os_str(), &versions).unwrap();
        assert_eq!(found.initdb, versions.join("16/bin/initdb"));
        let on_path = root.path().join("bin");
        touch(&on_path.join("initdb"));
        touch(&on_path.join("postgres"));
        let found = PgBinaries::find_in(on_path.as_os_str(), &versions).unwrap();
        assert_eq!(found.postgres, on_path.join("postgres"));
    }
}
