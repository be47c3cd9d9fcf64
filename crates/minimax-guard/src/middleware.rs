//! A `reqwest-middleware` middleware that gives any reqwest user MiniMax's body-aware retries
//! without the typed client: answers are classified by their body (HTTP 200 + `base_resp`
//! included) and retried by the catalog, within the same budget, deadline and fail-fast rules.

use crate::client::read_answer;
use crate::executor::{Attempt, Done, Executor, RawResponse, RetryConfig};
use crate::pacer::AccountId;
use crate::strategy::Call;
use crate::transport::{TransportFailure, TransportKind};
use http::Extensions;
use minimax_errors::Endpoint;
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next};
use std::convert::Infallible;

/// Retries MiniMax calls made through a `reqwest_middleware::ClientWithMiddleware`.
///
/// After the last attempt the last answer is passed on unchanged (so callers still see
/// MiniMax's error body); a call that never got an answer, or that fails fast after an
/// account-level error, is an `Err` holding a [`crate::GuardError`]. Requests whose body cannot
/// be cloned (streams) are sent once: a retry would send them empty.
///
/// ```
/// use minimax_guard::{MiniMaxRetryMiddleware, RetryConfig};
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(MiniMaxRetryMiddleware::new(RetryConfig::default()))
///     .build();
/// # drop(client);
/// ```
#[derive(Debug, Clone)]
pub struct MiniMaxRetryMiddleware {
    executor: Executor,
}

impl MiniMaxRetryMiddleware {
    /// A middleware with its own budget, breaker and pacer.
    pub fn new(config: RetryConfig) -> MiniMaxRetryMiddleware {
        MiniMaxRetryMiddleware {
            executor: Executor::new(config),
        }
    }

    /// A middleware sharing an existing executor (and so its budget, breaker and pacer).
    pub fn with_executor(executor: Executor) -> MiniMaxRetryMiddleware {
        MiniMaxRetryMiddleware { executor }
    }

    /// The executor.
    pub fn executor(&self) -> &Executor {
        &self.executor
    }
}

#[async_trait::async_trait]
impl Middleware for MiniMaxRetryMiddleware {
    async fn handle(
        &self,
        request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let endpoint = Endpoint::from_path(request.url().path());
        if request.try_clone().is_none() {
            return next.run(request, extensions).await;
        }
        // The account is the key's fingerprint, so calls with different keys pace apart.
        let account = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map_or(AccountId::UNKNOWN, AccountId::of_key);
        let shared = &*extensions;
        let call = Call::new(endpoint).account(account);
        let run = self.executor.run::<Infallible, _, _>(call, || {
            let attempt = request.try_clone();
            let next = next.clone();
            let mut extensions = shared.clone();
            async move {
                let attempt = attempt.ok_or_else(|| TransportFailure {
                    kind: TransportKind::Request,
                    detail: "the request body cannot be sent again".to_string(),
                })?;
                match next.run(attempt, &mut extensions).await {
                    Ok(response) => read_answer(Ok(response)).await.map(Attempt::Answer),
                    Err(reqwest_middleware::Error::Reqwest(error)) => {
                        Err(TransportFailure::from_reqwest(&error))
                    }
                    Err(error) => Err(TransportFailure {
                        kind: TransportKind::Request,
                        detail: error.to_string(),
                    }),
                }
            }
        });
        match run.await {
            Ok(Done::Answer(completed)) => Ok(rebuild(completed.response)),
            Ok(Done::Started(never, ..)) => match never {},
            Err((_, Some(last))) => Ok(rebuild(last)),
            Err((error, None)) => Err(reqwest_middleware::Error::middleware(error)),
        }
    }
}

/// A reqwest response holding an answer that was already read.
fn rebuild(answer: RawResponse) -> Response {
    let mut response = http::Response::new(answer.body);
    *response.status_mut() =
        http::StatusCode::from_u16(answer.status).unwrap_or(http::StatusCode::BAD_GATEWAY);
    *response.headers_mut() = answer.headers;
    Response::from(response)
}
