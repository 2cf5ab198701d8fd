//! `GET /api/events?count=N&interval_ms=M`: a Server-Sent Events stream of N events M ms
//! apart (the first at once), then the end of the stream. Each event is
//! `id: <seq>` + `data: {"seq":<seq>,"count":N}`.

use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response, StatusCode, Uri};
use http_body_util::BodyExt;
use hyper::body::Frame;
use tokio::time::{Interval, MissedTickBehavior};

use super::request::{bounded_u64, BadParam};
use super::Body;

const DEFAULT_COUNT: u64 = 10;
const MAX_COUNT: u64 = 100_000;
const DEFAULT_INTERVAL_MS: u64 = 1000;
const MAX_INTERVAL_MS: u64 = 3_600_000;

pub fn stream<B>(request: &Request<B>) -> Response<Body> {
    let (count, interval) = match params(request.uri()) {
        Ok(params) => params,
        Err(bad) => return bad.into_response(),
    };
    let body = EventStream::new(count, interval).boxed();
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// `count` and `interval_ms`, both optional.
fn params(uri: &Uri) -> Result<(u64, Duration), BadParam> {
    let count = bounded_u64(uri, "count", Some(DEFAULT_COUNT), MAX_COUNT)?;
    let interval_ms = bounded_u64(
        uri,
        "interval_ms",
        Some(DEFAULT_INTERVAL_MS),
        MAX_INTERVAL_MS,
    )?;
    Ok((count, Duration::from_millis(interval_ms)))
}

/// The body: yields one event per tick, `count` in all. With a zero interval every event is
/// ready at once.
struct EventStream {
    sent: u64,
    count: u64,
    ticks: Option<Interval>,
}

impl EventStream {
    fn new(count: u64, interval: Duration) -> EventStream {
        let ticks = (!interval.is_zero()).then(|| {
            let mut ticks = tokio::time::interval(interval);
            // A slow reader delays later events rather than getting a burst.
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            ticks
        });
        EventStream {
            sent: 0,
            count,
            ticks,
        }
    }

    fn event(&self, seq: u64) -> Bytes {
        let count = self.count;
        Bytes::from(format!(
            "id: {seq}\ndata: {{\"seq\":{seq},\"count\":{count}}}\n\n"
        ))
    }
}

impl hyper::body::Body for EventStream {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if self.sent >= self.count {
            return Poll::Ready(None);
        }
        if let Some(ticks) = self.ticks.as_mut() {
            ready!(ticks.poll_tick(cx));
        }
        self.sent += 1;
        let event = self.event(self.sent);
        Poll::Ready(Some(Ok(Frame::data(event))))
    }

    fn is_end_stream(&self) -> bool {
        self.sent >= self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::body::Body as _;
    use tokio::time::Instant;

    #[tokio::test(start_paused = true)]
    async fn events_arrive_one_interval_apart_then_end() {
        let started = Instant::now();
        let mut body = EventStream::new(3, Duration::from_millis(100));
        let mut arrivals = Vec::new();
        while let Some(frame) = body.frame().await {
            let data = frame.unwrap().into_data().unwrap();
            arrivals.push((started.elapsed().as_millis(), data));
        }
        let times: Vec<u128> = arrivals.iter().map(|(at, _)| *at).collect();
        assert_eq!(times, [0, 100, 200]);
        assert_eq!(arrivals[2].1, "id: 3\ndata: {\"seq\":3,\"count\":3}\n\n");
        assert!(body.is_end_stream());
    }

    #[tokio::test]
    async fn zero_interval_and_zero_count() {
        let all = EventStream::new(4, Duration::ZERO).collect().await.unwrap();
        assert_eq!(
            String::from_utf8(all.to_bytes().to_vec())
                .unwrap()
                .matches("data: ")
                .count(),
            4
        );
        assert!(EventStream::new(0, Duration::from_secs(1)).is_end_stream());
    }
}
