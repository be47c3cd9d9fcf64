//! `mmerr bench goodput`: how many requests get through a rate-limited account, at what cost in
//! wasted calls and time, for the guard and for the retry policies users would otherwise run.
//! Every client meets the same account limits without being told them: real HTTP against the
//! in-process mock in real time, and the mock's limiter in-process in tokio's paused time (for
//! thousands of concurrent callers).

pub mod fleet;
mod policy;
pub mod spent_window;
mod upstream;

use crate::cli::GoodputArgs;
use anyhow::Context;
use comfy_table::{Table, presets};
use minimax_errors::{Endpoint, Lang};
use minimax_mock::{
    DEMO_KEY, EndpointFaults, KeyConfig, Latency, MockConfig, MockServer, RpmMode, Scenario,
};
use policy::Client;
pub use policy::Policy;
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use tokio::time::{Duration, Instant};
use upstream::{Http, Simulated, Upstream};

/// The account's limit in every chat workload: 30 requests per second.
const RATE: f64 = 30.0;

/// A workload: the account's limits and what is asked of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// Chat against a 30 req/s bucket holding at most 10 requests.
    Burst10,
    /// Chat against a 30 req/s bucket holding a minute (1,800), spent at the start.
    MinuteBucket,
    /// Chat against fixed 10-second windows of 300 requests.
    FixedWindow,
    /// T2A, 90 characters a request, against 30,000 characters per minute.
    T2aTpm,
    /// Chat against a spent minute bucket; 10 s in, a second process takes half the limit.
    StepChange,
    /// Chat against a spent minute bucket; from 10 s to 70 s every answer is 1002 (virtual
    /// time).
    Outage,
    /// Chat against a 30 req/s bucket holding at most 10 requests, and 5 % of the calls
    /// refused with 1002 all the same: refusals that say nothing about the rate (virtual time).
    StrayRefusals,
    /// The same with 20 % of the calls refused all the same (virtual time).
    StrayRefusals20,
    /// Chat against a 30 req/s bucket of 10, and 10 % of the calls answered 2064 (the cluster
    /// overloaded: a transient fault, not a rate signal) (virtual time).
    Overload,
    /// Chat calls of 10 s each (long streams) against an account allowing 20 in flight and
    /// no rate limit: 1041 beyond that (virtual time).
    ConcurrencyCap,
}

impl Workload {
    /// Every workload, in the table's order.
    pub const ALL: [Workload; 10] = [
        Workload::Burst10,
        Workload::MinuteBucket,
        Workload::FixedWindow,
        Workload::T2aTpm,
        Workload::StepChange,
        Workload::Outage,
        Workload::StrayRefusals,
        Workload::StrayRefusals20,
        Workload::Overload,
        Workload::ConcurrencyCap,
    ];

    /// Whether it runs in virtual time only: the mock server has neither outages, stray
    /// refusals nor an overload share.
    fn virtual_only(self) -> bool {
        matches!(
            self,
            Workload::Outage
                | Workload::StrayRefusals
                | Workload::StrayRefusals20
                | Workload::Overload
                | Workload::ConcurrencyCap
        )
    }

    fn name(self) -> &'static str {
        match self {
            Workload::Burst10 => "chat, burst 10",
            Workload::MinuteBucket => "chat, minute bucket",
            Workload::FixedWindow => "chat, fixed window",
            Workload::T2aTpm => "t2a, tpm",
            Workload::StepChange => "chat, limit halves",
            Workload::Outage => "chat, 60 s outage",
            Workload::StrayRefusals => "chat, 5 % stray 1002",
            Workload::StrayRefusals20 => "chat, 20 % stray 1002",
            Workload::Overload => "chat, 10 % 2064",
            Workload::ConcurrencyCap => "chat, 20 in flight",
        }
    }

    fn endpoint(self) -> Endpoint {
        match self {
            Workload::T2aTpm => Endpoint::T2a,
            _ => Endpoint::Chat,
        }
    }

    /// Characters each request spends (T2A).
    fn characters(self) -> u64 {
        match self {
            Workload::T2aTpm => 90,
            _ => 0,
        }
    }

    fn limits(self) -> KeyConfig {
        let rpm = Some((RATE * 60.0) as u32);
        let spent_bucket = KeyConfig {
            key: DEMO_KEY.to_string(),
            name: "bench".to_string(),
            rpm,
            start_spent: true,
            ..KeyConfig::unlimited()
        };
        match self {
            Workload::Burst10
            | Workload::StrayRefusals
            | Workload::StrayRefusals20
            | Workload::Overload => KeyConfig {
                burst: Some(10),
                start_spent: false,
                ..spent_bucket
            },
            Workload::ConcurrencyCap => KeyConfig {
                rpm: None,
                max_concurrent: Some(CAP_IN_FLIGHT),
                start_spent: false,
                ..spent_bucket
            },
            Workload::MinuteBucket | Workload::StepChange | Workload::Outage => spent_bucket,
            Workload::FixedWindow => KeyConfig {
                rpm_mode: RpmMode::FixedWindow,
                window_secs: 10,
                start_spent: false,
                ..spent_bucket
            },
            Workload::T2aTpm => KeyConfig {
                rpm: None,
                tpm: Some(30_000),
                start_spent: false,
                ..spent_bucket
            },
        }
    }

    /// How long a successful call takes: the workload's own, or the run's.
    fn latency(self, run: Latency) -> Latency {
        match self {
            Workload::ConcurrencyCap => Latency::fixed(CAP_CALL),
            _ => run,
        }
    }

    /// The least time the account and `concurrency` callers allow for `n` requests whose
    /// calls take `latency` on average: the account's time for them plus the last call's
    /// length, or each caller's calls one after another, whichever is longer; and never less
    /// than the longest call (`longest`, up to the deadline).
    fn floor(self, n: u32, concurrency: u32, latency: Latency, longest: Duration) -> f64 {
        let mean = self.latency(latency).mean().as_secs_f64();
        let longest = longest.min(DEADLINE).as_secs_f64();
        let floor = match self {
            Workload::ConcurrencyCap => {
                f64::from(n) * mean / f64::from(concurrency.clamp(1, CAP_IN_FLIGHT))
            }
            _ => (self.ideal(n) + mean).max(f64::from(n) * mean / f64::from(concurrency.max(1))),
        };
        floor.max(longest)
    }

    /// The shortest time any client could take for `n` requests, calls answered at once.
    fn ideal(self, n: u32) -> f64 {
        let n = f64::from(n);
        match self {
            Workload::Burst10
            | Workload::StrayRefusals
            | Workload::StrayRefusals20
            | Workload::Overload => (n - 10.0).max(0.0) / RATE,
            // Calls of their own length, 20 at a time.
            Workload::ConcurrencyCap => n * CAP_CALL.as_secs_f64() / f64::from(CAP_IN_FLIGHT),
            Workload::MinuteBucket => n / RATE,
            // 300 at once in each 10-second window, the first at the start.
            Workload::FixedWindow => ((n / 300.0).ceil() - 1.0).max(0.0) * 10.0,
            // Characters ÷ TPM.
            Workload::T2aTpm => n * self.characters() as f64 / 30_000.0 * 60.0,
            // 10 s at the full limit, the rest at half of it.
            Workload::StepChange => {
                let first = (RATE * 10.0).min(n);
                10.0f64.min(n / RATE) + (n - first) / (RATE / 2.0)
            }
            Workload::Outage => OUTAGE.1.as_secs_f64() - OUTAGE.0.as_secs_f64() + n / RATE,
        }
    }
}

/// A call latency for the benchmark: `100ms`, `3s` (fixed), `1s-5s` (uniform), or
/// `lognormal:3s:30s` (median and p99).
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyArg(Latency, String);

impl std::fmt::Display for LatencyArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.1)
    }
}

impl std::str::FromStr for LatencyArg {
    type Err = String;

    fn from_str(text: &str) -> Result<LatencyArg, String> {
        let time = |t: &str| -> Result<Duration, String> {
            let t = t.trim();
            let (number, unit) = match t.strip_suffix("ms") {
                Some(n) => (n, 0.001),
                None => (t.strip_suffix('s').unwrap_or(t), 1.0),
            };
            number
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite() && *n >= 0.0 && *n * unit <= 3600.0)
                .map(|n| Duration::from_secs_f64(n * unit))
                .ok_or_else(|| format!("{t:?} is not a time such as 100ms or 3s"))
        };
        let latency = if let Some(rest) = text.strip_prefix("lognormal:") {
            let (median, p99) = rest
                .split_once(':')
                .ok_or("lognormal takes a median and a p99: lognormal:3s:30s")?;
            let (median, p99) = (time(median)?, time(p99)?);
            if p99 < median {
                return Err("the p99 of a log-normal latency is not below its median".to_string());
            }
            Latency::log_normal(median, p99)
        } else if let Some((low, high)) = text.split_once('-') {
            let (low, high) = (time(low)?, time(high)?);
            Latency {
                max_ms: high.as_millis() as u64,
                ..Latency::fixed(low)
            }
        } else {
            Latency::fixed(time(text)?)
        };
        Ok(LatencyArg(latency, text.trim().to_string()))
    }
}

/// When every answer is 1002 in the outage workload.
const OUTAGE: (Duration, Duration) = (Duration::from_secs(10), Duration::from_secs(70));
/// The share of calls refused whatever the pace in the stray-refusals workloads.
const STRAY_SHARE: f64 = 0.05;
const STRAY_SHARE_20: f64 = 0.20;
/// The share of calls answered 2064 in the overload workload.
const OVERLOAD_SHARE: f64 = 0.10;
/// The concurrency-cap workload: calls in flight allowed, and how long each takes.
const CAP_IN_FLIGHT: u32 = 20;
const CAP_CALL: Duration = Duration::from_secs(10);
/// Every client's deadline for a call (the guard's default).
const DEADLINE: Duration = Duration::from_secs(120);
/// When the second process starts in the step workload.
const STEP_AT: Duration = Duration::from_secs(10);

/// Where a run happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    /// Real HTTP against the mock, real time.
    Real,
    /// The mock's limiter in-process, tokio's paused time.
    Virtual,
}

/// One run's figures.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    workload: Workload,
    clock: Clock,
    concurrency: u32,
    policy: Policy,
    requests: u32,
    ok: u32,
    failed: u32,
    calls: u64,
    wasted_pct: f64,
    seconds: f64,
    /// The run's call latency, as given.
    latency: String,
    ideal_seconds: f64,
    time_vs_ideal: f64,
    /// The least time the account and the callers allow (see [`Workload::floor`]).
    floor_seconds: f64,
    time_vs_floor: f64,
    p99_latency_s: f64,
    /// Step and outage: seconds until the client was back at ≥ 90 % of the limit.
    recovery_s: Option<f64>,
}

/// Runs the benchmark and prints the table.
pub fn run(args: &GoodputArgs, _lang: Lang, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let requests = args.requests.unwrap_or(if args.quick { 300 } else { 1000 });
    let policies: Vec<Policy> = if args.policy.is_empty() {
        Policy::ALL.to_vec()
    } else {
        args.policy.clone()
    };
    let workloads: Vec<Workload> = if args.workload.is_empty() {
        Workload::ALL.to_vec()
    } else {
        args.workload.clone()
    };
    let real_c: Vec<u32> = if args.quick {
        vec![8, 32]
    } else {
        vec![8, 32, 128]
    };
    let virtual_c = [512u32, 2048];
    let mut results = Vec::new();
    for latency in &args.latency {
        for &workload in &workloads {
            if !args.virtual_only && !workload.virtual_only() {
                for &c in &real_c {
                    let runtime = crate::runtime::multi_thread()?;
                    let batch =
                        runtime.block_on(real_runs(workload, c, requests, &policies, latency))?;
                    for r in &batch {
                        eprintln!("{}", progress(r));
                    }
                    results.extend(batch);
                }
            }
            let cs: Vec<u32> = match workload {
                Workload::Outage => vec![64],
                _ if workload.virtual_only() => real_c.iter().copied().chain(virtual_c).collect(),
                // 512 T2A callers queue for longer than the default 120 s deadline: they would
                // fail locally, by design, whatever the pacing.
                Workload::T2aTpm if args.virtual_only => real_c.clone(),
                Workload::T2aTpm => Vec::new(),
                _ if args.virtual_only => real_c.iter().copied().chain(virtual_c).collect(),
                _ => virtual_c.to_vec(),
            };
            for c in cs {
                for &policy in &policies {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_time()
                        .start_paused(true)
                        .build()
                        .context("cannot start the runtime")?;
                    let result =
                        runtime.block_on(virtual_run(workload, c, requests, policy, latency));
                    eprintln!("{}", progress(&result));
                    results.push(result);
                }
            }
        }
    }
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&results)?)?;
    } else {
        print_table(&results, requests, out)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn progress(r: &RunResult) -> String {
    format!(
        "{} {:?} L={} C={} {}: ok {} failed {} calls {} wasted {:.1}% time {:.2}x floor",
        r.workload.name(),
        r.clock,
        r.latency,
        r.concurrency,
        r.policy.name(),
        r.ok,
        r.failed,
        r.calls,
        r.wasted_pct,
        r.time_vs_floor
    )
}

/// What the workers of one run saw.
struct Tally {
    ok: u32,
    failed: u32,
    latencies: Vec<f64>,
    /// When each success ended, in seconds from the start.
    successes: Vec<f64>,
    seconds: f64,
}

/// `concurrency` workers send `requests` requests through `client`.
async fn drive(
    client: Arc<Client>,
    upstream: Arc<Upstream>,
    workload: Workload,
    concurrency: u32,
    requests: u32,
) -> Tally {
    let next = Arc::new(AtomicU32::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, upstream, next) = (
            Arc::clone(&client),
            Arc::clone(&upstream),
            Arc::clone(&next),
        );
        workers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < requests {
                let asked = Instant::now();
                let done = client.request(&upstream, workload.characters()).await;
                let now = Instant::now();
                seen.push((
                    done.ok,
                    now.duration_since(asked).as_secs_f64(),
                    now.duration_since(started).as_secs_f64(),
                ));
            }
            seen
        }));
    }
    let mut tally = Tally {
        ok: 0,
        failed: 0,
        latencies: Vec::new(),
        successes: Vec::new(),
        seconds: 0.0,
    };
    for worker in workers {
        for (ok, latency, at) in worker.await.unwrap_or_default() {
            if ok {
                tally.ok += 1;
                tally.successes.push(at);
            } else {
                tally.failed += 1;
            }
            tally.latencies.push(latency);
        }
    }
    tally.seconds = started.elapsed().as_secs_f64();
    tally
}

/// How one run was set up.
#[derive(Clone, Copy)]
struct Setup<'a> {
    workload: Workload,
    clock: Clock,
    concurrency: u32,
    policy: Policy,
    requests: u32,
    latency: &'a LatencyArg,
}

fn result(setup: Setup<'_>, tally: Tally, calls: u64, longest: Duration) -> RunResult {
    let Setup {
        workload,
        clock,
        concurrency,
        policy,
        requests,
        latency,
    } = setup;
    let floor = workload.floor(requests, concurrency, latency.0, longest);
    let mut latencies = tally.latencies;
    latencies.sort_by(f64::total_cmp);
    let p99 = latencies
        .get(((latencies.len() as f64 * 0.99).ceil() as usize).saturating_sub(1))
        .copied()
        .unwrap_or(0.0);
    let ideal = workload.ideal(requests);
    let recovery = match workload {
        Workload::StepChange => recovery(&tally.successes, STEP_AT.as_secs_f64(), RATE / 2.0),
        Workload::Outage => recovery(&tally.successes, OUTAGE.1.as_secs_f64(), RATE),
        _ => None,
    };
    RunResult {
        workload,
        clock,
        concurrency,
        policy,
        requests,
        ok: tally.ok,
        failed: tally.failed,
        calls,
        wasted_pct: wasted_pct(calls, tally.ok),
        seconds: tally.seconds,
        latency: match workload {
            Workload::ConcurrencyCap => format!("{}s (its own)", CAP_CALL.as_secs()),
            _ => latency.to_string(),
        },
        ideal_seconds: ideal,
        time_vs_ideal: if ideal > 0.0 {
            tally.seconds / ideal
        } else {
            0.0
        },
        floor_seconds: floor,
        time_vs_floor: tally.seconds / floor,
        p99_latency_s: p99,
        recovery_s: recovery,
    }
}

/// The calls MiniMax received that did not succeed, as a share of them all (0 without calls).
fn wasted_pct(calls: u64, ok: u32) -> f64 {
    calls.saturating_sub(u64::from(ok)) as f64 * 100.0 / calls.max(1) as f64
}

/// Seconds after `from` until successes came at ≥ 90 % of `rate` over a whole second.
fn recovery(successes: &[f64], from: f64, rate: f64) -> Option<f64> {
    let mut sorted: Vec<f64> = successes.iter().copied().filter(|t| *t >= from).collect();
    sorted.sort_by(f64::total_cmp);
    let needed = (0.9 * rate).ceil() as usize;
    sorted
        .windows(needed.max(1))
        .find(|w| w[w.len() - 1] - w[0] <= 1.0)
        .map(|w| w[w.len() - 1] - from)
}

async fn virtual_run(
    workload: Workload,
    concurrency: u32,
    requests: u32,
    policy: Policy,
    latency: &LatencyArg,
) -> RunResult {
    let mut sim = Simulated::new(workload.limits(), Duration::ZERO)
        .with_latency(workload.latency(latency.0), 5);
    match workload {
        Workload::Outage => sim = sim.with_outage(OUTAGE.0, OUTAGE.1),
        Workload::StrayRefusals => sim = sim.with_stray_refusals(STRAY_SHARE, 7),
        Workload::StrayRefusals20 => sim = sim.with_stray_refusals(STRAY_SHARE_20, 7),
        Workload::Overload => sim = sim.with_overload(OVERLOAD_SHARE, 7),
        _ => {}
    }
    let sim = Arc::new(Upstream::Simulated(Box::new(sim)));
    let competitor = (workload == Workload::StepChange).then(|| second_process(Arc::clone(&sim)));
    let client = Arc::new(Client::new(policy, workload.endpoint(), 7));
    let tally = drive(client, Arc::clone(&sim), workload, concurrency, requests).await;
    if let Some((task, _)) = competitor {
        task.abort();
    }
    let (calls, longest) = match &*sim {
        Upstream::Simulated(s) => (s.calls(), s.longest_latency()),
        Upstream::Http(_) => (0, Duration::ZERO),
    };
    let setup = Setup {
        workload,
        clock: Clock::Virtual,
        concurrency,
        policy,
        requests,
        latency,
    };
    result(setup, tally, calls, longest)
}

/// From [`STEP_AT`] on, another process spends half the account's limit, evenly. Counts the
/// calls it sends, which are not the client's.
fn second_process(upstream: Arc<Upstream>) -> (tokio::task::JoinHandle<()>, Arc<AtomicU64>) {
    let sent = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&sent);
    let task = tokio::spawn(async move {
        tokio::time::sleep(STEP_AT).await;
        let mut tick = tokio::time::interval(Duration::from_secs_f64(2.0 / RATE));
        loop {
            tick.tick().await;
            match &*upstream {
                Upstream::Simulated(sim) => sim.consume(),
                Upstream::Http(http) => {
                    let response = http
                        .client
                        .post(format!("{}/v1/text/chatcompletion_v2", http.base_url))
                        .bearer_auth(&http.key)
                        .header("content-type", "application/json")
                        .body(
                            r#"{"model":"MiniMax-M2","messages":[{"role":"user","content":"x"}]}"#,
                        )
                        .send()
                        .await;
                    // Counted once answered, so an abort in flight cannot count it twice.
                    if response.is_ok() {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    });
    (task, sent)
}

/// Every policy at once, each against its own mock server (its own account).
async fn real_runs(
    workload: Workload,
    concurrency: u32,
    requests: u32,
    policies: &[Policy],
    latency: &LatencyArg,
) -> anyhow::Result<Vec<RunResult>> {
    let mut runs = Vec::new();
    for &policy in policies {
        let config = MockConfig {
            keys: vec![workload.limits()],
            ..MockConfig::default()
        };
        let scenario = Scenario::new(5).with(EndpointFaults {
            latency: workload.latency(latency.0),
            ..EndpointFaults::on(None)
        });
        let server = MockServer::start("127.0.0.1:0".parse()?, config, scenario)
            .await
            .context("cannot start the mock")?;
        let latency = latency.clone();
        runs.push(tokio::spawn(async move {
            let http = Http {
                client: reqwest::Client::builder()
                    .pool_max_idle_per_host(256)
                    .build()
                    .unwrap_or_default(),
                base_url: server.url(),
                key: DEMO_KEY.to_string(),
            };
            let upstream = Arc::new(Upstream::Http(http));
            let competitor =
                (workload == Workload::StepChange).then(|| second_process(Arc::clone(&upstream)));
            let client = Arc::new(Client::new(policy, workload.endpoint(), 7));
            let tally = drive(
                client,
                Arc::clone(&upstream),
                workload,
                concurrency,
                requests,
            )
            .await;
            // The second process's calls are not the client's.
            let theirs = competitor.map_or(0, |(task, sent)| {
                task.abort();
                sent.load(Ordering::Relaxed)
            });
            let calls = server.stats().requests.saturating_sub(theirs);
            let _ = server.stop().await;
            let setup = Setup {
                workload,
                clock: Clock::Real,
                concurrency,
                policy,
                requests,
                latency: &latency,
            };
            let longest = Duration::from_millis(workload.latency(latency.0).max_ms);
            result(setup, tally, calls, longest)
        }));
    }
    let mut out = Vec::new();
    for run in runs {
        out.push(run.await.context("a benchmark run panicked")?);
    }
    Ok(out)
}

fn print_table(results: &[RunResult], requests: u32, out: &mut impl Write) -> anyhow::Result<()> {
    writeln!(
        out,
        "mmerr bench goodput: {requests} requests per run, limits unknown to every client; chat at 30 req/s, T2A at 30,000 characters per minute"
    )?;
    writeln!(
        out,
        "floor: the least time the account and the callers allow, max(ideal + L, N × L ÷ C, the longest call) with L the mean call latency (for 20 in flight, N × L ÷ min(C, 20)); ideal: the account's time with calls answered at once"
    )?;
    let mut table = Table::new();
    table.load_style(presets::UTF8_BORDERS_ONLY);
    table.set_header([
        "workload",
        "clock",
        "latency",
        "C",
        "client",
        "ok",
        "failed",
        "calls",
        "wasted %",
        "time ÷ floor",
        "time ÷ ideal",
        "p99 latency s",
        "recovery s",
    ]);
    for r in results {
        table.add_row([
            r.workload.name().to_string(),
            format!("{:?}", r.clock).to_lowercase(),
            r.latency.clone(),
            r.concurrency.to_string(),
            r.policy.name().to_string(),
            r.ok.to_string(),
            r.failed.to_string(),
            r.calls.to_string(),
            format!("{:.1}", r.wasted_pct),
            format!("{:.2}", r.time_vs_floor),
            format!("{:.2}", r.time_vs_ideal),
            format!("{:.2}", r.p99_latency_s),
            r.recovery_s.map_or("-".to_string(), |s| format!("{s:.1}")),
        ]);
    }
    writeln!(out, "{table}")?;
    Ok(())
}
