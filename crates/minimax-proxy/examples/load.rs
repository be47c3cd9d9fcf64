//! A load generator for scripts/bench-proxy.sh: posts a small chat request to one URL, either
//! at a fixed rate (open loop: requests leave on schedule whatever the answers do) or as fast
//! as `connections` callers can (closed loop), and prints what came back as one JSON line.
//!
//! `cargo run --release -p minimax-proxy --example load -- URL KEY RATE CONNECTIONS SECONDS`
//! (RATE 0 = closed loop).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const BODY: &str = r#"{"model":"MiniMax-M2","messages":[{"role":"user","content":"hello"}]}"#;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, key, rate, connections, seconds] = args.as_slice() else {
        eprintln!("usage: load URL KEY RATE CONNECTIONS SECONDS");
        std::process::exit(2);
    };
    let rate: f64 = rate.parse().expect("RATE is a number");
    let connections: usize = connections.parse().expect("CONNECTIONS is a number");
    let seconds: f64 = seconds.parse().expect("SECONDS is a number");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .unwrap();
    let send = Arc::new(Sender {
        http,
        url: url.clone(),
        key: key.clone(),
        ok: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        latencies: std::sync::Mutex::new(Vec::new()),
    });
    let run_for = Duration::from_secs_f64(seconds);
    let started = Instant::now();
    if rate > 0.0 {
        // Open loop, at most `connections` in flight (more would only queue in the client).
        let slots = Arc::new(tokio::sync::Semaphore::new(connections));
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut tasks = Vec::new();
        while started.elapsed() < run_for {
            tick.tick().await;
            let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
                send.failed.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            let send = Arc::clone(&send);
            tasks.push(tokio::spawn(async move {
                send.one().await;
                drop(slot);
            }));
        }
        for task in tasks {
            let _ = task.await;
        }
    } else {
        let mut workers = Vec::new();
        for _ in 0..connections {
            let send = Arc::clone(&send);
            workers.push(tokio::spawn(async move {
                while started.elapsed() < run_for {
                    send.one().await;
                }
            }));
        }
        for worker in workers {
            let _ = worker.await;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies = send.latencies.lock().unwrap().clone();
    latencies.sort_unstable();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    let ok = send.ok.load(Ordering::Relaxed);
    println!(
        "{{\"ok\":{ok},\"failed\":{},\"per_second\":{:.0},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"max_ms\":{:.3}}}",
        send.failed.load(Ordering::Relaxed),
        ok as f64 / elapsed,
        at(0.50),
        at(0.99),
        at(1.0),
    );
}

struct Sender {
    http: reqwest::Client,
    url: String,
    key: String,
    ok: AtomicU64,
    failed: AtomicU64,
    /// Microseconds per successful request.
    latencies: std::sync::Mutex<Vec<u64>>,
}

impl Sender {
    async fn one(&self) {
        let sent = Instant::now();
        let answer = self
            .http
            .post(&self.url)
            .bearer_auth(&self.key)
            .header("content-type", "application/json")
            .body(BODY)
            .send()
            .await;
        let ok = match answer {
            Ok(response) if response.status().is_success() => response.bytes().await.is_ok(),
            _ => false,
        };
        if ok {
            self.ok.fetch_add(1, Ordering::Relaxed);
            let micros = sent.elapsed().as_micros() as u64;
            self.latencies.lock().unwrap().push(micros);
        } else {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}
