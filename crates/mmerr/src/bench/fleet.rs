//! `mmerr bench fleet`: several processes (each a child `mmerr`, with its own guard client and
//! its own connection to Redis) share one mock account limited to 30 requests per second (a
//! bucket of 10). The same load runs with each process pacing alone and with the pace shared
//! through Redis; then with a process joining mid-run, and with Redis killed and restarted
//! mid-run. Redis is a `redis-server` this command starts on a free loopback port. Last, the
//! cost of a shared turn: the round trip to Redis, timed 10,000 times.

use crate::cli::{FleetArgs, FleetWorkerArgs};
use anyhow::{Context, bail};
use minimax_errors::validate::ChatRequest;
use minimax_fleet::{RedisOptions, RedisState};
use minimax_guard::shared::{SharedState, TurnAsk};
use minimax_guard::{ApiKey, MiniMaxClient};
use minimax_mock::{DEMO_KEY, KeyConfig, MockConfig, MockServer, Scenario};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The account's limit: requests per second.
const RATE: f64 = 30.0;
/// The bucket's capacity.
const BURST: u32 = 10;

/// What one worker process reports.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct WorkerReport {
    ok: u32,
    failed: u32,
    /// Operations sent to Redis (round trips).
    redis_operations: u64,
    /// When the shared state stopped and started answering (Unix ms), as this process saw it.
    down_at_ms: Vec<u64>,
    up_at_ms: Vec<u64>,
}

/// One run's figures.
#[derive(Debug, Serialize)]
struct Row {
    run: &'static str,
    processes: u32,
    concurrency: u32,
    requests: u32,
    ok: u32,
    failed: u32,
    calls: u64,
    wasted_pct: f64,
    seconds: f64,
    time_vs_ideal: f64,
    /// The most requests the account received in one second, ÷ its limit.
    peak_vs_limit: f64,
    /// Round trips to Redis per request, all processes together.
    #[serde(skip_serializing_if = "Option::is_none")]
    redis_round_trips_per_request: Option<f64>,
    /// With Redis restarted, from its kill until every process shared again: the requests
    /// the account received per second ÷ its limit, on average and at most in one second;
    /// and how long after its return every process shared again.
    #[serde(skip_serializing_if = "Option::is_none")]
    degraded_rate_vs_limit: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    degraded_peak_vs_limit: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resumed_after_s: Option<f64>,
}

/// The time a shared turn takes.
#[derive(Debug, Serialize)]
struct Cost {
    p50_us: f64,
    p99_us: f64,
}

/// The runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Run {
    /// Each process paces alone.
    Alone,
    /// The pace is shared through Redis.
    Shared,
    /// Shared; one process joins a third of the way in.
    Joining,
    /// Shared; Redis is killed a quarter of the way in and back at half way.
    RedisRestart,
}

impl Run {
    fn name(self) -> &'static str {
        match self {
            Run::Alone => "in-process pacing",
            Run::Shared => "Redis-shared pacing",
            Run::Joining => "Redis, a process joins at 1/3",
            Run::RedisRestart => "Redis killed at 1/4, back at 1/2",
        }
    }
}

/// Runs the fleet benchmark and prints its table (or JSON).
pub fn run(args: &FleetArgs, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let runtime = crate::runtime::multi_thread()?;
    let (rows, cost) = runtime.block_on(async {
        let mut rows = Vec::new();
        let all = [Run::Alone, Run::Shared, Run::Joining, Run::RedisRestart];
        let runs = if args.runs.is_empty() {
            &all[..]
        } else {
            &args.runs[..]
        };
        for &run in runs {
            rows.push(one(run, args).await?);
        }
        anyhow::Ok((rows, turn_cost().await?))
    })?;
    if args.json {
        let all = serde_json::json!({ "runs": rows, "shared_turn": cost });
        writeln!(out, "{}", serde_json::to_string_pretty(&all)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "mmerr bench fleet: {} processes × C = {}, {} requests, one account at {RATE} req/s (bucket {BURST})",
        args.processes, args.concurrency, args.requests
    )?;
    let mut table = comfy_table::Table::new();
    table.load_style(comfy_table::presets::UTF8_BORDERS_ONLY);
    table.set_header([
        "run",
        "ok",
        "failed",
        "calls",
        "wasted",
        "time ÷ ideal",
        "peak ÷ limit",
        "degraded",
    ]);
    for row in &rows {
        let degraded = match (
            row.degraded_rate_vs_limit,
            row.degraded_peak_vs_limit,
            row.resumed_after_s,
        ) {
            (Some(rate), Some(peak), Some(resumed)) => format!(
                "{rate:.2} × limit (1 s peak {peak:.2}); shared again {resumed:.1} s after Redis's return"
            ),
            _ => String::new(),
        };
        table.add_row([
            row.run.to_string(),
            row.ok.to_string(),
            row.failed.to_string(),
            row.calls.to_string(),
            format!("{:.1} %", row.wasted_pct),
            format!("{:.2}", row.time_vs_ideal),
            format!("{:.2}", row.peak_vs_limit),
            degraded,
        ]);
    }
    writeln!(out, "{table}")?;
    let commands = rows
        .iter()
        .filter_map(|r| {
            r.redis_round_trips_per_request
                .map(|c| format!("{c:.2} ({})", r.run))
        })
        .collect::<Vec<_>>()
        .join(", ");
    writeln!(
        out,
        "Redis round trips per request: {commands}; a shared turn takes p50 {:.0} µs, p99 {:.0} µs (loopback, 10,000 turns)",
        cost.p50_us, cost.p99_us
    )?;
    Ok(ExitCode::SUCCESS)
}

/// A `redis-server` of this benchmark.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start(port: u16) -> anyhow::Result<Redis> {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("mmerr bench fleet starts redis-server, which is not installed (Debian: apt-get install redis-server)")?;
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > Duration::from_secs(10) {
                bail!("redis-server did not start on port {port}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Redis { child, port })
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

async fn one(run: Run, args: &FleetArgs) -> anyhow::Result<Row> {
    let key = KeyConfig {
        key: DEMO_KEY.to_string(),
        name: "fleet".to_string(),
        rpm: Some((RATE * 60.0) as u32),
        burst: Some(BURST),
        ..KeyConfig::unlimited()
    };
    let config = MockConfig {
        keys: vec![key],
        ..MockConfig::default()
    };
    let server = MockServer::start("127.0.0.1:0".parse()?, config, Scenario::default()).await?;
    let port = free_port()?;
    let mut redis = Some(Redis::start(port)?);
    let state = match run {
        Run::Alone => None,
        _ => redis.as_ref().map(Redis::url),
    };
    let exe = std::env::current_exe()?;
    let per_process = args.requests / args.processes;
    let ideal = f64::from(args.requests.saturating_sub(BURST)) / RATE;
    let started = Instant::now();
    let spawn = |requests: u32| -> anyhow::Result<Child> {
        let mut command = Command::new(&exe);
        command
            .args(["bench", "fleet-worker", "--url", &server.url()])
            .args(["--requests", &requests.to_string()])
            .args(["--concurrency", &args.concurrency.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(state) = &state {
            command.args(["--state", state]);
        }
        Ok(command.spawn()?)
    };
    let mut children = Vec::new();
    let first = match run {
        Run::Joining => args.processes - 1,
        _ => args.processes,
    };
    for _ in 0..first {
        children.push(spawn(per_process)?);
    }
    // The account's answers per second, sampled while the run goes on.
    let mut samples: Vec<(Duration, u64)> = Vec::new();
    let mut killed_at = None;
    let mut back_at = None;
    let mut joined = run != Run::Joining;
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = started.elapsed();
        samples.push((now, server.stats().requests_on("chat")));
        if std::env::var_os("MMERR_FLEET_TRACE").is_some() {
            eprintln!(
                "{:.2} {}",
                now.as_secs_f64(),
                samples.last().map_or(0, |s| s.1)
            );
        }
        let done = children
            .iter_mut()
            .all(|c| c.try_wait().ok().flatten().is_some());
        if done && joined {
            break;
        }
        let part = now.as_secs_f64() / ideal;
        if !joined && part >= 1.0 / 3.0 {
            children.push(spawn(per_process)?);
            joined = true;
        }
        if run == Run::RedisRestart {
            if killed_at.is_none() && part >= 0.25 {
                redis = None;
                killed_at = Some((now, unix_ms()));
            } else if back_at.is_none() && part >= 0.5 {
                redis = Some(Redis::start(port)?);
                back_at = Some((now, unix_ms()));
            }
        }
        if now > Duration::from_secs_f64(ideal * 4.0 + 60.0) {
            bail!("the {} run did not finish in time", run.name());
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    drop(redis);
    let mut reports = Vec::new();
    for child in children {
        let output = child.wait_with_output()?;
        let report: WorkerReport =
            serde_json::from_slice(&output.stdout).context("a worker process did not report")?;
        reports.push(report);
    }
    let stats = server.stats();
    let calls = stats.requests_on("chat");
    let ok: u32 = reports.iter().map(|r| r.ok).sum();
    let operations: u64 = reports.iter().map(|r| r.redis_operations).sum();
    let redis_round_trips_per_request = state
        .is_some()
        .then(|| operations as f64 / f64::from(ok.max(1)));
    let failed: u32 = reports.iter().map(|r| r.failed).sum();
    let peak = |from: Duration, to: Duration| {
        samples
            .windows(5)
            .filter(|w| w[0].0 >= from && w[4].0 <= to)
            .map(|w| (w[4].1 - w[0].1) as f64 / (w[4].0 - w[0].0).as_secs_f64())
            .fold(0.0, f64::max)
            / RATE
    };
    // Past the first two seconds (the bucket's burst and the start).
    let peak_vs_limit = peak(Duration::from_secs(2), Duration::MAX);
    let mean = |from: Duration, to: Duration| {
        let inside: Vec<&(Duration, u64)> = samples
            .iter()
            .filter(|s| s.0 >= from && s.0 <= to)
            .collect();
        match (inside.first(), inside.last()) {
            (Some(a), Some(b)) if b.0 > a.0 => {
                (b.1 - a.1) as f64 / (b.0 - a.0).as_secs_f64() / RATE
            }
            _ => 0.0,
        }
    };
    let (degraded_rate_vs_limit, degraded_peak_vs_limit, resumed_after_s) =
        match (killed_at, back_at) {
            (Some((killed, _)), Some((back, back_ms))) => {
                let resumed_ms = reports
                    .iter()
                    .filter_map(|r| r.up_at_ms.iter().copied().find(|&at| at >= back_ms))
                    .max()
                    .unwrap_or(back_ms);
                let resumed = (resumed_ms - back_ms) as f64 / 1000.0;
                let until = back + Duration::from_secs_f64(resumed + 1.0);
                (
                    Some(mean(killed, until)),
                    Some(peak(killed, until)),
                    Some(resumed),
                )
            }
            _ => (None, None, None),
        };
    Ok(Row {
        run: run.name(),
        processes: args.processes,
        concurrency: args.concurrency,
        requests: per_process * args.processes,
        ok,
        failed,
        calls,
        wasted_pct: super::wasted_pct(calls, ok),
        seconds,
        time_vs_ideal: seconds / ideal,
        peak_vs_limit,
        redis_round_trips_per_request,
        degraded_rate_vs_limit,
        degraded_peak_vs_limit,
        resumed_after_s,
    })
}

/// Times 10,000 shared turns (none waits: the rate is far above what they ask).
async fn turn_cost() -> anyhow::Result<Cost> {
    let redis = Redis::start(free_port()?)?;
    let state = RedisState::connect(&redis.url(), RedisOptions::default()).await?;
    let ask = TurnAsk {
        account: minimax_guard::AccountId::of_key("bench"),
        group: minimax_errors::LimitGroup::Text,
        start: minimax_guard::shared::FleetPace {
            rate: 1e9,
            epoch: 0,
            w_max: 0.0,
            since_cut: Duration::ZERO,
        },
        proposed_rate: 1e9,
        epoch: 0,
        max_wait: None,
    };
    let mut took = Vec::with_capacity(10_000);
    for _ in 0..10_000 {
        let at = Instant::now();
        state.turn(ask).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        took.push(at.elapsed().as_secs_f64() * 1e6);
    }
    took.sort_by(f64::total_cmp);
    Ok(Cost {
        p50_us: took[took.len() / 2],
        p99_us: took[took.len() * 99 / 100],
    })
}

/// `mmerr bench fleet-worker`: one process of the fleet; prints its report as JSON.
pub fn worker(args: &FleetWorkerArgs, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let runtime = crate::runtime::multi_thread()?;
    let report = runtime.block_on(async {
        let mut builder = MiniMaxClient::builder()
            .base_url(&args.url)
            .api_key(ApiKey::new(DEMO_KEY));
        let mut state = None;
        if let Some(url) = &args.state {
            let shared = RedisState::connect(url, RedisOptions::default()).await?;
            builder = builder.shared_state(shared.as_shared_state());
            state = Some(shared);
        }
        let client = builder.build()?;
        let seen = Arc::new(std::sync::Mutex::new(WorkerReport::default()));
        let state_for_count = state.clone();
        let watch = state.map(|state| tokio::spawn(watch_health(state, Arc::clone(&seen))));
        let next = Arc::new(AtomicU32::new(0));
        let mut workers = Vec::new();
        for _ in 0..args.concurrency {
            let (client, next) = (client.clone(), Arc::clone(&next));
            let requests = args.requests;
            workers.push(tokio::spawn(async move {
                let (mut ok, mut failed) = (0, 0);
                let request = ChatRequest::user("MiniMax-M2", "hello");
                while next.fetch_add(1, Ordering::Relaxed) < requests {
                    match client.chat(&request).await {
                        Ok(_) => ok += 1,
                        Err(_) => failed += 1,
                    }
                }
                (ok, failed)
            }));
        }
        let (mut ok, mut failed) = (0, 0);
        for worker in workers {
            let (o, f) = worker.await?;
            ok += o;
            failed += f;
        }
        if let Some(watch) = watch {
            watch.abort();
        }
        let operations = state_for_count.map_or(0, |s| s.operations());
        let mut report = std::mem::take(&mut *seen.lock().unwrap_or_else(|e| e.into_inner()));
        report.ok = ok;
        report.failed = failed;
        report.redis_operations = operations;
        anyhow::Ok(report)
    })?;
    writeln!(out, "{}", serde_json::to_string(&report)?)?;
    Ok(ExitCode::SUCCESS)
}

/// Notes when the shared state stops and starts answering, every 20 ms.
async fn watch_health(state: RedisState, seen: Arc<std::sync::Mutex<WorkerReport>>) {
    let mut up = state.is_up();
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = state.is_up();
        if now != up {
            let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
            match now {
                true => seen.up_at_ms.push(unix_ms()),
                false => seen.down_at_ms.push(unix_ms()),
            }
            up = now;
        }
    }
}
