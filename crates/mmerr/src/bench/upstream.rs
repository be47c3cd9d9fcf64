//! Where the benchmark's calls go: the mock's account limits in-process, in tokio's paused time
//! (thousands of callers in a second of real time), or the mock server over real HTTP in real
//! time. Both answer in the dialect asked for, so a status-only client sees HTTP 429.

use minimax_errors::Dialect;
use minimax_guard::RawResponse;
use minimax_guard::transport::TransportFailure;
pub use minimax_mock::sim::{Ask as Request, Simulated};

/// Something that answers calls.
pub enum Upstream {
    /// The limits in-process, in virtual time.
    Simulated(Box<Simulated>),
    /// The mock server over HTTP.
    Http(Http),
}

impl Upstream {
    /// Answers one call.
    pub async fn call(&self, request: Request) -> Result<RawResponse, TransportFailure> {
        match self {
            Upstream::Simulated(sim) => {
                let answer = sim.call(request).await;
                Ok(RawResponse {
                    status: answer.status,
                    headers: Default::default(),
                    body: answer.body,
                })
            }
            Upstream::Http(http) => http.call(request).await,
        }
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
