//! Test fixtures: a real HTTP server on 127.0.0.1:0 with scripted behaviours, a raw TCP server
//! that resets connections, scenario files in temporary directories, and the `coldfront` binary.
//!
//! Routes of [`TestServer`]:
//! - `/ok` — 200 with a short body.
//! - `/status/N` — status N.
//! - `/sleep/MS` — 200 after MS milliseconds.
//! - `/close` — 200 with `Connection: close` (the server ends the keep-alive connection).
//! - `/cold` — 200 with `x-coldfront-cold: 1` on the first request of each connection, else 0.
//!
//! Every route waits out the server's stall windows when it has a [`Stall`].

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

pub use coldfront::testing::{assert_exit, ScenarioText};

/// The server pauses every response for `pause` at the end of every `period`.
#[derive(Debug, Clone, Copy)]
pub struct Stall {
    pub period: Duration,
    pub pause: Duration,
}

#[derive(Default)]
pub struct Counters {
    pub connections: AtomicU64,
    pub requests: AtomicU64,
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub counters: Arc<Counters>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl TestServer {
    pub fn start(stall: Option<Stall>) -> TestServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let counters = Arc::new(Counters::default());
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let epoch = Instant::now();
        let served = counters.clone();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                served.connections.fetch_add(1, Ordering::Relaxed);
                let _ = stream.set_nodelay(true);
                let counters = served.clone();
                tokio::spawn(async move {
                    let first = Arc::new(std::sync::atomic::AtomicBool::new(true));
                    let service = service_fn(move |request| {
                        let counters = counters.clone();
                        let first = first.clone();
                        async move {
                            counters.requests.fetch_add(1, Ordering::Relaxed);
                            let cold = first.swap(false, Ordering::Relaxed);
                            respond(request, stall, epoch, cold).await
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        TestServer {
            addr,
            counters,
            runtime: Some(runtime),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn connections(&self) -> u64 {
        self.counters.connections.load(Ordering::Relaxed)
    }

    pub fn requests(&self) -> u64 {
        self.counters.requests.load(Ordering::Relaxed)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn respond(
    request: Request<hyper::body::Incoming>,
    stall: Option<Stall>,
    epoch: Instant,
    cold: bool,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if let Some(stall) = stall {
        let period = stall.period.as_secs_f64();
        let into = epoch.elapsed().as_secs_f64() % period;
        let stall_from = period - stall.pause.as_secs_f64();
        if into >= stall_from {
            tokio::time::sleep(Duration::from_secs_f64(period - into)).await;
        }
    }
    let path = request.uri().path().to_string();
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let (route, arg) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let mut response = Response::new(Full::new(Bytes::from_static(
        b"hello from the test server\n",
    )));
    match route {
        "status" => {
            *response.status_mut() = hyper::StatusCode::from_u16(arg.parse().unwrap()).unwrap()
        }
        "sleep" => tokio::time::sleep(Duration::from_millis(arg.parse().unwrap())).await,
        "close" => {
            response
                .headers_mut()
                .insert("connection", "close".parse().unwrap());
        }
        "cold" => {
            let value = if cold { "1" } else { "0" };
            response
                .headers_mut()
                .insert("x-coldfront-cold", value.parse().unwrap());
        }
        _ => {}
    }
    Ok(response)
}

/// A TCP server that accepts, reads the request, and resets the connection (RST).
pub struct ResetServer {
    pub addr: SocketAddr,
}

impl ResetServer {
    pub fn start() -> ResetServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
                let mut buf = [0u8; 1024];
                let _ = std::io::Read::read(&mut &stream, &mut buf);
                socket2_like::set_linger_zero(&stream);
                drop(stream);
            }
        });
        ResetServer { addr }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

mod socket2_like {
    use std::os::fd::AsRawFd;

    /// SO_LINGER with a zero timeout: close() then sends RST instead of FIN.
    pub fn set_linger_zero(stream: &std::net::TcpStream) {
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: a valid fd and a correctly sized linger struct.
        unsafe {
            libc::setsockopt(
                stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                &linger as *const libc::linger as *const libc::c_void,
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
    }
}

/// A loopback address on which nothing listens (bound, then released).
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// Writes `name.toml` with `text` (a `&str`, a `String` or a [`ScenarioText`]) into `dir` and
/// returns its path.
pub fn write_scenario(dir: &Path, name: &str, text: &(impl std::fmt::Display + ?Sized)) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text.to_string()).unwrap();
    path
}

/// `coldfront run --quiet --out OUT SCENARIO...`, returning the finished process output.
/// The connection `run`'s preflight opens (and closes) to an external target before its load.
pub const PREFLIGHT_CONNECTIONS: u64 = 1;

pub fn run_coldfront(out: &Path, scenarios: &[&Path]) -> std::process::Output {
    run_coldfront_with(out, scenarios, &[])
}

/// `coldfront run --quiet --out OUT FLAGS… SCENARIOS…`.
pub fn run_coldfront_with(out: &Path, scenarios: &[&Path], flags: &[&str]) -> std::process::Output {
    let mut command = assert_cmd::Command::cargo_bin("coldfront").unwrap();
    command
        .arg("run")
        .arg("--quiet")
        .arg("--out")
        .arg(out)
        .args(flags);
    for scenario in scenarios {
        command.arg(scenario);
    }
    command.timeout(Duration::from_secs(120)).output().unwrap()
}

pub fn read_summary(dir: &Path) -> coldfront::resultset::Summary {
    coldfront::resultset::read_json(&dir.join("summary.json"), "summary").unwrap()
}

pub fn read_series(dir: &Path) -> Vec<coldfront::resultset::series::SeriesRow> {
    coldfront::resultset::series::parse_csv(
        &std::fs::read_to_string(dir.join("timeseries.csv")).unwrap(),
    )
    .unwrap()
}

/// A `coldfront run --quiet --out OUT SCENARIO` running in the background.
pub struct BackgroundRun {
    child: std::process::Child,
}

impl BackgroundRun {
    pub fn start(out: &Path, scenario: &Path) -> BackgroundRun {
        Self::start_with(out, scenario, &[])
    }

    /// With extra `run` flags.
    pub fn start_with(out: &Path, scenario: &Path, flags: &[&str]) -> BackgroundRun {
        Self::start_in(out, scenario, flags, None)
    }

    /// With extra `run` flags and, when given, its own temporary directory (`TMPDIR`).
    pub fn start_in(
        out: &Path,
        scenario: &Path,
        flags: &[&str],
        tmpdir: Option<&Path>,
    ) -> BackgroundRun {
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("coldfront"));
        command
            .args(["run", "--quiet", "--out"])
            .arg(out)
            .args(flags)
            .arg(scenario);
        if let Some(tmpdir) = tmpdir {
            command.env("TMPDIR", tmpdir);
        }
        BackgroundRun {
            child: command.spawn().unwrap(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits (up to `within`) until `path` exists: the run has reached that point.
    pub fn wait_for(&self, path: &Path, within: Duration) {
        let started = Instant::now();
        while !path.exists() {
            assert!(
                started.elapsed() < within,
                "{} did not appear",
                path.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits (up to `within`) for the run to end by itself.
    pub fn wait(mut self, within: Duration) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(started.elapsed() < within, "still running after {within:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGINT and waits (up to `within`) for the exit; returns the status and how long
    /// the process took to stop.
    pub fn interrupt(self, within: Duration) -> (std::process::ExitStatus, Duration) {
        self.signal(libc::SIGINT, within)
    }

    /// Sends `signal` and waits (up to `within`) for the exit; returns the status and how long
    /// the process took to stop.
    pub fn signal(
        mut self,
        signal: libc::c_int,
        within: Duration,
    ) -> (std::process::ExitStatus, Duration) {
        // SAFETY: signalling our own child by its PID.
        unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
        let signalled = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, signalled.elapsed());
            }
            assert!(
                signalled.elapsed() < within,
                "did not stop after signal {signal}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// A self-signed certificate for `localhost`: a TLS acceptor offering h2 and http/1.1, and the
/// certificate's PEM (the CA to trust).
pub fn localhost_tls() -> (tokio_rustls::TlsAcceptor, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let acceptor = tls_acceptor(cert.cert.der(), &cert.key_pair);
    (acceptor, cert.cert.pem())
}

/// A TLS acceptor offering h2 and http/1.1 with `cert` (and its key) as the whole chain.
pub fn tls_acceptor(cert: &[u8], key: &rcgen::KeyPair) -> tokio_rustls::TlsAcceptor {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let chain = vec![CertificateDer::from(cert.to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config))
}
