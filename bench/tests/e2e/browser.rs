//! The HTML report and the static site in a real browser: Debian's Chromium, headless, driven
//! over the DevTools protocol. Each page must load with no console error, no exception and no
//! failed resource; every chart image must decode; every link to a raw file must answer 200
//! from a plain static file server. A screenshot of each page is kept for a person to look at
//! (`target/tmp/browser-check/`).
//!
//! `.ci/run` installs Chromium (`apt-get install chromium`); elsewhere set `CHROMIUM` to a
//! Chromium or Chrome binary if it is not `chromium` on the PATH.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use super::support::*;

/// Chart images a result set's page embeds.
const CHARTS_PER_PAGE: usize = 7;

#[test]
fn report_and_site_render_in_chromium_without_errors() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    // A description that would inject an element and a console error if it were not escaped.
    let scenario = write_scenario(
        dir.path(),
        "browser",
        &ScenarioText::new("browser-check")
            .description(
                "Two targets <img src=x onerror=\"console.error('unescaped')\"> & quotes ' \"",
            )
            .target_url("fast", &server.url())
            .target_url("slow", &server.url())
            .phase("name = \"steady\"\nduration = \"2s\"\nrate = 100")
            .phase("name = \"pause\"\nduration = \"1s\"\nrate = 0")
            .phase("name = \"burst <b>\"\nduration = \"1s\"\nrate = 200")
            .request("path = \"/sleep/1\"")
            .threshold("*.latency.p99", "< 2s"),
    );
    let out = dir.path().join("out");
    assert_exit(&run_coldfront(&out, &[&scenario]), 0);
    let set = out.join("browser-check");
    assert!(set.join("report.html").is_file(), "run writes report.html");
    for stem in ["latency-spectrum", "latency-over-time"] {
        assert!(
            set.join(format!("charts/{stem}.png")).is_file(),
            "{stem}.png"
        );
        assert!(
            set.join(format!("charts/{stem}.svg")).is_file(),
            "{stem}.svg"
        );
    }

    let site = dir.path().join("site");
    let output = Command::new(env!("CARGO_BIN_EXE_coldfront"))
        .args(["report"])
        .arg(&set)
        .arg("--out")
        .arg(&site)
        .output()
        .unwrap();
    assert_exit(&output, 0);

    let shots = screenshot_dir();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let files = StaticServer::start(site.clone()).await;
        let browser = Browser::launch().await;
        let mut page = browser.new_page().await;

        // The site, as a static host would serve it.
        let index = page.open(&format!("http://{}/index.html", files.addr)).await;
        index.assert_clean("index.html");
        let links = page
            .eval("Array.from(document.querySelectorAll('a[href$=\"report.html\"]')).map(a => a.getAttribute('href'))")
            .await;
        assert_eq!(links, json!(["browser-check/report.html"]), "index links its result set");
        page.screenshot(&shots.join("index.png")).await;

        let report = page
            .open(&format!("http://{}/browser-check/report.html", files.addr))
            .await;
        report.assert_clean("site report page");
        page.assert_charts_loaded(CHARTS_PER_PAGE).await;
        page.assert_not_injected().await;
        let statuses = page
            .eval_async(
                "Promise.all(Array.from(document.querySelectorAll('a[href]'))
                   .filter(a => a.host === location.host)
                   .map(a => fetch(a.href).then(r => [a.getAttribute('href'), r.status])))",
            )
            .await;
        let statuses = statuses.as_array().unwrap();
        assert!(
            statuses.len() >= 5 + 2 * CHARTS_PER_PAGE,
            "links to raw files and charts: {statuses:?}"
        );
        for pair in statuses {
            assert_eq!(pair[1], json!(200), "link {} answers", pair[0]);
        }
        page.screenshot(&shots.join("report.png")).await;

        // The result set's own page, straight from disk: self-contained, no server needed.
        let url = format!("file://{}", set.join("report.html").display());
        let local = page.open(&url).await;
        local.assert_clean("report.html from disk");
        page.assert_charts_loaded(CHARTS_PER_PAGE).await;
        drop(page);
        browser.close().await;
        drop(files);
    });
}

fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-check");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Serves a directory's files over HTTP/1.1 on loopback, like any static host.
struct StaticServer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl StaticServer {
    async fn start(root: PathBuf) -> StaticServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let root = root.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let root = root.clone();
                        async move { Ok::<_, std::convert::Infallible>(serve_file(&root, &req)) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        StaticServer { addr, task }
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn serve_file<B>(
    root: &Path,
    req: &http::Request<B>,
) -> http::Response<http_body_util::Full<bytes::Bytes>> {
    let path = req.uri().path().trim_start_matches('/');
    let safe = !path.split('/').any(|part| part == "..");
    let file = root.join(path);
    let (status, body, kind) = match std::fs::read(&file) {
        Ok(bytes) if safe => (200, bytes, content_type(&file)),
        _ => (404, b"not found".to_vec(), "text/plain"),
    };
    http::Response::builder()
        .status(status)
        .header("content-type", kind)
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .unwrap()
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("csv") => "text/csv",
        _ => "text/plain; charset=utf-8",
    }
}

/// A headless Chromium with a fresh profile, ended by PID when dropped.
struct Browser {
    child: Child,
    socket: tokio::sync::Mutex<Socket>,
    _profile: tempfile::TempDir,
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl Browser {
    async fn launch() -> Browser {
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(&binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--remote-debugging-port=0",
                "--window-size=1280,900",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {binary}: {e}. The browser test needs Chromium: \
                     `apt-get install chromium` (Debian), or set CHROMIUM to its path"
                )
            });
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let (false, Some(url)) = (sent, line.strip_prefix("DevTools listening on ")) {
                    let _ = tx.send(url.trim().to_string());
                    sent = true;
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("Chromium printed its DevTools address within 30 s");
        let (socket, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .unwrap();
        Browser {
            child,
            socket: tokio::sync::Mutex::new(socket),
            _profile: profile,
        }
    }

    async fn new_page(&self) -> Page<'_> {
        let mut page = Page {
            browser: self,
            session: None,
            next_id: 0,
            events: Vec::new(),
        };
        let target = page
            .call("Target.createTarget", json!({"url": "about:blank"}))
            .await;
        let target_id = target["targetId"].as_str().unwrap().to_string();
        let attached = page
            .call(
                "Target.attachToTarget",
                json!({"targetId": target_id, "flatten": true}),
            )
            .await;
        page.session = Some(attached["sessionId"].as_str().unwrap().to_string());
        for domain in ["Page.enable", "Runtime.enable", "Log.enable"] {
            page.call(domain, json!({})).await;
        }
        page
    }

    async fn close(mut self) {
        let _ = self
            .socket
            .get_mut()
            .send(Message::text(
                json!({"id": 1_000_000, "method": "Browser.close"}).to_string(),
            ))
            .await;
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One tab, attached with a flat session.
struct Page<'a> {
    browser: &'a Browser,
    session: Option<String>,
    next_id: u64,
    /// Events seen since the last `open`.
    events: Vec<Value>,
}

/// What a page load produced.
struct Loaded {
    problems: Vec<String>,
}

impl Loaded {
    fn assert_clean(&self, what: &str) {
        assert!(
            self.problems.is_empty(),
            "{what}: console errors, exceptions or failed loads: {:#?}",
            self.problems
        );
    }
}

impl Page<'_> {
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = &self.session {
            message["sessionId"] = json!(session);
        }
        let mut socket = self.browser.socket.lock().await;
        socket
            .send(Message::text(message.to_string()))
            .await
            .unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let next = tokio::time::timeout_at(deadline, socket.next())
                .await
                .unwrap_or_else(|_| panic!("{method}: no answer within 30 s"));
            let Some(Ok(Message::Text(text))) = next else {
                continue;
            };
            let value: Value = serde_json::from_str(&text).unwrap();
            if value["id"] == json!(id) {
                if let Some(error) = value.get("error") {
                    panic!("{method}: {error}");
                }
                return value["result"].clone();
            }
            if value.get("method").is_some() {
                self.events.push(value);
            }
        }
    }

    /// Waits for the next event named `method` (already seen ones count).
    async fn wait_event(&mut self, method: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if self.events.iter().any(|e| e["method"] == json!(method)) {
                return;
            }
            let mut socket = self.browser.socket.lock().await;
            let next = tokio::time::timeout_at(deadline, socket.next())
                .await
                .unwrap_or_else(|_| panic!("no {method} within 30 s"));
            if let Some(Ok(Message::Text(text))) = next {
                self.events.push(serde_json::from_str(&text).unwrap());
            }
        }
    }

    async fn open(&mut self, url: &str) -> Loaded {
        self.events.clear();
        let navigated = self.call("Page.navigate", json!({"url": url})).await;
        assert!(
            navigated.get("errorText").is_none(),
            "{url}: {}",
            navigated["errorText"]
        );
        self.wait_event("Page.loadEventFired").await;
        // Let late console messages and image decodes arrive.
        self.eval_async("new Promise(r => setTimeout(() => r(true), 300))")
            .await;
        let problems = self
            .events
            .iter()
            .filter_map(|event| match event["method"].as_str() {
                Some("Runtime.exceptionThrown") => Some(format!(
                    "exception: {}",
                    event["params"]["exceptionDetails"]
                )),
                Some("Runtime.consoleAPICalled")
                    if matches!(
                        event["params"]["type"].as_str(),
                        Some("error") | Some("assert")
                    ) =>
                {
                    Some(format!("console: {}", event["params"]["args"]))
                }
                Some("Log.entryAdded") if event["params"]["entry"]["level"] == json!("error") => {
                    Some(format!("log: {}", event["params"]["entry"]))
                }
                _ => None,
            })
            .collect();
        Loaded { problems }
    }

    async fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true}),
            )
            .await;
        assert!(
            result.get("exceptionDetails").is_none(),
            "{expression}: {}",
            result["exceptionDetails"]
        );
        result["result"]["value"].clone()
    }

    async fn eval_async(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        assert!(
            result.get("exceptionDetails").is_none(),
            "{expression}: {}",
            result["exceptionDetails"]
        );
        result["result"]["value"].clone()
    }

    /// Every `<img>` finished loading and decoded to a real picture.
    async fn assert_charts_loaded(&mut self, expected: usize) {
        let images = self
            .eval(
                "Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete, \
                 width: i.naturalWidth, height: i.naturalHeight}))",
            )
            .await;
        let images = images.as_array().unwrap();
        assert_eq!(images.len(), expected, "chart images: {images:#?}");
        for image in images {
            assert_eq!(image["complete"], json!(true), "{image}");
            assert!(image["width"].as_u64().unwrap() >= 600, "decoded: {image}");
            assert!(image["height"].as_u64().unwrap() >= 300, "decoded: {image}");
            assert!(
                !image["alt"].as_str().unwrap().is_empty(),
                "alt text: {image}"
            );
        }
    }

    /// User text shows as text: the description's markup is not an element.
    async fn assert_not_injected(&mut self) {
        let text = self
            .eval("document.querySelector('p.lede').textContent")
            .await;
        assert!(
            text.as_str().unwrap().contains("<img src=x onerror="),
            "description shown as text: {text}"
        );
        let phase = self
            .eval("document.body.textContent.includes('burst <b>')")
            .await;
        assert_eq!(phase, json!(true), "phase name shown as text");
        let bold = self.eval("document.querySelectorAll('b').length").await;
        assert_eq!(bold, json!(0), "no element from a phase name");
    }

    async fn screenshot(&mut self, path: &Path) {
        let shot = self
            .call(
                "Page.captureScreenshot",
                json!({"format": "png", "captureBeyondViewport": true}),
            )
            .await;
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}
