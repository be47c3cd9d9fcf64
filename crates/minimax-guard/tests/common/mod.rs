//! Helpers shared by the guard's test binaries.

use minimax_errors::validate::ChatRequest;
use minimax_guard::RetryConfig;
use std::time::Duration;

/// The default retry settings with delays shrunk to milliseconds, so tests run quickly.
pub fn fast_retry() -> RetryConfig {
    RetryConfig {
        strategy: minimax_errors::policy::DelayStrategy::FullJitter {
            base: Duration::from_millis(5),
            cap: Duration::from_millis(40),
        },
        ..RetryConfig::default()
    }
}

/// A plain chat request.
pub fn chat() -> ChatRequest {
    ChatRequest::user("MiniMax-M2", "hello")
}
