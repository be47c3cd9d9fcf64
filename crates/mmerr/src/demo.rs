//! `mmerr demo`: the product in one command. A faulty MiniMax look-alike starts in-process, its
//! account limited to 6,000 requests per minute and just spent by another process; a few
//! hundred requests go through the guard; the summary shows what was met, what was retried and
//! recovered, what failed and why, and the pace the guard found for the account.

use crate::cli::DemoArgs;
use crate::style;
use anyhow::Context;
use bytes::Bytes;
use comfy_table::{Table, presets};
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use minimax_errors::policy::DelayStrategy;
use minimax_errors::validate::audio::AudioPurpose;
use minimax_errors::validate::{ChatRequest, T2aRequest, VoiceCloneRequest};
use minimax_errors::{Endpoint, ErrorCode, Lang, LimitGroup, Seen};
use minimax_guard::{ApiKey, GuardError, MiniMaxClient, RetryConfig};
use minimax_mock::{Action, DEMO_KEY, EndpointFaults, MockConfig, MockServer, Scenario};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// What the demo saw.
#[derive(Debug, Default, Serialize)]
struct Summary {
    url: String,
    requests: u32,
    succeeded_first_try: u32,
    recovered: u32,
    retries_for_recovered: u32,
    failed: u32,
    /// Failed requests, grouped by endpoint, outcome and why retrying stopped.
    failures: Vec<FailureCount>,
    /// What the mock answered to every call, by endpoint and outcome ("1002", "html_502", …),
    /// successes left out.
    errors_met: BTreeMap<String, BTreeMap<String, u64>>,
    calls_to_minimax: u64,
    seconds: f64,
    /// The account's request limit in the mock, per minute.
    account_rpm: u32,
    /// What the pacer found, per limit group.
    pacing: Vec<Pacing>,
    /// Time callers spent waiting for their turn, all together, in seconds.
    paced_seconds: f64,
    /// A subscription key running out of its plan window.
    plan: PlanSegment,
}

/// What happened to requests on a subscription key whose window runs out.
#[derive(Debug, Default, Serialize)]
struct PlanSegment {
    /// Calls the window allows.
    window_calls: u64,
    requests: u32,
    succeeded: u32,
    /// Requests that met 2056 from MiniMax.
    refused: u32,
    /// Requests held by the guard until the reset, never sent.
    held: u32,
    /// Calls MiniMax received for them.
    calls: u64,
    /// When the window resets, in words.
    resets: String,
}

/// The pace found for one limit group.
#[derive(Debug, Clone, Serialize)]
struct Pacing {
    group: String,
    rpm: f64,
}

/// Failed requests of one kind.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
struct FailureCount {
    endpoint: String,
    /// The code ("1026"), or what went wrong without one ("truncated", "timed out").
    outcome: String,
    /// Why it ended: a stop reason, "not_sent" (pre-flight) or "failing_fast".
    ended: String,
    requests: u32,
}

/// One request of the workload.
#[derive(Debug, Clone)]
enum Job {
    Chat(ChatRequest),
    ChatCompatible(ChatRequest),
    Speech(T2aRequest),
    Clone(VoiceCloneRequest),
}

/// Runs the demo.
pub fn run(args: &DemoArgs, lang: Lang, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let runtime = crate::runtime::multi_thread()?;
    let summary = runtime.block_on(demo(args))?;
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&summary)?)?;
    } else {
        print_summary(&summary, lang, out)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The demo account's request limit (the rate limit errors come from it, not from chance).
const ACCOUNT_RPM: u32 = 6000;

/// Passing faults, by chance; the account's limits are in the mock's configuration.
fn scenario(seed: u64) -> Scenario {
    let code = |c: ErrorCode| Action::Code(c);
    Scenario::new(seed)
        .with(
            EndpointFaults::on(Some(Endpoint::Chat))
                .random(code(ErrorCode::TIMEOUT), 0.04)
                .random(code(ErrorCode::INTERNAL_SERVICE_ERROR), 0.04)
                .random(Action::Html502, 0.03)
                .random(Action::Truncate, 0.02)
                .random(Action::Reset, 0.02)
                .latency(2, 15),
        )
        .with(
            EndpointFaults::on(Some(Endpoint::ChatCompatible))
                .random(Action::Overloaded, 0.08)
                .latency(2, 15),
        )
        .with(
            EndpointFaults::on(Some(Endpoint::T2a))
                .random(code(ErrorCode::SYSTEM_ERROR), 0.03)
                .latency(5, 25),
        )
}

fn chat(text: &str) -> ChatRequest {
    ChatRequest::user("MiniMax-M2", text)
}

fn speech(voice: &str, speed: f64) -> T2aRequest {
    let mut request = T2aRequest::speak(
        "speech-2.8-hd",
        "今天天气很好。The weather is lovely today.",
        voice,
    );
    if let Some(setting) = &mut request.voice_setting {
        setting.speed = Some(speed);
    }
    request
}

/// The workload: mostly ordinary calls, and a few that can never succeed, spread through it.
fn workload(requests: u32, clone_file: u64) -> Vec<Job> {
    (0..requests)
        .map(|i| match i % 50 {
            7 => Job::Chat(chat("please repeat: forbidden-word")), // 1026
            19 => Job::Speech(speech("NoSuchVoice01", 1.0)),       // 2054
            31 => Job::Speech(speech("female-shaonv", 5.0)),       // 2013, not sent
            43 => Job::Clone(VoiceCloneRequest {
                // 2039 after the first
                file_id: Some(clone_file.into()),
                voice_id: "DemoVoice001".into(),
                ..Default::default()
            }),
            n if n % 5 == 0 => Job::ChatCompatible(chat(&format!("question {i}"))),
            n if n % 3 == 0 => Job::Speech(speech("male-qn-qingse", 1.0)),
            _ => Job::Chat(chat(&format!("question {i}"))),
        })
        .collect()
}

async fn demo(args: &DemoArgs) -> anyhow::Result<Summary> {
    let mut config = MockConfig::default();
    // A real account's limit, just spent by another process: the guard must find the pace.
    config.keys[0].rpm = Some(ACCOUNT_RPM);
    config.keys[0].burst = Some(20);
    config.keys[0].start_spent = true;
    config.keys[0].tpm = None;
    config.sensitive.input = vec!["forbidden-word".to_string()];
    config.keys.push(minimax_mock::KeyConfig {
        key: PLAN_KEY.to_string(),
        name: "plan".to_string(),
        quota: Some(PLAN_WINDOW_CALLS),
        ..minimax_mock::KeyConfig::unlimited()
    });
    let server = MockServer::start("127.0.0.1:0".parse()?, config, scenario(args.seed))
        .await
        .context("cannot start the mock")?;
    let retry = RetryConfig {
        strategy: DelayStrategy::FullJitter {
            base: Duration::from_millis(20),
            cap: Duration::from_millis(400),
        },
        ..RetryConfig::default()
    };
    let mut builder = MiniMaxClient::builder()
        .base_url(server.url())
        .api_key(ApiKey::new(DEMO_KEY))
        .retry(retry)
        .seed(args.seed)
        .timeout(Duration::from_secs(5));
    let state = args.state.clone().unwrap_or_default();
    if let Some(shared) = state.open(minimax_fleet::RedisOptions::default()).await? {
        builder = builder.shared_state(shared.as_shared_state());
    }
    let client = builder.build()?;
    let sample = Bytes::from(minimax_mock::silent_wav(12.0));
    let file = client
        .upload_file(AudioPurpose::VoiceClone, "demo.wav", sample)
        .await?;
    server.reset_stats();

    let jobs = workload(args.requests, file.value.file_id);
    let bar = ProgressBar::new(u64::from(args.requests));
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    // Each request's attempts and time spent waiting for its turn, or its error.
    type Outcome = Result<(u32, Duration), GuardError>;
    let results: Vec<(Endpoint, Outcome)> = futures_util::stream::iter(jobs)
        .map(|job| {
            let client = client.clone();
            let bar = bar.clone();
            async move {
                let endpoint = match &job {
                    Job::Chat(_) => Endpoint::Chat,
                    Job::ChatCompatible(_) => Endpoint::ChatCompatible,
                    Job::Speech(_) => Endpoint::T2a,
                    Job::Clone(_) => Endpoint::VoiceClone,
                };
                let how = |attempts: u32, paced: Duration| (attempts, paced);
                let attempts = match job {
                    Job::Chat(r) => client.chat(&r).await.map(|r| how(r.attempts, r.paced)),
                    Job::ChatCompatible(r) => client
                        .chat_compatible(&r)
                        .await
                        .map(|r| how(r.attempts, r.paced)),
                    Job::Speech(r) => client.t2a(&r).await.map(|r| how(r.attempts, r.paced)),
                    Job::Clone(r) => client
                        .voice_clone(&r)
                        .await
                        .map(|r| how(r.attempts, r.paced)),
                };
                bar.inc(1);
                (endpoint, attempts)
            }
        })
        .buffer_unordered(args.concurrency as usize)
        .collect()
        .await;
    bar.finish_and_clear();

    let mut summary = Summary {
        url: server.url(),
        requests: args.requests,
        seconds: started.elapsed().as_secs_f64(),
        account_rpm: ACCOUNT_RPM,
        pacing: client
            .executor()
            .pacer()
            .snapshot()
            .into_iter()
            .filter(|g| g.group != LimitGroup::Files)
            .map(|g| Pacing {
                group: g.group.to_string(),
                rpm: g.rpm,
            })
            .collect(),
        ..Default::default()
    };
    let mut failures: BTreeMap<(String, String, String), u32> = BTreeMap::new();
    for (endpoint, result) in results {
        if let Ok((_, paced)) = &result {
            summary.paced_seconds += paced.as_secs_f64();
        }
        match result {
            Ok((1, _)) => summary.succeeded_first_try += 1,
            Ok((attempts, _)) => {
                summary.recovered += 1;
                summary.retries_for_recovered += attempts - 1;
            }
            Err(error) => {
                summary.failed += 1;
                let (outcome, ended) = reason(&error);
                *failures
                    .entry((endpoint.as_str().to_string(), outcome, ended))
                    .or_default() += 1;
            }
        }
    }
    summary.failures = failures
        .into_iter()
        .map(|((endpoint, outcome, ended), requests)| FailureCount {
            endpoint,
            outcome,
            ended,
            requests,
        })
        .collect();
    let stats = server.stats();
    summary.calls_to_minimax = stats.requests;
    for (name, endpoint) in &stats.endpoints {
        let errors: BTreeMap<String, u64> = endpoint
            .outcomes
            .iter()
            .filter(|(o, _)| o.parse::<Seen>() != Ok(Seen::Success))
            .map(|(o, n)| (o.clone(), *n))
            .collect();
        if !errors.is_empty() {
            summary.errors_met.insert(name.clone(), errors);
        }
    }
    summary.plan = plan_segment(&server, args).await?;
    server.stop().await?;
    Ok(summary)
}

/// The demo's subscription key and the calls its 5-hour window allows.
const PLAN_KEY: &str = "sk-cp-demo-plan";
const PLAN_WINDOW_CALLS: u64 = 20;

/// A coding agent on a subscription key sends 30 requests; the window allows 20.
async fn plan_segment(server: &MockServer, args: &DemoArgs) -> anyhow::Result<PlanSegment> {
    let client = MiniMaxClient::builder()
        .base_url(server.url())
        .api_key(ApiKey::new(PLAN_KEY))
        .seed(args.seed)
        .build()?;
    let before = server.stats().requests;
    let mut segment = PlanSegment {
        window_calls: PLAN_WINDOW_CALLS,
        requests: 30,
        ..PlanSegment::default()
    };
    for i in 0..segment.requests {
        match client.chat(&chat(&format!("agent step {i}"))).await {
            Ok(_) => segment.succeeded += 1,
            Err(GuardError::FailingFast { resets_at, .. }) => {
                segment.held += 1;
                if let Some(at) = resets_at {
                    segment.resets = minimax_errors::quota::rfc3339(at);
                }
            }
            Err(_) => segment.refused += 1,
        }
    }
    segment.calls = server.stats().requests - before;
    Ok(segment)
}

/// What a request failed with, and how it ended (a stop reason, `not_sent`, `failing_fast`).
fn reason(error: &GuardError) -> (String, String) {
    let code = || {
        error
            .code()
            .map_or_else(|| "-".to_string(), |c| c.as_i64().to_string())
    };
    match error {
        GuardError::Invalid(_) => (code(), "not_sent".to_string()),
        GuardError::FailingFast { .. } => (code(), "failing_fast".to_string()),
        GuardError::PacedPastDeadline { .. } => {
            ("-".to_string(), "paced_past_deadline".to_string())
        }
        GuardError::MaybeCreated(_) => (code(), "maybe_created".to_string()),
        GuardError::Failed(f) => (
            f.cause.label(),
            serde_json::to_value(f.stopped)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        ),
        GuardError::Setup(detail) => (detail.clone(), "setup".to_string()),
        _ => (code(), "other".to_string()),
    }
}

fn print_summary(s: &Summary, lang: Lang, out: &mut impl Write) -> anyhow::Result<()> {
    let zh = lang == Lang::Zh;
    let bold = style::BOLD;
    let per_request = s.calls_to_minimax as f64 / f64::from(s.requests);
    if zh {
        writeln!(
            out,
            "{bold}mmerr demo{bold:#}：{} 个请求经 minimax-guard 发往本地 MiniMax 模拟服务（{}），用时 {:.1} 秒\n",
            s.requests, s.url, s.seconds
        )?;
        writeln!(
            out,
            "  成功        {}（首次即成功 {}，重试后恢复 {}，共重试 {} 次）",
            s.succeeded_first_try + s.recovered,
            s.succeeded_first_try,
            s.recovered,
            s.retries_for_recovered
        )?;
        writeln!(out, "  失败        {}", s.failed)?;
        writeln!(
            out,
            "  实际调用    {}（每个请求 {:.2} 次）",
            s.calls_to_minimax, per_request
        )?;
        writeln!(
            out,
            "  节奏        {}（账户限额每分钟 {} 次，minimax-guard 事先不知道；调用方共排队等待 {:.1} 秒）",
            pace_text(&s.pacing),
            s.account_rpm,
            s.paced_seconds
        )?;
        let p = &s.plan;
        writeln!(
            out,
            "  套餐窗口    订阅 key 的 5 小时窗口允许 {} 次：{} 个请求中 {} 个成功，{} 个收到 2056（{} 重置），其余 {} 个被拦下未发送；MiniMax 共收到 {} 次调用\n",
            p.window_calls, p.requests, p.succeeded, p.refused, p.resets, p.held, p.calls
        )?;
    } else {
        writeln!(
            out,
            "{bold}mmerr demo{bold:#}: {} requests through minimax-guard to a local MiniMax look-alike ({}) in {:.1} s\n",
            s.requests, s.url, s.seconds
        )?;
        writeln!(
            out,
            "  succeeded         {} ({} at the first try, {} recovered after {} retries)",
            s.succeeded_first_try + s.recovered,
            s.succeeded_first_try,
            s.recovered,
            s.retries_for_recovered
        )?;
        writeln!(out, "  failed            {}", s.failed)?;
        writeln!(
            out,
            "  calls to MiniMax  {} ({:.2} per request)",
            s.calls_to_minimax, per_request
        )?;
        writeln!(
            out,
            "  paced             {} (account limit {} per minute, unknown to the guard; callers waited {:.1} s in all for their turn)",
            pace_text(&s.pacing),
            s.account_rpm,
            s.paced_seconds
        )?;
        let p = &s.plan;
        writeln!(
            out,
            "  plan window       a subscription key's 5-hour window allows {}: of {} requests {} succeeded, {} met 2056 (resets at {}), the other {} were held, not sent; MiniMax received {} calls\n",
            p.window_calls, p.requests, p.succeeded, p.refused, p.resets, p.held, p.calls
        )?;
    }
    let mut met = Table::new();
    met.load_style(presets::UTF8_BORDERS_ONLY);
    met.set_header(if zh {
        vec!["接口", "错误码", "次数", "含义", "处理"]
    } else {
        vec!["endpoint", "code", "count", "meaning", "handling"]
    });
    for (endpoint, outcome, count) in s
        .errors_met
        .iter()
        .flat_map(|(e, o)| o.iter().map(move |(code, n)| (e, code, n)))
    {
        let (meaning, handling) = match outcome.parse::<i64>() {
            Ok(n) => {
                let info = ErrorCode::new(n).info_on(endpoint.parse().unwrap_or(Endpoint::Other));
                let handling = match (info.is_retryable(), zh) {
                    (true, true) => "重试",
                    (true, false) => "retried",
                    (false, true) => "不重试",
                    (false, false) => "not retried",
                };
                (info.message.get(lang).to_string(), handling.to_string())
            }
            Err(_) => (
                outcome
                    .parse::<Seen>()
                    .map_or("", |seen| seen.meaning(lang))
                    .to_string(),
                if zh { "重试" } else { "retried" }.to_string(),
            ),
        };
        met.add_row(vec![
            endpoint.clone(),
            outcome.clone(),
            count.to_string(),
            meaning,
            handling,
        ]);
    }
    writeln!(
        out,
        "{}",
        if zh {
            "遇到的错误（每次调用，按模拟服务的回答）："
        } else {
            "errors met (every call, as the mock answered):"
        }
    )?;
    writeln!(out, "{met}\n")?;
    let mut failed = Table::new();
    failed.load_style(presets::UTF8_BORDERS_ONLY);
    failed.set_header(if zh {
        vec!["接口", "结果", "结束原因", "请求数", "解决方法"]
    } else {
        vec!["endpoint", "outcome", "ended", "requests", "what to do"]
    });
    for f in &s.failures {
        let endpoint = f.endpoint.parse().unwrap_or(Endpoint::Other);
        let solution = f
            .outcome
            .parse::<i64>()
            .map(|n| {
                ErrorCode::new(n)
                    .info_on(endpoint)
                    .solution
                    .get(lang)
                    .to_string()
            })
            .unwrap_or_default();
        failed.add_row(vec![
            f.endpoint.clone(),
            f.outcome.clone(),
            ended_label(&f.ended, lang).to_string(),
            f.requests.to_string(),
            solution,
        ]);
    }
    writeln!(
        out,
        "{}",
        if zh {
            "失败的请求及原因："
        } else {
            "failed requests, by reason:"
        }
    )?;
    writeln!(out, "{failed}")?;
    Ok(())
}

/// "text 2,870/min, speech 60/min".
fn pace_text(pacing: &[Pacing]) -> String {
    pacing
        .iter()
        .map(|p| format!("{} {:.0}/min", p.group, p.rpm))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How a failed request ended, in words.
fn ended_label(ended: &str, lang: Lang) -> &str {
    let (en, zh) = match ended {
        "not_retryable" => ("not retryable", "不可重试"),
        "attempts_exhausted" => ("retries used up", "重试次数用尽"),
        "deadline_reached" => ("deadline reached", "超过截止时间"),
        "budget_exhausted" => ("retry budget exhausted", "重试预算用尽"),
        "server_said_no" => ("server said not to retry", "服务端要求不重试"),
        "not_sent" => ("rejected before sending", "发送前被拦截"),
        "failing_fast" => ("failing fast (account)", "账户级错误，快速失败"),
        "paced_past_deadline" => ("its turn came too late", "排队超过截止时间"),
        "maybe_created" => ("may already exist", "可能已创建"),
        other => (other, other),
    };
    if lang == Lang::Zh { zh } else { en }
}
