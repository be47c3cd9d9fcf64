//! The mock over real sockets, driven by reqwest, every answer classified by minimax-errors.

use minimax_errors::classify::{MalformedKind, Outcome, classify};
use minimax_errors::{Category, Endpoint, ErrorCode, catalog};
use minimax_mock::{Action, DEMO_KEY, EndpointFaults, KeyConfig, MockConfig, MockServer, Scenario};
use serde_json::{Value, json};
use std::time::Duration;

const OTHER_KEY: &str = "second-account-key";

fn config() -> MockConfig {
    let mut config = MockConfig::default();
    config.keys.push(KeyConfig {
        key: OTHER_KEY.to_string(),
        name: "second".to_string(),
        ..KeyConfig::default()
    });
    config.sensitive.input = vec!["forbidden-word".to_string()];
    config.sensitive.output = vec!["flagged-output".to_string()];
    config
}

async fn start(config: MockConfig, scenario: Scenario) -> MockServer {
    MockServer::start("127.0.0.1:0".parse().unwrap(), config, scenario)
        .await
        .unwrap()
}

struct Answer {
    status: u16,
    trace_header: Option<String>,
    content_type: String,
    body: Vec<u8>,
    outcome: Outcome,
}

impl Answer {
    fn code(&self) -> Option<i64> {
        match &self.outcome {
            Outcome::ApiError(e) => Some(e.code.as_i64()),
            Outcome::Success(_) => Some(0),
            Outcome::Malformed(_) => None,
        }
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

async fn post(server: &MockServer, endpoint: Endpoint, key: Option<&str>, body: &Value) -> Answer {
    post_raw(server, endpoint, key, body.to_string().into_bytes()).await
}

async fn post_raw(
    server: &MockServer,
    endpoint: Endpoint,
    key: Option<&str>,
    body: Vec<u8>,
) -> Answer {
    let client = reqwest::Client::new();
    let mut request = client
        .post(format!("{}{}", server.url(), endpoint.path().unwrap()))
        .body(body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    answer(response, endpoint).await
}

async fn answer(response: reqwest::Response, endpoint: Endpoint) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap().to_vec();
    let outcome = classify(&body, status, &headers, endpoint);
    Answer {
        status,
        trace_header: headers
            .get("trace-id")
            .map(|v| v.to_str().unwrap().to_string()),
        content_type: headers
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default(),
        body,
        outcome,
    }
}

/// The code of a plain native chat request made with `key`.
async fn chat_code(server: &MockServer, key: &str) -> Option<i64> {
    post(server, Endpoint::Chat, Some(key), &chat_body())
        .await
        .code()
}

fn chat_body() -> Value {
    json!({"model": "MiniMax-M2", "messages": [{"role": "user", "content": "hello"}]})
}

fn t2a_body(voice: &str) -> Value {
    json!({"model": "speech-2.8-hd", "text": "你好，世界", "voice_setting": {"voice_id": voice}})
}

async fn upload(server: &MockServer, key: &str, purpose: &str, bytes: Vec<u8>) -> Answer {
    let form = reqwest::multipart::Form::new()
        .text("purpose", purpose.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name("voice.wav"),
        );
    let response = reqwest::Client::new()
        .post(format!("{}/v1/files/upload", server.url()))
        .bearer_auth(key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    answer(response, Endpoint::FileUpload).await
}

async fn upload_id(server: &MockServer, key: &str, purpose: &str, secs: f64) -> u64 {
    let a = upload(server, key, purpose, minimax_mock::silent_wav(secs)).await;
    assert_eq!(a.code(), Some(0), "{}", String::from_utf8_lossy(&a.body));
    a.json()["file"]["file_id"].as_u64().unwrap()
}

mod accounts;
mod example_files;
mod faults;
mod happy_paths;
mod requests;
mod slow_clients;
mod voices;
