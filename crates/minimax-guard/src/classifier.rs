//! Classifiers: the step that turns a failed attempt into a retry action. They run in order and
//! the first with an opinion decides (smithy-rs's `ClassifyRetry`); the server's own hints run
//! first, then the catalog's verdict for the code on the endpoint, then the rules for answers
//! that cannot be read and for transport failures.

use crate::error::Cause;
use crate::hints::ServerHints;
use crate::pacer::Throttle;
use minimax_errors::{Category, Endpoint, ErrorCode, RetryPolicy};
use std::fmt;
use std::time::Duration;

/// How transport failures and unreadable answers are retried (as a timeout, 1001, is).
pub const TRANSIENT: RetryPolicy = RetryPolicy {
    max_retries: 3,
    backoff: 2.0,
};

/// Why a retry is worth it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RetryKind {
    /// A passing fault: retried with backoff, within the attempts and the budget.
    Transient(RetryPolicy),
    /// The account's limit: paced, no attempt limit but the deadline, no cost to the budget.
    Throttling(Throttle, RetryPolicy),
}

/// What a classifier says about a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RetryAction {
    /// Nothing: the next classifier decides.
    NoOpinion,
    /// Retry, after the server's wait if it gave one.
    Retry {
        /// Why.
        kind: RetryKind,
        /// The server's `retry-after`, if any.
        after: Option<Duration>,
    },
    /// Do not retry (`x-should-retry: false`, or a failure a retry cannot help).
    Never(Never),
}

/// Why a failure is not retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Never {
    /// The catalog (or the kind of failure) says a retry cannot help.
    CannotHelp,
    /// The server said so.
    ServerSaidNo,
}

/// A failed attempt, as classifiers see it.
#[derive(Debug, Clone)]
pub struct Failure<'a> {
    /// The endpoint called.
    pub endpoint: Endpoint,
    /// What went wrong.
    pub cause: &'a Cause,
    /// What the server said about retrying (empty when hints are not honoured).
    pub hints: ServerHints,
}

/// One step of classification.
pub trait ClassifyRetry: Send + Sync + fmt::Debug {
    /// The action for `failure`, or [`RetryAction::NoOpinion`].
    fn classify(&self, failure: &Failure<'_>) -> RetryAction;
}

/// `x-should-retry` decides before anything else: `false` forbids a retry, `true` asks for one
/// (as throttling if the code is a throttle, else as a transient fault).
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerHintClassifier;

impl ClassifyRetry for ServerHintClassifier {
    fn classify(&self, failure: &Failure<'_>) -> RetryAction {
        match failure.hints.should_retry {
            Some(false) => RetryAction::Never(Never::ServerSaidNo),
            Some(true) => match CatalogClassifier.classify(failure) {
                retry @ RetryAction::Retry { .. } => retry,
                _ => RetryAction::Retry {
                    kind: RetryKind::Transient(TRANSIENT),
                    after: failure.hints.retry_after,
                },
            },
            None => RetryAction::NoOpinion,
        }
    }
}

/// The catalog's verdict for MiniMax codes (endpoint-aware: 1039 on T2A is the TPM throttle,
/// on chat a request error); gateway pages, 5xx, 429 and cut-off answers are transient; connect
/// errors, timeouts and lost connections are transient; the rest is final.
#[derive(Debug, Clone, Copy, Default)]
pub struct CatalogClassifier;

impl ClassifyRetry for CatalogClassifier {
    fn classify(&self, failure: &Failure<'_>) -> RetryAction {
        let after = failure.hints.retry_after;
        let kind = match failure.cause {
            Cause::Api { code, .. } => {
                let info = code.info_on(failure.endpoint);
                match (info.retry, info.category) {
                    (None, _) => None,
                    (Some(retry), Category::Throttling) => {
                        Some(RetryKind::Throttling(throttle_of(*code), retry))
                    }
                    (Some(retry), _) => Some(RetryKind::Transient(retry)),
                }
            }
            Cause::Malformed { http_status, .. } if *http_status == 429 => {
                Some(RetryKind::Throttling(Throttle::Rate, TRANSIENT))
            }
            Cause::Malformed {
                malformed,
                http_status,
                ..
            } => malformed
                .is_retryable_with(*http_status)
                .then_some(RetryKind::Transient(TRANSIENT)),
            Cause::Transport(transport) => transport
                .kind
                .is_retryable()
                .then_some(RetryKind::Transient(TRANSIENT)),
        };
        match kind {
            Some(kind) => RetryAction::Retry { kind, after },
            None => RetryAction::Never(Never::CannotHelp),
        }
    }
}

/// Which limit a throttling code speaks of.
fn throttle_of(code: ErrorCode) -> Throttle {
    match code {
        ErrorCode::TOKEN_LIMIT => Throttle::Characters,
        ErrorCode::CONNECTION_LIMIT => Throttle::Connections,
        _ => Throttle::Rate,
    }
}

/// The classifiers of an executor, in order.
#[derive(Debug, Clone)]
pub struct Classifiers(Vec<std::sync::Arc<dyn ClassifyRetry>>);

impl Default for Classifiers {
    /// Server hints, then the catalog.
    fn default() -> Classifiers {
        Classifiers(vec![
            std::sync::Arc::new(ServerHintClassifier),
            std::sync::Arc::new(CatalogClassifier),
        ])
    }
}

impl Classifiers {
    /// Runs `classifier` before the others.
    pub fn first(mut self, classifier: impl ClassifyRetry + 'static) -> Classifiers {
        self.0.insert(0, std::sync::Arc::new(classifier));
        self
    }

    /// The first opinion; a failure nobody has an opinion on is not retried.
    pub fn classify(&self, failure: &Failure<'_>) -> RetryAction {
        self.0
            .iter()
            .map(|c| c.classify(failure))
            .find(|action| *action != RetryAction::NoOpinion)
            .unwrap_or(RetryAction::Never(Never::CannotHelp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{TransportFailure, TransportKind};

    fn api(code: ErrorCode) -> Cause {
        Cause::Api {
            code,
            server_message: String::new(),
            http_status: 200,
        }
    }

    fn classify(cause: &Cause, endpoint: Endpoint, hints: ServerHints) -> RetryAction {
        Classifiers::default().classify(&Failure {
            endpoint,
            cause,
            hints,
        })
    }

    #[test]
    fn codes_by_the_catalog_on_their_endpoint() {
        let none = ServerHints::default();
        assert!(matches!(
            classify(&api(ErrorCode::RATE_LIMIT), Endpoint::Chat, none),
            RetryAction::Retry {
                kind: RetryKind::Throttling(Throttle::Rate, _),
                after: None
            }
        ));
        assert!(matches!(
            classify(&api(ErrorCode::TOKEN_LIMIT), Endpoint::T2a, none),
            RetryAction::Retry {
                kind: RetryKind::Throttling(Throttle::Characters, _),
                ..
            }
        ));
        assert_eq!(
            classify(&api(ErrorCode::TOKEN_LIMIT), Endpoint::Chat, none),
            RetryAction::Never(Never::CannotHelp)
        );
        assert!(matches!(
            classify(
                &api(ErrorCode::SERVER_OVERLOADED),
                Endpoint::Anthropic,
                none
            ),
            RetryAction::Retry {
                kind: RetryKind::Transient(_),
                ..
            }
        ));
        for final_code in [
            ErrorCode::UNAUTHORIZED,
            ErrorCode::INSUFFICIENT_BALANCE,
            ErrorCode::USAGE_LIMIT_EXCEEDED,
        ] {
            assert_eq!(
                classify(&api(final_code), Endpoint::Anthropic, none),
                RetryAction::Never(Never::CannotHelp)
            );
        }
        let lost = Cause::Transport(TransportFailure {
            kind: TransportKind::ConnectionLost,
            detail: String::new(),
        });
        assert!(matches!(
            classify(&lost, Endpoint::Chat, none),
            RetryAction::Retry {
                kind: RetryKind::Transient(_),
                ..
            }
        ));
    }

    #[test]
    fn server_hints_decide_first() {
        let no = ServerHints {
            should_retry: Some(false),
            retry_after: None,
        };
        assert_eq!(
            classify(&api(ErrorCode::RATE_LIMIT), Endpoint::Chat, no),
            RetryAction::Never(Never::ServerSaidNo)
        );
        let yes = ServerHints {
            should_retry: Some(true),
            retry_after: Some(Duration::from_secs(2)),
        };
        assert_eq!(
            classify(&api(ErrorCode::INVALID_PARAMS), Endpoint::Chat, yes),
            RetryAction::Retry {
                kind: RetryKind::Transient(TRANSIENT),
                after: Some(Duration::from_secs(2))
            }
        );
        let wait = ServerHints {
            should_retry: None,
            retry_after: Some(Duration::from_millis(300)),
        };
        assert!(matches!(
            classify(&api(ErrorCode::RATE_LIMIT), Endpoint::Chat, wait),
            RetryAction::Retry { after: Some(d), .. } if d == Duration::from_millis(300)
        ));
    }
}
