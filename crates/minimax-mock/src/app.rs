//! The server's shared state and the path every API request takes: trace id, faults, key,
//! connection slot, latency, account limits; then the endpoint's own work; then the answer,
//! counted and logged.

use crate::config::MockConfig;
use crate::limits::{Account, Slot};
use crate::reply::{self, Failure};
use crate::scenario::{Action, Decision, Injector, Scenario};
use crate::stats::Recorder;
use axum::body::Body;
use axum::http::HeaderMap;
use axum::response::Response;
use minimax_errors::validate::audio::AudioFacts;
use minimax_errors::{Endpoint, ErrorCode, Seen};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// An uploaded file.
#[derive(Debug, Clone)]
pub(crate) struct StoredFile {
    pub owner: String,
    pub purpose: String,
    pub filename: String,
    pub facts: Option<AudioFacts>,
    pub created_at: u64,
}

/// Everything the server keeps.
pub(crate) struct App {
    pub config: MockConfig,
    pub injector: Injector,
    pub stats: Recorder,
    accounts: Mutex<HashMap<String, Account>>,
    /// Cloned voices: voice id → the key that cloned it.
    pub voices: Mutex<HashMap<String, String>>,
    pub files: Mutex<HashMap<u64, StoredFile>>,
    next_file_id: AtomicU64,
    next_trace: AtomicU64,
    seed: u64,
    /// Set when the server stops, so that injected waits end at once.
    stopping: tokio::sync::watch::Sender<bool>,
}

impl App {
    pub(crate) fn new(config: MockConfig, scenario: Scenario) -> App {
        let seed = scenario.seed;
        let app = App {
            accounts: Mutex::new(HashMap::new()),
            injector: Injector::new(scenario),
            stats: Recorder::default(),
            voices: Mutex::new(HashMap::new()),
            files: Mutex::new(HashMap::new()),
            next_file_id: AtomicU64::new(FIRST_FILE_ID),
            next_trace: AtomicU64::new(0),
            seed,
            stopping: tokio::sync::watch::Sender::new(false),
            config,
        };
        app.reset();
        app
    }

    /// Back to the state at start: accounts full, no voices or files, stats empty, faults from
    /// the start of the scenario.
    pub(crate) fn reset(&self) {
        let accounts = self
            .config
            .keys
            .iter()
            .map(|k| (k.key.clone(), Account::new(k.clone())))
            .collect();
        *lock(&self.accounts) = accounts;
        lock(&self.voices).clear();
        lock(&self.files).clear();
        self.next_file_id.store(FIRST_FILE_ID, Ordering::Relaxed);
        self.next_trace.store(0, Ordering::Relaxed);
        self.stats.reset();
        self.injector.reset();
    }

    /// Ends every injected wait in progress (the server is stopping).
    pub(crate) fn stop_waiting(&self) {
        self.stopping.send_replace(true);
    }

    /// Waits `duration`, or less if the server stops; `true` if the whole time passed.
    async fn wait(&self, duration: std::time::Duration) -> bool {
        let mut stopping = self.stopping.subscribe();
        if *stopping.borrow() {
            return false;
        }
        tokio::select! {
            () = tokio::time::sleep(duration) => true,
            _ = stopping.changed() => false,
        }
    }

    /// A fresh trace id, for answers outside the API's own path.
    pub(crate) fn next_trace_id(&self) -> String {
        self.trace_id()
    }

    fn trace_id(&self) -> String {
        let n = self.next_trace.fetch_add(1, Ordering::Relaxed);
        // 32 hex digits like MiniMax's; unique per request, reproducible per seed.
        format!("{:016x}{:016x}", self.seed ^ 0x6d6d_6572_7200_0000, n)
    }

    pub(crate) fn new_file_id(&self) -> u64 {
        self.next_file_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Runs `f` on the account of `key`.
    pub(crate) fn with_account<T>(
        &self,
        key: &str,
        f: impl FnOnce(&mut Account) -> T,
    ) -> Option<T> {
        lock(&self.accounts).get_mut(key).map(f)
    }

    /// The first half of every request: everything before the endpoint's own work. An `Err` is
    /// the finished answer.
    pub(crate) async fn gate(
        &self,
        endpoint: Endpoint,
        headers: &HeaderMap,
    ) -> Result<Ctx<'_>, Response> {
        let trace_id = self.trace_id();
        self.stats.request(endpoint.as_str());
        let started = Instant::now();
        let decision = self.injector.decide(endpoint);
        let mut ctx = Ctx {
            app: self,
            endpoint,
            trace_id,
            key: String::new(),
            key_name: "-".to_string(),
            decision,
            started,
            _slot: None,
        };

        let key = bearer_key(headers);
        let Some(key) = key else {
            return Err(ctx
                .finish(Err(Failure::with(
                    ErrorCode::UNAUTHORIZED,
                    reply::MISSING_KEY_MESSAGE,
                )))
                .await);
        };
        let account = lock(&self.accounts)
            .get(key)
            .map(|a| (a.config().name.clone(), a.connect()));
        let Some((name, slot)) = account else {
            return Err(ctx
                .finish(Err(Failure::with(
                    ErrorCode::INVALID_API_KEY,
                    "invalid api key",
                )))
                .await);
        };
        ctx.key = key.to_string();
        ctx.key_name = name;
        ctx._slot = match slot {
            Ok(slot) => Some(slot),
            Err(code) => return Err(ctx.finish(Err(Failure::code(code))).await),
        };

        // `retry-after-ms`, when the scenario asks for it, goes with answers worth a retry
        // only, as a server would send it.
        let hinted = |mut response: Response, retryable: bool| {
            if let (Some(ms), true) = (decision.retry_after_ms, retryable) {
                response
                    .headers_mut()
                    .insert("retry-after-ms", axum::http::HeaderValue::from(ms));
            }
            response
        };
        // Refusals come at once, as MiniMax checks its limits when a request arrives: the
        // injected codes first (they spend nothing), then the account's limits.
        match decision.action {
            Action::Code(code) => {
                let response = ctx.finish(Err(Failure::code(code))).await;
                return Err(hinted(response, code.info_on(endpoint).is_retryable()));
            }
            Action::Overloaded => {
                let overloaded = Failure::code(ErrorCode::SERVER_OVERLOADED);
                return Err(hinted(ctx.finish(Err(overloaded)).await, true));
            }
            _ => {}
        }
        let refused = self.with_account(&ctx.key, |a| {
            let now = Instant::now();
            a.admit(now).map_err(|code| match code {
                ErrorCode::USAGE_LIMIT_EXCEEDED => Failure::with(code, a.exhausted_message(now)),
                code => Failure::code(code),
            })
        });
        if let Some(Err(failure)) = refused {
            return Err(ctx.finish(Err(failure)).await);
        }
        // The timer's resolution is a millisecond: even a zero sleep would wait for the next tick.
        if !decision.latency.is_zero() && !self.wait(decision.latency).await {
            return Err(ctx.dropped());
        }
        match decision.action {
            Action::Stall if !self.wait(decision.stall).await => return Err(ctx.dropped()),
            Action::Html502 => {
                let label = Seen::GatewayPage.label();
                self.stats.outcome(endpoint.as_str(), &label);
                ctx.log(&label);
                return Err(hinted(reply::html_502(&ctx.trace_id), true));
            }
            _ => {}
        }
        Ok(ctx)
    }
}

const FIRST_FILE_ID: u64 = 300_000_000_000;

/// The key from `Authorization: Bearer <key>` (the scheme is case-insensitive), or from
/// `x-api-key`, which Anthropic's SDKs send.
pub(crate) fn bearer_key(headers: &HeaderMap) -> Option<&str> {
    let bearer = || {
        let value = headers.get("authorization")?.to_str().ok()?.trim();
        let (scheme, key) = value.split_once(' ')?;
        (scheme.eq_ignore_ascii_case("bearer") && !key.trim().is_empty()).then(|| key.trim())
    };
    let api_key = || {
        let key = headers.get("x-api-key")?.to_str().ok()?.trim();
        (!key.is_empty()).then_some(key)
    };
    bearer().or_else(api_key)
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// One admitted request.
pub(crate) struct Ctx<'a> {
    pub app: &'a App,
    pub endpoint: Endpoint,
    pub trace_id: String,
    pub key: String,
    pub key_name: String,
    pub decision: Decision,
    started: Instant,
    _slot: Option<Slot>,
}

impl Ctx<'_> {
    /// Reads a JSON body, or 2013 as MiniMax answers bad bodies (and bodies sent too slowly).
    pub(crate) async fn json_body(&self, body: Body) -> Result<Value, Failure> {
        let limit = std::time::Duration::from_millis(self.app.config.body_timeout_ms);
        let read = axum::body::to_bytes(body, self.app.config.max_body_bytes);
        let bytes = match tokio::time::timeout(limit, read).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(_)) => {
                return Err(Failure::with(
                    ErrorCode::INVALID_PARAMS,
                    "invalid params, request body too large or unreadable",
                ));
            }
            Err(_) => {
                return Err(Failure::with(
                    ErrorCode::INVALID_PARAMS,
                    "invalid params, request body not received in time",
                ));
            }
        };
        serde_json::from_slice(&bytes).map_err(|e| {
            Failure::with(
                ErrorCode::INVALID_PARAMS,
                format!("invalid params, body is not valid json: {e}"),
            )
        })
    }

    /// The second half of every request: the answer (or the error in the endpoint's dialect),
    /// broken on purpose when the scenario says so, counted and logged.
    pub(crate) async fn finish(&self, result: Result<Response, Failure>) -> Response {
        let (response, outcome) = match result {
            Ok(response) => match self.decision.action {
                Action::Reset => (reply::reset(response), Seen::Reset),
                Action::Truncate => (reply::truncate(response).await, Seen::Truncate),
                _ => (response, Seen::Success),
            },
            Err(failure) => (
                reply::error_response(self.endpoint, &failure, &self.trace_id),
                Seen::Code(failure.code),
            ),
        };
        let outcome = outcome.label();
        self.app.stats.outcome(self.endpoint.as_str(), &outcome);
        self.log(&outcome);
        response
    }

    /// The answer to a request cut short by the server stopping: the connection drops.
    fn dropped(&self) -> Response {
        let label = Seen::Reset.label();
        self.app.stats.outcome(self.endpoint.as_str(), &label);
        self.log(&label);
        reply::reset(Response::new(Body::empty()))
    }

    fn log(&self, outcome: &str) {
        tracing::info!(
            endpoint = self.endpoint.as_str(),
            key = %self.key_name,
            outcome,
            trace_id = %self.trace_id,
            ms = self.started.elapsed().as_millis() as u64,
            "request"
        );
    }
}
