//! `MiniMaxClient`: typed calls over reqwest, each through the retry executor, with pre-flight
//! validation on by default.

use crate::error::{CallFailure, Cause, GuardError, StopReason};
use crate::executor::{Attempt, Completed, Done, Executor, RawResponse, RetryConfig};
use crate::key::{ApiKey, KeyKind};
use crate::pacer::AccountId;
use crate::strategy::Call;
use crate::stream::{self, EventStream};
use crate::transport::{TransportFailure, TransportKind};
use crate::types::{
    ChatChunk, ChatCompletion, FileObject, FilePurpose, PlanRemains, Reply, Speech, SpeechChunk,
    VoiceCloned,
};
use bytes::Bytes;
use futures_util::stream::StreamExt;
use minimax_errors::classify::MalformedKind;
use minimax_errors::validate::audio::{read_audio, validate_audio};
use minimax_errors::validate::{
    Api, ChatRequest, T2aRequest, Validation, VoiceCloneRequest, validate_value,
};
use minimax_errors::{Dialect, Endpoint};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;

/// MiniMax's international API.
pub const INTERNATIONAL: &str = "https://api.minimax.io";
/// MiniMax's mainland China API.
pub const CHINA: &str = "https://api.minimaxi.com";

/// Builds a [`MiniMaxClient`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base_url: String,
    api_key: Option<ApiKey>,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryConfig,
    validate: bool,
    seed: Option<u64>,
    observer: Option<std::sync::Arc<dyn crate::observer::Observer>>,
    shared: Option<std::sync::Arc<dyn crate::shared::SharedState>>,
}

impl Default for ClientBuilder {
    fn default() -> ClientBuilder {
        ClientBuilder {
            base_url: INTERNATIONAL.to_string(),
            api_key: None,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            retry: RetryConfig::default(),
            validate: true,
            seed: None,
            observer: None,
            shared: None,
        }
    }
}

impl ClientBuilder {
    /// The API's base URL: [`INTERNATIONAL`] (default), [`CHINA`], or any other (a mock).
    pub fn base_url(mut self, url: impl Into<String>) -> ClientBuilder {
        self.base_url = url.into().trim_end_matches('/').to_string();
        self
    }

    /// The API key (else `MINIMAX_API_KEY` is read at `build`).
    pub fn api_key(mut self, key: ApiKey) -> ClientBuilder {
        self.api_key = Some(key);
        self
    }

    /// Timeout of each attempt (default 60 s). For a stream, the longest wait for its next
    /// bytes: a stream may last longer than this as long as it keeps sending.
    pub fn timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.timeout = timeout;
        self
    }

    /// Timeout for opening a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.connect_timeout = timeout;
        self
    }

    /// How calls are retried.
    pub fn retry(mut self, retry: RetryConfig) -> ClientBuilder {
        self.retry = retry;
        self
    }

    /// Check requests before sending them (default on): an invalid request fails locally with
    /// the code MiniMax would have answered.
    pub fn validate(mut self, validate: bool) -> ClientBuilder {
        self.validate = validate;
        self
    }

    /// Seeds the retry delays' random source (reproducible schedules in tests).
    pub fn seed(mut self, seed: u64) -> ClientBuilder {
        self.seed = Some(seed);
        self
    }

    /// Reports every attempt to `observer` (a `minimax_monitor::Monitor`, for one: counts,
    /// windows, alerts, error log, metrics).
    pub fn observer(
        mut self,
        observer: std::sync::Arc<dyn crate::observer::Observer>,
    ) -> ClientBuilder {
        self.observer = Some(observer);
        self
    }

    /// Shares the pace and the account breaker with the other processes of a fleet (for
    /// instance `minimax_fleet::RedisState`).
    pub fn shared_state(
        mut self,
        shared: std::sync::Arc<dyn crate::shared::SharedState>,
    ) -> ClientBuilder {
        self.shared = Some(shared);
        self
    }

    /// The client.
    pub fn build(self) -> Result<MiniMaxClient, GuardError> {
        let key = self.api_key.or_else(ApiKey::from_env).ok_or_else(|| {
            GuardError::Setup(
                "no API key: set one with ClientBuilder::api_key or MINIMAX_API_KEY".to_string(),
            )
        })?;
        let auth = key.header_value().map_err(|_| {
            GuardError::Setup("the API key contains characters not allowed in a header".to_string())
        })?;
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::AUTHORIZATION, auth);
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .read_timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(concat!("minimax-guard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                GuardError::Setup(format!(
                    "cannot build the HTTP client: {}",
                    TransportFailure::from_reqwest(&e)
                ))
            })?;
        let executor = Executor::new(self.retry);
        let executor = match self.seed {
            Some(seed) => executor.with_seed(seed),
            None => executor,
        };
        let executor = match self.observer {
            Some(observer) => executor.with_observer(observer),
            None => executor,
        };
        let executor = match self.shared {
            Some(shared) => executor.with_shared(shared),
            None => executor,
        };
        Ok(MiniMaxClient {
            account: key.account(),
            key_kind: key.kind(),
            http,
            timeout: self.timeout,
            base_url: self.base_url,
            executor,
            validate: self.validate,
        })
    }
}

/// A MiniMax client whose every call is classified by its body and retried by the catalog.
#[derive(Debug, Clone)]
pub struct MiniMaxClient {
    http: reqwest::Client,
    /// Each plain attempt's whole time (streams are bounded per read instead).
    timeout: Duration,
    base_url: String,
    account: AccountId,
    key_kind: KeyKind,
    executor: Executor,
    validate: bool,
}

impl MiniMaxClient {
    /// A builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The executor (its budget, breaker and pacer are shared by all calls of this client).
    pub fn executor(&self) -> &Executor {
        &self.executor
    }

    fn call(&self, endpoint: Endpoint) -> Call {
        Call::new(endpoint)
            .account(self.account)
            .key_kind(self.key_kind)
    }

    /// Chat on the native endpoint.
    pub async fn chat(&self, request: &ChatRequest) -> Result<Reply<ChatCompletion>, GuardError> {
        let completed = self
            .send_json(self.call(Endpoint::Chat), Some(Api::Chat), request)
            .await?;
        typed(Endpoint::Chat, completed, parse_body::<ChatCompletion>)
    }

    /// Chat on the OpenAI-compatible endpoint.
    pub async fn chat_compatible(
        &self,
        request: &ChatRequest,
    ) -> Result<Reply<ChatCompletion>, GuardError> {
        let completed = self
            .send_json(
                self.call(Endpoint::ChatCompatible),
                Some(Api::Chat),
                request,
            )
            .await?;
        typed(
            Endpoint::ChatCompatible,
            completed,
            parse_body::<ChatCompletion>,
        )
    }

    /// Streamed chat on the native or the OpenAI-compatible endpoint. Retries happen until the
    /// first event reaches the caller; an error event mid-stream, or a stream that stops
    /// without its end marker, ends the stream with a typed error.
    pub async fn chat_stream(
        &self,
        request: &ChatRequest,
        dialect: Dialect,
    ) -> Result<EventStream<ChatChunk>, GuardError> {
        let endpoint = match dialect {
            Dialect::Native => Endpoint::Chat,
            Dialect::Compatible => Endpoint::ChatCompatible,
        };
        let mut request = request.clone();
        request.stream = Some(true);
        self.stream(self.call(endpoint), Some(Api::Chat), &request, |data| {
            serde_json::from_str::<ChatChunk>(data).ok()
        })
        .await
    }

    /// Text to speech.
    pub async fn t2a(&self, request: &T2aRequest) -> Result<Reply<Speech>, GuardError> {
        let call = self.call(Endpoint::T2a).characters(characters(request));
        let completed = self.send_json(call, Some(Api::T2a), request).await?;
        typed(Endpoint::T2a, completed, |body| {
            speech_of(&parse_body::<Value>(body)?)
        })
    }

    /// Streamed text to speech: audio chunks as they come; a voice error mid-stream (2054) ends
    /// the stream with a typed error.
    pub async fn t2a_stream(
        &self,
        request: &T2aRequest,
    ) -> Result<EventStream<SpeechChunk>, GuardError> {
        let mut request = request.clone();
        request.stream = Some(true);
        let call = self.call(Endpoint::T2a).characters(characters(&request));
        self.stream(call, Some(Api::T2a), &request, |data| {
            let value: Value = serde_json::from_str(data).ok()?;
            let audio = hex::decode(value["data"]["audio"].as_str().unwrap_or("")).ok()?;
            Some(SpeechChunk {
                audio,
                status: value["data"]["status"].as_u64().unwrap_or(1) as u8,
            })
        })
        .await
    }

    /// Clones a voice. If a retry after a lost answer meets 2039, the error is
    /// [`GuardError::MaybeCreated`]: the first attempt probably cloned it.
    pub async fn voice_clone(
        &self,
        request: &VoiceCloneRequest,
    ) -> Result<Reply<VoiceCloned>, GuardError> {
        let completed = self
            .send_json(
                self.call(Endpoint::VoiceClone),
                Some(Api::VoiceClone),
                request,
            )
            .await?;
        typed(Endpoint::VoiceClone, completed, parse_body::<VoiceCloned>)
    }

    /// Uploads a file. Audio for `voice_clone` or `prompt_audio` is checked first (format,
    /// size, and duration measured from the file). The multipart body is rebuilt for every
    /// attempt from `bytes`, so a retry never sends it empty.
    pub async fn upload_file(
        &self,
        purpose: impl Into<FilePurpose>,
        filename: &str,
        bytes: Bytes,
    ) -> Result<Reply<FileObject>, GuardError> {
        let purpose = purpose.into();
        if self.validate
            && let FilePurpose::Audio(audio_purpose) = purpose
        {
            let size = bytes.len() as u64;
            let facts = read_audio(std::io::Cursor::new(bytes.clone()), size).unwrap_or(
                minimax_errors::validate::audio::AudioFacts {
                    size_bytes: size,
                    format: None,
                    duration_secs: None,
                },
            );
            reject_invalid(validate_audio(&facts, audio_purpose))?;
        }
        let url = self.url(Endpoint::FileUpload);
        let completed = self
            .executor
            .execute(self.call(Endpoint::FileUpload), || {
                let form = reqwest::multipart::Form::new()
                    .text("purpose", purpose.as_str().to_string())
                    .part(
                        "file",
                        reqwest::multipart::Part::stream(bytes.clone())
                            .file_name(filename.to_string()),
                    );
                let request = self.http.post(&url).timeout(self.timeout).multipart(form);
                async move { read_answer(request.send().await).await }
            })
            .await?;
        typed(Endpoint::FileUpload, completed, |body| {
            serde_json::from_value::<FileObject>(parse_body::<Value>(body)?.get("file")?.clone())
                .ok()
        })
    }

    /// The key's subscription plan windows (the console's `coding_plan/remains`, or the
    /// token-plan path where that one is not served): per model bucket, how much of the 5-hour
    /// and the weekly window is left and when each resets. One attempt, and the breaker does not
    /// hear of it: 1004 here only means the key has no plan.
    pub async fn plan_remains(&self) -> Result<Reply<PlanRemains>, GuardError> {
        const PATHS: [&str; 2] = [
            "/v1/api/openplatform/coding_plan/remains",
            "/v1/token_plan/remains",
        ];
        let endpoint = Endpoint::Other;
        let failed = |cause: Cause, trace_id: Option<String>| {
            GuardError::Failed(Box::new(CallFailure {
                cause,
                endpoint,
                trace_id,
                attempts: 1,
                waited: Duration::ZERO,
                stopped: StopReason::NotRetryable,
                key_kind: crate::key::KeyKind::Unknown,
            }))
        };
        let get = |path: &str| {
            let sent = self
                .http
                .get(format!("{}{path}", self.base_url))
                .timeout(self.timeout)
                .send();
            async move { read_answer(sent.await).await }
        };
        let mut raw = get(PATHS[0])
            .await
            .map_err(|failure| failed(Cause::Transport(failure), None))?;
        if raw.status == 404 {
            raw = get(PATHS[1])
                .await
                .map_err(|failure| failed(Cause::Transport(failure), None))?;
        }
        let outcome =
            minimax_errors::classify::classify(&raw.body, raw.status, &raw.headers, endpoint);
        let trace_id = outcome.trace_id().map(str::to_string);
        if let Some(cause) = Cause::from_outcome(outcome) {
            return Err(failed(cause, trace_id));
        }
        let remains = serde_json::from_slice::<Value>(&raw.body)
            .ok()
            .and_then(|body| PlanRemains::from_body(&body));
        match remains {
            Some(value) => Ok(Reply {
                value,
                attempts: 1,
                waited: Duration::ZERO,
                paced: Duration::ZERO,
                trace_id,
            }),
            None => Err(failed(
                Cause::Malformed {
                    malformed: MalformedKind::UnexpectedShape,
                    detail: "the plan answer has no model_remains".to_string(),
                    http_status: raw.status,
                },
                trace_id,
            )),
        }
    }

    /// Posts any JSON body to `endpoint` with the guard's retries and returns the answer.
    pub async fn post_json<B: Serialize + ?Sized>(
        &self,
        endpoint: Endpoint,
        body: &B,
    ) -> Result<Reply<Value>, GuardError> {
        let completed = self.send_json(self.call(endpoint), None, body).await?;
        typed(endpoint, completed, parse_body::<Value>)
    }

    fn url(&self, endpoint: Endpoint) -> String {
        format!("{}{}", self.base_url, endpoint.path().unwrap_or("/"))
    }

    fn check(&self, api: Option<Api>, body: &Value) -> Result<(), GuardError> {
        match api {
            Some(api) if self.validate => reject_invalid(validate_value(api, body.clone())),
            _ => Ok(()),
        }
    }

    /// Validates (when on) and posts a JSON body with the guard's retries.
    async fn send_json<B>(
        &self,
        call: Call,
        api: Option<Api>,
        body: &B,
    ) -> Result<Completed, GuardError>
    where
        B: Serialize + ?Sized,
    {
        let value = serde_json::to_value(body)
            .map_err(|e| GuardError::Setup(format!("cannot encode the request: {e}")))?;
        self.check(api, &value)?;
        let bytes = Bytes::from(value.to_string());
        let url = self.url(call.endpoint);
        self.executor
            .execute(call, || {
                let request = self
                    .http
                    .post(&url)
                    .timeout(self.timeout)
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(bytes.clone());
                async move { read_answer(request.send().await).await }
            })
            .await
    }

    async fn stream<B, T>(
        &self,
        call: Call,
        api: Option<Api>,
        body: &B,
        parse: fn(&str) -> Option<T>,
    ) -> Result<EventStream<T>, GuardError>
    where
        B: Serialize + ?Sized,
        T: Send + 'static,
    {
        let value = serde_json::to_value(body)
            .map_err(|e| GuardError::Setup(format!("cannot encode the request: {e}")))?;
        self.check(api, &value)?;
        let bytes = Bytes::from(value.to_string());
        let endpoint = call.endpoint;
        let url = self.url(endpoint);
        let run = self.executor.run(call, || {
            // No total timeout: a stream may run for minutes; the client's read timeout bounds
            // each wait for the next bytes instead.
            let request = self
                .http
                .post(&url)
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(bytes.clone());
            async move {
                let response = request
                    .send()
                    .await
                    .map_err(|e| TransportFailure::from_reqwest(&e))?;
                let is_stream = response.status().is_success()
                    && response
                        .headers()
                        .get(http::header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|t| t.contains("text/event-stream"));
                if is_stream {
                    stream::open(response, endpoint).await
                } else {
                    read_answer(Ok(response)).await.map(Attempt::Answer)
                }
            }
        });
        match run.await {
            Ok(Done::Started(open, report, watch)) => Ok(stream::typed(
                open,
                stream::StreamContext {
                    endpoint,
                    attempts: report.attempts,
                    waited: report.waited,
                },
                parse,
                watch,
            )),
            // A plain answer to a stream request: a single event.
            Ok(Done::Answer(completed)) => {
                let body = String::from_utf8_lossy(&completed.response.body).into_owned();
                Ok(futures_util::stream::iter(parse(&body).map(Ok)).boxed())
            }
            Err((error, _)) => Err(error),
        }
    }
}

/// The largest answer read whole (a T2A answer of five minutes of audio is about 10 MB of hex).
pub const MAX_ANSWER_BYTES: usize = 64 << 20;

/// Reads a whole answer, or describes the transport failure: the step between reqwest and
/// [`Executor::execute`] for callers who build their own requests.
pub async fn read_answer(
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<RawResponse, TransportFailure> {
    let response = sent.map_err(|e| TransportFailure::from_reqwest(&e))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let too_large = || TransportFailure {
        kind: TransportKind::TooLarge,
        detail: format!("the answer is larger than {} MiB", MAX_ANSWER_BYTES >> 20),
    };
    if response
        .content_length()
        .is_some_and(|n| n > MAX_ANSWER_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = bytes::BytesMut::new();
    let mut chunks = response.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|e| TransportFailure::from_reqwest(&e))?;
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(RawResponse {
        status,
        headers,
        body: body.freeze(),
    })
}

/// What a T2A request spends of the account's characters per minute.
fn characters(request: &T2aRequest) -> u64 {
    request.text.chars().count() as u64
}

fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    serde_json::from_slice(body).ok()
}

fn reject_invalid(validation: Validation) -> Result<(), GuardError> {
    if validation.is_valid() {
        Ok(())
    } else {
        Err(GuardError::Invalid(Box::new(validation)))
    }
}

fn speech_of(value: &Value) -> Option<Speech> {
    let audio = hex::decode(value["data"]["audio"].as_str()?).ok()?;
    Some(Speech {
        audio,
        extra_info: value.get("extra_info").cloned().unwrap_or(Value::Null),
    })
}

/// The typed value of a successful answer; an answer whose shape is not what the endpoint
/// promises is a failure (not retried: the same answer would come again).
fn typed<T>(
    endpoint: Endpoint,
    completed: Completed,
    parse: impl FnOnce(&[u8]) -> Option<T>,
) -> Result<Reply<T>, GuardError> {
    match parse(&completed.response.body) {
        Some(value) => Ok(Reply {
            value,
            attempts: completed.report.attempts,
            waited: completed.report.waited,
            paced: completed.report.paced,
            trace_id: completed.trace_id,
        }),
        None => Err(GuardError::Failed(Box::new(CallFailure {
            cause: Cause::Malformed {
                malformed: MalformedKind::UnexpectedShape,
                detail: format!("the {endpoint} answer does not have the expected fields"),
                http_status: completed.response.status,
            },
            endpoint,
            trace_id: completed.trace_id,
            attempts: completed.report.attempts,
            waited: completed.report.waited,
            stopped: StopReason::NotRetryable,
            key_kind: crate::key::KeyKind::Unknown,
        }))),
    }
}
