//! `mmerr explain CODE`: the seed's CLI, better.

use crate::cli::ExplainArgs;
use crate::render;
use crate::style;
use minimax_errors::{Endpoint, ErrorCode, ErrorReport, Lang};
use serde_json::{Map, Value};
use std::io::Write;
use std::process::ExitCode;

/// Explains one code; exit 0 for a known code, 1 for one the catalog does not know.
pub fn run(
    args: &ExplainArgs,
    lang: Lang,
    out: &mut impl Write,
    err: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    if args.code == ErrorCode::SUCCESS {
        let meaning = style::labels(lang).success_code;
        if args.json {
            let success = serde_json::json!({"error_code": 0, "success": true, "message": meaning});
            writeln!(out, "{}", serde_json::to_string_pretty(&success)?)?;
        } else {
            writeln!(out, "0 SUCCESS  {meaning}")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let endpoint = args.endpoint.unwrap_or(Endpoint::Other);
    let report = ErrorReport::on(args.code, endpoint, lang)
        .with_context(parse_context(args.context.as_deref()));
    let status = if report.known {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
        return Ok(status);
    }
    if !report.known {
        writeln!(
            err,
            "mmerr: {} {}",
            report.error_code.as_i64(),
            style::labels(lang).unknown_hint
        )?;
        return Ok(status);
    }
    render::heading(out, &report)?;
    render::report_rows(&report, lang).write(out)?;
    if args.verbose {
        writeln!(out, "\n{}:", style::labels(lang).details)?;
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    }
    Ok(status)
}

/// `--context` as given: a JSON object is kept as is, anything else becomes `{"note": TEXT}`.
fn parse_context(text: Option<&str>) -> Map<String, Value> {
    match text.map(|t| (t, serde_json::from_str::<Value>(t))) {
        None => Map::new(),
        Some((_, Ok(Value::Object(map)))) => map,
        Some((raw, _)) => Map::from_iter([("note".to_string(), Value::String(raw.to_string()))]),
    }
}
