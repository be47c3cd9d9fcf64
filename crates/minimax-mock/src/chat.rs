//! Chat: the native `/v1/text/chatcompletion_v2`, the OpenAI-compatible `/v1/chat/completions`
//! and the Anthropic-compatible `/anthropic/v1/messages`, plain or streamed. The answer echoes the last user message, so tests
//! can steer what the "model" says (and trigger 1027 with an output-sensitive word).

use crate::app::Ctx;
use crate::reply::{self, Failure};
use axum::http::StatusCode;
use axum::response::Response;
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
        return Ok(reply::event_stream(events, ctx.decision.stream, id));
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

/// Answers one message on the Anthropic-compatible endpoint, plain or streamed as Anthropic's
/// events (`message_start` … `message_stop`).
pub(crate) fn message(ctx: &Ctx<'_>, body: Value) -> Result<Response, Failure> {
    let invalid = |detail: &str| {
        Failure::with(
            ErrorCode::INVALID_PARAMS,
            format!("invalid params, {detail}"),
        )
    };
    let model = body["model"]
        .as_str()
        .filter(|m| !m.is_empty())
        .ok_or_else(|| invalid("model is required"))?;
    let messages = body["messages"]
        .as_array()
        .filter(|m| !m.is_empty())
        .ok_or_else(|| invalid("messages is required"))?;
    if body["max_tokens"].as_u64().is_none_or(|n| n == 0) {
        return Err(invalid("max_tokens must be a positive integer"));
    }
    // Content is a string or a list of blocks; only text blocks are read.
    let text_of = |m: &Value| match &m["content"] {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| b["text"].as_str())
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    };
    let input: Vec<String> = messages.iter().map(text_of).collect();
    check_sensitive(
        &input.join("\n"),
        &ctx.app.config.sensitive.input,
        ErrorCode::INPUT_SENSITIVE,
    )?;
    let last_user = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .map(text_of)
        .unwrap_or_default();
    let answer = format!("You said: {last_user}");
    check_sensitive(
        &answer,
        &ctx.app.config.sensitive.output,
        ErrorCode::OUTPUT_SENSITIVE,
    )?;
    let input_tokens = input.iter().map(|t| t.chars().count()).sum::<usize>() / 4 + 1;
    let output_tokens = answer.chars().count() / 4 + 1;
    let id = format!("msg_{}", ctx.trace_id);
    if body["stream"] == Value::Bool(true) {
        let mut events = String::new();
        let mut event =
            |name: &str, data: Value| events.push_str(&format!("event: {name}\ndata: {data}\n\n"));
        event(
            "message_start",
            json!({"type": "message_start", "message": {"id": id, "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": input_tokens, "output_tokens": 0}}}),
        );
        event(
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        );
        for word in answer.split_inclusive(' ') {
            event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": word}}),
            );
        }
        event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        );
        event(
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": output_tokens}}),
        );
        event("message_stop", json!({"type": "message_stop"}));
        return Ok(reply::event_stream(
            events,
            ctx.decision.stream,
            &ctx.trace_id,
        ));
    }
    let body = json!({
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": answer}],
        "stop_reason": "end_turn",
        "stop_sequence": null,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    });
    Ok(reply::json_response(StatusCode::OK, &body, &ctx.trace_id))
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
