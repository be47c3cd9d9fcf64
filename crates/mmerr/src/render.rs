//! Human-readable rendering of a report: one aligned label column, colour on a terminal.

use crate::style::{self, Labels};
use anstyle::Style;
use minimax_errors::{ErrorCode, ErrorReport, Lang, catalog};
use std::io::{self, Write};
use unicode_width::UnicodeWidthStr;

/// Rows of `label value`, aligned on the widest label (CJK labels count double).
pub struct Rows {
    rows: Vec<(&'static str, String, Style)>,
}

impl Rows {
    pub fn new() -> Rows {
        Rows { rows: Vec::new() }
    }

    pub fn add(&mut self, label: &'static str, value: impl Into<String>) -> &mut Rows {
        self.styled(label, value, Style::new())
    }

    pub fn styled(
        &mut self,
        label: &'static str,
        value: impl Into<String>,
        style: Style,
    ) -> &mut Rows {
        self.rows.push((label, value.into(), style));
        self
    }

    pub fn write(&self, out: &mut impl Write) -> io::Result<()> {
        let width = self
            .rows
            .iter()
            .map(|(l, _, _)| l.width())
            .max()
            .unwrap_or(0);
        for (label, value, style) in &self.rows {
            let pad = " ".repeat(width - label.width());
            let dim = style::DIM;
            writeln!(out, "  {dim}{label}{dim:#}{pad}  {style}{value}{style:#}")?;
        }
        Ok(())
    }
}

/// The heading line: "1002 RATE_LIMIT  rate limit".
pub fn heading(out: &mut impl Write, report: &ErrorReport) -> io::Result<()> {
    let bold = style::BOLD;
    let cat = style::category_style(report.category);
    writeln!(
        out,
        "{bold}{} {}{bold:#}  {cat}{}{cat:#}",
        report.error_code.as_i64(),
        report.name,
        report.message
    )
}

/// The rows describing a report.
pub fn report_rows(report: &ErrorReport, lang: Lang) -> Rows {
    let l = style::labels(lang);
    let mut rows = Rows::new();
    rows.add(l.meaning, report.message.clone());
    rows.add(l.solution, report.solution.clone());
    if let Some(action) = &report.action {
        rows.add(l.action, action.clone());
    }
    if let Some(suggestion) = &report.suggestion {
        rows.add(l.suggestion, suggestion.clone());
    }
    if let Some(req) = &report.requirements {
        rows.add(l.requirement, req.description.clone());
    }
    let label = report.category.label_in(lang);
    let category = match report.category.as_str() {
        name if name.replace('_', " ") == label => name.to_string(),
        name => format!("{name} ({label})"),
    };
    rows.styled(l.category, category, style::category_style(report.category));
    rows.styled(
        l.retry,
        retry_text(report, l),
        if report.retry {
            style::GOOD
        } else {
            style::BAD
        },
    );
    rows.add(l.log_level, report.log_level.as_str());
    rows.add(
        l.source,
        if report.known {
            report.source.as_str()
        } else {
            l.unknown_code
        },
    );
    if report.endpoint_dependent {
        for other in other_meanings(report.error_code, report.endpoint, lang) {
            rows.add(l.elsewhere, other);
        }
    }
    if let Some(message) = &report.server_message {
        rows.add(l.server_message, message.clone());
        // A spent plan window says when it resets: say how long that is from now.
        if let Some(resets) = minimax_errors::quota::Exhausted::read(message)
            .and_then(|e| e.resets_text(minimax_errors::quota::unix_now(), lang))
        {
            rows.add(l.resets, resets);
        }
    }
    if let Some(status) = report.http_status {
        rows.add(l.http, status.to_string());
    }
    if let Some(trace) = &report.trace_id {
        rows.add(l.trace_id, trace.clone());
    }
    if !report.context.is_empty() {
        rows.add(
            l.context,
            serde_json::Value::Object(report.context.clone()).to_string(),
        );
    }
    rows
}

fn retry_text(report: &ErrorReport, l: &Labels) -> String {
    match report.retry_config {
        Some(cfg) if report.retry => l
            .yes_retries
            .replace("{n}", &cfg.max_retries.to_string())
            .replace("{b}", &cfg.backoff.to_string()),
        _ => l.no_retry.to_string(),
    }
}

/// The code's meanings on the endpoints other than the one shown: "t2a, t2a-async: …".
fn other_meanings(code: ErrorCode, shown: minimax_errors::Endpoint, lang: Lang) -> Vec<String> {
    let default = code.info();
    let specific = catalog::endpoint_meanings().filter(|info| info.code == code);
    let mut lines: Vec<String> = specific
        .filter(|info| !info.endpoints.contains(&shown))
        .map(|info| {
            let names: Vec<&str> = info.endpoints.iter().map(|e| e.as_str()).collect();
            format!(
                "{}: {} ({})",
                names.join(", "),
                info.message.get(lang),
                info.category
            )
        })
        .collect();
    if catalog::lookup_on(code, shown).is_some() {
        let fallback = match lang {
            Lang::Zh => "默认",
            Lang::En => "by default",
        };
        lines.push(format!(
            "{fallback}: {} ({})",
            default.message.get(lang),
            default.category
        ));
    }
    lines
}
