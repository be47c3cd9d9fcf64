//! Proxies sharing a real Redis (`state = "redis://…"`): a key refused by MiniMax through one
//! proxy fails fast at the others, unsent; a configuration naming no Redis is refused at start.

#[allow(dead_code)] // each test binary uses part of the helpers
mod common;

use common::RedisServer;
use minimax_fleet::StateBackend;
use minimax_mock::{KeyConfig, MockConfig, MockServer, Scenario};
use minimax_proxy::{ProxyConfig, ProxyServer, Upstream};

const BROKE_KEY: &str = "sk-api-fleet-broke-account";

async fn proxy(mock: &MockServer, state: StateBackend) -> ProxyServer {
    let config = ProxyConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        upstream: Upstream::Url(mock.url()),
        state,
        ..ProxyConfig::default()
    };
    ProxyServer::start(config).await.unwrap()
}

async fn chat(proxy: &ProxyServer) -> (u16, serde_json::Value) {
    let reply = reqwest::Client::new()
        .post(format!("{}/v1/text/chatcompletion_v2", proxy.url()))
        .bearer_auth(BROKE_KEY)
        .json(&serde_json::json!({"model": "MiniMax-M2", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    (status, reply.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_key_fails_fast_at_every_proxy_of_the_fleet() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let mut config = MockConfig::default();
    config.keys.push(KeyConfig::broke(BROKE_KEY));
    let mock = MockServer::start("127.0.0.1:0".parse().unwrap(), config, Scenario::default())
        .await
        .unwrap();
    let state: StateBackend = redis.url().parse().unwrap();
    let (one, two) = (proxy(&mock, state.clone()).await, proxy(&mock, state).await);
    let (_, first) = chat(&one).await;
    assert_eq!(first["base_resp"]["status_code"], 1008, "{first}");
    assert_eq!(mock.stats().requests_on("chat"), 1);
    let (_, second) = chat(&two).await;
    assert_eq!(second["base_resp"]["status_code"], 1008, "{second}");
    assert_eq!(
        mock.stats().requests_on("chat"),
        1,
        "the other proxy answered from the fleet's breaker"
    );
}

#[test]
fn a_state_that_is_not_redis_is_refused_in_one_line() {
    let error = "postgres://127.0.0.1/x"
        .parse::<StateBackend>()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "shared state postgres://127.0.0.1/x: expected in-process or a redis:// URL"
    );
    let error = ProxyConfig::from_toml("state = \"redis://:secret@127.0.0.1:notaport/0\"")
        .unwrap_err()
        .to_string();
    assert!(!error.contains("secret"), "{error}");
    assert!(!error.contains('\n'), "{error}");
}
