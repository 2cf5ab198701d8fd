//! The fast path's connections: a worker's pool of HTTP/1.1 connections to the target, each
//! counted open from its connect to its drop, never more open than the worker's cap.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
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
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.stats.on_close();
    }
}

/// The worker's connections to the target: idle ones to reuse, and a cap on how many are open.
pub(super) struct Pool {
    pub(super) idle: RefCell<Vec<Connection>>,
    pub(super) open: Cell<usize>,
    pub(super) cap: usize,
    pub(super) freed: Notify,
    pub(super) addrs: Vec<SocketAddr>,
    pub(super) stats: Arc<ConnectionStats>,
    pub(super) keep_alive: bool,
}

impl Pool {
    /// The pool of `client`'s worker: its cap, its target's addresses, its counters.
    pub(super) fn new(client: &Client, keep_alive: bool) -> Self {
        Pool {
            idle: RefCell::new(Vec::new()),
            open: Cell::new(0),
            cap: client.max_connections(),
            freed: Notify::new(),
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
            if self.open.get() < self.cap {
                return self.connect().await.map(|(c, t)| (c, Some(t)));
            }
            self.freed.notified().await;
        }
    }

    /// A new connection, once there is room for one (an idle one gives way if need be).
    pub(super) async fn connect_when_free(
        &self,
    ) -> Result<(Connection, Option<Duration>), Failure> {
        loop {
            if self.open.get() < self.cap {
                return self.connect().await.map(|(c, t)| (c, Some(t)));
            }
            let idle = self.idle.borrow_mut().pop();
            match idle {
                Some(idle) => {
                    drop(idle);
                    self.closed();
                }
                None => self.freed.notified().await,
            }
        }
    }

    pub(super) async fn connect(&self) -> Result<(Connection, Duration), Failure> {
        self.open.set(self.open.get() + 1);
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
                    };
                    return Ok((connection, began.elapsed()));
                }
                Err(error) => last = Some(error),
            }
        }
        self.closed();
        self.stats.failed.fetch_add(1, Ordering::Relaxed);
        Err(Failure::Tcp(last.unwrap_or_else(|| {
            std::io::Error::other("no address to connect to")
        })))
    }

    /// Returns a connection after a request: kept for the next if it may be reused.
    pub(super) fn give_back(&self, mut connection: Connection, reusable: bool) {
        if reusable && self.keep_alive {
            connection.used = true;
            self.idle.borrow_mut().push(connection);
            self.freed.notify_one();
        } else {
            drop(connection);
            self.closed();
        }
    }

    /// One connection fewer open (dropped, or its connect failed).
    pub(super) fn closed(&self) {
        self.open.set(self.open.get() - 1);
        self.freed.notify_one();
    }
}
