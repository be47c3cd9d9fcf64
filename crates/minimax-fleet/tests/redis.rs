//! The fleet's state in a real Redis: processes (each a client with its own connection and
//! member id) pace as one under the account's limit, a newcomer starts at the fleet's rate, an
//! account error in one makes the others fail fast, alerts are counted over the fleet and sent
//! once, Redis holds no keys and nothing without a TTL, and calls go on while Redis is down.

mod common;

use common::RedisServer;
use minimax_errors::validate::ChatRequest;
use minimax_errors::{ErrorCode, LimitGroup};
use minimax_fleet::{RedisOptions, RedisState};
use minimax_guard::pacer::AccountId;
use minimax_guard::{ApiKey, GuardError, MiniMaxClient};
use minimax_mock::{KeyConfig, MockConfig, MockServer, Scenario};
use minimax_monitor::{AlertRule, AlertStatus, Event, Monitor, MonitorConfig, Seen, Watch};
use std::sync::Arc;
use std::time::Duration;

const KEY: &str = "sk-api-fleet-test-key-0123456789";

async fn mock(edit: impl FnOnce(&mut KeyConfig)) -> MockServer {
    let mut key = KeyConfig {
        key: KEY.to_string(),
        name: "fleet".to_string(),
        ..KeyConfig::unlimited()
    };
    edit(&mut key);
    let config = MockConfig {
        keys: vec![key],
        ..MockConfig::default()
    };
    MockServer::start("127.0.0.1:0".parse().unwrap(), config, Scenario::default())
        .await
        .unwrap()
}

/// One process of the fleet: its own connection to Redis, its own member id.
async fn process(server: &MockServer, redis: &str) -> (MiniMaxClient, RedisState) {
    let state = RedisState::connect(redis, RedisOptions::default())
        .await
        .unwrap();
    let client = MiniMaxClient::builder()
        .base_url(server.url())
        .api_key(ApiKey::new(KEY))
        .shared_state(state.as_shared_state())
        .build()
        .unwrap();
    (client, state)
}

fn chat() -> ChatRequest {
    ChatRequest::user("MiniMax-M2", "hello")
}

/// `requests` chats by `concurrency` workers of `client`; how many succeeded.
async fn load(client: MiniMaxClient, requests: u32, concurrency: u32) -> u32 {
    let next = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, next) = (client.clone(), Arc::clone(&next));
        workers.push(tokio::spawn(async move {
            let mut ok = 0;
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < requests {
                ok += u32::from(client.chat(&chat()).await.is_ok());
            }
            ok
        }));
    }
    let mut ok = 0;
    for worker in workers {
        ok += worker.await.unwrap();
    }
    ok
}

/// 30 requests a second, a bucket of 5: the documented 500 RPM start trips it at once.
async fn limited_mock() -> MockServer {
    mock(|k| {
        k.rpm = Some(1800);
        k.burst = Some(5);
    })
    .await
}

/// Calls on until `state` answers again; fails after 5 s.
async fn shared_again_within_5_s(client: &MiniMaxClient, state: &RedisState) {
    let back = std::time::Instant::now();
    while !state.is_up() {
        assert!(
            back.elapsed() < Duration::from_secs(5),
            "shared again within 5 s"
        );
        let _ = client.chat(&chat()).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_share_one_accounts_limit_and_a_newcomer_starts_at_the_fleets_rate() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let server = limited_mock().await;
    let (a, _) = process(&server, &redis.url()).await;
    let (b, _) = process(&server, &redis.url()).await;
    let started = std::time::Instant::now();
    let (ok_a, ok_b) = tokio::join!(load(a.clone(), 120, 8), load(b.clone(), 120, 8));
    // A third process joins a fleet that knows the rate.
    let (c, _) = process(&server, &redis.url()).await;
    let ok_c = load(c.clone(), 60, 8).await;
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!((ok_a, ok_b, ok_c), (120, 120, 60));
    let stats = server.stats();
    let (calls, throttled) = (stats.requests_on("chat"), stats.count("chat", "1002"));
    assert_eq!(calls - throttled, 300);
    assert!(
        throttled * 100 <= calls * 5,
        "{throttled} of {calls} calls throttled"
    );
    // 300 requests at 30/s after a bucket of 5: at least 9.8 s.
    assert!(seconds < 9.8 * 1.25, "took {seconds:.1} s");
    let account = AccountId::of_key(KEY);
    let (rpm_c, _) = c
        .executor()
        .pacer()
        .pace(account, LimitGroup::Text)
        .unwrap();
    assert!(
        (1200.0..=2000.0).contains(&rpm_c),
        "the newcomer paces at the fleet's rate, not the documented 500 RPM: {rpm_c}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_error_in_one_process_makes_the_others_fail_fast() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let server = mock(|k| k.balance = Some(1)).await;
    let (a, _) = process(&server, &redis.url()).await;
    let (b, _) = process(&server, &redis.url()).await;
    a.chat(&chat()).await.unwrap();
    let spent = a.chat(&chat()).await.unwrap_err();
    assert_eq!(spent.code(), Some(ErrorCode::INSUFFICIENT_BALANCE));
    let sent_before = server.stats().requests_on("chat");
    match b.chat(&chat()).await {
        Err(GuardError::FailingFast { code, .. }) => {
            assert_eq!(code, ErrorCode::INSUFFICIENT_BALANCE);
        }
        other => panic!("expected failing fast, got {other:?}"),
    }
    assert_eq!(
        server.stats().requests_on("chat"),
        sent_before,
        "nothing sent"
    );
}

fn rule_monitor(state: &RedisState) -> Monitor {
    let rule = AlertRule {
        name: "throttled".to_string(),
        watch: Watch::Code(ErrorCode::RATE_LIMIT),
        threshold: 10,
        window_secs: 60,
        cooldown_secs: 0,
        resolve_after_secs: Some(0),
        severity: None,
    };
    let monitor = Monitor::new(MonitorConfig {
        rules: vec![rule],
        ..MonitorConfig::default()
    })
    .unwrap();
    monitor.share_incidents(state.as_shared_incidents());
    monitor
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_count_over_the_fleet_and_each_is_sent_once() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let mut monitors = Vec::new();
    for _ in 0..3 {
        let state = RedisState::connect(&redis.url(), RedisOptions::default())
            .await
            .unwrap();
        monitors.push(rule_monitor(&state));
    }
    let throttled = Event::attempt(
        minimax_errors::Endpoint::Chat,
        Seen::Code(ErrorCode::RATE_LIMIT),
        1,
        false,
    );
    // 4 each, 50 s ago: under the threshold in every process, 12 > 10 in the fleet.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    for monitor in &monitors {
        for _ in 0..4 {
            monitor.record_at(&throttled, now - 50_000);
        }
        assert!(
            monitor.evaluate_at(now).is_empty(),
            "alone, under the threshold"
        );
    }
    let mut sent = Vec::new();
    // Twice over, then again once the events have left the window.
    for at in [now, now + 500, now + 11_000, now + 11_500] {
        for monitor in &monitors {
            for alert in monitor.evaluate_in_fleet_at(at).await {
                assert_eq!(alert.count, 12, "counted over the fleet");
                sent.push(alert.status);
            }
        }
    }
    assert_eq!(
        sent,
        [AlertStatus::Firing, AlertStatus::Resolved],
        "one alert and one resolved notice for the fleet"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_holds_fingerprints_not_keys_and_everything_expires() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let server = mock(|k| k.balance = Some(3)).await;
    let (a, state) = process(&server, &redis.url()).await;
    for _ in 0..4 {
        let _ = a.chat(&chat()).await;
    }
    rule_monitor(&state).evaluate_in_fleet().await;
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        keys.iter().any(|k| k.starts_with("mmerr:pace:")),
        "{keys:?}"
    );
    assert!(
        keys.iter().any(|k| k.starts_with("mmerr:breaker:")),
        "{keys:?}"
    );
    assert!(
        keys.iter().any(|k| k.starts_with("mmerr:alerts:")),
        "{keys:?}"
    );
    for key in &keys {
        assert!(key.starts_with("mmerr:"), "namespaced: {key}");
        let ttl: i64 = redis::cmd("PTTL")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(ttl > 0, "{key} expires ({ttl})");
        let kind: String = redis::cmd("TYPE")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
        let values: Vec<String> = match kind.as_str() {
            "string" => vec![
                redis::cmd("GET")
                    .arg(key)
                    .query_async(&mut conn)
                    .await
                    .unwrap(),
            ],
            "hash" => redis::cmd("HGETALL")
                .arg(key)
                .query_async(&mut conn)
                .await
                .unwrap(),
            "zset" => redis::cmd("ZRANGE")
                .arg(key)
                .arg(0)
                .arg(-1)
                .query_async(&mut conn)
                .await
                .unwrap(),
            other => panic!("unexpected {other} at {key}"),
        };
        for text in values.iter().chain([key]) {
            assert!(!text.contains("fleet-test-key"), "a key in Redis: {text}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_go_on_while_redis_is_down_and_share_again_when_it_returns() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let port = redis.port;
    let url = redis.url();
    let server = mock(|k| k.rpm = Some(6000)).await;
    let (a, state) = process(&server, &url).await;
    assert_eq!(load(a.clone(), 20, 4).await, 20);
    assert!(state.is_up());
    redis.stop();
    let started = std::time::Instant::now();
    assert_eq!(load(a.clone(), 40, 4).await, 40, "calls go on alone");
    assert!(!state.is_up());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a Redis that is down does not hold calls: {:?}",
        started.elapsed()
    );
    let _back = RedisServer::start_on(port).unwrap();
    shared_again_within_5_s(&a, &state).await;
    assert_eq!(load(a.clone(), 10, 2).await, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_hangs_holds_no_call_longer_than_its_timeout() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let server = mock(|k| k.rpm = Some(6000)).await;
    let (a, state) = process(&server, &redis.url()).await;
    assert_eq!(load(a.clone(), 10, 2).await, 10);
    redis.freeze();
    let mut slowest = Duration::ZERO;
    for _ in 0..30 {
        let started = std::time::Instant::now();
        a.chat(&chat()).await.unwrap();
        slowest = slowest.max(started.elapsed());
    }
    assert!(!state.is_up());
    // The 50 ms timeout, and the call itself.
    assert!(
        slowest < Duration::from_millis(250),
        "a call waited {slowest:?}"
    );
    redis.resume();
    shared_again_within_5_s(&a, &state).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flushed_redis_starts_the_fleet_again_at_the_pace_it_had() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let server = limited_mock().await;
    let (a, _) = process(&server, &redis.url()).await;
    assert_eq!(load(a.clone(), 120, 8).await, 120);
    let account = AccountId::of_key(KEY);
    let (before, _) = a
        .executor()
        .pacer()
        .pace(account, LimitGroup::Text)
        .unwrap();
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let () = redis::cmd("FLUSHALL").query_async(&mut conn).await.unwrap();
    // A newcomer after the flush learns the pace from the process that remembers it.
    let thrown_before = server.stats().count("chat", "1002");
    assert_eq!(load(a.clone(), 10, 2).await, 10);
    let (b, _) = process(&server, &redis.url()).await;
    assert_eq!(load(b.clone(), 30, 8).await, 30);
    let (after, _) = b
        .executor()
        .pacer()
        .pace(account, LimitGroup::Text)
        .unwrap();
    assert!(
        after > before * 0.8,
        "the fleet starts again at {after:.0} RPM, not from scratch (it had {before:.0})"
    );
    assert!(server.stats().count("chat", "1002") - thrown_before <= 3);
}
