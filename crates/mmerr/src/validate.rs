//! `mmerr validate`: check a request body or an audio file before sending it to MiniMax.

use crate::cli::{AudioArgs, ValidateArgs};
use crate::input;
use crate::style;
use anyhow::{Context, bail};
use minimax_errors::Lang;
use minimax_errors::validate::audio::{AudioError, AudioFacts, read_audio, validate_audio};
use minimax_errors::validate::{Severity, Target, Validation, validate_json};
use serde_json::json;
use std::io::Write;
use std::process::ExitCode;
use unicode_width::UnicodeWidthStr;

/// Request bodies larger than this are refused (MiniMax's own limits are far below it).
const MAX_BODY: u64 = 64 << 20;

/// Validates a request body: exit 0 when valid, 1 with the violations, 2 for unreadable input.
pub fn run_request(
    args: &ValidateArgs,
    lang: Lang,
    out: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let Some(api) = args.api else {
        bail!(
            "say which API the request is for with --api chat|t2a|t2a-async|voice-clone|video|image, or use `mmerr validate audio FILE --purpose …`"
        );
    };
    let body = input::read_all(args.file.as_deref(), MAX_BODY, input::Input::Request, lang)?;
    let validation = validate_json(api, &body)?;
    finish(&validation, None, args.json, lang, out)
}

/// Validates an audio file for an upload purpose: format, size and duration.
pub fn run_audio(args: &AudioArgs, lang: Lang, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let path = &args.file;
    let file = std::fs::File::open(path)
        .with_context(|| style::cannot_read(lang, &path.display().to_string()))?;
    let size = file
        .metadata()
        .with_context(|| style::cannot_read(lang, &path.display().to_string()))?
        .len();
    let facts = match read_audio(file, size) {
        Ok(facts) => facts,
        // Not audio of an accepted kind: a violation of the format rule, not unreadable input.
        Err(AudioError::UnknownFormat(_)) => AudioFacts {
            size_bytes: size,
            format: None,
            duration_secs: None,
        },
        Err(error) => return Err(error).with_context(|| path.display().to_string()),
    };
    let validation = validate_audio(&facts, args.purpose);
    finish(&validation, Some(&facts), args.json, lang, out)
}

fn finish(
    validation: &Validation,
    facts: Option<&AudioFacts>,
    as_json: bool,
    lang: Lang,
    out: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let code = if validation.is_valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    if as_json {
        let mut value = json!({ "valid": validation.is_valid(), "target": validation.target, "violations": validation.violations });
        if let Some(facts) = facts {
            value["audio"] = json!(facts);
        }
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(code);
    }
    if let Some(facts) = facts {
        write_facts(facts, lang, out)?;
    }
    let errors = validation.errors().count();
    let target = describe_target(validation.target, lang);
    let (good, bad) = (style::GOOD, style::BAD);
    match (lang, errors) {
        (Lang::Zh, 0) => writeln!(out, "{good}✓ {target}校验通过{good:#}")?,
        (Lang::En, 0) => writeln!(out, "{good}✓ {target} is valid{good:#}")?,
        (Lang::Zh, n) => writeln!(out, "{bad}✗ {target}有 {n} 处错误{bad:#}")?,
        (Lang::En, n) => writeln!(
            out,
            "{bad}✗ {target}: {n} violation{}{bad:#}",
            if n == 1 { "" } else { "s" }
        )?,
    }
    let width = validation
        .violations
        .iter()
        .map(|v| v.field.width())
        .max()
        .unwrap_or(0);
    for v in &validation.violations {
        let (mark, style) = match v.severity {
            Severity::Error => ("error", style::BAD),
            Severity::Warning => ("warning", style::WARN),
        };
        let pad = " ".repeat(width - v.field.width());
        writeln!(
            out,
            "  {style}{mark:<7}{style:#} {}{pad}  {:>5}  {}",
            v.field,
            v.code.as_i64(),
            v.message(lang)
        )?;
    }
    Ok(code)
}

fn describe_target(target: Target, lang: Lang) -> String {
    match (target, lang) {
        (Target::Request(api), Lang::Zh) => format!("{api} 请求"),
        (Target::Audio(purpose), Lang::Zh) => format!("{purpose} 音频"),
        (target, Lang::En) => target.to_string(),
    }
}

fn write_facts(facts: &AudioFacts, lang: Lang, out: &mut impl Write) -> std::io::Result<()> {
    let format = facts.format.map_or("?".to_string(), |f| f.to_string());
    let duration = facts
        .duration_secs
        .map_or("?".to_string(), |d| format!("{d:.2} s"));
    let mb = facts.size_bytes as f64 / (1024.0 * 1024.0);
    match lang {
        Lang::Zh => writeln!(out, "格式 {format}，大小 {mb:.2} MB，时长 {duration}"),
        Lang::En => writeln!(out, "format {format}, size {mb:.2} MB, duration {duration}"),
    }
}
