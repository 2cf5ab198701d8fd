//! Command targets: the user's own HTTP server as a built-in target's application (an Express
//! or Next.js server, anything that serves HTTP/1.1). The persistent kind runs it once
//! ([`persistent`]); the serverless gateway runs one process of it per instance.
//!
//! What the application gets, in both kinds:
//!
//! | variable | value |
//! |---|---|
//! | `PORT`, `AWS_LWA_PORT` | the port to listen on (the Lambda Web Adapter's name too) |
//! | `HOSTNAME` | `127.0.0.1` |
//! | `DATABASE_URL` | the target's database (the throwaway cluster's application role) |
//! | `LISTEN_FDS`, `LISTEN_PID` | with `listen = "fd"` only: `1` and its own PID, the socket at fd 3 |
//! | the scenario's `env` | as given (it may override the above) |
//!
//! Each application process leads its own process group, so ending it ends whatever it forked
//! ([`signal_group`]); its leader also gets SIGKILL if the thread that started it dies.
//! Readiness ([`wait_ready`]): poll every [`READY_POLL`] until a TCP connection is accepted
//! (*listening*), then, with a `ready` path, until `GET path` answers 100–499 (*ready*); an
//! application that exits first or is not ready within `init_timeout` fails with what it did.

pub mod persistent;

use std::ffi::{CString, OsString};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::process::Command;

use crate::settings::Listen;

/// How long an application may take to become ready by default: Lambda's Init phase limit
/// (AWS Lambda documentation, "Understanding the Lambda execution environment lifecycle").
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often readiness is polled.
pub const READY_POLL: Duration = Duration::from_millis(10);
/// The file descriptor of the listening socket with `listen = "fd"` (systemd's first).
pub const LISTEN_FD: RawFd = 3;

/// The user's application, resolved from [`AppSettings`](crate::settings::AppSettings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppCommand {
    pub program: OsString,
    pub args: Vec<OsString>,
    pub cwd: Option<PathBuf>,
    pub env: Vec<(String, String)>,
    /// HTTP readiness path; `None` = a TCP accept is ready.
    pub ready: Option<String>,
    pub init_timeout: Duration,
    pub listen: Listen,
}

/// Where an application process listens: a port it binds, or a socket bound for it.
pub enum Socket {
    Port(u16),
    Fd(TcpListener),
}

impl Socket {
    /// A socket for one application process as `listen` says: a free port, or a bound and
    /// listening socket on one.
    pub fn new(listen: Listen) -> io::Result<Socket> {
        Self::avoiding(listen, |_| false)
    }

    /// [`Socket::new`] on a port for which `taken` is false (the ports handed to the other
    /// instances of a gateway, whose applications may not have bound theirs yet).
    pub fn avoiding(listen: Listen, taken: impl Fn(u16) -> bool) -> io::Result<Socket> {
        let mut listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        for _ in 0..64 {
            if !taken(listener.local_addr()?.port()) {
                break;
            }
            // Bound before the old one closes: the kernel hands out another port.
            listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        }
        Ok(match listen {
            // The port is free again once the probe closes; a process other than coldfront's
            // could take it before the application binds it (then the application fails to
            // start, and says so).
            Listen::Port => Socket::Port(listener.local_addr()?.port()),
            Listen::Fd => Socket::Fd(listener),
        })
    }

    pub fn addr(&self) -> io::Result<SocketAddr> {
        match self {
            Socket::Port(port) => Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, *port))),
            Socket::Fd(listener) => listener.local_addr(),
        }
    }
}

impl AppCommand {
    /// The command line as a user would type it, for messages.
    pub fn display(&self) -> String {
        std::iter::once(&self.program)
            .chain(&self.args)
            .map(|part| {
                let part = part.to_string_lossy();
                if part.contains(' ') || part.is_empty() {
                    format!("{part:?}")
                } else {
                    part.into_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The process to start, listening on `socket`, with `database_url`: its own process group,
    /// SIGKILL when the starting thread dies, stdin closed, stdout and stderr to `output`.
    pub fn command(
        &self,
        socket: &Socket,
        database_url: &str,
        output: BorrowedFd<'_>,
    ) -> io::Result<Command> {
        let port = socket.addr()?.port().to_string();
        let mut env: Vec<(OsString, OsString)> = std::env::vars_os()
            .filter(|(key, _)| !INHERITED_NOT.iter().any(|name| key == name))
            .collect();
        let mut set = |key: &str, value: &str| {
            env.retain(|(name, _)| name != key);
            env.push((key.into(), value.into()));
        };
        set("PORT", &port);
        set("AWS_LWA_PORT", &port);
        set("HOSTNAME", "127.0.0.1");
        set("DATABASE_URL", database_url);
        if let Socket::Fd(_) = socket {
            set("LISTEN_FDS", "1");
            // Overwritten with the child's own PID before exec.
            set("LISTEN_PID", LISTEN_PID_PLACEHOLDER);
        }
        for (key, value) in &self.env {
            set(key, value);
        }
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .env_clear()
            .envs(env.iter().map(|(key, value)| (key, value)))
            .stdin(Stdio::null())
            .stdout(output.try_clone_to_owned()?)
            .stderr(output.try_clone_to_owned()?);
        if let Some(cwd) = &self.cwd {
            command.current_dir(cwd);
        }
        let mut exec = match socket {
            Socket::Port(_) => None,
            Socket::Fd(listener) => Some(ExecWithListenPid::new(
                self.resolve_program(&env)?,
                &self.args,
                &env,
                listener.as_raw_fd(),
            )?),
        };
        // SAFETY: the closure runs in the child between fork and exec and makes only
        // async-signal-safe system calls (setpgid, prctl, dup2, fcntl, getpid, execve), writing
        // into memory prepared before the fork: it allocates nothing.
        unsafe {
            command.pre_exec(move || {
                prepare_child()?;
                match &mut exec {
                    Some(exec) => exec.exec(),
                    None => Ok(()),
                }
            })
        };
        Ok(command)
    }

    /// The program's path: as given when it has a `/` (relative to `cwd`, where the child
    /// runs), else found on the `PATH` of `env`.
    fn resolve_program(&self, env: &[(OsString, OsString)]) -> io::Result<OsString> {
        if self.program.as_encoded_bytes().contains(&b'/') {
            return Ok(self.program.clone());
        }
        let path = env
            .iter()
            .find(|(key, _)| key == "PATH")
            .map(|(_, value)| value.clone())
            .unwrap_or_default();
        find_on_path(&self.program, &path)
            .map(PathBuf::into_os_string)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "not found on PATH"))
    }
}

/// The first executable file named `program` in the directories of `path` (a `PATH` value).
pub fn find_on_path(
    program: impl AsRef<std::path::Path>,
    path: &std::ffi::OsStr,
) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|dir| dir.join(program.as_ref()))
        .find(|candidate| is_executable(candidate))
}

/// An executable regular file.
pub fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// Variables the application does not inherit from coldfront: the harness's own, and
/// socket activation's (set only when it applies).
const INHERITED_NOT: [&str; 4] = [
    "LISTEN_FDS",
    "LISTEN_PID",
    crate::settings::SETTINGS_ENV,
    crate::settings::APP_ENV,
];

/// In a child between fork and exec: lead a new process group and get SIGKILL when the thread
/// that started it dies. Async-signal-safe.
pub(crate) fn prepare_child() -> io::Result<()> {
    // SAFETY: plain system calls on integers.
    unsafe {
        check(libc::setpgid(0, 0))?;
        check(libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
        ))?;
    }
    Ok(())
}

/// A system call's `-1` as the OS error. Async-signal-safe.
fn check(status: libc::c_int) -> io::Result<()> {
    if status == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// In a child between fork and exec: `fd` also at `target`, inherited by the program `exec`
/// runs (dup2 onto itself would keep close-on-exec: it is cleared instead). Async-signal-safe.
pub(crate) fn place_fd(fd: RawFd, target: RawFd) -> io::Result<()> {
    // SAFETY: fcntl and dup2 on descriptors this process owns.
    unsafe {
        if fd == target {
            check(libc::fcntl(fd, libc::F_SETFD, 0))
        } else {
            check(libc::dup2(fd, target))
        }
    }
}

/// The value `LISTEN_PID` is spawned with: as many digits as any PID has, overwritten in the
/// child.
const LISTEN_PID_PLACEHOLDER: &str = "0000000000";

/// Socket activation's exec, done in the child itself: `LISTEN_PID` must hold the child's own
/// PID, known only after the fork, and the standard library passes its own copy of the
/// environment to `exec`. So the program, arguments and environment are prepared before the
/// fork, and the child writes its PID into its `LISTEN_PID=` entry, puts the socket at
/// [`LISTEN_FD`] and calls `execve` (it does not return when it succeeds).
struct ExecWithListenPid {
    program: CString,
    /// Owned strings the pointers below point into (their heap buffers do not move).
    _strings: Vec<CString>,
    argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
    /// The digits of `LISTEN_PID=0000000000`.
    pid_digits: *mut u8,
    listener: RawFd,
}

// SAFETY: the raw pointers point into `_strings`, owned by the same value; it is used by one
// thread at a time (the forked child).
unsafe impl Send for ExecWithListenPid {}
// SAFETY: as above; shared references do not write.
unsafe impl Sync for ExecWithListenPid {}

impl ExecWithListenPid {
    fn new(
        program: OsString,
        args: &[OsString],
        env: &[(OsString, OsString)],
        listener: RawFd,
    ) -> io::Result<ExecWithListenPid> {
        let c = |bytes: Vec<u8>| {
            CString::new(bytes).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL"))
        };
        let program = c(program.into_encoded_bytes())?;
        let mut strings = vec![program.clone()];
        for arg in args {
            strings.push(c(arg.as_encoded_bytes().to_vec())?);
        }
        let argc = strings.len();
        for (key, value) in env {
            let mut entry = key.as_encoded_bytes().to_vec();
            entry.push(b'=');
            entry.extend_from_slice(value.as_encoded_bytes());
            strings.push(c(entry)?);
        }
        let pointer = |s: &CString| s.as_ptr();
        let argv = strings[..argc]
            .iter()
            .map(pointer)
            .chain([std::ptr::null()])
            .collect();
        let envp: Vec<*const libc::c_char> = strings[argc..]
            .iter()
            .map(pointer)
            .chain([std::ptr::null()])
            .collect();
        let pid_digits = strings[argc..]
            .iter()
            .find(|entry| entry.as_bytes().starts_with(b"LISTEN_PID="))
            .map(|entry| entry.as_ptr().cast_mut().cast::<u8>().wrapping_add(11))
            .ok_or_else(|| io::Error::other("LISTEN_PID missing"))?;
        Ok(ExecWithListenPid {
            program,
            _strings: strings,
            argv,
            envp,
            pid_digits,
            listener,
        })
    }

    /// In the child: the socket at fd 3, its PID in `LISTEN_PID`, then `execve`.
    fn exec(&mut self) -> io::Result<()> {
        // SAFETY: between fork and exec in the child; the descriptors are this process's, and
        // every pointer points into `_strings` (the digits write stays inside the entry's
        // ten placeholder digits and its terminating NUL).
        unsafe {
            place_fd(self.listener, LISTEN_FD)?;
            let mut digits = [0u8; 10];
            let (mut pid, mut n) = (libc::getpid() as u32, 0);
            loop {
                digits[n] = b'0' + (pid % 10) as u8;
                n += 1;
                pid /= 10;
                if pid == 0 {
                    break;
                }
            }
            for (i, digit) in digits[..n].iter().rev().enumerate() {
                *self.pid_digits.add(i) = *digit;
            }
            *self.pid_digits.add(n) = 0;
            libc::execve(
                self.program.as_ptr(),
                self.argv.as_ptr(),
                self.envp.as_ptr(),
            );
        }
        Err(io::Error::last_os_error())
    }
}

/// Sends `signal` to the process group led by `pid` (an application process); a group that
/// is already gone is not an error.
pub fn signal_group(pid: u32, signal: libc::c_int) {
    // SAFETY: kill with a negative PID signals that process group; the PID is one of our
    // children, whose group it leads (setpgid at its start).
    unsafe { libc::kill(-(pid as libc::pid_t), signal) };
}

/// When an application process became listening and ready.
pub struct Readiness {
    pub listening: Instant,
    pub ready: Instant,
}

/// Why an application process did not become ready.
#[derive(Debug)]
pub enum NotReady {
    /// It exited first (how, in words).
    Exited(String),
    /// Not ready by the deadline; whether it ever accepted a connection.
    Timeout { listening: bool },
}

/// Waits until the application at `addr` is listening and, with `ready`, answers `GET ready`
/// with 100–499, polling every [`READY_POLL`] until `deadline`. `exited` tells whether (and
/// how) the process has ended, checked between polls.
pub async fn wait_ready(
    addr: SocketAddr,
    ready: Option<&str>,
    deadline: tokio::time::Instant,
    mut exited: impl FnMut() -> Option<String>,
) -> Result<Readiness, NotReady> {
    let mut listening = None;
    loop {
        if let Some(how) = exited() {
            return Err(NotReady::Exited(how));
        }
        let attempt = tokio::time::timeout_at(deadline, check_once(addr, ready, &mut listening));
        match attempt.await {
            Ok(Some(ready_at)) => {
                return Ok(Readiness {
                    listening: listening.unwrap_or(ready_at),
                    ready: ready_at,
                })
            }
            Ok(None) => {}
            Err(_) => {
                return Err(NotReady::Timeout {
                    listening: listening.is_some(),
                })
            }
        }
        if tokio::time::Instant::now() + READY_POLL >= deadline {
            tokio::time::sleep_until(deadline).await;
        } else {
            tokio::time::sleep(READY_POLL).await;
        }
    }
}

/// One readiness check: connect (noting when it first succeeds), then with a path ask it.
/// When it was ready, if it was.
async fn check_once(
    addr: SocketAddr,
    ready: Option<&str>,
    listening: &mut Option<Instant>,
) -> Option<Instant> {
    let stream = TcpStream::connect(addr).await.ok()?;
    let _ = stream.set_nodelay(true);
    let connected = *listening.get_or_insert_with(Instant::now);
    let Some(path) = ready else {
        return Some(connected);
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .ok()?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let request = Request::get(path)
        .header(http::header::HOST, addr.to_string())
        .body(Empty::<bytes::Bytes>::new())
        .ok()?;
    let response = sender.send_request(request).await.ok()?;
    let status = response.status();
    // Read the body to the end so the connection can carry the next request.
    let _ = response.into_body().collect().await;
    let answered = (StatusCode::CONTINUE.as_u16()..500).contains(&status.as_u16());
    answered.then(Instant::now)
}

/// The last `lines` lines of a log file, for an error message.
pub fn log_tail(path: &std::path::Path, lines: usize) -> String {
    let Ok(text) = std::fs::read(path) else {
        return String::new();
    };
    let text = String::from_utf8_lossy(&text);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_reads_as_typed() {
        let app = AppCommand {
            program: "node".into(),
            args: vec!["server.js".into(), "a b".into()],
            cwd: None,
            env: vec![],
            ready: None,
            init_timeout: INIT_TIMEOUT,
            listen: Listen::Port,
        };
        assert_eq!(app.display(), r#"node server.js "a b""#);
    }
}
