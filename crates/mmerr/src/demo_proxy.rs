//! `mmerr demo --proxy`: what the proxy does for clients that are not Rust. Requests go out as
//! an SDK sends them (plain HTTP to the OpenAI- and Anthropic-compatible endpoints, no retries
//! of their own), once straight to a faulty MiniMax look-alike and once through `mmerr proxy`
//! in front of it; the summary compares the two.

use crate::cli::DemoArgs;
use anyhow::Context;
use futures_util::StreamExt;
use minimax_errors::classify::{Outcome, classify};
use minimax_errors::{Endpoint, Lang};
use minimax_mock::{Action, DEMO_KEY, EndpointFaults, MockConfig, MockServer, Scenario};
use minimax_proxy::{ProxyConfig, ProxyServer, Upstream};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

/// One side of the comparison.
#[derive(Debug, Default, Serialize)]
struct Side {
    succeeded: u32,
    failed: u32,
    /// Failed requests by what the client got (`"1026"`, `"529"`, …).
    failures: BTreeMap<String, u32>,
    calls_to_minimax: u64,
    seconds: f64,
}

#[derive(Debug, Serialize)]
struct Comparison {
    requests: u32,
    straight: Side,
    through_proxy: Side,
}

/// Runs the comparison and prints it.
pub fn run(args: &DemoArgs, lang: Lang, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let runtime = crate::runtime::multi_thread()?;
    let comparison = runtime.block_on(compare(args))?;
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&comparison)?)?;
    } else {
        print(&comparison, lang, out)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Overloads, gateway pages and cut-off answers, by chance; the rate limits come from the
/// account's limit.
fn scenario(seed: u64) -> Scenario {
    let faults = |endpoint| {
        EndpointFaults::on(Some(endpoint))
            .random(Action::Overloaded, 0.08)
            .random(Action::Html502, 0.03)
            .random(Action::Truncate, 0.02)
            .latency(2, 15)
    };
    Scenario::new(seed)
        .with(faults(Endpoint::ChatCompatible))
        .with(faults(Endpoint::Anthropic))
}

async fn compare(args: &DemoArgs) -> anyhow::Result<Comparison> {
    let mut config = MockConfig::default();
    config.sensitive.input = vec!["forbidden-word".to_string()];
    // An account allowing 100 requests a second, its bucket just spent by another process.
    config.keys[0].rpm = Some(6000);
    config.keys[0].burst = Some(20);
    config.keys[0].start_spent = true;
    let mock = MockServer::start("127.0.0.1:0".parse()?, config, scenario(args.seed))
        .await
        .context("cannot start the local MiniMax look-alike")?;
    let proxy = ProxyServer::start(ProxyConfig {
        addr: "127.0.0.1:0".parse()?,
        upstream: Upstream::Url(mock.url()),
        ..ProxyConfig::default()
    })
    .await?;
    let straight = side(&mock, &mock.url(), args).await;
    mock.reset();
    let through_proxy = side(&mock, &proxy.url(), args).await;
    proxy.stop().await;
    mock.stop().await.context("the mock did not stop cleanly")?;
    Ok(Comparison {
        requests: args.requests,
        straight,
        through_proxy,
    })
}

/// The requests, as an SDK sends them, to `base`.
async fn side(mock: &MockServer, base: &str, args: &DemoArgs) -> Side {
    let http = reqwest::Client::new();
    let started = std::time::Instant::now();
    let results: Vec<Result<(), String>> = futures_util::stream::iter(0..args.requests)
        .map(|i| {
            let http = http.clone();
            let question = match i % 25 {
                12 => "please repeat: forbidden-word".to_string(), // 1026, final
                _ => format!("question {i}"),
            };
            async move {
                let (endpoint, request) = if i % 2 == 0 {
                    let body = json!({"model": "MiniMax-M2", "messages": [{"role": "user", "content": question}]});
                    let request = http
                        .post(format!("{base}/v1/chat/completions"))
                        .bearer_auth(DEMO_KEY)
                        .json(&body);
                    (Endpoint::ChatCompatible, request)
                } else {
                    let body = json!({"model": "MiniMax-M2", "max_tokens": 256, "messages": [{"role": "user", "content": question}]});
                    let request = http
                        .post(format!("{base}/anthropic/v1/messages"))
                        .header("x-api-key", DEMO_KEY)
                        .header("anthropic-version", "2023-06-01")
                        .json(&body);
                    (Endpoint::Anthropic, request)
                };
                outcome(endpoint, request).await
            }
        })
        .buffer_unordered(args.concurrency as usize)
        .collect()
        .await;
    let mut side = Side {
        calls_to_minimax: mock.stats().requests,
        seconds: started.elapsed().as_secs_f64(),
        ..Side::default()
    };
    for result in results {
        match result {
            Ok(()) => side.succeeded += 1,
            Err(label) => {
                side.failed += 1;
                *side.failures.entry(label).or_default() += 1;
            }
        }
    }
    side
}

/// What the client got: success, or the code (or what went wrong without one).
async fn outcome(endpoint: Endpoint, request: reqwest::RequestBuilder) -> Result<(), String> {
    let response = request.send().await.map_err(|_| "connection".to_string())?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(|_| "cut off".to_string())?;
    match classify(&body, status, &headers, endpoint) {
        Outcome::Success(_) => Ok(()),
        Outcome::ApiError(error) => Err(error.code.as_i64().to_string()),
        Outcome::Malformed(bad) => Err(bad.kind.as_str().to_string()),
    }
}

fn print(c: &Comparison, lang: Lang, out: &mut impl Write) -> anyhow::Result<()> {
    let failures = |side: &Side| {
        side.failures
            .iter()
            .map(|(label, n)| format!("{label} ×{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let rows = [
        (&c.straight, "直连", "straight to MiniMax"),
        (&c.through_proxy, "经 mmerr proxy", "through mmerr proxy"),
    ];
    match lang {
        Lang::Zh => writeln!(
            out,
            "mmerr demo --proxy：{} 个请求按 SDK 的方式发送（纯 HTTP，自身不重试），分别直连本地 MiniMax 模拟服务（过载、限流、网关错误页、截断）和经过 mmerr proxy\n",
            c.requests
        )?,
        Lang::En => writeln!(
            out,
            "mmerr demo --proxy: {} requests sent as an SDK sends them (plain HTTP, no retries of their own) to a local MiniMax look-alike that overloads, rate-limits, answers gateway pages and cuts answers off: straight, then through mmerr proxy\n",
            c.requests
        )?,
    }
    for (side, zh, en) in rows {
        match lang {
            Lang::Zh => writeln!(
                out,
                "  {zh:<14} 成功 {:>4}   失败 {:>4}   实际调用 {:>4}   {:.1} 秒   {}",
                side.succeeded,
                side.failed,
                side.calls_to_minimax,
                side.seconds,
                failures(side)
            )?,
            Lang::En => writeln!(
                out,
                "  {en:<20} succeeded {:>4}   failed {:>4}   calls to MiniMax {:>4}   {:.1} s   {}",
                side.succeeded,
                side.failed,
                side.calls_to_minimax,
                side.seconds,
                failures(side)
            )?,
        }
    }
    match lang {
        Lang::Zh => writeln!(
            out,
            "\n经过代理时，过载、限流、网关错误页和截断都已重试消化；剩下的失败（1026 输入敏感）不可重试，客户端原样收到 MiniMax 的回答"
        )?,
        Lang::En => writeln!(
            out,
            "\nThrough the proxy, overloads, rate limits, gateway pages and cut-off answers were retried away; what still fails (1026, sensitive input) cannot succeed on a retry, and the client got MiniMax's answer as it was"
        )?,
    }
    Ok(())
}
