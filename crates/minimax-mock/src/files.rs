//! Files: multipart upload (audio checked for format and size, its duration kept for the voice
//! clone that uses it) and retrieval.

use crate::app::{Ctx, StoredFile, lock};
use crate::reply::{self, Failure};
use axum::extract::Multipart;
use axum::http::StatusCode;
use axum::response::Response;
use minimax_errors::ErrorCode;
use minimax_errors::validate::audio::{
    AudioError, AudioFacts, AudioPurpose, read_audio, validate_audio,
};
use serde_json::{Value, json};
use std::io::Cursor;
use std::time::{SystemTime, UNIX_EPOCH};

/// Purposes MiniMax accepts for uploads.
const PURPOSES: &[&str] = &[
    "voice_clone",
    "prompt_audio",
    "t2a_async_input",
    "assistants",
    "retrieval",
    "video_generation_input",
];

/// Stores an upload.
pub(crate) async fn upload(ctx: &Ctx<'_>, mut form: Multipart) -> Result<Response, Failure> {
    let bad = |detail: String| {
        Failure::with(
            ErrorCode::INVALID_PARAMS,
            format!("invalid params, {detail}"),
        )
    };
    let mut purpose = None;
    let mut file = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| bad(format!("malformed multipart body: {e}")))?
    {
        match field.name() {
            Some("purpose") => purpose = Some(field.text().await.map_err(|e| bad(e.to_string()))?),
            Some("file") => {
                let filename = field.file_name().unwrap_or("upload").to_string();
                let bytes = field.bytes().await.map_err(|e| bad(e.to_string()))?;
                file = Some((filename, bytes));
            }
            _ => {}
        }
    }
    let purpose = purpose.ok_or_else(|| bad("purpose is required".to_string()))?;
    if !PURPOSES.contains(&purpose.as_str()) {
        return Err(bad(format!("unknown purpose {purpose}")));
    }
    let (filename, bytes) = file.ok_or_else(|| bad("file is required".to_string()))?;
    let size = bytes.len() as u64;
    let facts = match purpose.parse::<AudioPurpose>() {
        Ok(audio_purpose) => {
            let facts = match read_audio(Cursor::new(bytes), size) {
                Ok(facts) => facts,
                Err(AudioError::UnknownFormat(_)) => AudioFacts {
                    size_bytes: size,
                    format: None,
                    duration_secs: None,
                },
                Err(error) => return Err(bad(error.to_string())),
            };
            // Format and size are checked at upload; the duration when the voice is cloned.
            let upload_checks = AudioFacts {
                duration_secs: None,
                ..facts
            };
            if let Some(error) = validate_audio(&upload_checks, audio_purpose)
                .errors()
                .next()
            {
                return Err(bad(error.message_en.clone()));
            }
            Some(facts)
        }
        Err(_) => None,
    };
    let file_id = ctx.app.new_file_id();
    let created_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let stored = StoredFile {
        owner: ctx.key.clone(),
        purpose,
        filename,
        facts,
        created_at,
    };
    let body = json!({"file": file_json(file_id, &stored, size), "base_resp": reply::base_resp(ErrorCode::SUCCESS, "success")});
    lock(&ctx.app.files).insert(file_id, stored);
    Ok(reply::json_response(StatusCode::OK, &body, &ctx.trace_id))
}

fn file_json(file_id: u64, file: &StoredFile, size: u64) -> Value {
    json!({"file_id": file_id, "bytes": size, "created_at": file.created_at, "filename": file.filename, "purpose": file.purpose})
}

/// Looks up an upload of this key by `file_id` (JSON body or query).
pub(crate) fn retrieve(ctx: &Ctx<'_>, file_id: Option<u64>) -> Result<Response, Failure> {
    let Some(file_id) = file_id else {
        return Err(Failure::with(
            ErrorCode::INVALID_PARAMS,
            "invalid params, file_id is required",
        ));
    };
    let files = lock(&ctx.app.files);
    let file = files.get(&file_id).filter(|f| f.owner == ctx.key);
    let Some(file) = file else {
        return Err(Failure::with(
            ErrorCode::INVALID_PARAMS,
            format!("invalid params, file {file_id} not found"),
        ));
    };
    let size = file.facts.map_or(0, |f| f.size_bytes);
    let body = json!({"file": file_json(file_id, file, size), "base_resp": reply::base_resp(ErrorCode::SUCCESS, "success")});
    Ok(reply::json_response(StatusCode::OK, &body, &ctx.trace_id))
}
