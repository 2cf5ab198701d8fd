//! A command target of the persistent kind: the application runs once, for the whole run.
//! [`run`] starts it, waits until it is ready, hands its address over, and on shutdown sends
//! its process group SIGTERM, then SIGKILL after [`STOP_GRACE`].

use std::future::Future;
use std::net::SocketAddr;
use std::os::fd::BorrowedFd;
use std::time::Duration;

use anyhow::Context as _;

use super::{signal_group, wait_ready, AppCommand, NotReady, Socket};

/// How long the application has to exit after SIGTERM before its group gets SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(3);

/// Starts `app` with `database_url`, its output to `output`; once it is ready calls
/// `on_ready` with its address; then runs until `shutdown` resolves (or the application
/// exits, an error) and stops it, whatever it forked included.
pub async fn run(
    app: &AppCommand,
    database_url: &str,
    output: BorrowedFd<'_>,
    on_ready: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let socket = Socket::new(app.listen).context("choosing the application's port")?;
    let addr = socket.addr()?;
    let mut child = app
        .command(&socket, database_url, output)?
        .kill_on_drop(true)
        .spawn()
        .with_context(|| starting(app))?;
    drop(socket);
    let pid = child.id().context("the application exited at once")?;
    let deadline = tokio::time::Instant::now() + app.init_timeout;
    let readiness = wait_ready(addr, app.ready.as_deref(), deadline, || {
        match child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            _ => None,
        }
    })
    .await;
    if let Err(not_ready) = readiness {
        stop(&mut child, pid).await;
        anyhow::bail!("{}", not_ready_message(app, addr, &not_ready));
    }
    on_ready(addr);
    tokio::pin!(shutdown);
    let result = tokio::select! {
        () = &mut shutdown => Ok(()),
        status = child.wait() => Err(anyhow::anyhow!(
            "`{}` exited during the run ({})",
            app.display(),
            status.map_or_else(|e| e.to_string(), |s| s.to_string())
        )),
    };
    stop(&mut child, pid).await;
    result
}

/// "starting `node server.js` in examples/express": the context of a failed spawn.
pub fn starting(app: &AppCommand) -> String {
    match &app.cwd {
        Some(cwd) => format!("starting `{}` in {}", app.display(), cwd.display()),
        None => format!("starting `{}`", app.display()),
    }
}

/// Why the application is not ready, in words, with a hint when it never listened.
pub fn not_ready_message(app: &AppCommand, addr: SocketAddr, not_ready: &NotReady) -> String {
    let command = app.display();
    match not_ready {
        NotReady::Exited(how) => format!("`{command}` exited ({how}) before it was ready"),
        NotReady::Timeout { listening: false } => format!(
            "`{command}` did not accept a connection on {addr} within {:?} (does it listen on \
             the port in $PORT, or on fd 3 with `listen = \"fd\"`?)",
            app.init_timeout
        ),
        NotReady::Timeout { listening: true } => format!(
            "`{command}` accepted connections on {addr} but GET {} did not answer 100–499 \
             within {:?}",
            app.ready.as_deref().unwrap_or("/"),
            app.init_timeout
        ),
    }
}

/// SIGTERM to the group, up to [`STOP_GRACE`] for the leader to exit, then SIGKILL to the
/// group (also what the leader left behind).
async fn stop(child: &mut tokio::process::Child, pid: u32) {
    signal_group(pid, libc::SIGTERM);
    if tokio::time::timeout(STOP_GRACE, child.wait())
        .await
        .is_err()
    {
        let _ = child.start_kill();
    }
    signal_group(pid, libc::SIGKILL);
    let _ = child.wait().await;
}
