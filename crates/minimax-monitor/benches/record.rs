//! Cost of recording one event on the hot path, with one and two threads recording at once,
//! without an error log and with one (as users run it: every error also becomes a line on
//! disk). Run with `cargo bench -p minimax-monitor --bench record`; figures go to
//! docs/benchmarks.md.
//!
//! With the error log on, half the events are errors. The caller only hands each error to the
//! writer's queue; to measure that and not the cheaper path of a full queue (which drops), the
//! calls are timed in chunks that fit in the queue, and the log is flushed between chunks
//! outside the timing. The run checks that nothing was dropped.

use criterion::{Criterion, criterion_group, criterion_main};
use minimax_errors::{Endpoint, ErrorCode};
use minimax_monitor::{ErrorLogConfig, Event, Monitor, MonitorConfig, Seen};
use std::hint::black_box;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Calls timed between two flushes: within the error log's queue of 65,536.
const CHUNK: u64 = 20_000;

fn bench(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("mmerr-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let without_log = Monitor::new(MonitorConfig::default()).unwrap();
    let with_log = Monitor::new(MonitorConfig {
        error_log: Some(ErrorLogConfig {
            path: dir.join("errors.jsonl"),
            max_bytes: 64 << 20,
            keep: 1,
        }),
        ..MonitorConfig::default()
    })
    .unwrap();
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
    for (name, monitor, threads) in [
        ("1_thread", &without_log, 1usize),
        ("2_threads", &without_log, 2),
        ("1_thread_error_log_on", &with_log, 1),
        ("2_threads_error_log_on", &with_log, 2),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iterations| {
                let mut timed = Duration::ZERO;
                let mut left = iterations;
                while left > 0 {
                    let chunk = left.min(CHUNK);
                    left -= chunk;
                    let per_thread = chunk.div_ceil(threads as u64);
                    let started = Instant::now();
                    std::thread::scope(|scope| {
                        for t in 0..threads {
                            let events = &events;
                            scope.spawn(move || {
                                for i in 0..per_thread {
                                    monitor.record(black_box(&events[(t + i as usize) % 2]));
                                }
                            });
                        }
                    });
                    // Each thread made `chunk / threads` calls in the wall time: the time one
                    // call takes is the wall time × threads.
                    timed += started.elapsed() * threads as u32;
                    monitor.flush();
                }
                timed
            })
        });
    }
    group.finish();
    let dropped = with_log
        .error_log()
        .map_or(0, |log| log.dropped().queue_full.load(Ordering::Relaxed));
    println!("error log: {dropped} lines dropped (the measurement is void unless 0)");
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
