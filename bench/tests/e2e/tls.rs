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
        TlsServer::start_with(acceptor, cert_pem)
    }

    /// With `acceptor`'s certificate, whose PEM is `cert_pem`.
    fn start_with(acceptor: tokio_rustls::TlsAcceptor, cert_pem: String) -> TlsServer {
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
    // What the handshakes negotiated is in the result set.
    let tls = t.connections.tls.expect("an https target's handshakes");
    let opened = t.connections.opened;
    assert_eq!(
        (tls.handshakes, tls.tls1_3, tls.alpn_h2),
        (opened, opened, opened),
        "{tls:?}"
    );

    // A connection per request: after the first full handshake, sessions are resumed.
    let per_request = write_scenario(
        dir.path(),
        "tls-per-request",
        &ScenarioText::new("tls-per-request")
            .target_url("t", &format!("https://localhost:{}", server.port))
            .load("connections = \"per-request\"")
            .phase("duration = \"1s\"\nrate = 20")
            .request("path = \"/\""),
    );
    let ca_path = ca.to_str().unwrap();
    let output = run_coldfront_with(&out, &[&per_request], &["--ca-cert", ca_path]);
    assert_exit(&output, 0);
    let t = &read_summary(&out.join("tls-per-request")).targets["t"];
    let tls = t.connections.tls.expect("handshakes");
    assert_eq!(tls.handshakes, 20, "{tls:?}");
    assert!(tls.resumed >= 1, "{tls:?}");

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

/// A CA-flagged self-signed certificate for `localhost` (what the usual one-liner, `openssl
/// req -x509 …`, makes) and its key.
fn self_signed_ca() -> (rcgen::Certificate, rcgen::KeyPair) {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let key = rcgen::KeyPair::generate().unwrap();
    (params.self_signed(&key).unwrap(), key)
}

/// webpki refuses a certificate that is its own CA as the server's certificate, even trusted;
/// given explicitly with `--ca-cert` it is accepted as itself, as curl does. Without it the
/// cause is said in words; with `--insecure` nothing is checked, and the result set and its
/// report say so.
#[test]
fn a_self_signed_ca_certificate_works_when_given_and_is_refused_in_words_otherwise() {
    let (cert, key) = self_signed_ca();
    let server = TlsServer::start_with(tls_acceptor(cert.der(), &key), cert.pem());
    let dir = tempfile::tempdir().unwrap();
    let given = dir.path().join("self-signed.pem");
    std::fs::write(&given, &server.cert_pem).unwrap();
    let (other, _) = self_signed_ca();
    let wrong = dir.path().join("other.pem");
    std::fs::write(&wrong, other.pem()).unwrap();
    let scenario = write_scenario(
        dir.path(),
        "self-signed",
        &ScenarioText::new("self-signed")
            .target_url("t", &format!("https://localhost:{}", server.port))
            .phase("duration = \"1s\"\nrate = 5")
            .request("path = \"/\""),
    );
    let out = dir.path().join("out");
    let path = |p: &std::path::Path| p.to_str().unwrap().to_string();

    let output = run_coldfront_with(&out, &[&scenario], &["--ca-cert", &path(&given)]);
    assert_exit(&output, 0);
    let set = out.join("self-signed");
    assert_eq!(read_summary(&set).targets["t"].ok, 5);
    let manifest: coldfront::resultset::Manifest =
        coldfront::resultset::read_json(&set.join("manifest.json"), "manifest").unwrap();
    assert_eq!(manifest.scenario.targets[0].tls_verified, Some(true));

    let output = run_coldfront_with(&out, &[&scenario], &["--ca-cert", &path(&wrong)]);
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
        &["--ca-cert", &path(&wrong), "--no-preflight"],
    );
    assert_exit(&output, 0);
    let t = &read_summary(&set).targets["t"];
    use coldfront::model::FailureCause;
    assert_eq!(
        t.failures[&FailureCause::TlsSelfSigned],
        5,
        "{:?}",
        t.failures
    );

    let output = run_coldfront_with(&out, &[&scenario], &["--insecure"]);
    assert_exit(&output, 0);
    assert_eq!(read_summary(&set).targets["t"].ok, 5);
    let manifest: coldfront::resultset::Manifest =
        coldfront::resultset::read_json(&set.join("manifest.json"), "manifest").unwrap();
    assert_eq!(manifest.scenario.targets[0].tls_verified, Some(false));
    let page = std::fs::read_to_string(set.join("report.html")).unwrap();
    assert!(
        page.contains("TLS certificates not checked</strong> (--insecure) for t"),
        "shown"
    );

    // The same for one target, in the scenario: `tls = { verify = false }`.
    let url = format!("https://localhost:{}", server.port);
    let unchecked = write_scenario(
        dir.path(),
        "unchecked",
        &ScenarioText::new("unchecked")
            .target("t", &format!("url = \"{url}\"\ntls = {{ verify = false }}"))
            .phase("duration = \"1s\"\nrate = 5")
            .request("path = \"/\""),
    );
    assert_exit(&run_coldfront(&out, &[&unchecked]), 0);
    let set = out.join("unchecked");
    assert_eq!(read_summary(&set).targets["t"].ok, 5);
    let manifest: coldfront::resultset::Manifest =
        coldfront::resultset::read_json(&set.join("manifest.json"), "manifest").unwrap();
    assert_eq!(manifest.scenario.targets[0].tls_verified, Some(false));
}
