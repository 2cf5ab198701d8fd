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

use std::ffi::OsString;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
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
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        Ok(match listen {
            // The port is free again once the probe closes; another process could take it
            // before the application binds it (then it fails to start, and says so).
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
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .env("PORT", &port)
            .env("AWS_LWA_PORT", &port)
            .env("HOSTNAME", "127.0.0.1")
            .env("DATABASE_URL", database_url)
            .env_remove("LISTEN_FDS")
            .env_remove("LISTEN_PID")
            .env_remove(crate::settings::SETTINGS_ENV)
            .env_remove(crate::settings::APP_ENV)
            .stdin(Stdio::null())
            .stdout(output.try_clone_to_owned()?)
            .stderr(output.try_clone_to_owned()?);
        if let Some(cwd) = &self.cwd {
            command.current_dir(cwd);
        }
        let listen_fd = match socket {
            Socket::Port(_) => None,
            Socket::Fd(listener) => {
                // The placeholder is overwritten with the child's own PID before exec.
                command
                    .env("LISTEN_FDS", "1")
                    .env("LISTEN_PID", LISTEN_PID_PLACEHOLDER);
                Some(listener.as_raw_fd())
            }
        };
        for (key, value) in &self.env {
            command.env(key, value);
        }
        // SAFETY: the closure runs in the child between fork and exec and makes only
        // async-signal-safe system calls (setpgid, prctl, dup2, fcntl, getpid) and formats
        // into a stack buffer: it allocates nothing.
        unsafe { command.pre_exec(move || prepare_child(listen_fd)) };
        Ok(command)
    }
}

/// In the child: lead a new process group, die with the starting thread, and with a socket,
/// put it at [`LISTEN_FD`] (without close-on-exec) and say whose it is in `LISTEN_PID`.
fn prepare_child(listen_fd: Option<RawFd>) -> io::Result<()> {
    let check = |status: libc::c_int| {
        if status == -1 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    };
    // SAFETY: plain system calls on integers and descriptors this process owns.
    unsafe {
        check(libc::setpgid(0, 0))?;
        check(libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
        ))?;
        if let Some(fd) = listen_fd {
            if fd == LISTEN_FD {
                check(libc::fcntl(fd, libc::F_SETFD, 0))?;
            } else {
                check(libc::dup2(fd, LISTEN_FD))?;
            }
            set_listen_pid()?;
        }
    }
    Ok(())
}

/// The value `LISTEN_PID` is spawned with: as many digits as any PID has, overwritten in the
/// child.
const LISTEN_PID_PLACEHOLDER: &str = "0000000000";

extern "C" {
    /// The C library's environment, which `exec` passes on (the standard library points it at
    /// the command's own environment before running `pre_exec` closures).
    static mut environ: *const *mut libc::c_char;
}

/// Writes the child's own PID into its `LISTEN_PID=0000000000` entry (systemd's check that
/// the sockets are meant for this process) in place: no allocation, no lock.
///
/// # Safety
/// Only between fork and exec in the child (single-threaded there).
unsafe fn set_listen_pid() -> io::Result<()> {
    const NAME: &[u8] = b"LISTEN_PID=";
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
    let mut entry = environ;
    while !entry.is_null() && !(*entry).is_null() {
        let text = (*entry).cast::<u8>();
        if (0..NAME.len()).all(|i| *text.add(i) == NAME[i]) {
            let value = text.add(NAME.len());
            for (i, digit) in digits[..n].iter().rev().enumerate() {
                *value.add(i) = *digit;
            }
            *value.add(n) = 0;
            return Ok(());
        }
        entry = entry.add(1);
    }
    Err(io::Error::other(
        "LISTEN_PID is missing from the environment",
    ))
}

/// Sends `signal` to the process group led by `pid` (an application process); a group that
/// is already gone is not an error.
pub fn signal_group(pid: u32, signal: libc::c_int) {
    // SAFETY: kill with a negative PID signals that process group; the PID is one of our
    // children, whose group it leads (setpgid at its start).
    unsafe { libc::kill(-(pid as libc::pid_t), signal) };
}

/// When an application process became listening and ready, and the connection the check
/// used (kept for the first request).
pub struct Readiness {
    pub listening: Instant,
    pub ready: Instant,
    pub connection: SendRequest<Empty<bytes::Bytes>>,
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
            Ok(Some((ready_at, connection))) => {
                return Ok(Readiness {
                    listening: listening.unwrap_or(ready_at),
                    ready: ready_at,
                    connection,
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
async fn check_once(
    addr: SocketAddr,
    ready: Option<&str>,
    listening: &mut Option<Instant>,
) -> Option<(Instant, SendRequest<Empty<bytes::Bytes>>)> {
    let stream = TcpStream::connect(addr).await.ok()?;
    let _ = stream.set_nodelay(true);
    listening.get_or_insert_with(Instant::now);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .ok()?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let Some(path) = ready else {
        return Some((Instant::now(), sender));
    };
    let request = Request::get(path)
        .header(http::header::HOST, addr.to_string())
        .body(Empty::new())
        .ok()?;
    let response = sender.send_request(request).await.ok()?;
    let status = response.status();
    // Read the body to the end so the connection can carry the next request.
    let _ = response.into_body().collect().await;
    let answered = (StatusCode::CONTINUE.as_u16()..500).contains(&status.as_u16());
    answered.then(|| (Instant::now(), sender))
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
