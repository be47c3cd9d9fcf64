//! `mmerr bench spent-window`: what each client policy sends to an account whose plan window is
//! spent. 32 agents each send a request every 100 ms for 60 s (virtual time) to an account that
//! allows 100 calls in its 5-hour window; the figure is the calls the account receives after the
//! first 2056 reached a client. Every one of them is wasted: the window does not reset for hours.

use super::policy::{Client, Policy};
use super::upstream::{Simulated, Upstream};
use minimax_errors::Endpoint;
use minimax_mock::{DEMO_KEY, KeyConfig};
use serde::Serialize;
use std::io::Write;
use std::sync::Arc;
use tokio::time::{Duration, Instant};

const AGENTS: u32 = 32;
const RUN: Duration = Duration::from_secs(60);
const THINK: Duration = Duration::from_millis(100);
const WINDOW_CALLS: u64 = 100;

/// One policy's figure.
#[derive(Debug, Serialize)]
struct Row {
    policy: Policy,
    requests: u64,
    calls_after_first_2056: u64,
}

/// Runs every policy and prints the table (or JSON).
pub fn run(json: bool, out: &mut impl Write) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for policy in Policy::ALL {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()?;
        rows.push(runtime.block_on(one(policy)));
    }
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "mmerr bench spent-window: {AGENTS} agents, a request every {} ms each for {} s, to an account whose 5-hour window allows {WINDOW_CALLS} calls; calls the account received after its first 2056:",
        THINK.as_millis(),
        RUN.as_secs()
    )?;
    for row in &rows {
        writeln!(
            out,
            "  {:<16} {:>6} requests   {:>6} calls after the first 2056",
            row.policy.name(),
            row.requests,
            row.calls_after_first_2056
        )?;
    }
    Ok(())
}

async fn one(policy: Policy) -> Row {
    let limits = KeyConfig {
        key: DEMO_KEY.to_string(),
        name: "plan".to_string(),
        quota: Some(WINDOW_CALLS),
        ..KeyConfig::unlimited()
    };
    let sim = Arc::new(Upstream::Simulated(Box::new(Simulated::new(
        limits,
        Duration::from_millis(100),
    ))));
    let client = Arc::new(Client::new(policy, Endpoint::Chat, 7));
    let started = Instant::now();
    let mut agents = Vec::new();
    for _ in 0..AGENTS {
        let (client, sim) = (Arc::clone(&client), Arc::clone(&sim));
        agents.push(tokio::spawn(async move {
            let mut requests = 0u64;
            while started.elapsed() < RUN {
                requests += 1;
                client.request(&sim, 0).await;
                tokio::time::sleep(THINK).await;
            }
            requests
        }));
    }
    let mut requests = 0;
    for agent in agents {
        requests += agent.await.unwrap_or_default();
    }
    let after = match &*sim {
        Upstream::Simulated(s) => s.calls_after_refusal(),
        Upstream::Http(_) => 0,
    };
    Row {
        policy,
        requests,
        calls_after_first_2056: after,
    }
}
