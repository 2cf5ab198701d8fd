//! Tests of the HTTP/1.1 fast path against real sockets: a scripted server on 127.0.0.1:0
//! answers with crafted bytes, split across writes to exercise partial reads.

use std::net::SocketAddr;
use std::time::Duration;

use http::header::{CONNECTION, HOST};
use http::{HeaderMap, Method};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::*;

/// One step of a scripted server, on the one connection it accepts.
#[derive(Clone)]
enum Step {
    /// Read one request (head and `Content-Length` body) and keep its bytes.
    Read,
    /// Write these bytes in pieces of at most this many bytes, 1 ms apart.
    Write(Vec<u8>, usize),
    /// Wait 20 ms, then close with an RST (`SO_LINGER` 0) instead of a FIN.
    Reset,
}

/// `Write` of a whole response in one piece.
fn send(bytes: &[u8]) -> Step {
    Step::Write(bytes.to_vec(), usize::MAX)
}

/// Starts a server that plays `script` on one connection, then closes it; the task
/// returns the requests it read.
async fn serve(script: Vec<Step>) -> (SocketAddr, JoinHandle<Vec<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    let server = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        stream.set_nodelay(true).expect("nodelay");
        let (mut seen, mut pending) = (Vec::new(), Vec::new());
        for step in script {
            match step {
                Step::Read => seen.push(read_request(&mut stream, &mut pending).await),
                Step::Write(bytes, piece) => {
                    for part in bytes.chunks(piece) {
                        if stream.write_all(part).await.is_err() {
                            break;
                        }
                        if piece < bytes.len() {
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                    }
                }
                Step::Reset => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    #[allow(deprecated)] // Dropping a linger-0 socket does not block.
                    stream.set_linger(Some(Duration::ZERO)).expect("linger");
                    return seen;
                }
            }
        }
        seen
    });
    (addr, server)
}

/// Reads one whole request; what came after it stays in `pending`.
async fn read_request(stream: &mut TcpStream, pending: &mut Vec<u8>) -> Vec<u8> {
    loop {
        let mut fields = [httparse::EMPTY_HEADER; 32];
        let mut request = httparse::Request::new(&mut fields);
        if let Ok(httparse::Status::Complete(head)) = request.parse(pending) {
            let body = request.headers.iter().find(|h| h.name == "Content-Length");
            let body = body.map_or(0, |h| {
                std::str::from_utf8(h.value).unwrap().parse().unwrap()
            });
            if pending.len() >= head + body {
                return pending.drain(..head + body).collect();
            }
        }
        let mut chunk = [0; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return std::mem::take(pending),
            Ok(read) => pending.extend_from_slice(&chunk[..read]),
        }
    }
}

/// A connection to the scripted server at `addr`.
async fn connect(addr: SocketAddr) -> Http1Connection<TcpStream> {
    Http1Connection::new(TcpStream::connect(addr).await.expect("connect"))
}

/// A bodiless request for `/` with this method.
fn request(method: Method) -> RequestBytes {
    RequestBytes::new(&method, "/", "localhost", &HeaderMap::new(), b"", false)
}

/// One exchange of `request` against a server answering with `script` (after reading the
/// request); fails the test if it hangs.
async fn exchange_once(
    request: &RequestBytes,
    script: Vec<Step>,
) -> (
    Result<ResponseHead, ExchangeError>,
    Http1Connection<TcpStream>,
) {
    let (addr, server) = serve([vec![Step::Read], script].concat()).await;
    let mut connection = connect(addr).await;
    let exchange = connection.exchange(request, 0);
    let result = tokio::time::timeout(Duration::from_secs(5), exchange).await;
    let result = result.expect("exchange hung");
    assert_eq!(server.await.expect("server")[0], request.as_bytes());
    (result, connection)
}

/// The head of a response without the cold header.
fn head(status: u16, keep_alive: bool) -> ResponseHead {
    ResponseHead {
        status,
        cold: None,
        keep_alive,
    }
}

#[test]
fn request_is_serialised_once_with_its_framing() {
    let mut headers = HeaderMap::new();
    headers.insert("x-api-key", "k".parse().unwrap());
    headers.insert(HOST, "other".parse().unwrap());
    headers.insert(CONNECTION, "keep-alive".parse().unwrap());
    let post = RequestBytes::new(&Method::POST, "/f?x=1", "h:8080", &headers, b"{}", true);
    let expected: &[u8] = b"POST /f?x=1 HTTP/1.1\r\nHost: h:8080\r\nx-api-key: k\r\n\
        Content-Length: 2\r\nConnection: close\r\n\r\n{}";
    assert_eq!(post.as_bytes(), expected);
    assert!(!post.is_idempotent());
    let get = RequestBytes::new(&Method::GET, "", "h", &HeaderMap::new(), b"", false);
    assert_eq!(get.as_bytes(), b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert!(get.is_idempotent());
    assert!(!request(Method::HEAD).expects_body && request(Method::HEAD).is_idempotent());
    assert!(!request(Method::PATCH).is_idempotent());
}

#[test]
fn errors_map_to_failure_causes() {
    let closed = |kind: io::ErrorKind| ExchangeError::ClosedBeforeResponse(kind.into());
    assert_eq!(
        closed(io::ErrorKind::ConnectionReset).cause(),
        FailureCause::Reset
    );
    assert_eq!(
        closed(io::ErrorKind::BrokenPipe).cause(),
        FailureCause::Reset
    );
    assert_eq!(
        closed(io::ErrorKind::UnexpectedEof).cause(),
        FailureCause::ClosedEarly
    );
    let reset = ExchangeError::Reset(io::ErrorKind::ConnectionReset.into());
    assert_eq!(reset.cause(), FailureCause::Reset);
    assert_eq!(
        ExchangeError::ClosedEarly.cause(),
        FailureCause::ClosedEarly
    );
    assert_eq!(
        ExchangeError::Malformed("x").cause(),
        FailureCause::Malformed
    );
    let other = ExchangeError::Io(io::ErrorKind::Other.into());
    assert_eq!(other.cause(), FailureCause::OtherIo);
}

#[tokio::test]
async fn keep_alive_carries_two_requests_on_one_connection() {
    let mut headers = HeaderMap::new();
    headers.insert("x-k", "v".parse().unwrap());
    let post = RequestBytes::new(&Method::POST, "/a", "h", &headers, b"hello", false);
    let (addr, server) = serve(vec![
        Step::Read,
        send(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"),
        Step::Read,
        send(b"HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n"),
    ])
    .await;
    let mut connection = connect(addr).await;
    assert_eq!(
        connection.exchange(&post, 0).await.unwrap(),
        head(200, true)
    );
    assert!(connection.reusable());
    assert_eq!(
        connection.exchange(&post, 0).await.unwrap(),
        head(201, true)
    );
    let expected: &[u8] =
        b"POST /a HTTP/1.1\r\nHost: h\r\nx-k: v\r\nContent-Length: 5\r\n\r\nhello";
    assert_eq!(
        server.await.unwrap(),
        vec![expected.to_vec(), expected.to_vec()]
    );
}

#[tokio::test]
async fn chunked_body_is_framed_at_every_split() {
    let chunked: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n\
        5;name=value\r\nhello\r\nA ; ext\r\n0123456789\r\n0\r\nx-trailer: yes\r\n\r\n";
    for piece in [1, 2, 3, 7, 64] {
        let (addr, server) = serve(vec![
            Step::Read,
            Step::Write(chunked.to_vec(), piece),
            Step::Read,
            send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        ])
        .await;
        let mut connection = connect(addr).await;
        let get = request(Method::GET);
        assert_eq!(
            connection.exchange(&get, 0).await.unwrap(),
            head(200, true),
            "piece {piece}"
        );
        assert_eq!(
            connection.exchange(&get, 0).await.unwrap(),
            head(200, true),
            "piece {piece}"
        );
        assert_eq!(server.await.unwrap().len(), 2);
    }
}

#[tokio::test]
async fn large_bodies_do_not_grow_the_buffer() {
    let mut by_length = b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n".to_vec();
    by_length.resize(by_length.len() + (1 << 20), b'x');
    let mut chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..16 {
        chunked.extend_from_slice(b"10000\r\n");
        chunked.resize(chunked.len() + 0x10000, b'y');
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let script = vec![
        Step::Read,
        Step::Write(by_length, 65536),
        Step::Read,
        send(&chunked),
    ];
    let (addr, server) = serve(script).await;
    let mut connection = connect(addr).await;
    let get = request(Method::GET);
    assert_eq!(connection.exchange(&get, 0).await.unwrap(), head(200, true));
    assert_eq!(connection.exchange(&get, 0).await.unwrap(), head(200, true));
    assert_eq!(connection.buffer_capacity(), INITIAL_BUFFER_BYTES);
    assert_eq!(server.await.unwrap().len(), 2);
}

/// A response case: its name, the request's method, the response bytes, the head expected.
type Case = (&'static str, Method, Vec<u8>, ResponseHead);

/// Plays each case on a connection of its own; the connection's reusability must match the
/// expected `keep_alive`.
async fn check(cases: Vec<Case>) {
    for (name, method, response, expected) in cases {
        let (result, connection) = exchange_once(&request(method), vec![send(&response)]).await;
        let got = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, expected, "{name}");
        assert_eq!(connection.reusable(), expected.keep_alive, "{name}");
    }
}

/// A 200 response with these header lines and body.
fn ok(rest: &str) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\n{rest}").into_bytes()
}

#[tokio::test]
async fn bodiless_responses_and_interim_ones_are_framed() {
    check(vec![
        (
            "HEAD",
            Method::HEAD,
            ok("Content-Length: 1000\r\n\r\n"),
            head(200, true),
        ),
        (
            "204",
            Method::GET,
            b"HTTP/1.1 204 No Content\r\n\r\n".to_vec(),
            head(204, true),
        ),
        (
            "304",
            Method::GET,
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n".to_vec(),
            head(304, true),
        ),
        (
            "1xx",
            Method::GET,
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n\
              HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                .to_vec(),
            head(200, true),
        ),
    ])
    .await;
}

#[tokio::test]
async fn keep_alive_follows_connection_version_and_framing() {
    let (close, until_eof) = (head(200, false), head(200, false));
    check(vec![
        (
            "close",
            Method::GET,
            ok("Connection: keep-alive, Close\r\nContent-Length: 2\r\n\r\nok"),
            close,
        ),
        (
            "1.0 to EOF",
            Method::GET,
            b"HTTP/1.0 200 OK\r\n\r\nbody until the end".to_vec(),
            until_eof,
        ),
        (
            "1.0 keep-alive",
            Method::GET,
            b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok".to_vec(),
            head(200, true),
        ),
        (
            "trailing bytes",
            Method::GET,
            ok("Content-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n"),
            close,
        ),
        (
            "TE not chunked",
            Method::GET,
            ok("Transfer-Encoding: gzip\r\n\r\nzzzz"),
            until_eof,
        ),
        (
            "TE wins over CL",
            Method::GET,
            ok("Content-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
            close,
        ),
        (
            "101",
            Method::GET,
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n".to_vec(),
            head(101, false),
        ),
        (
            "same CL",
            Method::GET,
            ok("Content-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok"),
            head(200, true),
        ),
    ])
    .await;
}

#[tokio::test]
async fn cold_header_is_read() {
    let cold = |value: Option<bool>| ResponseHead {
        cold: value,
        ..head(200, true)
    };
    check(vec![
        (
            "cold",
            Method::GET,
            ok("X-Coldfront-Cold: 1\r\nContent-Length: 0\r\n\r\n"),
            cold(Some(true)),
        ),
        (
            "warm",
            Method::GET,
            ok("x-coldfront-cold: false\r\nContent-Length: 0\r\n\r\n"),
            cold(Some(false)),
        ),
        (
            "unknown",
            Method::GET,
            ok("x-coldfront-cold: maybe\r\nContent-Length: 0\r\n\r\n"),
            cold(None),
        ),
    ])
    .await;
}

#[tokio::test]
async fn a_finished_connection_refuses_another_request() {
    let close = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    let (result, mut connection) = exchange_once(&request(Method::GET), vec![send(close)]).await;
    assert_eq!(result.unwrap(), head(200, false));
    let again = connection.exchange(&request(Method::GET), 0).await;
    assert!(matches!(again, Err(ExchangeError::Io(e)) if e.kind() == io::ErrorKind::NotConnected));
}

#[tokio::test]
async fn malformed_responses_are_refused() {
    let mut huge_head = b"HTTP/1.1 200 OK\r\nx-pad: ".to_vec();
    huge_head.resize(huge_head.len() + 70 * 1024, b'a');
    huge_head.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
    let many: Vec<u8> = (0..70)
        .flat_map(|i| format!("x-{i}: v\r\n").into_bytes())
        .collect();
    let many_headers = [b"HTTP/1.1 200 OK\r\n".as_slice(), &many, b"\r\n"].concat();
    let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    let cases: [(&[u8], &str); 9] = [
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "invalid response head"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
            "conflicting content-length",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nok",
            "conflicting content-length",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok",
            "invalid content-length",
        ),
        (
            &[chunked.as_slice(), b"zz\r\n"].concat(),
            "invalid chunk size",
        ),
        (
            &[chunked.as_slice(), b"1ffffffffffffffff\r\n"].concat(),
            "invalid chunk size",
        ),
        (
            &[chunked.as_slice(), b"2\r\nokay\r\n0\r\n\r\n"].concat(),
            "chunk data longer than its size",
        ),
        (&huge_head, "response head too large"),
        (&many_headers, "too many header fields"),
    ];
    for (response, reason) in cases {
        let (result, connection) = exchange_once(&request(Method::GET), vec![send(response)]).await;
        assert!(
            matches!(result, Err(ExchangeError::Malformed(r)) if r == reason),
            "{reason}: {result:?}"
        );
        assert!(!connection.reusable());
    }
}

#[tokio::test]
async fn closes_and_resets_are_told_apart() {
    let get = request(Method::GET);
    let (result, _) = exchange_once(&get, vec![]).await;
    assert!(
        matches!(&result, Err(ExchangeError::ClosedBeforeResponse(_))),
        "{result:?}"
    );
    assert_eq!(result.unwrap_err().cause(), FailureCause::ClosedEarly);

    let (result, _) = exchange_once(&get, vec![Step::Reset]).await;
    assert!(
        matches!(&result, Err(ExchangeError::ClosedBeforeResponse(_))),
        "{result:?}"
    );
    assert_eq!(result.unwrap_err().cause(), FailureCause::Reset);

    let half_head = || send(b"HTTP/1.1 200 OK\r\nContent-Le");
    let (result, _) = exchange_once(&get, vec![half_head()]).await;
    assert!(
        matches!(result, Err(ExchangeError::ClosedEarly)),
        "{result:?}"
    );

    let (result, _) = exchange_once(&get, vec![half_head(), Step::Reset]).await;
    assert!(matches!(result, Err(ExchangeError::Reset(_))), "{result:?}");

    let short_body = send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello");
    let (result, _) = exchange_once(&get, vec![short_body]).await;
    assert!(
        matches!(result, Err(ExchangeError::ClosedEarly)),
        "{result:?}"
    );
}
