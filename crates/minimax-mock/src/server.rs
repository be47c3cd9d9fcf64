//! The HTTP server: routes, admin endpoints, start and stop.

use crate::app::App;
use crate::config::MockConfig;
use crate::scenario::Scenario;
use crate::stats::Stats;
use crate::{chat, files, speech};
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, Query, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minimax_errors::Endpoint;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long `stop` waits for requests in flight before dropping them.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// A running mock server. Dropping it stops the server.
pub struct MockServer {
    addr: SocketAddr,
    app: Arc<App>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl MockServer {
    /// Binds `addr` (port 0 picks a free port) and serves until stopped.
    pub async fn start(
        addr: SocketAddr,
        config: MockConfig,
        scenario: Scenario,
    ) -> std::io::Result<MockServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let ms = |ms: u64| std::time::Duration::from_millis(ms.max(1));
        let limits = minimax_serve::Limits {
            idle: ms(config.idle_timeout_ms),
            headers: ms(config.header_timeout_ms),
            max_connections: config.max_connections,
            ..minimax_serve::Limits::default()
        };
        let app = Arc::new(App::new(config, scenario));
        let (shutdown, stopped) = oneshot::channel::<()>();
        let router = router(Arc::clone(&app));
        let stop = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(minimax_serve::serve(listener, router, limits, stop));
        Ok(MockServer {
            addr,
            app,
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }

    /// Starts on a free loopback port with the default configuration and no faults.
    pub async fn start_default() -> std::io::Result<MockServer> {
        MockServer::start(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            MockConfig::default(),
            Scenario::default(),
        )
        .await
    }

    /// The address it serves.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What it has answered so far.
    pub fn stats(&self) -> Stats {
        self.app.stats.snapshot()
    }

    /// Clears the counts only (accounts, voices, files and the scenario carry on).
    pub fn reset_stats(&self) {
        self.app.stats.reset();
    }

    /// Back to the state at start (accounts, voices, files, stats, scenario position).
    pub fn reset(&self) {
        self.app.reset();
    }

    /// Stops accepting, lets requests in flight finish (for up to two seconds; longer ones, such
    /// as injected stalls, are dropped), and waits for the server to end.
    pub async fn stop(mut self) -> std::io::Result<()> {
        self.app.stop_waiting();
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let Some(mut task) = self.task.take() else {
            return Ok(());
        };
        // Requests in flight may be stalls injected on purpose: give them a moment, not a minute.
        match tokio::time::timeout(STOP_GRACE, &mut task).await {
            Ok(finished) => finished.unwrap_or(Ok(())),
            Err(_) => {
                task.abort();
                Ok(())
            }
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.app.stop_waiting();
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

fn router(app: Arc<App>) -> Router {
    let body_limit = app.config.max_body_bytes;
    Router::new()
        .route("/v1/text/chatcompletion_v2", post(chat_native))
        .route("/v1/chat/completions", post(chat_compatible))
        .route("/anthropic/v1/messages", post(anthropic_messages))
        .route(
            "/v1/api/openplatform/coding_plan/remains",
            get(plan_remains).post(plan_remains),
        )
        .route(
            "/v1/token_plan/remains",
            get(plan_remains).post(plan_remains),
        )
        .route("/v1/t2a_v2", post(t2a))
        .route("/v1/voice_clone", post(voice_clone))
        .route("/v1/files/upload", post(upload))
        .route("/v1/files/retrieve", post(retrieve).get(retrieve))
        .route("/__mock/stats", get(stats))
        .route("/__mock/reset", post(reset))
        .fallback(unknown_path)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(app)
}

/// A path MiniMax does not serve: JSON, with a trace id, as MiniMax answers.
async fn unknown_path(State(app): AppState, uri: axum::http::Uri) -> Response {
    let trace_id = app.next_trace_id();
    crate::reply::not_served(
        axum::http::StatusCode::NOT_FOUND,
        &format!("invalid params, unknown path {}", uri.path()),
        &trace_id,
    )
}

/// A known path with the wrong method.
async fn wrong_method(State(app): AppState, method: axum::http::Method) -> Response {
    let trace_id = app.next_trace_id();
    crate::reply::not_served(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        &format!("invalid params, method {method} not allowed"),
        &trace_id,
    )
}

type AppState = State<Arc<App>>;

/// Runs a JSON endpoint: gate, body, the endpoint's work, finish.
async fn json_endpoint(
    app: &App,
    endpoint: Endpoint,
    request: Request,
    work: fn(&crate::app::Ctx<'_>, serde_json::Value) -> Result<Response, crate::reply::Failure>,
) -> Response {
    let (parts, body) = request.into_parts();
    let ctx = match app.gate(endpoint, &parts.headers).await {
        Ok(ctx) => ctx,
        Err(response) => return response,
    };
    let result = match ctx.json_body(body).await {
        Ok(value) => work(&ctx, value),
        Err(failure) => Err(failure),
    };
    ctx.finish(result).await
}

async fn chat_native(State(app): AppState, request: Request) -> Response {
    json_endpoint(&app, Endpoint::Chat, request, chat::complete).await
}

async fn chat_compatible(State(app): AppState, request: Request) -> Response {
    json_endpoint(&app, Endpoint::ChatCompatible, request, chat::complete).await
}

async fn anthropic_messages(State(app): AppState, request: Request) -> Response {
    json_endpoint(&app, Endpoint::Anthropic, request, chat::message).await
}

async fn plan_remains(State(app): AppState, headers: axum::http::HeaderMap) -> Response {
    crate::plan::remains(&app, &headers)
}

async fn t2a(State(app): AppState, request: Request) -> Response {
    json_endpoint(&app, Endpoint::T2a, request, speech::t2a).await
}

async fn voice_clone(State(app): AppState, request: Request) -> Response {
    json_endpoint(&app, Endpoint::VoiceClone, request, speech::clone_voice).await
}

async fn upload(State(app): AppState, request: Request) -> Response {
    let ctx = match app.gate(Endpoint::FileUpload, request.headers()).await {
        Ok(ctx) => ctx,
        Err(response) => return response,
    };
    let limit = std::time::Duration::from_millis(app.config.body_timeout_ms);
    let result = match axum::extract::Multipart::from_request(request, &()).await {
        Ok(form) => match tokio::time::timeout(limit, files::upload(&ctx, form)).await {
            Ok(result) => result,
            Err(_) => Err(crate::reply::Failure::with(
                minimax_errors::ErrorCode::INVALID_PARAMS,
                "invalid params, request body not received in time",
            )),
        },
        Err(rejection) => Err(crate::reply::Failure::with(
            minimax_errors::ErrorCode::INVALID_PARAMS,
            format!("invalid params, {}", rejection.body_text()),
        )),
    };
    ctx.finish(result).await
}

async fn retrieve(
    State(app): AppState,
    Query(query): Query<HashMap<String, String>>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let ctx = match app.gate(Endpoint::FileRetrieve, &parts.headers).await {
        Ok(ctx) => ctx,
        Err(response) => return response,
    };
    let from_query = query.get("file_id").and_then(|id| id.parse().ok());
    let from_body = if parts.method == axum::http::Method::POST {
        ctx.json_body(body).await.ok().and_then(|v| {
            v.get("file_id")
                .and_then(|id| id.as_u64().or_else(|| id.as_str()?.parse().ok()))
        })
    } else {
        None
    };
    let result = files::retrieve(&ctx, from_query.or(from_body));
    ctx.finish(result).await
}

async fn stats(State(app): AppState) -> Response {
    axum::Json(app.stats.snapshot()).into_response()
}

async fn reset(State(app): AppState) -> Response {
    app.reset();
    axum::Json(serde_json::json!({"reset": true})).into_response()
}
