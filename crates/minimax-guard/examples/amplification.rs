//! Load amplification under a total outage: every call to the mock answers 1013 (a transient
//! error, retryable). Compares the calls MiniMax receives from a client that never retries, the
//! original Python sketch's wrapper (3 retries, always), and minimax-guard with its retry
//! budget, for a short outage (100 calls) and a long one (2,000).
//!
//! Run with `cargo run --release -p minimax-guard --example amplification`.

use minimax_errors::policy::DelayStrategy;
use minimax_errors::validate::ChatRequest;
use minimax_errors::{Endpoint, ErrorCode};
use minimax_guard::{ApiKey, MiniMaxClient, RetryConfig};
use minimax_mock::{Action, EndpointFaults, KeyConfig, MockConfig, MockServer, Scenario};
use std::time::Duration;

const KEY: &str = "outage-key";
const OUTAGES: [u64; 2] = [100, 2_000];

#[tokio::main]
async fn main() {
    let config = MockConfig {
        keys: vec![KeyConfig {
            key: KEY.into(),
            name: "outage".into(),
            ..KeyConfig::unlimited()
        }],
        ..MockConfig::default()
    };
    let outage = Scenario::new(1).with(
        EndpointFaults::on(None).random(Action::Code(ErrorCode::INTERNAL_SERVICE_ERROR), 1.0),
    );
    let server = MockServer::start("127.0.0.1:0".parse().unwrap(), config, outage)
        .await
        .unwrap();
    let request = ChatRequest::user("MiniMax-M2", "hello");
    // Delays shrunk to a millisecond so the run is quick; the counts do not depend on them.
    let tiny = DelayStrategy::FullJitter {
        base: Duration::from_millis(1),
        cap: Duration::from_millis(1),
    };
    let sketch = RetryConfig {
        max_retries: 3,
        strategy: tiny,
        budget: minimax_guard::BudgetConfig {
            capacity: u32::MAX,
            ..Default::default()
        },
        ..RetryConfig::default()
    };
    let never = RetryConfig {
        max_retries: 0,
        ..RetryConfig::default()
    };
    let guarded = RetryConfig {
        strategy: tiny,
        ..RetryConfig::default()
    };

    for calls in OUTAGES {
        println!("{calls} calls during a total outage (every answer 1013):");
        println!(
            "{:<44} {:>9} {:>9} {:>16}",
            "client", "requests", "per call", "after draining"
        );
        for (name, retry) in [
            ("never retries", never.clone()),
            ("python sketch: 3 retries, no budget", sketch.clone()),
            ("minimax-guard (budget 500, retry cost 14)", guarded.clone()),
        ] {
            server.reset();
            let client = MiniMaxClient::builder()
                .base_url(server.url())
                .api_key(ApiKey::new(KEY))
                .retry(retry)
                .build()
                .unwrap();
            let mut drained_at = None;
            for call in 0..calls {
                let _ = client.chat(&request).await;
                if drained_at.is_none() && client.executor().budget().level() < 14 {
                    drained_at = Some((
                        call + 1,
                        server.stats().requests_on(Endpoint::Chat.as_str()),
                    ));
                }
            }
            let sent = server.stats().requests_on(Endpoint::Chat.as_str());
            let after = match drained_at {
                Some((call, sent_then)) if call < calls => {
                    format!("{:.3}", (sent - sent_then) as f64 / (calls - call) as f64)
                }
                _ => "-".to_string(),
            };
            println!(
                "{name:<44} {sent:>9} {:>9.3} {after:>16}",
                sent as f64 / calls as f64
            );
        }
    }
    server.stop().await.unwrap();
}
