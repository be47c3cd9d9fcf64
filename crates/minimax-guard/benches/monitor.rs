//! Cost of recording one event on the hot path, with two threads recording at once.
//! Run with `cargo bench -p minimax-guard --bench monitor`; figures go to docs/benchmarks.md.

use criterion::{Criterion, criterion_group, criterion_main};
use minimax_errors::{Endpoint, ErrorCode};
use minimax_guard::monitor::{Event, Monitor, MonitorConfig, Seen};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn bench(c: &mut Criterion) {
    let monitor = Monitor::new(MonitorConfig::default()).unwrap();
    let events = [
        Event {
            latency: Duration::from_millis(120),
            trace_id: Some("0af3d1c2b4e5f6a7"),
            ..Event::attempt(Endpoint::T2a, Seen::Success, 1, true)
        },
        Event {
            latency: Duration::from_millis(40),
            trace_id: Some("0af3d1c2b4e5f6a8"),
            ..Event::attempt(Endpoint::Chat, Seen::Code(ErrorCode::RATE_LIMIT), 1, false)
        },
    ];
    let mut group = c.benchmark_group("monitor_record");
    for threads in [1usize, 2] {
        group.bench_function(format!("{threads}_threads"), |b| {
            b.iter_custom(|iterations| {
                let per_thread = iterations.div_ceil(threads as u64);
                let started = Instant::now();
                std::thread::scope(|scope| {
                    for t in 0..threads {
                        let monitor = &monitor;
                        let event = &events[t % 2];
                        scope.spawn(move || {
                            for _ in 0..per_thread {
                                monitor.record(black_box(event));
                            }
                        });
                    }
                });
                // Criterion divides by `iterations`; each thread made `iterations / threads` calls
                // in the wall time, so the time one call takes is the wall time × threads.
                started.elapsed() * threads as u32
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
