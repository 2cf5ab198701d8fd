//! Forking instance processes. `PR_SET_PDEATHSIG` fires when the *thread* that forked the
//! child exits, so forks happen on a few dedicated threads that live exactly as long as the
//! gateway (never on tokio's blocking pool, whose threads come and go): [`Launcher::run`] runs
//! any spawn there. A built-in instance ([`Launcher::spawn_builtin`]) gets its end of a
//! socketpair as fd [`SOCKET_FD`], its settings in [`SETTINGS_ENV`], its own process group,
//! SIGKILL as its parent-death signal, and is refused if its parent is already gone.

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::process::Stdio;
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

use tokio::process::{Child, Command};
use tokio::runtime::Handle;
use tokio::sync::oneshot;

use super::protocol::{monotonic_ns, InstanceSettings, SETTINGS_ENV, SOCKET_FD};
use crate::command;

/// A freshly spawned instance process.
pub struct Spawned {
    pub child: Child,
    pub pid: u32,
    /// The gateway's end of the socketpair (blocking mode; make it non-blocking to use it).
    pub socket: UnixStream,
}

/// Work for a launcher thread: a spawn, which replies itself.
type Job = Box<dyn FnOnce() + Send>;

/// The launcher threads. Dropping it stops them, which kills (by parent-death signal) any
/// instance still running.
pub struct Launcher {
    jobs: Option<mpsc::Sender<Job>>,
    threads: Vec<JoinHandle<()>>,
}

impl Launcher {
    /// `threads` launcher threads (at least one), with `runtime` entered so the children are
    /// tokio processes.
    pub fn start(threads: usize, runtime: Handle) -> io::Result<Launcher> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let threads = (0..threads.max(1))
            .map(|n| {
                let (queue, runtime) = (Arc::clone(&queue), runtime.clone());
                std::thread::Builder::new()
                    .name(format!("coldfront-launcher-{n}"))
                    .spawn(move || launch_loop(&queue, &runtime))
            })
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Launcher {
            jobs: Some(jobs),
            threads,
        })
    }

    /// Runs `spawn` on a launcher thread (so the children it starts die with that thread,
    /// not with a passing one) and returns what it returned.
    pub async fn run<T: Send + 'static>(
        &self,
        spawn: impl FnOnce() -> io::Result<T> + Send + 'static,
    ) -> io::Result<T> {
        let (reply, spawned) = oneshot::channel();
        let stopped = || io::Error::other("the gateway is stopping");
        let job: Job = Box::new(move || {
            let _ = reply.send(spawn());
        });
        self.jobs
            .as_ref()
            .ok_or_else(stopped)?
            .send(job)
            .map_err(|_| stopped())?;
        spawned.await.map_err(|_| stopped())?
    }

    /// Spawns one built-in instance, `command` with `settings` (its `spawned_at_ns` is set at
    /// the fork).
    pub async fn spawn_builtin(
        &self,
        command: Arc<Vec<OsString>>,
        settings: InstanceSettings,
    ) -> io::Result<Spawned> {
        self.run(move || spawn(&command, settings)).await
    }
}

impl Drop for Launcher {
    fn drop(&mut self) {
        drop(self.jobs.take());
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn launch_loop(queue: &Mutex<mpsc::Receiver<Job>>, runtime: &Handle) {
    let _entered = runtime.enter();
    loop {
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else {
            return;
        };
        job();
    }
}

/// Forks and executes one instance on the calling thread.
fn spawn(command: &[OsString], mut settings: InstanceSettings) -> io::Result<Spawned> {
    let (socket, child_end) = UnixStream::pair()?;
    settings.spawned_at_ns = monotonic_ns();
    let settings = serde_json::to_string(&settings).map_err(io::Error::other)?;
    let mut process = Command::new(&command[0]);
    process
        .args(&command[1..])
        .env(SETTINGS_ENV, settings)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let (fd, parent) = (child_end.as_raw_fd(), std::process::id() as libc::pid_t);
    // SAFETY: the closure runs in the child between fork and exec and only makes
    // async-signal-safe system calls (prctl, getppid, dup2, fcntl), allocating nothing.
    unsafe { process.pre_exec(move || prepare_child(fd, parent)) };
    let child = process.spawn()?;
    // The child has its copy; the gateway must not keep this end open or it never sees EOF.
    drop(child_end);
    let pid = child
        .id()
        .ok_or_else(|| io::Error::other("the instance exited at once"))?;
    Ok(Spawned { child, pid, socket })
}

/// In the child: lead its own process group, die with the launcher thread, refuse to run if the parent is already gone,
/// and put the socket at [`SOCKET_FD`] without close-on-exec.
fn prepare_child(fd: RawFd, parent: libc::pid_t) -> io::Result<()> {
    command::prepare_child()?;
    // SAFETY: getppid has no preconditions.
    if unsafe { libc::getppid() } != parent {
        return Err(io::Error::from_raw_os_error(libc::ESRCH));
    }
    command::place_fd(fd, SOCKET_FD)
}
