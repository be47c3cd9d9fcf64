//! Pre-flight validation: catch a request's errors before MiniMax charges for them.
//!
//! Each API has a typed request (serde, so users build requests in Rust) and a validator that
//! returns **every** violation: the field path, the value, the rule, the MiniMax code the request
//! would have caused, and a message in Chinese and English. Raw JSON can be validated too; the
//! mock server rejects requests with exactly these rules, so the two never disagree.
//!
//! ```
//! use minimax_errors::validate::{validate_json, Api};
//! use minimax_errors::ErrorCode;
//!
//! let body = br#"{"model":"speech-02-hd","text":"hello","voice_setting":{"voice_id":"v1","speed":3}}"#;
//! let validation = validate_json(Api::T2a, body).unwrap();
//! assert!(!validation.is_valid());
//! let v = &validation.violations[0];
//! assert_eq!(v.field, "voice_setting.speed");
//! assert_eq!(v.code, ErrorCode::INVALID_PARAMS);
//! assert_eq!(v.message_en, "voice_setting.speed must be between 0.5 and 2 (got 3)");
//! ```

pub mod audio;
mod check;
#[cfg(feature = "audio")]
mod duration;
pub mod models;
pub mod requests;
mod rules;
pub mod text;

pub use check::Checker;
pub use requests::{
    AudioSetting, ChatMessage, ChatRequest, ClonePrompt, ImageRequest, T2aRequest, VideoRequest,
    VoiceCloneRequest, VoiceSetting,
};
pub use rules::{
    MAX_AUDIO_BYTES, validate_chat, validate_image, validate_t2a, validate_t2a_async,
    validate_video, validate_voice_clone,
};

use crate::code::ErrorCode;
use crate::lang::Lang;
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// An API whose requests can be validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Api {
    /// Chat completion (native `/v1/text/chatcompletion_v2` and compatible `/v1/chat/completions`).
    Chat,
    /// Text to speech (`/v1/t2a_v2`).
    T2a,
    /// Long text to speech (`/v1/t2a_async_v2`).
    T2aAsync,
    /// Voice clone (`/v1/voice_clone`).
    VoiceClone,
    /// Video generation (`/v1/video_generation`).
    Video,
    /// Image generation (`/v1/image_generation`).
    Image,
}

impl Api {
    /// The command-line name (`voice-clone`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Api::Chat => "chat",
            Api::T2a => "t2a",
            Api::T2aAsync => "t2a-async",
            Api::VoiceClone => "voice-clone",
            Api::Video => "video",
            Api::Image => "image",
        }
    }
}

impl fmt::Display for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error returned when a string names no [`Api`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown API {0:?}: expected chat, t2a, t2a-async, voice-clone, video or image")]
pub struct UnknownApi(pub String);

impl FromStr for Api {
    type Err = UnknownApi;

    fn from_str(s: &str) -> Result<Api, UnknownApi> {
        let all = [
            Api::Chat,
            Api::T2a,
            Api::T2aAsync,
            Api::VoiceClone,
            Api::Video,
            Api::Image,
        ];
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        all.into_iter()
            .find(|a| a.as_str() == wanted)
            .ok_or_else(|| UnknownApi(s.to_string()))
    }
}

/// What was validated: a request to an API, or an audio file for an upload purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// A request body.
    Request(Api),
    /// An audio file.
    Audio(audio::AudioPurpose),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Request(api) => write!(f, "{api} request"),
            Target::Audio(purpose) => write!(f, "{purpose} audio"),
        }
    }
}

/// How serious a violation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// MiniMax would reject the request.
    Error,
    /// Suspicious but not known to be rejected (e.g. a model this toolkit does not know).
    Warning,
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// The field's path (`voice_setting.speed`, `messages[2].role`).
    pub field: String,
    /// The offending value (long texts are summarised by their length).
    pub value: Value,
    /// The rule, in short machine-readable form (`range[0.5,2]`, `max_chars(1000)`).
    pub rule: String,
    /// The MiniMax code the request would have caused.
    pub code: ErrorCode,
    /// Error or warning.
    pub severity: Severity,
    /// The message in Chinese.
    pub message_zh: String,
    /// The message in English.
    pub message_en: String,
}

impl Violation {
    /// The message in `lang`.
    pub fn message(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.message_zh,
            Lang::En => &self.message_en,
        }
    }
}

/// The result of validating one request: every violation found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Validation {
    /// What was checked.
    pub target: Target,
    /// Every violation, errors and warnings, in the order the fields were checked.
    pub violations: Vec<Violation>,
}

impl Validation {
    /// Whether MiniMax would accept the request (warnings do not count against it).
    pub fn is_valid(&self) -> bool {
        self.errors().next().is_none()
    }

    /// The violations MiniMax would reject the request for.
    pub fn errors(&self) -> impl Iterator<Item = &Violation> {
        self.violations
            .iter()
            .filter(|v| v.severity == Severity::Error)
    }

    /// The code MiniMax would most likely answer with: that of the first error.
    pub fn first_code(&self) -> Option<ErrorCode> {
        self.errors().next().map(|v| v.code)
    }
}

/// The error returned when a body is not a JSON object at all (not a violation of any rule: there
/// is no request to check).
#[derive(Debug, thiserror::Error)]
#[error("the request body is not JSON: {0}")]
pub struct NotJson(pub serde_json::Error);

/// Validates a raw JSON request body for `api`. Fields of the wrong type (a string where a
/// number belongs) are violations with code 2013, like any other broken rule.
pub fn validate_json(api: Api, body: &[u8]) -> Result<Validation, NotJson> {
    let value: Value = serde_json::from_slice(body).map_err(NotJson)?;
    Ok(validate_value(api, value))
}

/// Validates a request already parsed as JSON.
pub fn validate_value(api: Api, value: Value) -> Validation {
    fn typed<T: serde::de::DeserializeOwned>(
        api: Api,
        value: Value,
        check: fn(&T) -> Validation,
    ) -> Validation {
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(request) => check(&request),
            Err(error) => {
                let field = match error.path().to_string() {
                    path if path == "." => "(body)".to_string(),
                    path => path,
                };
                let mut checker = Checker::new(api);
                checker.wrong_type(&field, &error.inner().to_string());
                checker.finish()
            }
        }
    }
    match api {
        Api::Chat => typed(api, value, validate_chat),
        Api::T2a => typed(api, value, validate_t2a),
        Api::T2aAsync => typed(api, value, validate_t2a_async),
        Api::VoiceClone => typed(api, value, validate_voice_clone),
        Api::Video => typed(api, value, validate_video),
        Api::Image => typed(api, value, validate_image),
    }
}
