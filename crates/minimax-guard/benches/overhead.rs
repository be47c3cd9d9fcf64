//! What the guard adds to a successful call, against the mock over loopback: raw reqwest, the
//! executor around the same request, and the typed client (validation, encoding, parsing).
//! Run with `cargo bench -p minimax-guard --bench overhead`; figures go to docs/benchmarks.md.

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use minimax_errors::Endpoint;
use minimax_errors::LimitGroup;
use minimax_errors::validate::ChatRequest;
use minimax_guard::{
    AccountId, ApiKey, Executor, GroupLimits, MiniMaxClient, Pacer, PacingConfig, RetryConfig,
    read_answer,
};
use minimax_mock::{KeyConfig, MockConfig, MockServer, Scenario};

const KEY: &str = "bench-key";

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let config = MockConfig {
        keys: vec![KeyConfig {
            key: KEY.into(),
            name: "bench".into(),
            ..KeyConfig::unlimited()
        }],
        ..MockConfig::default()
    };
    let server = runtime
        .block_on(MockServer::start(
            "127.0.0.1:0".parse().unwrap(),
            config,
            Scenario::default(),
        ))
        .unwrap();
    let url = format!("{}/v1/text/chatcompletion_v2", server.url());
    let request = ChatRequest::user("MiniMax-M2", "hello");
    let body = Bytes::from(serde_json::to_vec(&request).unwrap());
    let http = reqwest::Client::new();
    // The account's limit given, far above what one caller sends: the pacer's bookkeeping is
    // measured, not its slow start from the documented 500 per minute.
    let limits = GroupLimits {
        rpm: Some(6e9),
        tpm: None,
        max_in_flight: None,
    };
    let retry = RetryConfig {
        pacing: PacingConfig::default().with_limits(LimitGroup::Text, limits),
        ..RetryConfig::default()
    };
    let guard = Executor::new(retry.clone());
    let client = MiniMaxClient::builder()
        .base_url(server.url())
        .api_key(ApiKey::new(KEY))
        .retry(retry)
        .build()
        .unwrap();

    let mut group = c.benchmark_group("successful_chat_call");
    group.bench_function("raw_reqwest", |b| {
        b.to_async(&runtime).iter(|| async {
            let response = http
                .post(&url)
                .bearer_auth(KEY)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            response.bytes().await.unwrap()
        })
    });
    group.bench_function("guard_execute", |b| {
        b.to_async(&runtime).iter(|| async {
            guard
                .execute(Endpoint::Chat, || {
                    let sent = http
                        .post(&url)
                        .bearer_auth(KEY)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send();
                    async move { read_answer(sent.await).await }
                })
                .await
                .unwrap()
        })
    });
    group.bench_function("typed_client_chat", |b| {
        b.to_async(&runtime)
            .iter(|| async { client.chat(&request).await.unwrap() })
    });
    group.finish();

    // The pacer alone: one uncontended turn (acquire, then report a success).
    let pacer = Pacer::new(PacingConfig::default().with_limits(LimitGroup::Text, limits));
    let account = AccountId::of_key(KEY);
    c.bench_function("pacer_uncontended_turn", |b| {
        b.to_async(&runtime).iter(|| async {
            pacer
                .acquire(account, LimitGroup::Text, 0, None)
                .await
                .unwrap()
                .succeeded()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
