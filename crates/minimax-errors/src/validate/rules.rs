//! The rules of each API, as documented by MiniMax (see docs/validation.md for the list).

use super::check::Checker;
use super::models::{SPEECH_MODELS, chat_model};
use super::requests::{ChatRequest, ImageRequest, T2aRequest, VideoRequest, VoiceCloneRequest};
use super::text::char_and_invisible_counts;
use super::{Api, Validation};
use crate::code::ErrorCode;
use regex::Regex;
use serde_json::json;
use std::ops::Bound::{Excluded, Included};
use std::sync::LazyLock;

const INVALID: ErrorCode = ErrorCode::INVALID_PARAMS;

/// Largest audio file MiniMax accepts for voice cloning, in bytes (20 MB, read as MiB).
pub const MAX_AUDIO_BYTES: u64 = 20 * 1024 * 1024;

/// T2A text must be shorter than this many characters (synchronous endpoint).
const T2A_MAX_CHARS: usize = 10_000;
/// Async T2A text may have up to this many characters.
const T2A_ASYNC_MAX_CHARS: usize = 50_000;
/// Share of invisible or illegal characters above which T2A answers 1042.
const MAX_INVISIBLE_RATIO: f64 = 0.10;

/// Checks a chat request.
pub fn validate_chat(request: &ChatRequest) -> Validation {
    let mut c = Checker::new(Api::Chat);
    c.required("model", !request.model.trim().is_empty(), INVALID);
    let model = chat_model(&request.model);
    if model.is_none() && !request.model.trim().is_empty() {
        c.warn(
            "model",
            json!(request.model),
            "known_model".to_string(),
            format!("未知的模型 {}，无法检查其 token 上限", request.model),
            format!(
                "unknown model {}: its token limit cannot be checked",
                request.model
            ),
        );
    }
    c.required("messages", !request.messages.is_empty(), INVALID);
    let roles = ["system", "user", "assistant", "tool"];
    for (i, message) in request.messages.iter().enumerate() {
        let field = format!("messages[{i}].role");
        c.required(&field, !message.role.is_empty(), INVALID);
        if !message.role.is_empty() {
            c.one_of(&field, Some(&message.role.as_str()), &roles, INVALID);
        }
    }
    for (field, value) in [
        ("max_tokens", request.max_tokens),
        ("max_completion_tokens", request.max_completion_tokens),
    ] {
        c.integer(field, value, INVALID);
        c.at_least(field, value, 1.0, INVALID);
        if let (Some(model), Some(v)) = (model, value.filter(|v| *v >= 1.0)) {
            // Above the model's limit is the chat meaning of 1039.
            c.range(
                field,
                Some(v),
                1.0..=model.max_tokens as f64,
                ErrorCode::TOKEN_LIMIT,
            );
        }
    }
    c.range(
        "temperature",
        request.temperature,
        (Excluded(0.0), Included(1.0)),
        INVALID,
    );
    c.range(
        "top_p",
        request.top_p,
        (Excluded(0.0), Included(1.0)),
        INVALID,
    );
    c.one_of("n", request.n.as_ref(), &[1.0], INVALID);
    c.finish()
}

/// Checks a T2A v2 request.
pub fn validate_t2a(request: &T2aRequest) -> Validation {
    check_t2a(Api::T2a, request, T2A_MAX_CHARS, true)
}

/// Checks an async T2A request (longer text allowed).
pub fn validate_t2a_async(request: &T2aRequest) -> Validation {
    check_t2a(Api::T2aAsync, request, T2A_ASYNC_MAX_CHARS, false)
}

fn check_t2a(api: Api, request: &T2aRequest, max_chars: usize, strictly_below: bool) -> Validation {
    let mut c = Checker::new(api);
    c.required("model", !request.model.is_empty(), INVALID);
    if !request.model.is_empty() {
        c.one_of(
            "model",
            Some(&request.model.as_str()),
            SPEECH_MODELS,
            INVALID,
        );
    }
    c.required("text", !request.text.is_empty(), INVALID);
    c.max_chars(
        "text",
        Some(&request.text),
        max_chars,
        strictly_below,
        INVALID,
    );
    check_invisible(&mut c, &request.text);
    check_pauses(&mut c, &request.text);

    let voice = request.voice_setting.as_ref();
    let has_voice = voice
        .and_then(|v| v.voice_id.as_deref())
        .is_some_and(|id| !id.is_empty());
    c.required(
        "voice_setting.voice_id",
        has_voice || request.extra.contains_key("timber_weights"),
        INVALID,
    );
    if let Some(voice) = voice {
        c.range("voice_setting.speed", voice.speed, 0.5..=2.0, INVALID);
        c.range(
            "voice_setting.vol",
            voice.vol,
            (Excluded(0.0), Included(10.0)),
            INVALID,
        );
        c.integer("voice_setting.pitch", voice.pitch, INVALID);
        c.range("voice_setting.pitch", voice.pitch, -12.0..=12.0, INVALID);
    }
    if let Some(audio) = &request.audio_setting {
        c.one_of(
            "audio_setting.sample_rate",
            audio.sample_rate.as_ref(),
            &[8000, 16000, 22050, 24000, 32000, 44100],
            INVALID,
        );
        c.one_of(
            "audio_setting.bitrate",
            audio.bitrate.as_ref(),
            &[32000, 64000, 128000, 256000],
            INVALID,
        );
        let formats = ["mp3", "pcm", "flac", "wav", "pcmu_raw", "pcmu_wav", "opus"];
        c.one_of(
            "audio_setting.format",
            audio.format.as_deref().as_ref(),
            &formats,
            INVALID,
        );
        c.one_of(
            "audio_setting.channel",
            audio.channel.as_ref(),
            &[1, 2],
            INVALID,
        );
    }
    c.finish()
}

/// More than 10 % invisible or illegal characters gives 1042.
fn check_invisible(c: &mut Checker, text: &str) {
    let (total, invisible) = char_and_invisible_counts(text);
    // Exact integer comparison: invisible / total > 10 %  ⇔  10 * invisible > total.
    if total == 0 || invisible * 10 <= total {
        return;
    }
    let ratio = invisible as f64 / total as f64;
    let percent = (ratio * 10_000.0).round() / 100.0;
    c.push(
        "text",
        json!({ "chars": total, "invisible": invisible, "ratio": ratio }),
        format!("invisible_ratio<={MAX_INVISIBLE_RATIO}"),
        ErrorCode::INVISIBLE_CHARACTERS,
        format!("text 中不可见或非法字符占 {percent}%（{invisible}/{total}），不能超过 10%"),
        format!("text has {percent}% invisible or illegal characters ({invisible} of {total}); at most 10% is allowed"),
    );
}

static PAUSE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"<#([^#<>]*)#>").unwrap_or_else(|e| unreachable!("valid pause regex: {e}"))
});

/// Pause markers `<#x#>` need x in [0.01, 99.99] seconds, with at most two decimals.
fn check_pauses(c: &mut Checker, text: &str) {
    for (i, marker) in PAUSE.captures_iter(text).enumerate() {
        let raw = marker.get(1).map_or("", |m| m.as_str());
        let decimals = raw.split_once('.').map_or(0, |(_, d)| d.len());
        let value = raw
            .parse::<f64>()
            .ok()
            .filter(|v| (0.01..=99.99).contains(v) && decimals <= 2);
        if value.is_none() {
            c.push(
                &format!("text(pause {})", i + 1),
                json!(format!("<#{raw}#>")),
                "pause[0.01,99.99]".to_string(),
                INVALID,
                format!("停顿标记 <#{raw}#> 的时长须为 0.01 到 99.99 秒，最多两位小数"),
                format!("pause marker <#{raw}#> must give 0.01 to 99.99 seconds with at most two decimals"),
            );
        }
    }
}

/// `voice_id`: 8 to 256 characters, an ASCII letter first, then letters, digits, `-` or `_`,
/// and not ending in `-` or `_`.
static VOICE_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z][A-Za-z0-9_-]{6,254}[A-Za-z0-9]$")
        .unwrap_or_else(|e| unreachable!("valid voice_id regex: {e}"))
});

/// Checks a voice clone request.
pub fn validate_voice_clone(request: &VoiceCloneRequest) -> Validation {
    let mut c = Checker::new(Api::VoiceClone);
    c.required(
        "file_id",
        request.file_id.as_ref().is_some_and(|v| !v.is_null()),
        INVALID,
    );
    c.required("voice_id", !request.voice_id.is_empty(), INVALID);
    if !request.voice_id.is_empty() && !VOICE_ID.is_match(&request.voice_id) {
        let id = &request.voice_id;
        c.push(
            "voice_id",
            json!(id),
            VOICE_ID.as_str().to_string(),
            INVALID,
            format!("voice_id 须为 8 到 256 个字符，以英文字母开头，只含字母、数字、- 和 _，且不能以 - 或 _ 结尾（当前 {} 个字符）", id.chars().count()),
            format!("voice_id must be 8 to 256 characters: an ASCII letter first, then letters, digits, - or _, not ending in - or _ (has {} characters)", id.chars().count()),
        );
    }
    c.max_chars("text", request.text.as_deref(), 1000, false, INVALID);
    let has_text = request.text.as_deref().is_some_and(|t| !t.is_empty());
    if has_text {
        c.required(
            "model",
            request.model.as_deref().is_some_and(|m| !m.is_empty()),
            INVALID,
        );
    }
    if let Some(model) = request.model.as_deref().filter(|m| !m.is_empty()) {
        c.one_of("model", Some(&model), SPEECH_MODELS, INVALID);
    }
    c.max_chars(
        "text_validation",
        request.text_validation.as_deref(),
        200,
        false,
        INVALID,
    );
    c.range("accuracy", request.accuracy, 0.0..=1.0, INVALID);
    if let Some(prompt) = &request.clone_prompt {
        c.required(
            "clone_prompt.prompt_audio",
            prompt.prompt_audio.as_ref().is_some_and(|v| !v.is_null()),
            INVALID,
        );
        c.required(
            "clone_prompt.prompt_text",
            prompt.prompt_text.as_deref().is_some_and(|t| !t.is_empty()),
            INVALID,
        );
    }
    c.finish()
}

/// Checks a video generation request.
pub fn validate_video(request: &VideoRequest) -> Validation {
    let mut c = Checker::new(Api::Video);
    c.required("model", !request.model.is_empty(), INVALID);
    c.max_chars("prompt", request.prompt.as_deref(), 2000, false, INVALID);
    c.finish()
}

/// Checks an image generation request.
pub fn validate_image(request: &ImageRequest) -> Validation {
    let mut c = Checker::new(Api::Image);
    c.required("model", !request.model.is_empty(), INVALID);
    c.required("prompt", !request.prompt.is_empty(), INVALID);
    c.max_chars("prompt", Some(&request.prompt), 1500, false, INVALID);
    c.integer("n", request.n, INVALID);
    c.range("n", request.n, 1.0..=9.0, INVALID);
    for (field, value) in [("width", request.width), ("height", request.height)] {
        c.range(field, value, 512.0..=2048.0, INVALID);
        if let Some(v) = value.filter(|v| v % 8.0 != 0.0) {
            c.push(
                field,
                json!(v),
                "multiple_of(8)".to_string(),
                INVALID,
                format!("{field} 必须是 8 的倍数（当前值 {v}）"),
                format!("{field} must be divisible by 8 (got {v})"),
            );
        }
    }
    c.finish()
}
