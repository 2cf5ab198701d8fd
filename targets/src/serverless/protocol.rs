//! What the gateway and an instance tell each other, and nothing else.
//!
//! 1. The gateway creates a Unix socketpair and spawns the instance with its end as file
//!    descriptor [`SOCKET_FD`] and its [`InstanceSettings`] as JSON in [`SETTINGS_ENV`].
//! 2. The instance starts up (modelled `init`, database connection when per-instance) and
//!    writes one [`InitReport`] frame: a 4-byte big-endian length, then that many bytes of JSON.
//! 3. After a `ready` report the socket carries one HTTP/1.1 connection, the gateway the
//!    client, the instance the server: one request at a time by construction.
//! 4. The gateway closes its end to retire the instance; the instance exits when it sees the
//!    end of its connection.

use std::io;
use std::os::fd::RawFd;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::settings::DbConnect;

/// The environment variable holding the instance's [`InstanceSettings`] as JSON.
pub const SETTINGS_ENV: &str = "COLDFRONT_INSTANCE";
/// The file descriptor of the instance's end of the socketpair.
pub const SOCKET_FD: RawFd = 3;
/// A report longer than this is a protocol error (reports are a few hundred bytes).
const MAX_REPORT_BYTES: u32 = 64 * 1024;

/// Everything an instance needs to start, passed by the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceSettings {
    pub id: u64,
    /// The gateway's process id: an instance whose parent is another process (the gateway died
    /// before `PR_SET_PDEATHSIG` took effect) exits at once.
    pub gateway_pid: u32,
    /// `CLOCK_MONOTONIC` (system-wide on Linux) just before the fork, in nanoseconds.
    pub spawned_at_ns: u64,
    /// The modelled runtime start-up to sleep, in microseconds.
    pub init_us: u64,
    pub database_url: String,
    pub db_connect: DbConnect,
    pub auth_token: String,
    pub rate_limit: u32,
    pub rate_window_us: u64,
}

impl InstanceSettings {
    /// Reads and parses [`SETTINGS_ENV`].
    pub fn from_env() -> anyhow::Result<InstanceSettings> {
        let text = std::env::var(SETTINGS_ENV).map_err(|_| {
            anyhow::anyhow!(
                "{SETTINGS_ENV} is not set: an instance is started by the serverless gateway, not by hand"
            )
        })?;
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{SETTINGS_ENV}: {e}"))
    }
}

/// The instance's one message before HTTP starts: ready, or why it cannot serve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum InitReport {
    Ready {
        /// From just before the fork to the first instruction of `instance_main`.
        spawn_us: u64,
        /// The modelled start-up as slept.
        runtime_init_us: u64,
        /// The database connection made during the cold start (per-instance only).
        db_connect_us: Option<u64>,
    },
    Failed {
        /// A stable name for the failure (a [`DbError`](crate::db::DbError) kind when the
        /// database refused).
        kind: String,
        sqlstate: Option<String>,
        message: String,
    },
}

/// Writes `report` as one frame.
pub async fn write_report(
    stream: &mut (impl AsyncWrite + Unpin),
    report: &InitReport,
) -> io::Result<()> {
    let json = serde_json::to_vec(report).map_err(io::Error::other)?;
    let mut frame = Vec::with_capacity(4 + json.len());
    frame.extend_from_slice(&(json.len() as u32).to_be_bytes());
    frame.extend_from_slice(&json);
    stream.write_all(&frame).await?;
    stream.flush().await
}

/// Reads one frame, exactly (what follows is HTTP). An instance that exits first gives
/// `UnexpectedEof`.
pub async fn read_report(stream: &mut (impl AsyncRead + Unpin)) -> io::Result<InitReport> {
    let length = stream.read_u32().await?;
    if length > MAX_REPORT_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("an init report of {length} bytes (at most {MAX_REPORT_BYTES})"),
        ));
    }
    let mut json = vec![0; length as usize];
    stream.read_exact(&mut json).await?;
    serde_json::from_slice(&json).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// `CLOCK_MONOTONIC` in nanoseconds: the same clock in every process of the machine.
pub fn monotonic_ns() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer; CLOCK_MONOTONIC
    // always exists on Linux.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    assert_eq!(status, 0, "CLOCK_MONOTONIC is unavailable");
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reports_round_trip_and_leave_what_follows() {
        let (mut a, mut b) = tokio::io::duplex(1024);
        let ready = InitReport::Ready {
            spawn_us: 900,
            runtime_init_us: 120_000,
            db_connect_us: Some(1_800),
        };
        write_report(&mut a, &ready).await.unwrap();
        a.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        assert_eq!(read_report(&mut b).await.unwrap(), ready);
        let mut rest = [0; 16];
        b.read_exact(&mut rest).await.unwrap();
        assert_eq!(&rest, b"GET / HTTP/1.1\r\n");
    }

    #[tokio::test]
    async fn a_closed_socket_or_garbage_is_an_error() {
        let (a, mut b) = tokio::io::duplex(64);
        drop(a);
        let eof = read_report(&mut b).await.unwrap_err();
        assert_eq!(eof.kind(), io::ErrorKind::UnexpectedEof);
        let (mut a, mut b) = tokio::io::duplex(64);
        a.write_all(&u32::MAX.to_be_bytes()).await.unwrap();
        let huge = read_report(&mut b).await.unwrap_err();
        assert_eq!(huge.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn settings_are_json_with_kebab_case_db_connect() {
        let settings = InstanceSettings {
            id: 7,
            gateway_pid: 42,
            spawned_at_ns: 1,
            init_us: 0,
            database_url: "postgres://app@127.0.0.1/coldfront".into(),
            db_connect: DbConnect::PerRequest,
            auth_token: "t".into(),
            rate_limit: 10,
            rate_window_us: 1_000_000,
        };
        let json = serde_json::to_string(&settings).unwrap();
        assert!(json.contains("\"db_connect\":\"per-request\""), "{json}");
        assert_eq!(
            serde_json::from_str::<InstanceSettings>(&json).unwrap(),
            settings
        );
    }

    #[test]
    fn the_monotonic_clock_moves_forward() {
        let before = monotonic_ns();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(monotonic_ns() - before >= 2_000_000);
    }
}
