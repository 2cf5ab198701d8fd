//! The fast path allocates nothing per request.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};

use std::cell::Cell;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::worker::{Alarm, Worker};
use super::LoadContext;
use crate::load::mix::RequestMix;
use crate::load::{Client, Endpoint, PreparedRequest};
use crate::model::{ConnectionPolicy, Outcome};
use crate::record::Recorder;
use crate::scenario::{RequestTemplate, Wire};

/// Counts the allocations of the threads that ask for it (the client's, in the test below),
/// passing everything to the system allocator.
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations on this thread while `work` runs.
async fn allocations_during<T>(work: impl std::future::Future<Output = T>) -> u64 {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    work.await;
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get)
}

/// A keep-alive server on its own thread answering every request with 200 and a body.
fn answering_server() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut buffer = [0u8; 4096];
                let mut pending = Vec::new();
                loop {
                    match stream.read(&mut buffer) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => pending.extend_from_slice(&buffer[..n]),
                    }
                    while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                        pending.drain(..end + 4);
                        let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nx-coldfront-cold: 0\r\n\r\nhello";
                        if stream.write_all(answer).is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

async fn send_many(worker: &Worker, n: u64, alarm: &mut Alarm) {
    for seq in 0..n {
        worker
            .send(seq, Instant::now(), Duration::ZERO, alarm)
            .await;
    }
}

/// Allocations per request of `template` on the keep-alive path once warm (1,400 sent).
fn allocations_per_request(template: &RequestTemplate) -> f64 {
    let addr = answering_server();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let endpoint = Endpoint {
        base_url: format!("http://{addr}").parse().unwrap(),
        addrs: vec![addr],
        tls: None,
    };
    let ctx = Arc::new(LoadContext {
        requests: vec![PreparedRequest::new(template, &endpoint).unwrap()],
        client: Client::new(endpoint, ConnectionPolicy::KeepAlive, 1),
        mix: RequestMix::new([1], 1),
        recorder: Arc::new(Recorder::new()),
        timeout: Duration::from_secs(5),
        cancel: tokio_util::sync::CancellationToken::new(),
        busy_poll: false,
    });
    let recorder = ctx.recorder.clone();
    let per_request = runtime.block_on(async move {
        let worker = Worker::new(ctx, Instant::now());
        let mut alarm = Alarm::new();
        send_many(&worker, 200, &mut alarm).await; // connect, grow what grows once
        let few = allocations_during(send_many(&worker, 100, &mut alarm)).await;
        let many = allocations_during(send_many(&worker, 1100, &mut alarm)).await;
        (many - few) as f64 / 1000.0
    });
    let totals = recorder.totals();
    assert_eq!(totals.outcomes.get(Outcome::Ok), 1400);
    assert_eq!(totals.cold_starts, Some(0));
    per_request
}

/// The keep-alive path allocates nothing per request once warm: the request is bytes
/// written once, the answer framed in the connection's buffer, the sample recorded into
/// preallocated histograms, the deadline on the lane's one timer.
#[test]
fn the_keep_alive_path_allocates_nothing_per_request() {
    let template = RequestTemplate {
        name: "GET /".into(),
        weight: 1,
        method: http::Method::GET,
        path_and_query: "/".into(),
        headers: vec![(
            http::header::ACCEPT,
            http::HeaderValue::from_static("text/plain"),
        )],
        body: bytes::Bytes::new(),
        wire: Wire::Http,
        placeholders: None,
    };
    assert_eq!(allocations_per_request(&template), 0.0);
}

/// Nor does a request with placeholders in its path, a header and its body: they are
/// rendered into the connection's write buffer, which keeps its capacity.
#[test]
fn placeholders_render_without_allocating_per_request() {
    let text = r#"
name = "alloc"
[targets.t]
url = "http://127.0.0.1:1"
[[load.phases]]
duration = "1s"
rate = 1
[[requests]]
method = "POST"
path = "/posts/{{seq}}?author={{int 1 500}}"
headers = { x-request-id = "{{uuid}}" }
body = '{"title": "post {{seq}}", "tag": "{{pick rust go zig}}"}'
"#;
    let plan = crate::scenario::parse_str(text, std::path::Path::new("alloc.toml")).unwrap();
    assert!(plan.requests[0].placeholders.is_some());
    assert_eq!(allocations_per_request(&plan.requests[0]), 0.0);
}
