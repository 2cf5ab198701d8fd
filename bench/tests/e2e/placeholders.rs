//! Per-request values end to end: a scenario whose path, header and body hold placeholders
//! (a sequence number, a range, a pick, a UUID, a CSV file's columns) is run against a server
//! that keeps every request it is sent; the values are as specified, the same seed sends the
//! same values (split over two generator workers too), another seed others, and a bad
//! placeholder is a located error before any load.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

use super::support::*;

/// One request as the server read it: path and query, the `x-` headers, the body.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    path: String,
    headers: BTreeMap<String, String>,
    body: String,
}

/// An HTTP/1.1 server that answers 200 to everything and keeps what it was sent.
struct RecordingServer {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    runtime: tokio::runtime::Runtime,
}

impl RecordingServer {
    fn start() -> RecordingServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let keep = seen.clone();
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let keep = keep.clone();
                tokio::spawn(async move {
                    let service =
                        service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                            let keep = keep.clone();
                            async move {
                                let path = request.uri().path_and_query().unwrap().to_string();
                                let headers = request
                                    .headers()
                                    .iter()
                                    .filter(|(name, _)| name.as_str().starts_with("x-"))
                                    .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string()))
                                    .collect();
                                let body = request.into_body().collect().await?.to_bytes();
                                let body = String::from_utf8(body.to_vec()).unwrap();
                                keep.lock().unwrap().push(Seen {
                                    path,
                                    headers,
                                    body,
                                });
                                Ok::<_, hyper::Error>(hyper::Response::new(Full::new(Bytes::new())))
                            }
                        });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        RecordingServer { url, seen, runtime }
    }

    /// Every request so far, by its `x-seq` header (the request's `{{seq}}`).
    fn by_seq(&self) -> BTreeMap<u64, Seen> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|seen| (seen.headers["x-seq"].parse().unwrap(), seen.clone()))
            .collect()
    }
}

impl Drop for RecordingServer {
    fn drop(&mut self) {
        let runtime = std::mem::replace(
            &mut self.runtime,
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap(),
        );
        runtime.shutdown_background();
    }
}

const USERS: &str = "email,password,city\n\
                     ada@example.com,pw-ada,London\n\
                     \"grace@example.com\",\"pw, \"\"quoted\"\"\",New York\n\
                     linus@example.com,pw-linus,Helsinki\n";

/// A scenario of 60 POSTs (200 req/s for 0.3 s) against `url`, seeded with `seed`.
fn scenario(url: &str, seed: u64) -> String {
    format!(
        r#"name = "values"
seed = {seed}
[targets.t]
url = "{url}"
[load]
timeout = "5s"
[[load.phases]]
duration = "300ms"
rate = 200
[[requests]]
method = "POST"
path = "/api/blogs?author={{{{int 3 7}}}}&tag={{{{pick rust go zig}}}}"
data = "users.csv"
headers = {{ x-seq = "{{{{seq}}}}", x-request-id = "{{{{uuid}}}}", x-email = "{{{{data.email}}}}" }}
body = '{{"title": "post {{{{seq}}}}", "password": "{{{{data.password}}}}", "city": "{{{{data.city}}}}", "trip": "{{{{pick paris "new york"}}}}"}}'
"#
    )
}

/// Runs the scenario with `seed` (and `flags`) against a fresh recording server: what it saw.
fn sent(dir: &Path, seed: u64, flags: &[&str]) -> BTreeMap<u64, Seen> {
    let server = RecordingServer::start();
    std::fs::write(dir.join("users.csv"), USERS).unwrap();
    let path = write_scenario(dir, &format!("values-{seed}"), &scenario(&server.url, seed));
    let out = dir.join(format!("out-{seed}-{}", flags.len()));
    let output = run_coldfront_with(&out, &[&path], flags);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    server.by_seq()
}

#[test]
fn placeholders_render_as_specified_and_reproducibly() {
    let dir = tempfile::tempdir().unwrap();
    let first = sent(dir.path(), 11, &[]);
    assert_eq!(
        first.keys().copied().collect::<Vec<_>>(),
        (0..60).collect::<Vec<u64>>(),
        "one request for each sequence number"
    );
    let rows = [
        ("ada@example.com", "pw-ada", "London"),
        ("grace@example.com", "pw, \"quoted\"", "New York"),
        ("linus@example.com", "pw-linus", "Helsinki"),
    ];
    let (mut authors, mut tags, mut trips) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let mut ids = Vec::new();
    for (seq, seen) in &first {
        let query = seen.path.strip_prefix("/api/blogs?author=").unwrap();
        let (author, tag) = query.split_once("&tag=").unwrap();
        let author: i64 = author.parse().unwrap();
        assert!((3..=7).contains(&author), "{author} is in 3..=7");
        *authors.entry(author).or_insert(0) += 1;
        assert!(
            ["rust", "go", "zig"].contains(&tag),
            "{tag} is one of the items"
        );
        *tags.entry(tag.to_string()).or_insert(0) += 1;
        // Sequential rows: request seq takes row seq mod 3, its cells in header and body.
        let (email, password, city) = rows[*seq as usize % rows.len()];
        assert_eq!(seen.headers["x-email"], email);
        let (body, trip) = seen.body.rsplit_once(r#", "trip": ""#).unwrap();
        let expected =
            format!(r#"{{"title": "post {seq}", "password": "{password}", "city": "{city}""#);
        assert_eq!(body, expected, "request {seq}");
        assert!(
            ["paris\"}", "new york\"}"].contains(&trip),
            "a quoted item: {trip}"
        );
        *trips.entry(trip.to_string()).or_insert(0) += 1;
        let id = &seen.headers["x-request-id"];
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4", "a version-4 UUID: {id}");
        assert!("89ab".contains(&id[19..20]), "RFC 4122 variant: {id}");
        ids.push(id.clone());
    }
    assert_eq!(
        authors.len(),
        5,
        "60 draws reach every integer of 3..=7: {authors:?}"
    );
    assert_eq!(tags.len(), 3, "and every item: {tags:?}");
    assert_eq!(trips.len(), 2, "{trips:?}");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 60, "a UUID of its own for every request");

    // The same seed sends the same values, also split over two generator workers (requests
    // interleaved between them); another seed sends other values.
    assert_eq!(sent(dir.path(), 11, &["--generator-cpus", "0,1"]), first);
    let other = sent(dir.path(), 12, &[]);
    assert_ne!(other, first);
    assert_eq!(
        other[&4].headers["x-email"], first[&4].headers["x-email"],
        "rows stay in order"
    );
}

#[test]
fn a_bad_placeholder_is_a_located_error_before_any_load() {
    let dir = tempfile::tempdir().unwrap();
    let server = RecordingServer::start();
    std::fs::write(dir.path().join("users.csv"), USERS).unwrap();
    let text = scenario(&server.url, 1).replace("{{data.city}}", "{{data.cty}}");
    let path = write_scenario(dir.path(), "bad", &text);
    let output = run_coldfront(&dir.path().join("out"), &[&path]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.toml:15:")
            && stderr.contains("requests[0].body: unknown users.csv column `cty`")
            && stderr.contains("(did you mean `data.city`?)"),
        "{stderr}"
    );
    assert!(
        server.seen.lock().unwrap().is_empty(),
        "no request was sent"
    );
    assert!(
        !dir.path().join("out").join("values").exists(),
        "no result set"
    );
}
