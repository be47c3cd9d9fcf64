//! Chat: the native `/v1/text/chatcompletion_v2` and the OpenAI-compatible
//! `/v1/chat/completions`, plain or streamed. The answer echoes the last user message, so tests
//! can steer what the "model" says (and trigger 1027 with an output-sensitive word).

use crate::app::Ctx;
use crate::reply::{self, Failure};
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use minimax_errors::validate::{Api, ChatRequest, validate_value};
use minimax_errors::{Endpoint, ErrorCode};
use serde_json::{Value, json};

/// Answers one chat request on `ctx.endpoint` (native or compatible).
pub(crate) fn complete(ctx: &Ctx<'_>, body: Value) -> Result<Response, Failure> {
    let request: ChatRequest = checked(Api::Chat, body)?;
    let input: Vec<&str> = request
        .messages
        .iter()
        .filter_map(|m| m.content.as_str())
        .collect();
    check_sensitive(
        &input.join("\n"),
        &ctx.app.config.sensitive.input,
        ErrorCode::INPUT_SENSITIVE,
    )?;
    let last_user = request
        .messages
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .and_then(|m| m.content.as_str())
        .unwrap_or("");
    let answer = format!("You said: {last_user}");
    check_sensitive(
        &answer,
        &ctx.app.config.sensitive.output,
        ErrorCode::OUTPUT_SENSITIVE,
    )?;

    let compatible = ctx.endpoint == Endpoint::ChatCompatible;
    let prompt_tokens = input.iter().map(|t| t.chars().count()).sum::<usize>() / 4 + 1;
    let completion_tokens = answer.chars().count() / 4 + 1;
    let usage = json!({"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens});
    let id = &ctx.trace_id;
    let model = &request.model;
    if request.stream == Some(true) {
        let mut events = String::new();
        let words: Vec<&str> = answer.split_inclusive(' ').collect();
        for word in &words {
            let chunk = json!({"id": id, "object": "chat.completion.chunk", "created": 1_732_700_000, "model": model,
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": word}}]});
            events.push_str(&format!("data: {chunk}\n\n"));
        }
        let mut last = json!({"id": id, "object": "chat.completion.chunk", "created": 1_732_700_000, "model": model,
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": usage});
        if compatible {
            events.push_str(&format!("data: {last}\n\ndata: [DONE]\n\n"));
        } else {
            last["base_resp"] = reply::base_resp(ErrorCode::SUCCESS, "");
            events.push_str(&format!("data: {last}\n\n"));
        }
        return Ok(reply::bytes_response(
            StatusCode::OK,
            "text/event-stream",
            Bytes::from(events),
            id,
        ));
    }
    let mut body = json!({
        "id": id,
        "object": "chat.completion",
        "created": 1_732_700_000,
        "model": model,
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": answer}}],
        "usage": usage,
    });
    if !compatible {
        body["choices"][0]["message"]["name"] = json!("MiniMax AI");
        body["input_sensitive"] = json!(false);
        body["output_sensitive"] = json!(false);
        body["base_resp"] = reply::base_resp(ErrorCode::SUCCESS, "");
    }
    Ok(reply::json_response(StatusCode::OK, &body, id))
}

/// Validates a body with the shared rules and parses it: the mock rejects exactly what
/// validation says MiniMax rejects, with the same code.
pub(crate) fn checked<T: serde::de::DeserializeOwned>(api: Api, body: Value) -> Result<T, Failure> {
    let validation = validate_value(api, body.clone());
    if let Some(error) = validation.errors().next() {
        return Err(Failure::with(
            error.code,
            format!("invalid params, {}", error.message_en),
        ));
    }
    serde_json::from_value(body)
        .map_err(|e| Failure::with(ErrorCode::INVALID_PARAMS, format!("invalid params, {e}")))
}

/// Fails with `code` when `text` contains one of `words`.
pub(crate) fn check_sensitive(
    text: &str,
    words: &[String],
    code: ErrorCode,
) -> Result<(), Failure> {
    match words
        .iter()
        .find(|w| !w.is_empty() && text.contains(w.as_str()))
    {
        Some(_) => Err(Failure::code(code)),
        None => Ok(()),
    }
}
