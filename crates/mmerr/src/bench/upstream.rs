//! Where the benchmark's calls go: the mock's account limiter in-process, in tokio's paused time
//! (thousands of callers in a second of real time), or the mock server over real HTTP in real
//! time. Both answer in the dialect asked for, so a status-only client sees HTTP 429.

use minimax_errors::{Dialect, ErrorCode};
use minimax_guard::RawResponse;
use minimax_guard::transport::TransportFailure;
use minimax_mock::KeyConfig;
use minimax_mock::limits::Account;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::time::{Duration, Instant};

/// What a request asks of the upstream.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    /// Native (HTTP 200 + `base_resp`) or compatible (real status) answers.
    pub dialect: Dialect,
    /// T2A characters, or 0 for chat.
    pub characters: u64,
}

/// Something that answers calls.
pub enum Upstream {
    /// The limiter in-process, in virtual time.
    Simulated(Box<Simulated>),
    /// The mock server over HTTP.
    Http(Http),
}

impl Upstream {
    /// Answers one call.
    pub async fn call(&self, request: Request) -> Result<RawResponse, TransportFailure> {
        match self {
            Upstream::Simulated(sim) => sim.call(request).await,
            Upstream::Http(http) => http.call(request).await,
        }
    }
}

/// The account in-process. A call is admitted or refused as it arrives; the answer comes after
/// `latency` (a refusal after `refusal_latency`: MiniMax answers throttles at once).
pub struct Simulated {
    account: Mutex<Account>,
    latency: Duration,
    refusal_latency: Duration,
    /// Every answer is 1002 from the first to the second.
    outage: Option<(Instant, Instant)>,
    calls: AtomicU64,
}

impl Simulated {
    /// An account with `limits`, starting now; `outage` is when every answer is 1002 (from,
    /// to, after the start).
    pub fn new(
        limits: KeyConfig,
        latency: Duration,
        outage: Option<(Duration, Duration)>,
    ) -> Simulated {
        let now = Instant::now();
        Simulated {
            account: Mutex::new(Account::new_at(limits, now.into_std())),
            latency,
            refusal_latency: Duration::from_millis(20),
            outage: outage.map(|(from, to)| (now + from, now + to)),
            calls: AtomicU64::new(0),
        }
    }

    /// Calls answered so far (the API's view: every attempt counts).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Uses up one request of the account, as another process sharing it would.
    pub fn consume(&self) {
        let now = Instant::now().into_std();
        let _ = lock(&self.account).admit(now);
    }

    async fn call(&self, request: Request) -> Result<RawResponse, TransportFailure> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let verdict = if self
            .outage
            .is_some_and(|(from, to)| from <= now && now < to)
        {
            Err(ErrorCode::RATE_LIMIT)
        } else {
            let mut account = lock(&self.account);
            account.admit(now.into_std()).and_then(|()| {
                if request.characters > 0 {
                    account.spend_characters(request.characters, now.into_std())
                } else {
                    Ok(())
                }
            })
        };
        let wait = if verdict.is_ok() {
            self.latency
        } else {
            self.refusal_latency
        };
        tokio::time::sleep(wait).await;
        Ok(answer(request.dialect, verdict.err()))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// An answer as MiniMax would give it.
fn answer(dialect: Dialect, error: Option<ErrorCode>) -> RawResponse {
    let (status, body) = match (dialect, error) {
        (Dialect::Native, None) => (
            200,
            r#"{"choices":[{"message":{"content":"ok"}}],"data":{"audio":"00","status":2},"base_resp":{"status_code":0,"status_msg":""}}"#.to_string(),
        ),
        (Dialect::Native, Some(code)) => (
            200,
            format!(r#"{{"base_resp":{{"status_code":{},"status_msg":"rate limit"}}}}"#, code.as_i64()),
        ),
        (Dialect::Compatible, None) => (
            200,
            r#"{"id":"x","choices":[{"message":{"content":"ok"},"finish_reason":"stop"}]}"#.to_string(),
        ),
        (Dialect::Compatible, Some(code)) => (
            429,
            format!(
                r#"{{"type":"error","error":{{"type":"rate_limit_error","message":"rate limit ({})"}}}}"#,
                code.as_i64()
            ),
        ),
    };
    RawResponse {
        status,
        headers: Default::default(),
        body: body.into(),
    }
}

/// The mock server over HTTP.
pub struct Http {
    pub(crate) client: reqwest::Client,
    pub(crate) base_url: String,
    pub(crate) key: String,
}

impl Http {
    async fn call(&self, request: Request) -> Result<RawResponse, TransportFailure> {
        let (path, body) = match (request.characters, request.dialect) {
            (0, Dialect::Native) => ("/v1/text/chatcompletion_v2", chat_body()),
            (0, Dialect::Compatible) => ("/v1/chat/completions", chat_body()),
            (n, _) => ("/v1/t2a_v2", t2a_body(n)),
        };
        let sent = self
            .client
            .post(format!("{}{path}", self.base_url))
            .bearer_auth(&self.key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        minimax_guard::read_answer(sent).await
    }
}

fn chat_body() -> String {
    r#"{"model":"MiniMax-M2","messages":[{"role":"user","content":"hello"}]}"#.to_string()
}

fn t2a_body(characters: u64) -> String {
    let text = "a".repeat(characters as usize);
    format!(
        r#"{{"model":"speech-2.8-hd","text":"{text}","voice_setting":{{"voice_id":"female-shaonv"}}}}"#
    )
}
