//! The fast path's connections: a worker's pool of HTTP/1.1 connections to the target, each
//! counted open from its connect to its drop, never more open than the worker's cap.
//!
//! Room under the cap is a [`Slot`], taken when a connect begins and given back when it is
//! dropped: with the failed connect, or with the connection, wherever that happens (given back
//! closed, or dropped with a request whose deadline passed on the wire).

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio::sync::Notify;

use crate::load::client::{Client, Failure};
use crate::load::http1::Http1Connection;
use crate::record::ConnectionStats;

/// A connection of the pool, counted open until dropped.
pub(super) struct Connection {
    pub(super) http: Http1Connection<TcpStream>,
    /// Whether a request already went over it (a failure before any answer is then the
    /// keep-alive race, not the target refusing the request).
    pub(super) used: bool,
    pub(super) stats: Arc<ConnectionStats>,
    /// Given back (after the counters) when the connection is dropped.
    _slot: Slot,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.stats.on_close();
    }
}

/// How many of the pool's connections are open or connecting, and who waits for room.
struct Slots {
    open: Cell<usize>,
    /// Notified when a connection is freed: given back idle, or its slot given back.
    freed: Notify,
}

/// Room for one connection under the cap, held from the start of its connect; dropping it
/// gives the room back.
struct Slot(Rc<Slots>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.open.set(self.0.open.get() - 1);
        self.0.freed.notify_one();
    }
}

/// The worker's connections to the target: idle ones to reuse, and a cap on how many are open.
pub(super) struct Pool {
    pub(super) idle: RefCell<Vec<Connection>>,
    slots: Rc<Slots>,
    pub(super) cap: usize,
    pub(super) addrs: Vec<SocketAddr>,
    pub(super) stats: Arc<ConnectionStats>,
    pub(super) keep_alive: bool,
}

impl Pool {
    /// The pool of `client`'s worker: its cap, its target's addresses, its counters.
    pub(super) fn new(client: &Client, keep_alive: bool) -> Self {
        Pool {
            idle: RefCell::new(Vec::new()),
            slots: Rc::new(Slots {
                open: Cell::new(0),
                freed: Notify::new(),
            }),
            cap: client.max_connections(),
            addrs: client.endpoint().addrs.clone(),
            stats: client.connection_stats().clone(),
            keep_alive,
        }
    }

    /// A connection to send on: an idle one, or a new one once there is room for it. The
    /// second value is the connect time when it is new.
    pub(super) async fn checkout(&self) -> Result<(Connection, Option<Duration>), Failure> {
        loop {
            if let Some(connection) = self.idle.borrow_mut().pop() {
                self.stats.reused.fetch_add(1, Ordering::Relaxed);
                return Ok((connection, None));
            }
            if self.slots.open.get() < self.cap {
                return self.connect().await.map(|(c, t)| (c, Some(t)));
            }
            self.slots.freed.notified().await;
        }
    }

    /// A new connection, once there is room for one (an idle one gives way if need be).
    pub(super) async fn connect_when_free(
        &self,
    ) -> Result<(Connection, Option<Duration>), Failure> {
        loop {
            if self.slots.open.get() < self.cap {
                return self.connect().await.map(|(c, t)| (c, Some(t)));
            }
            let idle = self.idle.borrow_mut().pop();
            match idle {
                Some(idle) => drop(idle),
                None => self.slots.freed.notified().await,
            }
        }
    }

    /// A new connection in a slot taken now (given back if the connect fails or is dropped).
    async fn connect(&self) -> Result<(Connection, Duration), Failure> {
        self.slots.open.set(self.slots.open.get() + 1);
        let slot = Slot(self.slots.clone());
        let began = Instant::now();
        let mut last = None;
        for addr in &self.addrs {
            match TcpStream::connect(addr).await {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    self.stats.on_open();
                    let connection = Connection {
                        http: Http1Connection::new(stream),
                        used: false,
                        stats: self.stats.clone(),
                        _slot: slot,
                    };
                    return Ok((connection, began.elapsed()));
                }
                Err(error) => last = Some(error),
            }
        }
        self.stats.failed.fetch_add(1, Ordering::Relaxed);
        Err(Failure::Tcp(last.unwrap_or_else(|| {
            std::io::Error::other("no address to connect to")
        })))
    }

    /// Returns a connection after a request: kept for the next if it may be reused, else
    /// closed (its slot is then free).
    pub(super) fn give_back(&self, mut connection: Connection, reusable: bool) {
        if reusable && self.keep_alive {
            connection.used = true;
            self.idle.borrow_mut().push(connection);
            self.slots.freed.notify_one();
        }
    }
}
