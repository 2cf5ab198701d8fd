//! The fast path of a worker: plain-HTTP/1.1 requests (no TLS, no held streams) driven by the
//! worker's own event loop, with no dispatcher thread, no channel and no task per request.
//!
//! - **Lanes.** A lane is a local task that sends one request at a time over a connection
//!   from the worker's [`Pool`]. The open model starts lanes as due requests find none free
//!   (up to the worker's share of `max_connections`); the closed model has one per worker of
//!   its concurrency.
//! - **The open model's schedule is pulled.** A free lane takes the next request whose
//!   intended time has come. One idle lane sleeps on a [`PreciseTimer`] until the next
//!   intended time (or, when it is only microseconds away, turns the loop once more, so at
//!   high rates the schedule is checked on every turn); the others wait their turn. A request no lane was free for is taken the
//!   moment one frees. When every connection the cap allows was busy, that wait is the
//!   target's and the send lag runs from when the lane freed; otherwise the generator could
//!   have used another connection, and the send lag runs from the intended time.
//! - **Far behind, in bulk.** Requests whose deadline passed before any lane could take them
//!   are counted as client timeouts in bulk, one histogram update per run of them, so memory
//!   stays constant however far behind the generator is.
//! - **Deadlines without a timer per request.** Each lane keeps one tokio timer and re-arms it
//!   only when it fires before the current request's deadline.
//! - **Connections counted exactly.** A connection is counted open from its connect to its
//!   drop, and the pool never holds more than its cap. A request on a reused connection that
//!   the server had closed before any byte of the answer (the keep-alive race) is retried once
//!   on a new connection when its method is idempotent, and counted in `connections.stale`.

use std::cell::{Cell, RefCell};
use std::iter::Peekable;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio::sync::Notify;

use super::client::Failure;
use super::http1::{ExchangeError, Http1Connection, RequestBytes, ResponseHead};
use super::schedule::{Arrival, ArrivalSchedule, Segment, SegmentSchedule};
use super::timer::PreciseTimer;
use super::{DriveReport, LoadContext, INTERRUPT_GRACE};
use crate::model::{ConnectionPolicy, FailureCause, Outcome, Sample};
use crate::record::ConnectionStats;
use crate::scenario::{LoadPlan, PhaseLoad};

/// Whether this target's requests can all take the fast path.
pub(super) fn applies(ctx: &LoadContext) -> bool {
    ctx.client.endpoint().tls.is_none() && ctx.requests.iter().all(|r| r.wire().held().is_none())
}

/// A connection of the pool, counted open until dropped.
struct Connection {
    http: Http1Connection<TcpStream>,
    /// Whether a request already went over it (a failure before any answer is then the
    /// keep-alive race, not the target refusing the request).
    used: bool,
    stats: Arc<ConnectionStats>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.stats.on_close();
    }
}

/// The worker's connections to the target: idle ones to reuse, and a cap on how many are open.
struct Pool {
    idle: RefCell<Vec<Connection>>,
    open: Cell<usize>,
    cap: usize,
    freed: Notify,
    addrs: Vec<SocketAddr>,
    stats: Arc<ConnectionStats>,
    keep_alive: bool,
}

impl Pool {
    /// A connection to send on: an idle one, or a new one once there is room for it. The
    /// second value is the connect time when it is new.
    async fn checkout(&self) -> Result<(Connection, Option<Duration>), Failure> {
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
    async fn connect_when_free(&self) -> Result<(Connection, Option<Duration>), Failure> {
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

    async fn connect(&self) -> Result<(Connection, Duration), Failure> {
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
    fn give_back(&self, mut connection: Connection, reusable: bool) {
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
    fn closed(&self) {
        self.open.set(self.open.get() - 1);
        self.freed.notify_one();
    }
}

/// What a lane needs: the worker's context, its requests as bytes, its pool.
struct Worker {
    ctx: Arc<LoadContext>,
    requests: Vec<RequestBytes>,
    pool: Pool,
    start: Instant,
}

impl Worker {
    fn new(ctx: Arc<LoadContext>, start: Instant) -> Rc<Self> {
        let keep_alive = ctx.client.policy() == ConnectionPolicy::KeepAlive;
        let requests = ctx
            .requests
            .iter()
            .map(|r| r.request_bytes(!keep_alive))
            .collect();
        let pool = Pool {
            idle: RefCell::new(Vec::new()),
            open: Cell::new(0),
            cap: ctx.client.max_connections(),
            freed: Notify::new(),
            addrs: ctx.client.endpoint().addrs.clone(),
            stats: ctx.client.connection_stats().clone(),
            keep_alive,
        };
        Rc::new(Worker {
            ctx,
            requests,
            pool,
            start,
        })
    }

    /// Sends request `seq` intended at `intended_at`, gives up at its deadline, records it.
    async fn send(&self, seq: u64, intended_at: Instant, send_lag: Duration, alarm: &mut Alarm) {
        let deadline = intended_at + self.ctx.timeout;
        let request_index = self.ctx.mix.pick(seq);
        let request = &self.requests[request_index];
        let mut sample = Sample {
            outcome: Outcome::ClientTimeout,
            latency: Duration::ZERO,
            service_time: None,
            connect_time: None,
            send_lag,
            cold: None,
            request_index,
            failure: None,
        };
        let mut sent_at = None;
        let exchanged = alarm
            .within(deadline, self.exchange(request, &mut sample, &mut sent_at))
            .await;
        let done_at = Instant::now();
        match exchanged {
            Some(Ok(head)) => {
                sample.outcome = Outcome::from_status(head.status);
                sample.cold = head.cold;
            }
            Some(Err(failure)) => {
                sample.outcome = failure.outcome;
                sample.failure = failure.cause;
            }
            None => sample.outcome = Outcome::ClientTimeout,
        }
        sample.latency = done_at.saturating_duration_since(intended_at);
        sample.service_time = sent_at.map(|sent: Instant| done_at.saturating_duration_since(sent));
        self.ctx.recorder.record(&sample);
    }

    /// One exchange on a pooled connection, retried once on a new connection when a reused
    /// one turns out closed before any answer and the request may be repeated.
    async fn exchange(
        &self,
        request: &RequestBytes,
        sample: &mut Sample,
        sent_at: &mut Option<Instant>,
    ) -> Result<ResponseHead, Failed> {
        let mut retried = false;
        loop {
            // A retry takes a new connection: other idle ones may be as stale as the last.
            let checkout = if retried {
                self.pool.connect_when_free().await
            } else {
                self.pool.checkout().await
            };
            let (mut connection, connect_time) = checkout.map_err(|f| Failed {
                outcome: f.outcome(),
                cause: f.cause(),
            })?;
            if connect_time.is_some() {
                sample.connect_time = connect_time;
            }
            *sent_at = Some(Instant::now());
            // Dropped here if the deadline passes: the connection is then not reused.
            let result = connection.http.exchange(request).await;
            match result {
                Ok(head) => {
                    let reusable = head.keep_alive && connection.http.reusable();
                    self.pool.give_back(connection, reusable);
                    return Ok(head);
                }
                Err(ExchangeError::ClosedBeforeResponse(_))
                    if connection.used && !retried && request.is_idempotent() =>
                {
                    self.pool.stats.stale.fetch_add(1, Ordering::Relaxed);
                    self.pool.give_back(connection, false);
                    retried = true;
                }
                Err(error) => {
                    self.pool.give_back(connection, false);
                    return Err(Failed {
                        outcome: Outcome::IoError,
                        cause: Some(error.cause()),
                    });
                }
            }
        }
    }
}

/// How a request failed before an HTTP status.
struct Failed {
    outcome: Outcome,
    cause: Option<FailureCause>,
}

/// A lane's one timer for its requests' deadlines, re-armed only when it fires early.
struct Alarm {
    sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl Alarm {
    fn new() -> Self {
        Alarm {
            sleep: Box::pin(tokio::time::sleep(Duration::from_secs(3600))),
        }
    }

    /// `work`'s result, or `None` when `deadline` passes first (`work` is then dropped).
    async fn within<T>(
        &mut self,
        deadline: Instant,
        work: impl std::future::Future<Output = T>,
    ) -> Option<T> {
        tokio::pin!(work);
        let deadline_at = tokio::time::Instant::from(deadline);
        if self.sleep.deadline() > deadline_at {
            self.sleep.as_mut().reset(deadline_at);
        }
        loop {
            tokio::select! {
                biased;
                done = &mut work => return Some(done),
                () = &mut self.sleep => {
                    if Instant::now() >= deadline {
                        return None;
                    }
                    // Fired for an earlier request's deadline: wait for this one's.
                    self.sleep.as_mut().reset(deadline_at);
                }
            }
        }
    }
}

/// The open model's side of a worker: its segment of the schedule, pulled by free lanes.
struct OpenSchedule {
    schedule: RefCell<Peekable<SegmentSchedule>>,
    timer: PreciseTimer,
    /// An idle lane is sleeping on the timer for the next intended time.
    sleeping: Cell<bool>,
    /// Idle lanes waiting their turn, and their wake-up.
    waiting: Cell<usize>,
    turn: Notify,
    lanes: Cell<usize>,
}

/// A request whose intended time has come, as a lane takes it.
struct Due {
    arrival: Arrival,
    /// Every connection the worker's cap allows was open and busy when it was taken.
    every_connection_busy: bool,
}

/// A next intended time closer than this is waited for by turning the loop, not the timer.
const YIELD_BELOW: Duration = Duration::from_micros(50);

/// How many requests the bulk expiry handles between looks at Ctrl-C.
const EXPIRE_BATCH: u64 = 65_536;

impl OpenSchedule {
    /// The next request for a free lane, once its intended time has come; `None` when the
    /// schedule is done or the run is cancelled. Spawns another lane when more are due and
    /// none is free.
    async fn next_due(&self, worker: &Rc<Worker>, lanes: &Rc<LaneSet>) -> Option<Due> {
        let ctx = &worker.ctx;
        loop {
            if ctx.cancel.is_cancelled() {
                return None;
            }
            let Some(&next) = self.schedule.borrow_mut().peek() else {
                // Done: the lanes waiting their turn would otherwise wait for ever.
                self.turn.notify_waiters();
                return None;
            };
            let due_at = worker.start + next.at;
            let now = Instant::now();
            if due_at > now {
                self.wait_for(due_at, ctx).await;
                continue;
            }
            if due_at + ctx.timeout <= now {
                self.expire(worker, now);
                continue;
            }
            self.schedule.borrow_mut().next();
            ctx.recorder.record_sent(next.at.as_secs());
            let every_connection_busy = self.lanes.get() >= worker.pool.cap;
            self.after_taking(worker, lanes);
            return Some(Due {
                arrival: next,
                every_connection_busy,
            });
        }
    }

    /// Waits for `due_at` as the sleeping lane, or for a turn if another lane sleeps.
    async fn wait_for(&self, due_at: Instant, ctx: &LoadContext) {
        if self.sleeping.replace(true) {
            self.waiting.set(self.waiting.get() + 1);
            tokio::select! {
                () = self.turn.notified() => {}
                () = ctx.cancel.cancelled() => {}
            }
            self.waiting.set(self.waiting.get() - 1);
            return;
        }
        if due_at.saturating_duration_since(Instant::now()) < YIELD_BELOW {
            // Due within a few microseconds (a high rate): one more turn of the loop, which
            // also reads what arrived, is cheaper and as exact as arming the timer.
            tokio::task::yield_now().await;
        } else {
            tokio::select! {
                _ = self.timer.sleep_until(due_at) => {}
                () = ctx.cancel.cancelled() => {}
            }
        }
        self.sleeping.set(false);
    }

    /// After a lane took a request: hand the timer to a waiting lane, or, when no lane is
    /// left idle, start one (while the cap allows), so there is always a lane watching for
    /// the next intended time while the others wait for answers.
    fn after_taking(&self, worker: &Rc<Worker>, lanes: &Rc<LaneSet>) {
        if self.waiting.get() > 0 {
            self.turn.notify_one();
        } else if !self.sleeping.get() && self.lanes.get() < worker.pool.cap {
            self.lanes.set(self.lanes.get() + 1);
            lanes.spawn_open(worker.clone());
        }
    }

    /// Requests whose deadline passed before a lane could take them: client timeouts counted
    /// in bulk. They are the generator's lateness when it had lanes to spare, else the
    /// target's (every connection was busy).
    fn expire(&self, worker: &Worker, now: Instant) {
        let ctx = &worker.ctx;
        let late = self.lanes.get() < worker.pool.cap;
        let mut schedule = self.schedule.borrow_mut();
        let (mut second, mut in_second, mut total) = (None, 0u64, 0u64);
        while let Some(next) = schedule.next_if(|a| worker.start + a.at + ctx.timeout <= now) {
            let this_second = next.at.as_secs();
            if second != Some(this_second) {
                if let Some(s) = second {
                    ctx.recorder.record_sent_n(s, in_second);
                }
                (second, in_second) = (Some(this_second), 0);
            }
            in_second += 1;
            total += 1;
            if total % EXPIRE_BATCH == 0 && ctx.cancel.is_cancelled() {
                break;
            }
        }
        if let Some(s) = second {
            ctx.recorder.record_sent_n(s, in_second);
        }
        ctx.recorder.record_expired(total, ctx.timeout, late);
    }
}

/// The worker's lanes, as local tasks, and how many are alive.
struct LaneSet {
    live: Cell<usize>,
    all_done: Notify,
    handles: RefCell<Vec<tokio::task::AbortHandle>>,
    open: RefCell<Option<Rc<OpenSchedule>>>,
}

/// Counts a lane alive until its task ends, however it ends.
struct Alive(Rc<LaneSet>);

impl Drop for Alive {
    fn drop(&mut self) {
        let live = self.0.live.get() - 1;
        self.0.live.set(live);
        if live == 0 {
            self.0.all_done.notify_waiters();
        }
    }
}

impl LaneSet {
    fn new() -> Rc<Self> {
        Rc::new(LaneSet {
            live: Cell::new(0),
            all_done: Notify::new(),
            handles: RefCell::new(Vec::new()),
            open: RefCell::new(None),
        })
    }

    fn spawn(self: &Rc<Self>, lane: impl std::future::Future<Output = ()> + 'static) {
        self.live.set(self.live.get() + 1);
        let alive = Alive(self.clone());
        let task = tokio::task::spawn_local(async move {
            let _alive = alive;
            lane.await;
        });
        self.handles.borrow_mut().push(task.abort_handle());
    }

    fn spawn_open(self: &Rc<Self>, worker: Rc<Worker>) {
        let Some(schedule) = self.open.borrow().clone() else {
            return;
        };
        self.spawn(open_lane(worker, schedule, self.clone()));
    }

    /// Until no lane is alive.
    async fn all_ended(&self) {
        loop {
            let ended = self.all_done.notified();
            if self.live.get() == 0 {
                return;
            }
            ended.await;
        }
    }
}

/// One open-model lane: takes due requests until the schedule ends or the run is cancelled.
async fn open_lane(worker: Rc<Worker>, schedule: Rc<OpenSchedule>, lanes: Rc<LaneSet>) {
    let mut alarm = Alarm::new();
    let mut free_since = Instant::now();
    while let Some(due) = schedule.next_due(&worker, &lanes).await {
        let arrival = due.arrival;
        let intended_at = worker.start + arrival.at;
        // Waiting for this lane to free is the target's share only when the cap allowed no
        // other connection; with room for one, any wait was the generator's own.
        let waited_from = if due.every_connection_busy {
            intended_at.max(free_since)
        } else {
            intended_at
        };
        let send_lag = Instant::now().saturating_duration_since(waited_from);
        worker
            .send(arrival.seq, intended_at, send_lag, &mut alarm)
            .await;
        free_since = Instant::now();
    }
}

/// One closed-model worker of a phase: send, wait, think, until the phase ends.
async fn closed_lane(
    worker: Rc<Worker>,
    segment: Segment,
    next: Rc<Cell<u64>>,
    phase_end: Instant,
    think_time: Duration,
) {
    let mut alarm = Alarm::new();
    let ctx = &worker.ctx;
    while Instant::now() < phase_end && !ctx.cancel.is_cancelled() {
        let k = next.get();
        next.set(k + 1);
        let started = Instant::now();
        ctx.recorder.record_sent((started - worker.start).as_secs());
        worker
            .send(segment.seq(k), started, Duration::ZERO, &mut alarm)
            .await;
        if !think_time.is_zero() {
            let wake = (Instant::now() + think_time).min(phase_end);
            tokio::select! {
                () = tokio::time::sleep_until(wake.into()) => {}
                () = ctx.cancel.cancelled() => break,
            }
        }
    }
}

/// Runs this worker's segment of `plan` on the fast path (inside a `LocalSet`).
pub(super) async fn drive(
    plan: &LoadPlan,
    seed: u64,
    segment: Segment,
    ctx: Arc<LoadContext>,
    start: Instant,
) -> DriveReport {
    let local = tokio::task::LocalSet::new();
    local
        .run_until(drive_local(plan, seed, segment, ctx, start))
        .await
}

async fn drive_local(
    plan: &LoadPlan,
    seed: u64,
    segment: Segment,
    ctx: Arc<LoadContext>,
    start: Instant,
) -> DriveReport {
    let worker = Worker::new(ctx.clone(), start);
    let lanes = LaneSet::new();
    match plan.model {
        crate::model::LoadModel::Open => {
            let whole = ArrivalSchedule::new(&plan.phases, plan.arrivals, seed);
            let timer = match PreciseTimer::new() {
                Ok(timer) => timer,
                Err(error) => {
                    eprintln!("error: generator timer: {error}");
                    return DriveReport::default();
                }
            };
            let schedule = Rc::new(OpenSchedule {
                schedule: RefCell::new(SegmentSchedule::new(whole, segment).peekable()),
                timer,
                sleeping: Cell::new(false),
                waiting: Cell::new(0),
                turn: Notify::new(),
                lanes: Cell::new(1),
            });
            *lanes.open.borrow_mut() = Some(schedule);
            lanes.spawn_open(worker.clone());
        }
        crate::model::LoadModel::Closed => spawn_closed(plan, segment, &worker, &lanes).await,
    }
    let report = finish(&lanes, &ctx).await;
    // The lanes hold the schedule and the set holds the lanes: break the cycle.
    *lanes.open.borrow_mut() = None;
    report
}

/// Starts each closed-model phase's lanes at the phase's start.
async fn spawn_closed(plan: &LoadPlan, segment: Segment, worker: &Rc<Worker>, lanes: &Rc<LaneSet>) {
    let next = Rc::new(Cell::new(0u64));
    let mut phase_start = worker.start;
    for phase in &plan.phases {
        let phase_end = phase_start + phase.duration;
        if let PhaseLoad::Concurrency {
            workers,
            think_time,
        } = phase.load
        {
            tokio::select! {
                () = tokio::time::sleep_until(phase_start.into()) => {}
                () = worker.ctx.cancel.cancelled() => return,
            }
            for _ in 0..segment.share(workers as u64) {
                lanes.spawn(closed_lane(
                    worker.clone(),
                    segment,
                    next.clone(),
                    phase_end,
                    think_time,
                ));
            }
        }
        phase_start = phase_end;
    }
}

/// Waits for every lane; after a cancellation, for at most the interrupt grace.
async fn finish(lanes: &LaneSet, ctx: &LoadContext) -> DriveReport {
    let finished = tokio::select! {
        () = lanes.all_ended() => true,
        () = ctx.cancel.cancelled() => {
            tokio::time::timeout(INTERRUPT_GRACE, lanes.all_ended()).await.is_ok()
        }
    };
    let abandoned = lanes.live.get() as u64;
    for handle in lanes.handles.borrow_mut().drain(..) {
        handle.abort();
    }
    DriveReport {
        interrupted: ctx.cancel.is_cancelled(),
        abandoned: if finished { 0 } else { abandoned },
    }
}

#[cfg(test)]
mod tests {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::io::{Read, Write};

    use super::*;
    use crate::load::client::{Client, Endpoint, PreparedRequest};
    use crate::load::mix::RequestMix;
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

    /// The keep-alive path allocates nothing per request once warm: the request is bytes
    /// written once, the answer framed in the connection's buffer, the sample recorded into
    /// preallocated histograms, the deadline on the lane's one timer.
    #[test]
    fn the_keep_alive_path_allocates_nothing_per_request() {
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
        };
        let ctx = Arc::new(LoadContext {
            requests: vec![PreparedRequest::new(&template, &endpoint).unwrap()],
            client: Client::new(endpoint, ConnectionPolicy::KeepAlive, 1),
            mix: RequestMix::new([1], 1),
            recorder: Arc::new(Recorder::new()),
            timeout: Duration::from_secs(5),
            cancel: tokio_util::sync::CancellationToken::new(),
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
        assert_eq!(per_request, 0.0, "allocations per request");
        let totals = recorder.totals();
        assert_eq!(totals.outcomes.get(Outcome::Ok), 1400);
        assert_eq!(totals.cold_starts, Some(0));
    }
}
