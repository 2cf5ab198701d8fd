//! One client connection of the persistent server: HTTP/1.1 with keep-alive and upgrades,
//! counted open from accept until it closes (an upgraded WebSocket included), and closed
//! gracefully (after its in-flight request) when the server stops.

use std::convert::Infallible;
use std::sync::Arc;

use http::{HeaderValue, Request, Response};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::metrics;
use super::Server;
use crate::app::{self, Body};

/// Serves `stream` until the client closes it or, once `stopping` turns true, until its
/// in-flight request is answered.
pub(super) async fn serve(
    server: Arc<Server>,
    stream: TcpStream,
    mut stopping: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let guard = Arc::new(server.stats.connection_opened());
    let service = service_fn(move |mut request: Request<hyper::body::Incoming>| {
        // The guard rides along with each request, so an upgrade keeps the connection counted.
        request.extensions_mut().insert(Arc::clone(&guard));
        let server = Arc::clone(&server);
        async move { Ok::<_, Infallible>(respond(&server, request).await) }
    });
    let connection = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        _ = stopping.wait_for(|stop| *stop) => connection.as_mut().graceful_shutdown(),
    }
    let _ = connection.await;
}

/// The metrics endpoint, or the application (counted, marked warm).
async fn respond(server: &Server, request: Request<hyper::body::Incoming>) -> Response<Body> {
    if request.uri().path() == metrics::METRICS_PATH {
        return metrics::respond(server);
    }
    server.stats.request_started();
    let mut response = app::handle(&server.app, &server.services, request).await;
    response
        .headers_mut()
        .insert("x-coldfront-cold", HeaderValue::from_static("0"));
    response
}
