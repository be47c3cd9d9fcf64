//! Pacing in tokio's paused time, against the mock's account limits in-process: every request
//! gets through a rate-limited account at about the account's rate with few wasted calls,
//! whatever the limiter's shape; T2A waits for its characters; callers leave in the order they
//! came; a turn that would come too late fails at once, unsent; an outage costs few calls.

use minimax_errors::{Dialect, Endpoint, LimitGroup};
use minimax_guard::pacer::{AccountId, GroupLimits, Pacer, PacingConfig};
use minimax_guard::{Call, Executor, GuardError, RawResponse, RetryConfig};
use minimax_mock::KeyConfig;
use minimax_mock::RpmMode;
use minimax_mock::sim::{Ask, Simulated};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::time::{Duration, Instant};

/// What a run of requests came to.
#[derive(Debug)]
struct Run {
    ok: u32,
    failed: u32,
    calls: u64,
    seconds: f64,
}

impl Run {
    fn wasted(&self) -> f64 {
        (self.calls - u64::from(self.ok)) as f64 / self.calls as f64
    }
}

fn limits(edit: impl FnOnce(&mut KeyConfig)) -> KeyConfig {
    let mut config = KeyConfig {
        rpm: Some(1800),
        ..KeyConfig::unlimited()
    };
    edit(&mut config);
    config
}

/// `requests` requests by `concurrency` callers through one executor.
async fn run(
    executor: Executor,
    account: Arc<Simulated>,
    call: Call,
    requests: u32,
    concurrency: u32,
) -> Run {
    let next = Arc::new(AtomicU32::new(0));
    let ok = Arc::new(AtomicU32::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (executor, account, next, ok) = (
            executor.clone(),
            Arc::clone(&account),
            Arc::clone(&next),
            Arc::clone(&ok),
        );
        workers.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < requests {
                let ask = Ask {
                    dialect: Dialect::Native,
                    characters: call.characters,
                };
                let result = executor
                    .execute(call, || {
                        let account = Arc::clone(&account);
                        async move {
                            let answer = account.call(ask).await;
                            Ok(RawResponse {
                                status: answer.status,
                                headers: Default::default(),
                                body: answer.body,
                            })
                        }
                    })
                    .await;
                if result.is_ok() {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
    let ok = ok.load(Ordering::Relaxed);
    Run {
        ok,
        failed: requests - ok,
        calls: account.calls(),
        seconds: started.elapsed().as_secs_f64(),
    }
}

fn chat() -> Call {
    Call::new(Endpoint::Chat).account(AccountId::of_key("sk-api-pacing-test"))
}

#[tokio::test(start_paused = true)]
async fn every_request_gets_through_a_bucket_at_its_rate() {
    for (name, config, ideal) in [
        (
            "burst 10",
            limits(|c| c.burst = Some(10)),
            (600.0 - 10.0) / 30.0,
        ),
        (
            "a spent minute bucket",
            limits(|c| c.start_spent = true),
            600.0 / 30.0,
        ),
    ] {
        for concurrency in [8, 128] {
            let account = Arc::new(Simulated::new(config.clone(), Duration::from_millis(100)));
            let run = run(Executor::default(), account, chat(), 600, concurrency).await;
            assert_eq!(run.failed, 0, "{name}, C={concurrency}: {run:?}");
            assert!(run.wasted() <= 0.03, "{name}, C={concurrency}: {run:?}");
            assert!(
                run.seconds <= ideal * 1.1,
                "{name}, C={concurrency}: {run:?}"
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn fixed_windows_are_learned_as_a_rate() {
    let config = limits(|c| {
        c.rpm_mode = RpmMode::FixedWindow;
        c.window_secs = 10;
    });
    let account = Arc::new(Simulated::new(config, Duration::from_millis(100)));
    let run = run(Executor::default(), account, chat(), 1000, 32).await;
    assert_eq!(run.failed, 0, "{run:?}");
    assert!(run.wasted() <= 0.03, "{run:?}");
    // The account's rate is 30 per second: 1000 requests take at least 30 s (300 at each
    // window's start) and about 33 s paced evenly.
    assert!(run.seconds <= 1000.0 / 30.0 * 1.1, "{run:?}");
}

#[tokio::test(start_paused = true)]
async fn t2a_waits_for_its_characters_instead_of_meeting_1039() {
    // 60,000 characters a minute, unknown to the client; 300 requests of 200 characters.
    let config = KeyConfig {
        tpm: Some(60_000),
        ..KeyConfig::unlimited()
    };
    let account = Arc::new(Simulated::new(config, Duration::from_millis(100)));
    let call = Call::new(Endpoint::T2a).characters(200);
    let run = run(Executor::default(), Arc::clone(&account), call, 300, 32).await;
    assert_eq!(run.failed, 0, "{run:?}");
    assert!(run.calls <= 310, "a few 1039s to learn the budget: {run:?}");
    // 60,000 characters: one minute's budget at once, the rest a minute later.
    assert!(run.seconds <= 66.0, "{run:?}");
}

#[tokio::test(start_paused = true)]
async fn callers_leave_in_the_order_they_came() {
    let pacer = Pacer::new(PacingConfig::default().with_limits(
        LimitGroup::Text,
        GroupLimits {
            rpm: Some(60.0),
            ..GroupLimits::default()
        },
    ));
    let account = AccountId::of_key("k");
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut callers = Vec::new();
    for i in 0..10 {
        let (pacer, order) = (pacer.clone(), Arc::clone(&order));
        callers.push(tokio::spawn(async move {
            let permit = pacer
                .acquire(account, LimitGroup::Text, 0, None)
                .await
                .unwrap();
            order.lock().unwrap().push(i);
            permit.succeeded();
        }));
        // Each asks a moment after the one before.
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    for caller in callers {
        caller.await.unwrap();
    }
    assert_eq!(*order.lock().unwrap(), (0..10).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn a_rate_faster_than_the_timer_is_kept() {
    // 10,000 a second: a tenth of a millisecond per turn, below tokio's timer tick.
    let pacer = Pacer::new(PacingConfig::default().with_limits(
        LimitGroup::Text,
        GroupLimits {
            rpm: Some(600_000.0),
            ..GroupLimits::default()
        },
    ));
    let account = AccountId::of_key("k");
    let started = tokio::time::Instant::now();
    for _ in 0..2_000 {
        pacer
            .acquire(account, LimitGroup::Text, 0, None)
            .await
            .unwrap()
            .succeeded();
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(190) && took <= Duration::from_millis(220),
        "2,000 turns at 10,000 a second took {took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_turn_past_the_deadline_fails_at_once_and_unsent() {
    // A known limit of 6 per minute: the tenth caller in line would wait 90 s.
    let retry = RetryConfig {
        deadline: Some(Duration::from_secs(30)),
        pacing: PacingConfig::default().with_limits(
            LimitGroup::Text,
            GroupLimits {
                rpm: Some(6.0),
                ..GroupLimits::default()
            },
        ),
        ..RetryConfig::default()
    };
    let executor = Executor::new(retry);
    let account = Arc::new(Simulated::new(
        KeyConfig::unlimited(),
        Duration::from_millis(10),
    ));
    // Learn the rate first (one throttle settles it), then queue ten callers at once.
    let run = run(executor.clone(), Arc::clone(&account), chat(), 4, 1).await;
    assert_eq!(run.failed, 0);
    let sent_before = account.calls();
    let asked = Instant::now();
    let mut queued = Vec::new();
    for _ in 0..10 {
        let (executor, account) = (executor.clone(), Arc::clone(&account));
        queued.push(tokio::spawn(async move {
            executor
                .execute(chat(), || {
                    let account = Arc::clone(&account);
                    async move {
                        let answer = account
                            .call(Ask {
                                dialect: Dialect::Native,
                                characters: 0,
                            })
                            .await;
                        Ok(RawResponse {
                            status: answer.status,
                            headers: Default::default(),
                            body: answer.body,
                        })
                    }
                })
                .await
                .map(|_| Instant::now())
        }));
    }
    let mut paced_out = 0;
    for caller in queued {
        match caller.await.unwrap() {
            Ok(_) => {}
            Err(GuardError::PacedPastDeadline { group, wait, .. }) => {
                assert_eq!(group, LimitGroup::Text);
                assert!(wait >= Duration::from_secs(30), "{wait:?}");
                paced_out += 1;
            }
            Err(other) => panic!("{other}"),
        }
    }
    assert!(paced_out >= 5, "{paced_out} failed locally");
    assert_eq!(
        account.calls() - sent_before,
        10 - paced_out,
        "nothing sent for the calls that failed locally"
    );
    assert!(asked.elapsed() <= Duration::from_secs(31));
}

#[tokio::test(start_paused = true)]
async fn an_outage_costs_few_calls_and_the_pace_returns_soon_after() {
    // Steady traffic, then every answer is 1002 from 10 s to 70 s, then the account is back.
    let config = limits(|c| c.start_spent = true);
    let account = Arc::new(
        Simulated::new(config, Duration::from_millis(100))
            .with_outage(Duration::from_secs(10), Duration::from_secs(70)),
    );
    let run = run(Executor::default(), Arc::clone(&account), chat(), 1500, 64).await;
    assert_eq!(run.failed, 0, "{run:?}");
    // A client that never retries would make 1500 calls.
    assert!(run.calls as f64 <= 1500.0 * 1.2, "{run:?}");
    // 300 before the outage, 1200 after it at 30 per second: about 40 s after its end.
    assert!(run.seconds <= 70.0 + 1200.0 / 30.0 + 10.0, "{run:?}");
}

/// Calls that take seconds, as MiniMax's do: the pace must not wait for answers to judge the
/// rate. Floor: the account's time for the requests plus one call, or each caller's calls one
/// after another, whichever is longer.
mod at_real_latencies {
    use super::*;
    use minimax_mock::Latency;

    fn floor(ideal: f64, latency: f64, requests: u32, concurrency: u32) -> f64 {
        (ideal + latency).max(f64::from(requests) * latency / f64::from(concurrency))
    }

    /// Every request through, at most 3 % of calls wasted, within `seconds`.
    fn all_through(run: &Run, seconds: f64, case: &str) {
        assert_eq!(run.failed, 0, "{case}: {run:?}");
        assert!(run.wasted() <= 0.03, "{case}: {run:?}");
        assert!(
            run.seconds <= seconds,
            "{case}: {run:?}, allowed {seconds:.1} s"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_bucket_is_used_whole_when_calls_take_seconds() {
        for (latency, concurrency) in [(3.0, 128), (10.0, 512), (1.0, 32)] {
            let config = limits(|c| c.burst = Some(10));
            let account = Arc::new(Simulated::new(config, Duration::from_secs_f64(latency)));
            let run = run(Executor::default(), account, chat(), 1000, concurrency).await;
            let floor = floor(990.0 / 30.0, latency, 1000, concurrency);
            all_through(&run, floor * 1.1, &format!("{latency} s, C={concurrency}"));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_fixed_window_is_learned_when_calls_take_seconds() {
        for (latency, concurrency) in [(3.0, 128), (10.0, 512)] {
            let config = limits(|c| {
                c.rpm_mode = RpmMode::FixedWindow;
                c.window_secs = 10;
            });
            let account = Arc::new(Simulated::new(config, Duration::from_secs_f64(latency)));
            let run = run(Executor::default(), account, chat(), 1000, concurrency).await;
            // 300 at each window's start: the last third of the requests in the fourth window.
            let floor = floor(30.0, latency, 1000, concurrency);
            all_through(&run, floor * 1.2, &format!("{latency} s, C={concurrency}"));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_tail_of_latencies_does_not_slow_the_pace() {
        // Median 3 s, p99 30 s: the pace is set by the account, the time by the slowest calls.
        let config = limits(|c| c.start_spent = true);
        let account = Arc::new(Simulated::new(config, Duration::ZERO).with_latency(
            Latency::log_normal(Duration::from_secs(3), Duration::from_secs(30)),
            5,
        ));
        let run = run(Executor::default(), Arc::clone(&account), chat(), 1000, 512).await;
        let longest = account.longest_latency().as_secs_f64().min(120.0);
        let floor = floor(1000.0 / 30.0, 4.9, 1000, 512).max(longest);
        // One call of this seed's draws outlasts the 120 s deadline.
        assert!(run.failed <= 1, "{run:?}");
        assert!(run.wasted() <= 0.03, "{run:?}");
        assert!(run.seconds <= floor * 1.1, "{run:?}, floor {floor:.1} s");
    }

    #[tokio::test(start_paused = true)]
    async fn a_cap_on_calls_in_flight_is_learned_and_held() {
        // 20 in flight, calls of 10 s, no rate limit: 1041 beyond the cap.
        let config = KeyConfig {
            max_concurrent: Some(20),
            ..KeyConfig::unlimited()
        };
        let account = Arc::new(Simulated::new(config, Duration::from_secs(10)));
        let run = run(Executor::default(), account, chat(), 1000, 128).await;
        assert_eq!(run.failed, 0, "{run:?}");
        assert!(run.wasted() <= 0.03, "{run:?}");
        // 1000 calls of 10 s, 20 at a time.
        assert!(run.seconds <= 500.0 * 1.05, "{run:?}");
    }
}
