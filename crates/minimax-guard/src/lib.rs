//! # minimax-guard
//!
//! The client side at run time: a MiniMax client whose every answer is classified by its body
//! (MiniMax's native endpoints fail with HTTP 200) and retried by the catalog's per-code policy,
//! with full-jitter backoff, `retry-after` support, a deadline, a retry budget shared by all
//! calls, fail-fast after account-level failures, and pre-flight validation.
//!
//! ```no_run
//! # async fn run() -> Result<(), minimax_guard::GuardError> {
//! use minimax_guard::{ApiKey, MiniMaxClient};
//! use minimax_errors::validate::{T2aRequest, VoiceSetting};
//!
//! let client = MiniMaxClient::builder()
//!     .base_url(minimax_guard::client::INTERNATIONAL)
//!     .api_key(ApiKey::new("your key"))
//!     .build()?;
//! let request = T2aRequest {
//!     model: "speech-2.8-hd".into(),
//!     text: "你好".into(),
//!     voice_setting: Some(VoiceSetting { voice_id: Some("female-shaonv".into()), ..Default::default() }),
//!     ..Default::default()
//! };
//! match client.t2a(&request).await {
//!     Ok(reply) => println!("{} bytes after {} attempts", reply.value.audio.len(), reply.attempts),
//!     Err(error) => eprintln!("{error}"), // code, meaning, solution, trace id, attempts, time waited
//! }
//! # Ok(()) }
//! ```
//!
//! ```
//! // The executor alone, around any operation that returns a MiniMax answer:
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use minimax_guard::{Executor, RawResponse, RetryConfig};
//! use minimax_errors::Endpoint;
//! let executor = Executor::new(RetryConfig::default());
//! let answer = executor.execute(Endpoint::Chat, || async {
//!     let body = r#"{"base_resp":{"status_code":0,"status_msg":""}}"#;
//!     Ok(RawResponse { status: 200, headers: Default::default(), body: body.into() })
//! }).await.unwrap();
//! assert_eq!(answer.report.attempts, 1);
//! # });
//! ```

#![warn(missing_docs)]

pub mod breaker;
pub mod budget;
pub mod classifier;
pub mod client;
pub mod clock;
mod error;
pub mod executor;
pub mod hints;
mod key;
mod middleware;
pub mod observer;
pub mod pacer;
pub mod shared;
pub mod strategy;
mod stream;
pub mod transport;
pub mod types;
mod watch;

pub use budget::{Budget, BudgetConfig, RetryBudget};
pub use client::{ClientBuilder, MiniMaxClient, read_answer};
pub use error::{CallFailure, Cause, GuardError, StopReason};
pub use executor::{Attempt, CallReport, Completed, Done, Executor, RawResponse, RetryConfig};
pub use key::{ApiKey, KeyKind};
pub use middleware::MiniMaxRetryMiddleware;
pub use observer::{Observer, Seen};
pub use pacer::{AccountId, GroupLimits, Pacer, PacingConfig};
pub use strategy::Call;
pub use stream::{EventStream, RawStream};
pub use types::{FilePurpose, PlanBucket, PlanRemains, PlanWindowUse, Reply};
pub use watch::StreamWatch;
