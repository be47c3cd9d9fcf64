//! The models MiniMax serves, as far as validation needs them.

/// A chat model and its output token limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatModel {
    /// The model's name.
    pub name: &'static str,
    /// The most tokens a request may ask for (`max_tokens` / `max_completion_tokens`).
    pub max_tokens: u64,
}

/// Chat models. M2.x's 204,800-token window is documented; the other figures are the context
/// windows MiniMax publishes for those models.
pub const CHAT_MODELS: &[ChatModel] = &[
    ChatModel {
        name: "MiniMax-M3",
        max_tokens: 204_800,
    },
    ChatModel {
        name: "MiniMax-M2",
        max_tokens: 204_800,
    },
    ChatModel {
        name: "MiniMax-M2.1",
        max_tokens: 204_800,
    },
    ChatModel {
        name: "MiniMax-M2.5",
        max_tokens: 204_800,
    },
    ChatModel {
        name: "MiniMax-M2.7",
        max_tokens: 204_800,
    },
    ChatModel {
        name: "MiniMax-M2-highspeed",
        max_tokens: 204_800,
    },
    ChatModel {
        name: "MiniMax-M2.1-highspeed",
        max_tokens: 204_800,
    },
    ChatModel {
        name: "MiniMax-M2.5-highspeed",
        max_tokens: 204_800,
    },
    ChatModel {
        name: "MiniMax-M2.7-highspeed",
        max_tokens: 204_800,
    },
    ChatModel {
        name: "MiniMax-M1",
        max_tokens: 1_000_000,
    },
    ChatModel {
        name: "MiniMax-Text-01",
        max_tokens: 1_000_192,
    },
    ChatModel {
        name: "abab6.5s-chat",
        max_tokens: 245_760,
    },
    ChatModel {
        name: "abab6.5-chat",
        max_tokens: 8_192,
    },
    ChatModel {
        name: "abab5.5-chat",
        max_tokens: 16_384,
    },
];

/// Speech models for T2A and voice-clone previews.
pub const SPEECH_MODELS: &[&str] = &[
    "speech-2.8-hd",
    "speech-2.8-turbo",
    "speech-2.6-hd",
    "speech-2.6-turbo",
    "speech-02-hd",
    "speech-02-turbo",
    "speech-01-hd",
    "speech-01-turbo",
];

/// The chat model named `name` (case-insensitive), if known.
pub fn chat_model(name: &str) -> Option<ChatModel> {
    CHAT_MODELS
        .iter()
        .find(|m| m.name.eq_ignore_ascii_case(name))
        .copied()
}
