//! `mmerr report`: summarise error logs (ours, JSON lines): tables per code, per endpoint and per
//! hour, a chart of errors over time in the terminal, and a self-contained HTML page.

use crate::cli::ReportArgs;
use crate::style;
use anyhow::{Context, bail};
use comfy_table::{Table, presets};
use minimax_errors::{Lang, Seen};
use minimax_monitor::report::{LogReport, MAX_MINUTES, TimeRange, parse_timestamp};
use minimax_monitor::timestamp;
use std::fmt::Write as _;
use std::io::Write;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

/// Reads every file, then prints the summary (and writes the HTML page if asked).
pub fn run(args: &ReportArgs, lang: Lang, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let range = TimeRange {
        since_ms: args
            .since
            .as_deref()
            .map(|t| parse_time(t, now))
            .transpose()
            .context("--since")?,
        until_ms: args
            .until
            .as_deref()
            .map(|t| parse_time(t, now))
            .transpose()
            .context("--until")?,
    };
    let mut report = LogReport::default();
    for path in &args.files {
        let name = path.display().to_string();
        let file = std::fs::File::open(path).with_context(|| style::cannot_read(lang, &name))?;
        let (lines, malformed) = (report.lines, report.malformed);
        report
            .read(&name, file, range)
            .with_context(|| style::cannot_read(lang, &name))?;
        let (read, bad) = (report.lines - lines, report.malformed - malformed);
        if read > 0 && bad == read {
            bail!(
                "{name} is not an error log: none of its {read} lines is an error event (JSON lines written by the monitor)"
            );
        }
    }
    if let Some(html) = &args.html {
        std::fs::write(html, html_page(&report, lang))
            .with_context(|| style::cannot_write(lang, &html.display().to_string()))?;
    }
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print_text(&report, args.files.len(), lang, out)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// An RFC 3339 time, a date, or an age like `90m`, `24h`, `7d` (that long before now).
fn parse_time(text: &str, now_ms: u64) -> anyhow::Result<u64> {
    if let Some(ms) = parse_timestamp(text) {
        return Ok(ms);
    }
    let text = text.trim();
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => 0,
    };
    match number.parse::<u64>() {
        Ok(n) if unit_ms > 0 => Ok(now_ms.saturating_sub(n.saturating_mul(unit_ms))),
        _ => bail!(
            "{text:?} is neither a time (2026-11-27T04:00:00Z, 2026-11-27) nor an age (90m, 24h, 7d)"
        ),
    }
}

/// A row per code: code, count, share, meaning, first and last seen.
fn code_rows(report: &LogReport, lang: Lang) -> Vec<[String; 7]> {
    let mut rows: Vec<(&String, &minimax_monitor::report::OutcomeStats)> =
        report.outcomes.iter().collect();
    rows.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(b.0)));
    rows.into_iter()
        .map(|(outcome, stats)| {
            let meaning = match outcome.parse::<Seen>() {
                Ok(seen) => seen.meaning(lang).to_string(),
                Err(_) => outcome_meaning(outcome, lang).to_string(),
            };
            [
                outcome.clone(),
                stats.count.to_string(),
                share(stats.count, report.events),
                meaning,
                short_time(stats.first_ms),
                short_time(stats.last_ms),
                stats.trace_ids.join(", "),
            ]
        })
        .collect()
}

/// The meaning of the report's own rows, which are not outcomes.
fn outcome_meaning(outcome: &str, lang: Lang) -> &'static str {
    match (outcome, lang) {
        ("other", Lang::En) => "other codes (beyond the tracking limit)",
        ("other", Lang::Zh) => "其他错误码（超出统计上限）",
        (_, Lang::En) => "unknown",
        (_, Lang::Zh) => "未知",
    }
}

fn share(count: u64, total: u64) -> String {
    if total == 0 {
        "-".to_string()
    } else {
        format!("{:.1}%", count as f64 * 100.0 / total as f64)
    }
}

/// `2026-11-27 04:10:04` (UTC).
fn short_time(ms: u64) -> String {
    timestamp(ms)
        .get(..19)
        .unwrap_or_default()
        .replace('T', " ")
}

/// The size of a chart bucket, chosen from the span the events cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bucket {
    Minutes(u64),
    Hour,
    Day,
}

/// Chart buckets: minutes for an incident of minutes, hours for a day or two, days beyond,
/// with empty buckets charted too.
fn time_buckets(report: &LogReport) -> (Vec<(String, u64)>, Bucket) {
    let (Some(first), Some(last)) = (report.hours.keys().next(), report.hours.keys().next_back())
    else {
        return (Vec::new(), Bucket::Hour);
    };
    // Minutes are kept up to a limit: they chart the span only if none was let go.
    let minute_span = match (
        report.minutes.keys().next(),
        report.minutes.keys().next_back(),
    ) {
        (Some(a), Some(b)) if report.minutes.len() < MAX_MINUTES => Some((b - a) / 60_000),
        _ => None,
    };
    let bucket = match minute_span {
        Some(minutes) if minutes < 60 => Bucket::Minutes(1),
        Some(minutes) if minutes < 6 * 60 => Bucket::Minutes(if minutes < 3 * 60 { 5 } else { 10 }),
        _ if last - first < 72 * 3_600_000 => Bucket::Hour,
        _ => Bucket::Day,
    };
    let (size_ms, source, label_len) = match bucket {
        Bucket::Minutes(n) => (n * 60_000, &report.minutes, 16),
        Bucket::Hour => (3_600_000, &report.hours, 16),
        Bucket::Day => (86_400_000, &report.hours, 10),
    };
    let mut counts: std::collections::BTreeMap<u64, u64> = std::collections::BTreeMap::new();
    for (ms, n) in source {
        *counts.entry(ms / size_ms * size_ms).or_default() += n;
    }
    let (Some(&start), Some(&end)) = (counts.keys().next(), counts.keys().next_back()) else {
        return (Vec::new(), bucket);
    };
    let rows = (0..=(end - start) / size_ms)
        .map(|i| start + i * size_ms)
        .map(|at| {
            let label = short_time(at)
                .get(..label_len)
                .unwrap_or_default()
                .to_string();
            (label, counts.get(&at).copied().unwrap_or(0))
        })
        .collect();
    (rows, bucket)
}

/// A horizontal bar of `value` out of `max`, `width` cells wide, in eighths of a cell.
pub(crate) fn bar(value: u64, max: u64, width: usize) -> String {
    const PARTS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    if max == 0 {
        return String::new();
    }
    let eighths = (value as u128 * width as u128 * 8 / max as u128) as usize;
    let mut out = "█".repeat(eighths / 8);
    out.push_str(PARTS[eighths % 8]);
    if value > 0 && out.is_empty() {
        out.push('▏');
    }
    out
}

fn print_text(
    report: &LogReport,
    files: usize,
    lang: Lang,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let zh = lang == Lang::Zh;
    let bold = style::BOLD;
    let span = match (
        report.hours.keys().next(),
        report.outcomes.values().map(|s| s.last_ms).max(),
    ) {
        (Some(_), Some(last)) => {
            let first = report
                .outcomes
                .values()
                .map(|s| s.first_ms)
                .min()
                .unwrap_or(last);
            format!(" ({} – {} UTC)", short_time(first), short_time(last))
        }
        _ => String::new(),
    };
    if zh {
        writeln!(
            out,
            "{bold}mmerr report{bold:#}：{files} 个文件，{} 行，{} 个错误事件{span}，其中 {} 个是调用的最终失败，{} 行无法解析，{} 个不在时间范围内",
            report.lines,
            report.events,
            report.final_failures,
            report.malformed,
            report.outside_range
        )?;
    } else {
        writeln!(
            out,
            "{bold}mmerr report{bold:#}: {files} file{}, {} lines, {} error events{span}, {} of them the end of a failed call, {} malformed lines, {} outside the time range",
            if files == 1 { "" } else { "s" },
            report.lines,
            report.events,
            report.final_failures,
            report.malformed,
            report.outside_range
        )?;
    }
    if report.events == 0 {
        return Ok(());
    }
    let mut codes = Table::new();
    codes.load_style(presets::UTF8_BORDERS_ONLY);
    codes.set_header(if zh {
        vec![
            "错误码",
            "次数",
            "占比",
            "含义",
            "首次出现",
            "最近出现",
            "Trace-Id",
        ]
    } else {
        vec![
            "code",
            "count",
            "share",
            "meaning",
            "first seen",
            "last seen",
            "trace ids",
        ]
    });
    for row in code_rows(report, lang) {
        codes.add_row(row.to_vec());
    }
    writeln!(
        out,
        "\n{}\n{codes}",
        if zh { "按错误码：" } else { "per code:" }
    )?;

    let mut endpoints = Table::new();
    endpoints.load_style(presets::UTF8_BORDERS_ONLY);
    endpoints.set_header(if zh {
        vec!["接口", "次数", "占比"]
    } else {
        vec!["endpoint", "count", "share"]
    });
    let mut rows: Vec<_> = report.endpoints.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    for (endpoint, count) in rows {
        endpoints.add_row(vec![
            endpoint.clone(),
            count.to_string(),
            share(*count, report.events),
        ]);
    }
    writeln!(
        out,
        "\n{}\n{endpoints}",
        if zh { "按接口：" } else { "per endpoint:" }
    )?;

    let (buckets, bucket) = time_buckets(report);
    let max = buckets.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let heading = match (zh, bucket) {
        (true, Bucket::Day) => "每天的错误数（UTC）：".to_string(),
        (true, Bucket::Hour) => "每小时的错误数（UTC）：".to_string(),
        (true, Bucket::Minutes(n)) => format!("每 {n} 分钟的错误数（UTC）："),
        (false, Bucket::Day) => "errors per day (UTC):".to_string(),
        (false, Bucket::Hour) => "errors per hour (UTC):".to_string(),
        (false, Bucket::Minutes(1)) => "errors per minute (UTC):".to_string(),
        (false, Bucket::Minutes(n)) => format!("errors per {n} minutes (UTC):"),
    };
    writeln!(out, "\n{heading}")?;
    let warn = style::WARN;
    for (label, count) in &buckets {
        writeln!(
            out,
            "  {label:<16} {warn}{:<41}{warn:#} {count}",
            bar(*count, max, 40)
        )?;
    }
    if !report.malformed_examples.is_empty() {
        writeln!(
            out,
            "\n{}",
            if zh {
                "无法解析的行（前几行）："
            } else {
                "malformed lines (the first few):"
            }
        )?;
        for bad in &report.malformed_examples {
            writeln!(out, "  {}:{}: {}", bad.file, bad.line, bad.reason)?;
        }
    }
    Ok(())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The report as one HTML page with its styles and an SVG chart inside (no outside files).
fn html_page(report: &LogReport, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    let t = |zh_text: &'static str, en_text: &'static str| if zh { zh_text } else { en_text };
    let mut page = String::new();
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>mmerr report</title>\n<style>\
body{{font-family:system-ui,sans-serif;margin:2rem;color:#222}}table{{border-collapse:collapse;margin:1rem 0}}\
th,td{{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:left}}td.n{{text-align:right}}\
svg text{{font-size:11px;fill:#555}}.bar{{fill:#d9822b}}</style></head><body>\n<h1>mmerr report</h1>\n<p>{} {} · {} {} · {} {} · {} {} · {} {}</p>\n",
        if zh { "zh" } else { "en" },
        report.lines,
        t("行", "lines"),
        report.events,
        t("个错误事件", "error events"),
        report.final_failures,
        t("次调用最终失败", "calls that failed for good"),
        report.malformed,
        t("行无法解析", "malformed lines"),
        report.outside_range,
        t("个不在时间范围内", "outside the time range"),
    );
    let _ = write!(page, "<h2>{}</h2>\n<table><tr>", t("按错误码", "Per code"));
    for head in [
        t("错误码", "code"),
        t("次数", "count"),
        t("占比", "share"),
        t("含义", "meaning"),
        t("首次出现", "first seen"),
        t("最近出现", "last seen"),
        t("Trace-Id", "trace ids"),
    ] {
        let _ = write!(page, "<th>{head}</th>");
    }
    page.push_str("</tr>\n");
    for row in code_rows(report, lang) {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&row[0]),
            row[1],
            row[2],
            escape(&row[3]),
            row[4],
            row[5],
            escape(&row[6])
        );
    }
    let _ = write!(
        page,
        "</table>\n<h2>{}</h2>\n<table><tr><th>{}</th><th>{}</th><th>{}</th></tr>\n",
        t("按接口", "Per endpoint"),
        t("接口", "endpoint"),
        t("次数", "count"),
        t("占比", "share")
    );
    for (endpoint, count) in &report.endpoints {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td class=\"n\">{count}</td><td class=\"n\">{}</td></tr>",
            escape(endpoint),
            share(*count, report.events)
        );
    }
    page.push_str("</table>\n");
    let (buckets, bucket) = time_buckets(report);
    let _ = writeln!(
        page,
        "<h2>{}</h2>",
        match bucket {
            Bucket::Day => t("每天的错误数（UTC）", "Errors per day (UTC)").to_string(),
            Bucket::Hour => t("每小时的错误数（UTC）", "Errors per hour (UTC)").to_string(),
            Bucket::Minutes(n) if zh => format!("每 {n} 分钟的错误数（UTC）"),
            Bucket::Minutes(n) => format!("Errors per {n} minute(s) (UTC)"),
        }
    );
    page.push_str(&svg_chart(&buckets));
    page.push_str("\n</body></html>\n");
    page
}

/// A bar chart of the buckets as inline SVG.
fn svg_chart(buckets: &[(String, u64)]) -> String {
    let (width, height, left, bottom) = (900.0, 260.0, 40.0, 40.0);
    let max = buckets.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1) as f64;
    let slot = (width - left) / buckets.len().max(1) as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" role=\"img\">\n"
    );
    let _ = writeln!(
        svg,
        "<line x1=\"{left}\" y1=\"{}\" x2=\"{width}\" y2=\"{}\" stroke=\"#999\"/>",
        height - bottom,
        height - bottom
    );
    let _ = writeln!(svg, "<text x=\"0\" y=\"12\">{}</text>", max as u64);
    let label_every = (buckets.len() / 12).max(1);
    for (i, (label, count)) in buckets.iter().enumerate() {
        let h = (*count as f64 / max) * (height - bottom - 20.0);
        let x = left + i as f64 * slot;
        let _ = writeln!(
            svg,
            "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\"><title>{} — {count}</title></rect>",
            x + slot * 0.1,
            height - bottom - h,
            slot * 0.8,
            escape(label)
        );
        if i % label_every == 0 {
            let _ = writeln!(
                svg,
                "<text x=\"{:.1}\" y=\"{}\">{}</text>",
                x,
                height - bottom + 14.0,
                escape(label.get(5..).unwrap_or(label))
            );
        }
    }
    svg.push_str("</svg>");
    svg
}
