//! HTTPS targets: TLS with rustls, HTTP/2 negotiated by ALPN, a private CA via `--ca-cert`.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Response, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};

use super::support::*;

/// An HTTPS server for `localhost` offering h2 and http/1.1; counts HTTP/2 requests.
struct TlsServer {
    port: u16,
    cert_pem: String,
    http2_requests: Arc<AtomicU64>,
    _runtime: tokio::runtime::Runtime,
}

impl TlsServer {
    fn start() -> TlsServer {
        let (acceptor, cert_pem) = localhost_tls();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let http2_requests = Arc::new(AtomicU64::new(0));
        let counter = http2_requests.clone();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                let counter = counter.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                    let service = service_fn(move |request: hyper::Request<_>| {
                        if request.version() == Version::HTTP_2 {
                            counter.fetch_add(1, Ordering::Relaxed);
                        }
                        async {
                            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(
                                b"tls ok",
                            ))))
                        }
                    });
                    let io = TokioIo::new(tls);
                    if h2 {
                        let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                            .serve_connection(io, service)
                            .await;
                    } else {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(io, service)
                            .await;
                    }
                });
            }
        });
        TlsServer {
            port,
            cert_pem,
            http2_requests,
            _runtime: runtime,
        }
    }
}

#[test]
fn https_target_negotiates_http2_with_a_private_ca() {
    let server = TlsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &server.cert_pem).unwrap();
    let scenario = write_scenario(
        dir.path(),
        "tls",
        &ScenarioText::new("tls")
            .target_url("t", &format!("https://localhost:{}", server.port))
            .phase("duration = \"1s\"\nrate = 50")
            .request("path = \"/\""),
    );
    let out = dir.path().join("out");
    let output = assert_cmd::Command::cargo_bin("coldfront")
        .unwrap()
        .args(["run", "--quiet", "--ca-cert"])
        .arg(&ca)
        .arg("--out")
        .arg(&out)
        .arg(&scenario)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let t = &read_summary(&out.join("tls")).targets["t"];
    assert_eq!(t.ok, 50, "{:?}", t.errors);
    assert_eq!(server.http2_requests.load(Ordering::Relaxed), 50);

    // Without the CA the certificate is refused: before load, with the cause in words…
    let out = dir.path().join("out-untrusted");
    let output = run_coldfront(&out, &[&scenario]);
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("target `t`: cannot connect to https://localhost:")
            && stderr.contains("TLS handshake: invalid peer certificate"),
        "{stderr}"
    );
    // …and without the preflight, as connect errors with their cause, not a crash.
    let output = run_coldfront_with(&out, &[&scenario], &["--no-preflight"]);
    assert_exit(&output, 0);
    let t = &read_summary(&out.join("tls")).targets["t"];
    assert_eq!(t.errors[&coldfront::model::Outcome::ConnectError], 50);
    use coldfront::model::FailureCause;
    assert_eq!(
        t.failures[&FailureCause::TlsUnknownIssuer],
        50,
        "{:?}",
        t.failures
    );
    let page = std::fs::read_to_string(out.join("tls/report.html")).unwrap();
    assert!(page.contains("Every request of t failed"), "said loudly");
    assert!(
        page.contains("issuer is not trusted — pass the issuing CA with --ca-cert"),
        "in words"
    );
}

/// The usual one-liner's certificate (`openssl req -x509 …`) is its own CA, which rustls
/// refuses as the server's certificate even when trusted: the run stops before load and says
/// so in words.
#[test]
fn a_self_signed_ca_certificate_is_refused_with_its_cause_in_words() {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let acceptor = tls_acceptor(cert.der(), &key);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    runtime.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move { acceptor.accept(stream).await });
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("self-signed.pem");
    std::fs::write(&ca, cert.pem()).unwrap();
    let scenario = write_scenario(
        dir.path(),
        "self-signed",
        &ScenarioText::new("self-signed")
            .target_url("t", &format!("https://localhost:{port}"))
            .phase("duration = \"1s\"\nrate = 5")
            .request("path = \"/\""),
    );
    let out = dir.path().join("out");
    let ca_flag = ca.to_str().unwrap();
    let output = run_coldfront_with(&out, &[&scenario], &["--ca-cert", ca_flag]);
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot connect to https://localhost:")
            && stderr.contains(
                "TLS: certificate is a CA used as an end-entity certificate (self-signed?)"
            ),
        "{stderr}"
    );
    let output = run_coldfront_with(
        &out,
        &[&scenario],
        &["--ca-cert", ca_flag, "--no-preflight"],
    );
    assert_exit(&output, 0);
    let t = &read_summary(&out.join("self-signed")).targets["t"];
    use coldfront::model::FailureCause;
    assert_eq!(
        t.failures[&FailureCause::TlsSelfSigned],
        5,
        "{:?}",
        t.failures
    );
}
