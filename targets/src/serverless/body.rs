//! The body of a response an instance is still producing: frames pass through until the body
//! ends, which hands the instance back ([`Lease::checkin`]), or until `max_duration`, which
//! kills the instance and ends the client's body with an error (hyper then closes the client
//! connection: a cut stream is never mistaken for a complete one). A client that goes away
//! drops the body, which retires the instance.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use tokio::time::{Instant, Sleep};

use super::pool::Lease;

pub struct InstanceBody {
    inner: Incoming,
    lease: Option<Lease>,
    deadline: Pin<Box<Sleep>>,
}

impl InstanceBody {
    pub fn new(inner: Incoming, lease: Lease, deadline: Instant) -> InstanceBody {
        let mut body = InstanceBody {
            inner,
            lease: Some(lease),
            deadline: Box::pin(tokio::time::sleep_until(deadline)),
        };
        // hyper may never poll a body that is empty from the start.
        if body.inner.is_end_stream() {
            body.finished();
        }
        body
    }

    fn finished(&mut self) {
        if let Some(lease) = self.lease.take() {
            lease.checkin();
        }
    }

    fn cut(&mut self) -> io::Error {
        if let Some(lease) = self.lease.take() {
            lease.kill();
        }
        io::Error::new(
            io::ErrorKind::TimedOut,
            "FUNCTION_INVOCATION_TIMEOUT: the response was cut at max_duration",
        )
    }
}

impl Body for InstanceBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = &mut *self;
        if this.lease.is_none() {
            // Finished (or cut) already: nothing more comes from the instance.
            return Poll::Ready(None);
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(this.cut())));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if this.inner.is_end_stream() {
                    this.finished();
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(error))) => {
                // The instance broke off mid-body: it retires with the lease.
                drop(this.lease.take());
                Poll::Ready(Some(Err(io::Error::other(error))))
            }
            Poll::Ready(None) => {
                this.finished();
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.lease.is_none() || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
