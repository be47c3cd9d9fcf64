//! Typed answers of the endpoints the client covers. Fields MiniMax may leave out are optional;
//! anything not modelled is kept in `extra`.

use minimax_errors::validate::audio::AudioPurpose;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::time::Duration;

/// A successful call's value with how it went.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply<T> {
    /// The answer.
    pub value: T,
    /// Attempts made (1 = first try).
    pub attempts: u32,
    /// Time spent in backoff delays between attempts.
    pub waited: Duration,
    /// Time spent waiting for turns under the account's pace.
    pub paced: Duration,
    /// The trace id of the answer.
    pub trace_id: Option<String>,
}

/// A chat completion (native or compatible).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletion {
    /// The completion id.
    #[serde(default)]
    pub id: String,
    /// The model that answered.
    #[serde(default)]
    pub model: String,
    /// The choices (one, as `n` must be 1).
    #[serde(default)]
    pub choices: Vec<ChatChoice>,
    /// Token usage.
    #[serde(default)]
    pub usage: Option<Usage>,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatCompletion {
    /// The first choice's text.
    pub fn text(&self) -> &str {
        self.choices
            .first()
            .and_then(|c| c.message.content.as_deref())
            .unwrap_or("")
    }
}

/// One choice of a completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatChoice {
    /// Its index.
    #[serde(default)]
    pub index: u32,
    /// The message.
    pub message: ChatMessageOut,
    /// Why it ended (`stop`, `length`, …).
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// An answer message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessageOut {
    /// `assistant`.
    #[serde(default)]
    pub role: String,
    /// The text.
    #[serde(default)]
    pub content: Option<String>,
}

/// Token usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens in the prompt.
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Tokens generated.
    #[serde(default)]
    pub completion_tokens: u64,
    /// Both.
    #[serde(default)]
    pub total_tokens: u64,
}

/// One event of a streamed chat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatChunk {
    /// The completion id.
    #[serde(default)]
    pub id: String,
    /// The deltas.
    #[serde(default)]
    pub choices: Vec<ChunkChoice>,
    /// Token usage, on the last chunk.
    #[serde(default)]
    pub usage: Option<Usage>,
}

impl ChatChunk {
    /// The text this chunk adds.
    pub fn text(&self) -> &str {
        self.choices
            .first()
            .and_then(|c| c.delta.content.as_deref())
            .unwrap_or("")
    }
}

/// One choice's delta.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkChoice {
    /// What the chunk adds.
    #[serde(default)]
    pub delta: ChatDelta,
    /// Why it ended, on the last chunk.
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// Text added by a chunk.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChatDelta {
    /// The new text.
    #[serde(default)]
    pub content: Option<String>,
}

/// Synthesised speech.
#[derive(Debug, Clone, PartialEq)]
pub struct Speech {
    /// The audio bytes (decoded from MiniMax's hex).
    pub audio: Vec<u8>,
    /// `extra_info`: length, sample rate, size, characters used, …
    pub extra_info: Value,
}

/// One event of streamed speech.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeechChunk {
    /// Audio bytes of this chunk.
    pub audio: Vec<u8>,
    /// 1 while audio flows, 2 on the final event.
    pub status: u8,
}

/// A cloned voice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoiceCloned {
    /// Whether the preview text was flagged.
    #[serde(default)]
    pub input_sensitive: bool,
    /// The preview audio, hex (empty without preview text).
    #[serde(default)]
    pub demo_audio: String,
}

/// What an uploaded file is for: the upload's `purpose` field. Audio purposes are checked
/// before sending; `Other` carries a purpose this crate does not know yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilePurpose {
    /// Audio to clone or to prompt a clone with.
    Audio(AudioPurpose),
    /// Text for asynchronous speech synthesis.
    T2aAsyncInput,
    /// A document for retrieval.
    Retrieval,
    /// A file for assistants.
    Assistants,
    /// A first frame or subject reference for video generation.
    VideoGenerationInput,
    /// Any other purpose, sent as written.
    Other(String),
}

impl FilePurpose {
    /// The name MiniMax uses for the purpose.
    pub fn as_str(&self) -> &str {
        match self {
            FilePurpose::Audio(audio) => audio.as_str(),
            FilePurpose::T2aAsyncInput => "t2a_async_input",
            FilePurpose::Retrieval => "retrieval",
            FilePurpose::Assistants => "assistants",
            FilePurpose::VideoGenerationInput => "video_generation_input",
            FilePurpose::Other(name) => name,
        }
    }
}

impl From<AudioPurpose> for FilePurpose {
    fn from(audio: AudioPurpose) -> FilePurpose {
        FilePurpose::Audio(audio)
    }
}

/// An uploaded file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileObject {
    /// The id to use in later calls.
    pub file_id: u64,
    /// Its size.
    #[serde(default)]
    pub bytes: u64,
    /// Its name.
    #[serde(default)]
    pub filename: String,
    /// What it is for.
    #[serde(default)]
    pub purpose: String,
    /// When it was uploaded (Unix seconds).
    #[serde(default)]
    pub created_at: u64,
}

/// A subscription key's plan windows (Token Plan / Coding Plan), per model bucket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanRemains {
    /// One entry per bucket (`general` for text, `video`, …).
    pub buckets: Vec<PlanBucket>,
}

/// One model bucket's windows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanBucket {
    /// The bucket (`general`, `video`, …).
    pub name: String,
    /// The rolling 5-hour window.
    pub interval: Option<PlanWindowUse>,
    /// The weekly window.
    pub weekly: Option<PlanWindowUse>,
}

/// How much of one window is left, and when it resets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PlanWindowUse {
    /// Left, in percent (0 to 100).
    pub remaining_percent: f64,
    /// When the window started (Unix milliseconds).
    pub start_ms: i64,
    /// When it ends and resets (Unix milliseconds).
    pub end_ms: i64,
}

impl PlanRemains {
    /// Reads the remains endpoint's answer: `model_remains` at the top or under `data`.
    pub fn from_body(body: &Value) -> Option<PlanRemains> {
        let list = body
            .get("model_remains")
            .or_else(|| body.get("data")?.get("model_remains"))?
            .as_array()?;
        let window = |bucket: &Value, percent: &str, start: &str, end: &str| {
            Some(PlanWindowUse {
                remaining_percent: bucket.get(percent)?.as_f64()?.clamp(0.0, 100.0),
                start_ms: bucket.get(start).and_then(Value::as_i64).unwrap_or(0),
                end_ms: bucket.get(end).and_then(Value::as_i64).unwrap_or(0),
            })
        };
        let buckets = list
            .iter()
            .map(|bucket| PlanBucket {
                name: bucket
                    .get("model_name")
                    .and_then(Value::as_str)
                    .map(|n| minimax_errors::scrub::scrub_bounded(n, 64))
                    .unwrap_or_default(),
                interval: window(
                    bucket,
                    "current_interval_remaining_percent",
                    "start_time",
                    "end_time",
                ),
                weekly: window(
                    bucket,
                    "current_weekly_remaining_percent",
                    "weekly_start_time",
                    "weekly_end_time",
                ),
            })
            .take(64)
            .collect();
        Some(PlanRemains { buckets })
    }
}
