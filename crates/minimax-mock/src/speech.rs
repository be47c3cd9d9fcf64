//! Speech: T2A (plain and streamed, with voices checked per key) and voice cloning.

use crate::app::{Ctx, lock};
use crate::chat::{check_sensitive, checked};
use crate::reply::{self, Failure};
use axum::http::StatusCode;
use axum::response::Response;
use minimax_errors::ErrorCode;
use minimax_errors::validate::audio::{AudioFacts, AudioPurpose, validate_audio};
use minimax_errors::validate::{Api, T2aRequest, VoiceCloneRequest};
use serde_json::{Value, json};
use std::time::Instant;

/// Fake audio bytes per character of text.
const AUDIO_BYTES_PER_CHAR: usize = 64;
/// Audio chunks a streamed answer is split into (at most).
const STREAM_CHUNKS: usize = 4;

/// Who may use a voice.
enum VoiceAccess {
    Allowed,
    OtherKeys,
    Missing,
}

fn voice_access(ctx: &Ctx<'_>, voice_id: &str) -> VoiceAccess {
    if ctx.app.config.system_voices.iter().any(|v| v == voice_id) {
        return VoiceAccess::Allowed;
    }
    match lock(&ctx.app.voices).get(voice_id) {
        Some(owner) if *owner == ctx.key => VoiceAccess::Allowed,
        Some(_) => VoiceAccess::OtherKeys,
        None => VoiceAccess::Missing,
    }
}

/// Answers a T2A request.
pub(crate) fn t2a(ctx: &Ctx<'_>, body: Value) -> Result<Response, Failure> {
    let request: T2aRequest = checked(Api::T2a, body)?;
    check_sensitive(
        &request.text,
        &ctx.app.config.sensitive.input,
        ErrorCode::INPUT_SENSITIVE,
    )?;
    let voice_id = request
        .voice_setting
        .as_ref()
        .and_then(|v| v.voice_id.clone())
        .unwrap_or_default();
    let stream = request.stream == Some(true);
    let missing_voice = match voice_access(ctx, &voice_id) {
        VoiceAccess::Allowed => false,
        VoiceAccess::OtherKeys => {
            return Err(Failure::with(
                ErrorCode::VOICE_ACCESS_DENIED,
                "voice id access denied",
            ));
        }
        // Streamed, the error may come only after some audio, as observed from MiniMax.
        VoiceAccess::Missing if stream && ctx.decision.voice_error_after_chunks.is_some() => true,
        VoiceAccess::Missing => {
            return Err(Failure::with(
                ErrorCode::VOICE_NOT_FOUND,
                "voice id not exist",
            ));
        }
    };
    let chars = request.text.chars().count() as u64;
    if let Some(Err(code)) = ctx
        .app
        .with_account(&ctx.key, |a| a.spend_characters(chars, Instant::now()))
    {
        return Err(Failure::with(code, "rate limit exceeded(TPM)"));
    }
    let audio = fake_audio(chars as usize);
    let extra_info = json!({"audio_length": chars * 200, "audio_sample_rate": 32000, "audio_size": audio.len(),
        "bitrate": 128000, "word_count": chars, "invisible_character_ratio": 0, "usage_characters": chars,
        "audio_format": "mp3", "audio_channel": 1});
    let id = &ctx.trace_id;
    if !stream {
        let body = json!({"data": {"audio": hex::encode(&audio), "status": 2, "ced": ""}, "extra_info": extra_info,
            "trace_id": id, "base_resp": reply::base_resp(ErrorCode::SUCCESS, "success")});
        return Ok(reply::json_response(StatusCode::OK, &body, id));
    }
    let mut events = String::new();
    let chunk_len = audio.len().div_ceil(STREAM_CHUNKS).max(1);
    for (sent, chunk) in audio.chunks(chunk_len).enumerate() {
        if missing_voice
            && ctx
                .decision
                .voice_error_after_chunks
                .is_some_and(|after| sent as u32 >= after)
        {
            break;
        }
        let event = json!({"data": {"audio": hex::encode(chunk), "status": 1, "ced": ""}, "trace_id": id,
            "base_resp": reply::base_resp(ErrorCode::SUCCESS, "")});
        events.push_str(&format!("data: {event}\n\n"));
    }
    let last = if missing_voice {
        json!({"data": null, "trace_id": id, "base_resp": reply::base_resp(ErrorCode::VOICE_NOT_FOUND, "voice id not exist")})
    } else {
        json!({"data": {"audio": "", "status": 2, "ced": ""}, "extra_info": extra_info, "trace_id": id,
            "base_resp": reply::base_resp(ErrorCode::SUCCESS, "success")})
    };
    events.push_str(&format!("data: {last}\n\n"));
    Ok(reply::event_stream(events, ctx.decision.stream, id))
}

/// An uploaded file checked for `purpose` as validation checks it: the first violation's code.
fn audio_rules(facts: Option<&AudioFacts>, purpose: AudioPurpose) -> Result<(), Failure> {
    let Some(facts) = facts else {
        return Ok(());
    };
    match validate_audio(facts, purpose).errors().next() {
        Some(violation) => Err(Failure::with(violation.code, violation.message_en.clone())),
        None => Ok(()),
    }
}

/// Deterministic bytes standing in for audio.
fn fake_audio(chars: usize) -> Vec<u8> {
    (0..chars * AUDIO_BYTES_PER_CHAR)
        .map(|i| (i.wrapping_mul(31) % 251) as u8)
        .collect()
}

/// Answers a voice clone request.
pub(crate) fn clone_voice(ctx: &Ctx<'_>, body: Value) -> Result<Response, Failure> {
    let request: VoiceCloneRequest = checked(Api::VoiceClone, body)?;
    let allowed = ctx
        .app
        .with_account(&ctx.key, |a| a.config().voice_clone)
        .unwrap_or(false);
    if !allowed {
        return Err(Failure::code(ErrorCode::VOICE_CLONE_DISABLED));
    }
    // The same rules as `mmerr validate audio`, from the catalog's requirements.
    let source = uploaded(ctx, request.file_id.as_ref(), AudioPurpose::VoiceClone)?;
    audio_rules(source.as_ref(), AudioPurpose::VoiceClone)?;
    if let Some(prompt) = &request.clone_prompt {
        let audio = uploaded(ctx, prompt.prompt_audio.as_ref(), AudioPurpose::PromptAudio)?;
        audio_rules(audio.as_ref(), AudioPurpose::PromptAudio)?;
    }
    if let Some(text) = &request.text {
        check_sensitive(
            text,
            &ctx.app.config.sensitive.input,
            ErrorCode::INPUT_SENSITIVE,
        )?;
    }
    {
        let mut voices = lock(&ctx.app.voices);
        if voices.contains_key(&request.voice_id) {
            return Err(Failure::with(
                ErrorCode::DUPLICATE_VOICE_ID,
                "voice clone voice id duplicate",
            ));
        }
        voices.insert(request.voice_id.clone(), ctx.key.clone());
    }
    let demo = request.text.as_deref().map_or(String::new(), |t| {
        hex::encode(fake_audio(t.chars().count()))
    });
    let body = json!({"input_sensitive": false, "input_sensitive_type": 0, "demo_audio": demo,
        "base_resp": reply::base_resp(ErrorCode::SUCCESS, "success")});
    Ok(reply::json_response(StatusCode::OK, &body, &ctx.trace_id))
}

/// The facts of an uploaded file of this key and purpose, or 20132 (invalid samples).
fn uploaded(
    ctx: &Ctx<'_>,
    file_id: Option<&Value>,
    purpose: AudioPurpose,
) -> Result<Option<AudioFacts>, Failure> {
    let id = file_id.and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    });
    let files = lock(&ctx.app.files);
    match id.and_then(|id| files.get(&id)) {
        Some(file) if file.owner == ctx.key && file.purpose == purpose.as_str() => Ok(file.facts),
        _ => Err(Failure::with(
            ErrorCode::INVALID_VOICE_SAMPLE,
            format!("invalid file_id for purpose {purpose}"),
        )),
    }
}
