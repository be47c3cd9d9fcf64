//! `mmerr check`: classify a saved response, or one piped from curl (`curl -si … | mmerr check`).

use crate::cli::CheckArgs;
use crate::input;
use crate::render::{self, Rows};
use crate::style;
use anyhow::{Context, bail};
use minimax_errors::classify::{Outcome, classify};
use minimax_errors::{Endpoint, ErrorReport, Lang};
use serde_json::json;
use std::io::Write;
use std::process::ExitCode;

/// Larger inputs are refused rather than read into memory: the client's limit for an answer
/// read whole, so anything it could have received can be checked.
const MAX_INPUT: u64 = minimax_guard::client::MAX_ANSWER_BYTES as u64;

/// Checks one response: exit 0 for success, 1 for an API error, 2 for input that is not a
/// usable response (unreadable, or a body that is not a MiniMax answer).
pub fn run(
    args: &CheckArgs,
    lang: Lang,
    out: &mut impl Write,
    err: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let input = input::read_all(
        args.file.as_deref(),
        MAX_INPUT,
        input::Input::Response,
        lang,
    )?;
    let response = split_http_head(&input)?;
    let status = args.status.or(response.status).unwrap_or(200);
    let endpoint = args.endpoint.unwrap_or(Endpoint::Other);
    let outcome = classify(response.body, status, &response.headers, endpoint);
    let code = match &outcome {
        Outcome::Success(_) => ExitCode::SUCCESS,
        Outcome::ApiError(_) => ExitCode::from(1),
        Outcome::Malformed(_) => ExitCode::from(2),
    };
    if args.json {
        let report = match &outcome {
            Outcome::ApiError(e) => Some(ErrorReport::from_api_error(e, lang)),
            _ => None,
        };
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&json!({"result": outcome, "report": report}))?
        )?;
        return Ok(code);
    }
    let l = style::labels(lang);
    match &outcome {
        Outcome::Success(s) => {
            let good = style::GOOD;
            writeln!(out, "{good}{}{good:#}", l.success)?;
            let mut rows = Rows::new();
            rows.add(l.http, s.http_status.to_string());
            if let Some(trace) = &s.trace_id {
                rows.add(l.trace_id, trace.clone());
            }
            if let Some(stream) = s.stream {
                rows.add(
                    l.stream,
                    stream_text(stream.data_events, stream.done_marker, lang),
                );
            }
            rows.write(out)?;
        }
        Outcome::ApiError(e) => {
            let report = ErrorReport::from_api_error(e, lang);
            render::heading(out, &report)?;
            let mut rows = render::report_rows(&report, lang);
            if let Some(stream) = e.stream {
                let where_ = match lang {
                    Lang::Zh => format!("错误出现在 {} 个数据事件之后", stream.data_events),
                    Lang::En => format!("error after {} data events", stream.data_events),
                };
                rows.add(l.stream, where_);
            }
            rows.write(out)?;
        }
        Outcome::Malformed(m) => {
            let verdict = if m.is_retryable() {
                l.retryable
            } else {
                l.not_retryable
            };
            let trace = m
                .trace_id
                .as_deref()
                .map(|t| format!(", {} {t}", l.trace_id))
                .unwrap_or_default();
            writeln!(
                err,
                "mmerr: {} (HTTP {}): {} ({verdict}{trace})",
                l.unreadable, m.http_status, m.detail
            )?;
        }
    }
    Ok(code)
}

fn stream_text(events: usize, done: bool, lang: Lang) -> String {
    match (lang, done) {
        (Lang::Zh, true) => format!("{events} 个数据事件，以 [DONE] 结束"),
        (Lang::Zh, false) => format!("{events} 个数据事件"),
        (Lang::En, true) => format!("{events} data events, ended with [DONE]"),
        (Lang::En, false) => format!("{events} data events"),
    }
}

/// A response, possibly with the status line and headers `curl -i` prints before the body.
struct Response<'a> {
    status: Option<u16>,
    headers: Vec<(String, String)>,
    body: &'a [u8],
}

/// Splits `curl -i` output into status, headers and body; input without a head is all body.
/// Interim responses (`100 Continue`) and proxy `Connection established` heads are skipped.
fn split_http_head(input: &[u8]) -> anyhow::Result<Response<'_>> {
    let mut rest = input;
    let mut response = Response {
        status: None,
        headers: Vec::new(),
        body: input,
    };
    while rest.starts_with(b"HTTP/") {
        // httparse parses only HTTP/1.x status lines, and curl prints `HTTP/2 429`, so the status
        // line is read here and the headers by httparse.
        let line_end = rest
            .iter()
            .position(|&b| b == b'\n')
            .context("the HTTP status line is cut off")?;
        let status_line = String::from_utf8_lossy(&rest[..line_end]);
        let code = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse::<u16>().ok())
            .with_context(|| {
                format!(
                    "the HTTP status line {:?} has no status code",
                    status_line.trim()
                )
            })?;
        let mut storage = [httparse::EMPTY_HEADER; 128];
        let (consumed, headers) = match httparse::parse_headers(&rest[line_end + 1..], &mut storage)
        {
            Ok(httparse::Status::Complete(parsed)) => parsed,
            Ok(httparse::Status::Partial) => bail!("the HTTP headers are cut off"),
            Err(e) => bail!("the HTTP headers are malformed: {e}"),
        };
        response.status = Some(code);
        response.headers = headers
            .iter()
            .map(|h| {
                (
                    h.name.to_string(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect();
        rest = &rest[line_end + 1 + consumed..];
        response.body = rest;
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_head_is_split_off() {
        let input = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/2 429 \r\ntrace-id: t-9\r\ncontent-type: application/json\r\n\r\n{\"a\":1}";
        let r = split_http_head(input).unwrap();
        assert_eq!(r.status, Some(429));
        assert_eq!(r.headers[0], ("trace-id".to_string(), "t-9".to_string()));
        assert_eq!(r.body, b"{\"a\":1}");
    }

    #[test]
    fn bare_body_is_all_body() {
        let r = split_http_head(b"{}").unwrap();
        assert_eq!((r.status, r.body), (None, &b"{}"[..]));
        assert!(split_http_head(b"HTTP/1.1 200 OK\r\nx: y").is_err());
    }
}
