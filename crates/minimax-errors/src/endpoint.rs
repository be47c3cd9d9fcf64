//! The MiniMax endpoints that error handling tells apart: some codes mean different things on
//! different endpoints (1039 is a token limit on chat but a TPM throttle on T2A).

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// A MiniMax API endpoint, as far as error handling cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Endpoint {
    /// `POST /v1/text/chatcompletion_v2` (native dialect).
    Chat,
    /// `POST /v1/chat/completions` (OpenAI-compatible dialect).
    ChatCompatible,
    /// `POST /anthropic/v1/messages` (Anthropic-compatible dialect).
    Anthropic,
    /// `POST /v1/t2a_v2` (text to speech).
    T2a,
    /// `POST /v1/t2a_async_v2` (long text to speech).
    T2aAsync,
    /// `POST /v1/voice_clone`.
    VoiceClone,
    /// `POST /v1/files/upload`.
    FileUpload,
    /// `GET|POST /v1/files/retrieve`.
    FileRetrieve,
    /// `POST /v1/video_generation` (and the compatible `/v2/video_generation`).
    Video,
    /// `GET /v1/query/video_generation`.
    VideoQuery,
    /// `POST /v1/image_generation`.
    Image,
    /// `POST /v1/music_generation`.
    Music,
    /// Any other or unspecified endpoint: codes take their default meaning.
    #[default]
    Other,
}

/// Which of MiniMax's two error dialects an endpoint speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    /// HTTP 200 even on failure; the outcome is `base_resp.status_code`.
    Native,
    /// Real HTTP status and an `{"error":{"type","message":"... (CODE)"}}` envelope.
    Compatible,
}

/// Each endpoint with its command-line name and the URL paths that identify it.
const TABLE: &[(Endpoint, &str, &[&str])] = &[
    (Endpoint::Chat, "chat", &["/v1/text/chatcompletion_v2"]),
    (
        Endpoint::ChatCompatible,
        "chat-compatible",
        &["/v1/chat/completions"],
    ),
    (
        Endpoint::Anthropic,
        "anthropic",
        &["/anthropic/v1/messages"],
    ),
    (
        Endpoint::T2a,
        "t2a",
        &["/v1/t2a_v2", "/v1/t2a_pro", "/v1/text_to_speech"],
    ),
    (
        Endpoint::T2aAsync,
        "t2a-async",
        &["/v1/t2a_async_v2", "/v1/query/t2a_async_query_v2"],
    ),
    (Endpoint::VoiceClone, "voice-clone", &["/v1/voice_clone"]),
    (Endpoint::FileUpload, "file-upload", &["/v1/files/upload"]),
    (
        Endpoint::FileRetrieve,
        "file-retrieve",
        &["/v1/files/retrieve", "/v1/files/retrieve_content"],
    ),
    (
        Endpoint::Video,
        "video",
        &["/v1/video_generation", "/v2/video_generation"],
    ),
    (
        Endpoint::VideoQuery,
        "video-query",
        &["/v1/query/video_generation"],
    ),
    (Endpoint::Image, "image", &["/v1/image_generation"]),
    (Endpoint::Music, "music", &["/v1/music_generation"]),
    (Endpoint::Other, "other", &[]),
];

impl Endpoint {
    /// How many endpoints there are.
    pub const COUNT: usize = TABLE.len();

    /// Every endpoint, in declaration order.
    pub fn all() -> impl Iterator<Item = Endpoint> {
        TABLE.iter().map(|(e, _, _)| *e)
    }

    /// The endpoint's position in [`Endpoint::all`], for tables indexed by endpoint.
    pub fn index(self) -> usize {
        self as usize
    }

    fn row(self) -> &'static (Endpoint, &'static str, &'static [&'static str]) {
        // Every variant has a row; the test `every_endpoint_has_a_row` keeps it so.
        TABLE
            .iter()
            .find(|(e, _, _)| *e == self)
            .unwrap_or(&TABLE[TABLE.len() - 1])
    }

    /// The command-line and JSON name (`voice-clone`).
    pub fn as_str(self) -> &'static str {
        self.row().1
    }

    /// The main URL path, if the endpoint has one.
    pub fn path(self) -> Option<&'static str> {
        self.row().2.first().copied()
    }

    /// The dialect the endpoint answers errors in.
    pub fn dialect(self) -> Dialect {
        match self {
            Endpoint::ChatCompatible | Endpoint::Anthropic => Dialect::Compatible,
            _ => Dialect::Native,
        }
    }

    /// Recognises an endpoint from a URL or a path (`https://api.minimax.io/v1/t2a_v2?GroupId=1`,
    /// `/v1/t2a_v2`); anything unrecognised is [`Endpoint::Other`].
    ///
    /// ```
    /// use minimax_errors::Endpoint;
    /// assert_eq!(Endpoint::from_path("https://api.minimax.io/v1/t2a_v2?GroupId=1"), Endpoint::T2a);
    /// assert_eq!(Endpoint::from_path("/v1/unknown"), Endpoint::Other);
    /// ```
    pub fn from_path(url_or_path: &str) -> Endpoint {
        let without_query = url_or_path.split(['?', '#']).next().unwrap_or_default();
        let path = match without_query.find("://") {
            Some(scheme_end) => {
                let after = &without_query[scheme_end + 3..];
                after.find('/').map_or("", |slash| &after[slash..])
            }
            None => without_query,
        };
        let path = path.trim_end_matches('/');
        TABLE
            .iter()
            .find(|(_, _, paths)| paths.iter().any(|p| path.eq_ignore_ascii_case(p)))
            .map_or(Endpoint::Other, |(e, _, _)| *e)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error returned when a string names no endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown endpoint {0:?}: expected a name (chat, chat-compatible, anthropic, t2a, t2a-async, voice-clone, file-upload, file-retrieve, video, video-query, image, music, other) or a MiniMax URL path"
)]
pub struct UnknownEndpoint(pub String);

deserialize_from_str!(Endpoint);

impl FromStr for Endpoint {
    type Err = UnknownEndpoint;

    /// Accepts a name (`t2a`, `voice_clone`) or a URL or path (`/v1/t2a_v2`).
    fn from_str(s: &str) -> Result<Endpoint, UnknownEndpoint> {
        let name = s.trim().to_ascii_lowercase().replace('_', "-");
        if let Some((e, _, _)) = TABLE.iter().find(|(_, n, _)| *n == name) {
            return Ok(*e);
        }
        match Endpoint::from_path(s.trim()) {
            Endpoint::Other => Err(UnknownEndpoint(s.to_string())),
            e => Ok(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_has_a_row() {
        let variants = [
            Endpoint::Chat,
            Endpoint::ChatCompatible,
            Endpoint::Anthropic,
            Endpoint::T2a,
            Endpoint::T2aAsync,
            Endpoint::VoiceClone,
            Endpoint::FileUpload,
            Endpoint::FileRetrieve,
            Endpoint::Video,
            Endpoint::VideoQuery,
            Endpoint::Image,
            Endpoint::Music,
            Endpoint::Other,
        ];
        for e in variants {
            assert_eq!(e.row().0, e);
            assert_eq!(e.as_str().parse::<Endpoint>(), Ok(e));
            if let Some(path) = e.path() {
                assert_eq!(Endpoint::from_path(path), e);
            }
        }
        assert_eq!(Endpoint::all().count(), variants.len());
        for (i, e) in Endpoint::all().enumerate() {
            assert_eq!(e.index(), i);
        }
    }

    #[test]
    fn recognises_urls_and_names() {
        assert_eq!(
            Endpoint::from_path("https://api.minimaxi.com/v1/text/chatcompletion_v2"),
            Endpoint::Chat
        );
        assert_eq!(
            Endpoint::from_path("http://127.0.0.1:8080/v1/chat/completions/"),
            Endpoint::ChatCompatible
        );
        assert_eq!("voice_clone".parse::<Endpoint>(), Ok(Endpoint::VoiceClone));
        assert_eq!(
            "/v1/query/video_generation".parse::<Endpoint>(),
            Ok(Endpoint::VideoQuery)
        );
        assert!("/v1/nothing".parse::<Endpoint>().is_err());
        assert_eq!(
            Endpoint::from_path("https://api.minimax.io"),
            Endpoint::Other
        );
    }
}
