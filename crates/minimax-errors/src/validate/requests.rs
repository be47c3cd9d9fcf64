//! Typed requests for the APIs that are validated. Fields MiniMax requires default to empty so
//! that a missing one is reported as a violation, together with every other, rather than
//! stopping the parse; fields this toolkit does not model are kept in `extra`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A chat completion request (native and compatible endpoints).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The model (`MiniMax-M2`).
    #[serde(default)]
    pub model: String,
    /// The conversation.
    #[serde(default)]
    pub messages: Vec<ChatMessage>,
    /// Output token limit (older name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<f64>,
    /// Output token limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<f64>,
    /// Sampling temperature, in (0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling, in (0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Number of choices; MiniMax only accepts 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<f64>,
    /// Stream the answer as server-sent events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Any other field, passed through unchecked.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatRequest {
    /// A request with one user message.
    ///
    /// ```
    /// let request = minimax_errors::validate::ChatRequest::user("MiniMax-M2", "hello");
    /// assert_eq!(request.messages[0].role, "user");
    /// ```
    pub fn user(model: impl Into<String>, text: impl Into<String>) -> ChatRequest {
        let message = ChatMessage {
            role: "user".to_string(),
            content: Value::String(text.into()),
            extra: Map::new(),
        };
        ChatRequest {
            model: model.into(),
            messages: vec![message],
            ..ChatRequest::default()
        }
    }
}

/// One message of a chat.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user`, `assistant` or `tool`.
    #[serde(default)]
    pub role: String,
    /// Text, or a list of content parts.
    #[serde(default)]
    pub content: Value,
    /// Any other field (`name`, `tool_calls`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A T2A v2 request (also the async variant).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct T2aRequest {
    /// The speech model (`speech-2.8-hd`).
    #[serde(default)]
    pub model: String,
    /// The text to speak.
    #[serde(default)]
    pub text: String,
    /// Stream the audio as server-sent events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Voice, speed, volume, pitch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice_setting: Option<VoiceSetting>,
    /// Sample rate, bitrate, format, channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_setting: Option<AudioSetting>,
    /// Any other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl T2aRequest {
    /// A request to speak `text` with `voice_id`.
    pub fn speak(
        model: impl Into<String>,
        text: impl Into<String>,
        voice_id: impl Into<String>,
    ) -> T2aRequest {
        let voice = VoiceSetting {
            voice_id: Some(voice_id.into()),
            ..VoiceSetting::default()
        };
        T2aRequest {
            model: model.into(),
            text: text.into(),
            voice_setting: Some(voice),
            ..T2aRequest::default()
        }
    }
}

/// T2A `voice_setting`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VoiceSetting {
    /// A system voice or a cloned one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice_id: Option<String>,
    /// Speed, in [0.5, 2].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<f64>,
    /// Volume, in (0, 10].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vol: Option<f64>,
    /// Pitch, a whole number in [-12, 12].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pitch: Option<f64>,
    /// Any other field (`emotion`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// T2A `audio_setting`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AudioSetting {
    /// One of 8000, 16000, 22050, 24000, 32000, 44100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<i64>,
    /// One of 32000, 64000, 128000, 256000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitrate: Option<i64>,
    /// One of mp3, pcm, flac, wav, pcmu_raw, pcmu_wav, opus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// 1 or 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<i64>,
    /// Any other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A voice clone request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VoiceCloneRequest {
    /// The uploaded source audio (`purpose=voice_clone`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<Value>,
    /// The id the cloned voice will have.
    #[serde(default)]
    pub voice_id: String,
    /// Prompt audio and its transcript, to steer the clone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clone_prompt: Option<ClonePrompt>,
    /// Preview text spoken with the new voice (needs `model`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The speech model for the preview.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Similarity threshold, in [0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
    /// What the source audio says, checked against it (1043 on mismatch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_validation: Option<String>,
    /// Any other field (`need_noise_reduction`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Voice clone `clone_prompt`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClonePrompt {
    /// The uploaded prompt audio (`purpose=prompt_audio`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_audio: Option<Value>,
    /// What the prompt audio says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_text: Option<String>,
}

/// A video generation request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VideoRequest {
    /// The video model.
    #[serde(default)]
    pub model: String,
    /// What to generate, at most 2000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Any other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An image generation request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageRequest {
    /// The image model.
    #[serde(default)]
    pub model: String,
    /// What to generate, at most 1500 characters.
    #[serde(default)]
    pub prompt: String,
    /// Number of images, 1 to 9.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<f64>,
    /// Width in pixels, 512 to 2048, divisible by 8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<f64>,
    /// Height in pixels, 512 to 2048, divisible by 8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<f64>,
    /// Any other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
