//! A real HTTPS server as users meet it: Debian's nginx with HTTP/2 and the certificate of the
//! usual one-liner (`openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -addext
//! "subjectAltName=DNS:localhost,IP:127.0.0.1"`), which is its own CA. `.ci/run` installs
//! nginx and openssl; elsewhere set `NGINX` to an nginx binary if it is not `/usr/sbin/nginx`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::support::*;

/// An nginx started for one test, stopped (and reaped) when dropped.
struct Nginx {
    child: Child,
    port: u16,
}

impl Nginx {
    fn start(dir: &Path, cert: &Path, key: &Path) -> Nginx {
        let binary = std::env::var("NGINX").unwrap_or_else(|_| "/usr/sbin/nginx".into());
        assert!(
            Path::new(&binary).exists(),
            "nginx not found at {binary}: `apt-get install nginx` (Debian; .ci/run does), or set \
             NGINX to its path"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let d = dir.display();
        let config = format!(
            "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             events {{}}\nhttp {{\n  access_log off;\n  client_body_temp_path {d}/body;\n\
             proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n\
             uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  server {{\n\
             listen 127.0.0.1:{port} ssl http2;\n    server_name localhost;\n\
             ssl_certificate {};\n    ssl_certificate_key {};\n\
             location / {{ return 200 \"ok\\n\"; }}\n  }}\n}}\n",
            cert.display(),
            key.display()
        );
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, config).unwrap();
        let child = Command::new(&binary)
            .arg("-p")
            .arg(dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let nginx = Nginx { child, port };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "nginx did not listen: {}",
                std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        nginx
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn nginx_with_the_one_liner_certificate_works_with_ca_cert_over_http2() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let openssl = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl (`apt-get install openssl`)");
    assert!(openssl.success());
    let nginx = Nginx::start(dir.path(), &cert, &key);
    let scenario = write_scenario(
        dir.path(),
        "nginx",
        &ScenarioText::new("nginx")
            .target_url("t", &format!("https://localhost:{}", nginx.port))
            .phase("duration = \"1s\"\nrate = 20")
            .request("path = \"/\""),
    );
    let out = dir.path().join("out");
    let ca = cert.to_str().unwrap();
    assert_exit(
        &run_coldfront_with(&out, &[&scenario], &["--ca-cert", ca]),
        0,
    );
    let t = &read_summary(&out.join("nginx")).targets["t"];
    assert_eq!(t.ok, 20, "{:?} {:?}", t.errors, t.failures);
    let tls = t.connections.tls.expect("handshakes recorded");
    assert_eq!(tls.alpn_h2, tls.handshakes, "HTTP/2: {tls:?}");
    assert!(tls.handshakes >= 1);
}
