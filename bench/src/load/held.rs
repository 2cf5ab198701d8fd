//! Held connections (`kind = "sse" | "websocket"`): one request on a connection of its own,
//! read until its hold elapses or the peer ends it, counting messages.
//!
//! Timing: the request's deadline (`timeout` after the intended send) bounds only the wait for
//! the answer (connection, TLS, the 200 or the 101); the hold counts from that answer. The
//! sample's latency runs from the intended send time to the first message (to the end when no
//! message came); its service time from the actual send. How it ended is a [`HeldEnd`]; its
//! [`Outcome`] follows from that, so every request still ends as exactly one outcome.
//! A cancelled run (Ctrl-C) ends every hold at once, closed by the generator (`held`).

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::time::{timeout, timeout_at, Interval, MissedTickBehavior};
use tokio_tungstenite::tungstenite::{self, Message};

use super::client::{cold_header, ConnectionSlot, OwnConnection};
use super::{LoadContext, PreparedRequest};
use crate::model::{FailureCause, HeldEnd, HeldSample, Outcome, Sample};
use crate::record::Recorder;
use crate::scenario::{HeldProtocol, HeldRequest};

/// How long the generator waits for a WebSocket closing handshake it started or answered.
const CLOSE_WAIT: Duration = Duration::from_millis(250);

/// Sends held request `request_index` as request number `seq` (its placeholders rendered for
/// it; intended at `intended_at`), holds it, and records it.
pub(super) async fn send_and_record(
    ctx: &LoadContext,
    (request_index, seq): (usize, u64),
    held: HeldRequest,
    intended_at: Instant,
    deadline: Instant,
) {
    let request = ctx.requests[request_index].for_seq(seq);
    let run = hold(ctx, &request, held, deadline).await;
    let (sample, held_sample) = run.samples(intended_at, request_index);
    ctx.recorder.record_held(&sample, &held_sample);
}

/// Everything one held request measured.
#[derive(Debug)]
struct HeldRun {
    end: HeldEnd,
    /// The outcome of a `Failed` end.
    failure: Outcome,
    /// Why it failed before an answer, when known.
    cause: Option<FailureCause>,
    status: Option<u16>,
    cold: Option<bool>,
    connect_time: Option<Duration>,
    sent_at: Option<Instant>,
    /// When the generator took the request up (before any wait for a connection).
    began_at: Instant,
    opened_at: Option<Instant>,
    first_message_at: Option<Instant>,
    ended_at: Instant,
    messages: u64,
    messages_sent: u64,
}

impl HeldRun {
    fn new() -> HeldRun {
        HeldRun {
            end: HeldEnd::Failed,
            failure: Outcome::ClientTimeout,
            cause: None,
            status: None,
            cold: None,
            connect_time: None,
            sent_at: None,
            began_at: Instant::now(),
            opened_at: None,
            first_message_at: None,
            ended_at: Instant::now(),
            messages: 0,
            messages_sent: 0,
        }
    }

    fn failed(&mut self, outcome: Outcome, cause: Option<FailureCause>) {
        self.end = HeldEnd::Failed;
        self.failure = outcome;
        self.cause = cause;
        self.ended_at = Instant::now();
    }

    fn refused(&mut self, status: u16) {
        self.end = HeldEnd::Refused;
        self.status = Some(status);
        self.ended_at = Instant::now();
    }

    fn opened(&mut self, status: u16) -> Instant {
        let now = Instant::now();
        self.status = Some(status);
        self.opened_at = Some(now);
        now
    }

    fn received(&mut self, messages: u64) {
        if messages > 0 && self.first_message_at.is_none() {
            self.first_message_at = Some(Instant::now());
        }
        self.messages += messages;
    }

    fn ended(&mut self, end: HeldEnd) {
        self.end = end;
        self.ended_at = Instant::now();
    }

    fn samples(&self, intended_at: Instant, request_index: usize) -> (Sample, HeldSample) {
        let done_at = self.first_message_at.unwrap_or(self.ended_at);
        let sample = Sample {
            outcome: self.end.outcome(self.status, self.failure),
            latency: done_at.saturating_duration_since(intended_at),
            service_time: self
                .sent_at
                .map(|sent| done_at.saturating_duration_since(sent)),
            connect_time: self.connect_time,
            send_lag: self.began_at.saturating_duration_since(intended_at),
            cold: self.cold,
            request_index,
            failure: self.cause,
        };
        let held = HeldSample {
            end: self.end,
            status: self.status,
            messages: self.messages,
            messages_sent: self.messages_sent,
            time_to_first_message: self
                .first_message_at
                .map(|at| at.saturating_duration_since(intended_at)),
            held_for: self
                .opened_at
                .map(|at| self.ended_at.saturating_duration_since(at)),
        };
        (sample, held)
    }
}

async fn hold(
    ctx: &LoadContext,
    request: &PreparedRequest,
    held: HeldRequest,
    deadline: Instant,
) -> HeldRun {
    let mut run = HeldRun::new();
    if Instant::now() >= deadline {
        // Already given up (the client is far behind): no I/O for a dead request.
        run.failed(Outcome::ClientTimeout, None);
        return run;
    }
    let connection = match timeout_at(deadline.into(), ctx.client.open_own(deadline)).await {
        Ok(Ok(connection)) => connection,
        Ok(Err(failure)) => {
            run.failed(failure.outcome(), failure.cause());
            return run;
        }
        Err(_) => {
            run.failed(Outcome::ClientTimeout, None);
            return run;
        }
    };
    run.connect_time = Some(connection.connect_time);
    match held.protocol {
        HeldProtocol::Sse => sse(ctx, request, held, deadline, connection, &mut run).await,
        HeldProtocol::WebSocket => {
            websocket(ctx, request, held, deadline, connection, &mut run).await
        }
    }
    run
}

/// Counts the stream as open in the recorder's held-open gauge while it lives.
struct OpenStream<'a>(&'a Recorder);

impl<'a> OpenStream<'a> {
    fn new(recorder: &'a Recorder) -> Self {
        recorder.held_stream_opened();
        OpenStream(recorder)
    }
}

impl Drop for OpenStream<'_> {
    fn drop(&mut self) {
        self.0.held_stream_closed();
    }
}

async fn sse(
    ctx: &LoadContext,
    request: &PreparedRequest,
    held: HeldRequest,
    deadline: Instant,
    connection: OwnConnection,
    run: &mut HeldRun,
) {
    let OwnConnection { io, slot, .. } = connection;
    let Ok((mut sender, connection)) = http1::handshake::<_, Full<Bytes>>(TokioIo::new(io)).await
    else {
        run.failed(Outcome::IoError, None);
        return;
    };
    // The connection's own task; aborting it closes the socket.
    let driver = tokio::spawn(connection);
    run.sent_at = Some(Instant::now());
    let answer = timeout_at(deadline.into(), async {
        sender.ready().await?;
        sender.send_request(request.sse_request()).await
    })
    .await;
    let response = match answer {
        Ok(Ok(response)) => Some(response),
        Ok(Err(_)) => {
            run.failed(Outcome::IoError, None);
            None
        }
        Err(_) => {
            run.failed(Outcome::ClientTimeout, None);
            None
        }
    };
    if let Some(response) = response {
        run.cold = cold_header(response.headers());
        let status = response.status().as_u16();
        let mut body = response.into_body();
        if status != 200 {
            // The refusal's latency runs to the end of its (short) body.
            let _ = timeout_at(deadline.into(), async {
                while let Some(Ok(_)) = body.frame().await {}
            })
            .await;
            run.refused(status);
        } else {
            let _open = OpenStream::new(&ctx.recorder);
            let hold_end = tokio::time::sleep_until((run.opened(status) + held.hold).into());
            tokio::pin!(hold_end);
            let mut events = EventCounter::default();
            let end = loop {
                tokio::select! {
                    biased;
                    _ = ctx.cancel.cancelled() => break HeldEnd::Held,
                    _ = &mut hold_end => break HeldEnd::Held,
                    frame = body.frame() => match frame {
                        None => break HeldEnd::Completed,
                        Some(Err(_)) => break HeldEnd::Cut,
                        Some(Ok(frame)) => {
                            if let Some(data) = frame.data_ref() {
                                run.received(events.feed(data));
                            }
                        }
                    },
                }
            };
            run.ended(end);
        }
    }
    drop(sender);
    close(driver, slot).await;
}

/// Closes the connection (its task ends, dropping the socket), then frees its slot.
async fn close<T>(driver: tokio::task::JoinHandle<T>, slot: ConnectionSlot) {
    driver.abort();
    let _ = driver.await;
    drop(slot);
}

async fn websocket(
    ctx: &LoadContext,
    request: &PreparedRequest,
    held: HeldRequest,
    deadline: Instant,
    connection: OwnConnection,
    run: &mut HeldRun,
) {
    let OwnConnection { io, slot, .. } = connection;
    let Ok(upgrade) = request.websocket_request() else {
        run.failed(Outcome::IoError, None);
        return;
    };
    run.sent_at = Some(Instant::now());
    let handshake = timeout_at(
        deadline.into(),
        tokio_tungstenite::client_async_with_config(upgrade, io, None),
    )
    .await;
    let mut socket = match handshake {
        Ok(Ok((socket, response))) => {
            run.cold = cold_header(response.headers());
            socket
        }
        Ok(Err(tungstenite::Error::Http(response))) => {
            run.cold = cold_header(response.headers());
            run.refused(response.status().as_u16());
            return;
        }
        Ok(Err(_)) => return run.failed(Outcome::IoError, None),
        Err(_) => return run.failed(Outcome::ClientTimeout, None),
    };
    let open = OpenStream::new(&ctx.recorder);
    let opened_at = run.opened(101);
    let hold_at = opened_at + held.hold;
    let hold_end = tokio::time::sleep_until(hold_at.into());
    tokio::pin!(hold_end);
    let mut sends = held.send_every.map(|every| {
        let mut ticks = tokio::time::interval_at(opened_at.into(), every);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        ticks
    });
    let end = loop {
        tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => break HeldEnd::Held,
            _ = &mut hold_end => break HeldEnd::Held,
            message = socket.next() => match message {
                Some(Ok(Message::Text(_) | Message::Binary(_))) => run.received(1),
                Some(Ok(Message::Close(_))) => break HeldEnd::Completed,
                Some(Ok(_)) => {} // ping, pong: answered by tungstenite
                Some(Err(tungstenite::Error::ConnectionClosed)) => break HeldEnd::Completed,
                Some(Err(_)) | None => break HeldEnd::Cut,
            },
            _ = tick(&mut sends) => {
                let text = format!("coldfront {}", run.messages_sent + 1);
                // A peer that stops reading cannot stretch the hold.
                match timeout_at(hold_at.into(), socket.send(Message::text(text))).await {
                    Ok(Ok(())) => run.messages_sent += 1,
                    Ok(Err(_)) => break HeldEnd::Cut,
                    Err(_) => break HeldEnd::Held,
                }
            }
        }
    };
    run.ended(end);
    drop(open);
    if end != HeldEnd::Cut {
        // Start (held) or answer (completed) the closing handshake, briefly.
        let _ = timeout(CLOSE_WAIT, async {
            let _ = socket.close(None).await;
            while let Some(Ok(_)) = socket.next().await {}
        })
        .await;
    }
    drop(socket);
    drop(slot);
}

/// The next tick of an optional interval (never, without one).
async fn tick(ticks: &mut Option<Interval>) {
    match ticks {
        Some(ticks) => {
            ticks.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// Counts Server-Sent Events that carry data, as a browser would dispatch them: `data:` lines
/// accumulate, a blank line dispatches the event (if it had data). Lines may end in LF, CRLF
/// or CR and may be split across reads; a last event without its blank line is not counted.
#[derive(Debug, Default)]
struct EventCounter {
    /// The first bytes of the current line (enough to see `data` and the `:` after it).
    field: [u8; 5],
    /// Bytes of the current line so far.
    line_len: usize,
    /// The previous byte was a CR (an LF right after it ends nothing more).
    after_cr: bool,
    /// The event being read has a data line.
    has_data: bool,
}

impl EventCounter {
    /// Feeds bytes; returns the number of events dispatched by them.
    fn feed(&mut self, bytes: &[u8]) -> u64 {
        let mut dispatched = 0;
        for &byte in bytes {
            let after_cr = std::mem::take(&mut self.after_cr);
            match byte {
                b'\n' if after_cr => {}
                b'\n' | b'\r' => {
                    self.after_cr = byte == b'\r';
                    dispatched += self.end_line();
                }
                _ => {
                    if self.line_len < self.field.len() {
                        self.field[self.line_len] = byte;
                    }
                    self.line_len += 1;
                }
            }
        }
        dispatched
    }

    fn end_line(&mut self) -> u64 {
        let line = &self.field[..self.line_len.min(self.field.len())];
        let dispatched = if self.line_len == 0 {
            u64::from(std::mem::take(&mut self.has_data))
        } else {
            // `data` alone or `data:…` is a data line; `:…` is a comment.
            if (line == b"data" && self.line_len == 4) || line == b"data:" {
                self.has_data = true;
            }
            0
        };
        self.line_len = 0;
        dispatched
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(chunks: &[&str]) -> u64 {
        let mut counter = EventCounter::default();
        chunks.iter().map(|c| counter.feed(c.as_bytes())).sum()
    }

    #[test]
    fn events_with_data_are_counted_at_their_blank_line() {
        assert_eq!(count(&["id: 1\ndata: {\"seq\":1}\n\n"]), 1);
        assert_eq!(count(&["data: a\ndata: b\n\ndata\n\n"]), 2);
        assert_eq!(count(&[": comment\n\nid: 3\nevent: x\n\n"]), 0, "no data");
        assert_eq!(count(&["data: last without blank line\n"]), 0);
        assert_eq!(count(&["database: no\n\n", "datum:\n\n"]), 0);
    }

    #[test]
    fn line_endings_and_split_reads() {
        assert_eq!(count(&["data: a\r\n\r\ndata: b\r\rdata: c\n\n"]), 3);
        assert_eq!(count(&["da", "ta", ": x\r", "\n", "\r", "\n"]), 1);
        assert_eq!(count(&["data: 1\n", "\n", "data: 2\n\n"]), 2);
    }
}
