//! A small HTTP/1.1 client and fixtures shared by the targets' tests: one request per new
//! connection, read whole (with the time it took) or left open; a runtime; a cluster.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use coldfront::orchestrate::postgres::{ClusterOptions, PgCluster};
use http::{header, HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A whole response and how long it took.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub took: Duration,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} in {:?}", self.headers))
            .to_str()
            .unwrap()
    }

    pub fn instance(&self) -> u64 {
        self.header("x-coldfront-instance").parse().unwrap()
    }

    pub fn pid(&self) -> u32 {
        self.header("x-coldfront-instance-pid").parse().unwrap()
    }

    pub fn cold(&self) -> bool {
        match self.header("x-coldfront-cold") {
            "1" => true,
            "0" => false,
            other => panic!("x-coldfront-cold: {other}"),
        }
    }

    pub fn millis(&self, name: &str) -> f64 {
        self.header(name).parse().unwrap()
    }
}

pub async fn get(addr: SocketAddr, path: &str) -> Reply {
    send(addr, "GET", path, &[]).await
}

pub async fn send(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    send_body(addr, method, path, headers, "").await
}

/// One request on a new connection, read to the end.
pub async fn send_body(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let started = Instant::now();
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = request(addr, method, path, headers, body);
    let response = within_20s(sender.send_request(request)).await.unwrap();
    collect(response, started).await
}

/// One request on a new connection; the body is left to read.
pub async fn open(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> http::Response<hyper::body::Incoming> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    within_20s(sender.send_request(request(addr, method, path, headers, "")))
        .await
        .unwrap()
}

pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Request<Full<Bytes>> {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, addr.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

pub async fn collect(response: http::Response<hyper::body::Incoming>, started: Instant) -> Reply {
    let (parts, body) = response.into_parts();
    let body = within_20s(body.collect()).await.unwrap().to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
        took: started.elapsed(),
    }
}

pub async fn within_20s<F: std::future::Future>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), future)
        .await
        .expect("an answer within 20 s")
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

pub fn start_cluster(max_connections: u32) -> PgCluster {
    PgCluster::start(&ClusterOptions { max_connections }).unwrap()
}

/// The shutdown signal handed to a server under test.
pub type Shutdown = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// A server (either runtime's `serve`) run by a task of the test's runtime on 127.0.0.1:0.
pub struct ServedInTask {
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl ServedInTask {
    pub async fn start<F, Fut>(serve: F) -> ServedInTask
    where
        F: FnOnce(TcpListener, Shutdown) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown: Shutdown = Box::pin(async move {
            let _ = stopped.await;
        });
        let task = tokio::spawn(serve(listener, shutdown));
        ServedInTask { addr, stop, task }
    }

    /// Asks for shutdown and waits for `serve` to return, which it must do successfully.
    pub async fn stop(self, within: Duration) {
        let _ = self.stop.send(());
        tokio::time::timeout(within, self.task)
            .await
            .expect("serve returns after shutdown")
            .unwrap()
            .unwrap();
    }
}

/// Backends of the application role open right now (`admin` is a superuser connection).
pub async fn app_connections(admin: &tokio_postgres::Client) -> i64 {
    admin
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = 'app'",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}
