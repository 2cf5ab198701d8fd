//! A minimal loopback HTTP/1.1 target for benchmarking the load generator itself: every request
//! (`GET /` in the benchmark scripts; any method and path) is answered 200 with a small body on
//! a keep-alive connection, after its body is read. Nothing else happens per request, so the
//! numbers measure the client, not the target.
//!
//! ```text
//! cargo run --release --example loopback_target -- --port 0 --threads 1
//! listening on 127.0.0.1:41234
//! ```
//!
//! `--port 0` (the default) picks a free port; `--threads N` is the number of tokio worker
//! threads (default 1, which runs a current-thread runtime). Stops on SIGTERM or SIGINT.

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};

const BODY: &[u8] = b"hello from the loopback target\n";

struct Args {
    port: u16,
    threads: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        port: 0,
        threads: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--port" => args.port = value.parse().map_err(|e| format!("--port {value}: {e}"))?,
            "--threads" => {
                args.threads = value
                    .parse()
                    .map_err(|e| format!("--threads {value}: {e}"))?;
                if args.threads == 0 {
                    return Err("--threads must be at least 1".into());
                }
            }
            _ => {
                return Err(format!(
                    "unknown argument {flag} (expected --port P, --threads N)"
                ))
            }
        }
    }
    Ok(args)
}

async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = request.into_body();
    if !body.is_end_stream() {
        // Read the body so the connection stays usable for the next request.
        let _ = body.collect().await;
    }
    Ok(Response::new(Full::new(Bytes::from_static(BODY))))
}

async fn serve(port: u16) -> std::io::Result<()> {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
    println!("listening on {}", listener.local_addr()?);
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => continue, // e.g. EMFILE: keep serving the connections we have
            },
            _ = terminate.recv() => return Ok(()),
            _ = interrupt.recv() => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service_fn(answer))
                .await;
        });
    }
}

fn main() -> std::process::ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("loopback_target: {message}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = if args.threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()
    };
    let result = runtime.and_then(|runtime| runtime.block_on(serve(args.port)));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("loopback_target: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
