//! Micro-benchmarks of what the load path does once per request: the schedule tick (open
//! model), the request-mix pick, recording (sent counter, finished sample, the per-second
//! interval swap), and the request's bytes (a static request's, and one with placeholders
//! rendered into a warm write buffer). Each is a few nanoseconds to a few tens; a regression here caps the request
//! rate one generator core can drive.
//!
//! `cargo bench --bench hot_path` (about 45 s).

use std::hint::black_box;
use std::time::Duration;

use coldfront::load::schedule::{Arrival, ArrivalSchedule};
use coldfront::load::{Endpoint, PreparedRequest, RequestMix};
use coldfront::model::Arrivals;
use coldfront::model::{Outcome, Sample};
use coldfront::record::Recorder;
use coldfront::rng::SplitMix64;
use coldfront::scenario::{Phase, PhaseLoad, Rate};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// Phases long enough that a benchmark never exhausts them (refilled if it does).
const PHASE: Duration = Duration::from_secs(10_000_000);

fn phase(rate: Rate) -> Phase {
    Phase {
        name: None,
        duration: PHASE,
        load: PhaseLoad::Rate(rate),
    }
}

/// The next arrival, starting over from `fresh` should the schedule ever run out.
fn tick(schedule: &mut ArrivalSchedule, fresh: &ArrivalSchedule) -> Arrival {
    match schedule.next() {
        Some(arrival) => arrival,
        None => {
            *schedule = fresh.clone();
            schedule.next().expect("a fresh schedule has arrivals")
        }
    }
}

fn schedule_tick(c: &mut Criterion) {
    let mut group = c.benchmark_group("schedule_tick");
    group.throughput(Throughput::Elements(1));
    let cases = [
        (
            "uniform_constant_10k",
            vec![phase(Rate::Constant(10_000.0))],
            Arrivals::Uniform,
        ),
        (
            "poisson_ramp_1k_to_100k",
            vec![phase(Rate::Ramp {
                from: 1_000.0,
                to: 100_000.0,
            })],
            Arrivals::Poisson,
        ),
    ];
    for (name, phases, arrivals) in cases {
        let fresh = ArrivalSchedule::new(&phases, arrivals, 1);
        let mut schedule = fresh.clone();
        group.bench_function(name, |b| b.iter(|| black_box(tick(&mut schedule, &fresh))));
    }
    group.finish();
}

fn mix_pick(c: &mut Criterion) {
    let mut group = c.benchmark_group("mix_pick");
    group.throughput(Throughput::Elements(1));
    let mix = RequestMix::new([8, 1, 1], 42);
    let mut seq = 0u64;
    group.bench_function("three_weights", |b| {
        b.iter(|| {
            seq = seq.wrapping_add(1);
            black_box(mix.pick(black_box(seq)))
        })
    });
    group.finish();
}

/// Samples with realistic, varying times: a body around 0.1–2 ms, a 1% tail up to 200 ms,
/// a little send lag, a new connection now and then, mostly `ok`.
fn realistic_samples(count: usize) -> Vec<Sample> {
    let mut rng = SplitMix64::new(7);
    (0..count)
        .map(|i| {
            let tail = rng.next_u64() % 100 == 0;
            let service_us = if tail {
                5_000.0 + rng.next_unit() * 195_000.0
            } else {
                100.0 + rng.next_exp() * 300.0
            };
            let send_lag_us = rng.next_exp() * 20.0;
            let connect = (i % 200 == 0).then(|| Duration::from_micros(60 + rng.next_u64() % 200));
            let service_time = Duration::from_secs_f64(service_us / 1e6);
            let send_lag = Duration::from_secs_f64(send_lag_us / 1e6);
            let outcome = match rng.next_u64() % 1000 {
                0 => Outcome::Http5xx,
                1 => Outcome::ClientTimeout,
                _ => Outcome::Ok,
            };
            Sample {
                outcome,
                latency: service_time + send_lag + connect.unwrap_or_default(),
                service_time: Some(service_time),
                connect_time: connect,
                send_lag,
                cold: None,
                request_index: i % 3,
                failure: None,
            }
        })
        .collect()
}

fn recording(c: &mut Criterion) {
    let samples = realistic_samples(4096);
    let mut group = c.benchmark_group("recorder");
    group.throughput(Throughput::Elements(1));

    let recorder = Recorder::new();
    let mut i = 0usize;
    group.bench_function("record", |b| {
        b.iter(|| {
            i = (i + 1) % samples.len();
            recorder.record(black_box(&samples[i]));
        })
    });

    let mut second = 0u64;
    group.bench_function("record_sent", |b| {
        b.iter(|| {
            second = second.wrapping_add(1) % 600;
            recorder.record_sent(black_box(second / 100));
        })
    });

    group.bench_function("record_sent_and_record", |b| {
        b.iter(|| {
            i = (i + 1) % samples.len();
            recorder.record_sent(black_box(3));
            recorder.record(black_box(&samples[i]));
        })
    });

    let mut interval = Recorder::empty_interval();
    let mut tick = 0u64;
    group.bench_function("take_interval_alone", |b| {
        b.iter(|| {
            tick += 1;
            recorder.take_interval(black_box(tick), &mut interval);
            black_box(interval.completed())
        })
    });

    group.throughput(Throughput::Elements(1000));
    group.bench_function("1000_records_then_take_interval", |b| {
        b.iter(|| {
            for _ in 0..1000 {
                i = (i + 1) % samples.len();
                recorder.record_sent(3);
                recorder.record(black_box(&samples[i]));
            }
            tick += 1;
            recorder.take_interval(tick, &mut interval);
            black_box(interval.completed())
        })
    });
    group.finish();
}

/// Two POSTs alike but for their placeholders: one static, one with a sequence number, a
/// random integer, a pick and a UUID in its path, a header and its JSON body.
const REQUESTS: &str = r#"
name = "bench"
seed = 1
[targets.t]
url = "http://127.0.0.1:8080"
[[load.phases]]
duration = "1s"
rate = 1
[[requests]]
method = "POST"
path = "/api/blogs?author=42"
headers = { x-request-id = "3f2c9a1e-0b7d-4c55-9e1a-5d2f8b6c7a90", content-type = "application/json" }
body = '{"title": "post 1234567", "category": "rust", "words": 250}'
[[requests]]
method = "POST"
path = "/api/blogs?author={{int 1 500}}"
headers = { x-request-id = "{{uuid}}", content-type = "application/json" }
body = '{"title": "post {{seq}}", "category": "{{pick rust go zig}}", "words": {{int 10 900}}}'
"#;

fn request_bytes(c: &mut Criterion) {
    let requests = coldfront::scenario::parse_requests(REQUESTS, std::path::Path::new("b.toml"))
        .expect("the bench's scenario reads");
    let endpoint = Endpoint {
        base_url: "http://127.0.0.1:8080".parse().unwrap(),
        addrs: vec!["127.0.0.1:8080".parse().unwrap()],
        tls: None,
    };
    let mut group = c.benchmark_group("request_bytes");
    group.throughput(Throughput::Elements(1));
    for (name, template) in ["static", "placeholders"].into_iter().zip(&requests) {
        let prepared = PreparedRequest::new(template, &endpoint).unwrap();
        let bytes = prepared.request_bytes(false);
        let mut buf = Vec::new();
        let mut seq = 0u64;
        group.bench_function(name, |b| {
            b.iter(|| {
                seq += 1;
                black_box(bytes.render(black_box(seq), &mut buf).len())
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = hot_path;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = schedule_tick, mix_pick, recording, request_bytes
}
criterion_main!(hot_path);
