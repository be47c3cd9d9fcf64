//! `mmerr list`: the whole catalog, as a table, JSON or Markdown.

use crate::cli::ListArgs;
use crate::style;
use comfy_table::{ContentArrangement, Table, presets};
use minimax_errors::{CodeInfo, Lang, catalog};
use serde::Serialize;
use std::io::Write;

/// Lists the catalog; `--category` keeps one category.
pub fn run(args: &ListArgs, lang: Lang, out: &mut impl Write) -> anyhow::Result<()> {
    let keep = |info: &CodeInfo| args.category.is_none_or(|c| info.category == c);
    let rows: Vec<CodeInfo> = catalog::entries()
        .chain(catalog::endpoint_meanings())
        .filter(keep)
        .collect();
    if args.json {
        let entries: Vec<JsonEntry> = rows
            .iter()
            .map(|info| JsonEntry {
                info,
                retryable: info.is_retryable(),
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&entries)?)?;
    } else if args.markdown {
        out.write_all(markdown(&rows).as_bytes())?;
    } else {
        writeln!(out, "{}", table(&rows, lang))?;
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonEntry<'a> {
    #[serde(flatten)]
    info: &'a CodeInfo,
    retryable: bool,
}

/// The name, and for an endpoint-specific meaning the endpoints it holds on.
fn name_cell(info: &CodeInfo, name: String, lang: Lang) -> String {
    if info.endpoints.is_empty() {
        return name;
    }
    let endpoints: Vec<&str> = info.endpoints.iter().map(|e| e.as_str()).collect();
    match lang {
        Lang::Zh => format!("{name}（{} 接口）", endpoints.join("、")),
        Lang::En => format!("{name} on {}", endpoints.join(", ")),
    }
}

fn retry_cell(info: &CodeInfo, lang: Lang) -> String {
    match (info.retry, lang) {
        (Some(cfg), _) => format!("{} (×{})", cfg.max_retries, cfg.backoff),
        (None, Lang::Zh) => "否".to_string(),
        (None, Lang::En) => "no".to_string(),
    }
}

fn table(rows: &[CodeInfo], lang: Lang) -> Table {
    let l = style::labels(lang);
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec![
            l.code, l.name, l.category, l.retry, l.meaning, l.solution,
        ]);
    for info in rows {
        table.add_row(vec![
            info.code.as_i64().to_string(),
            name_cell(info, info.name.to_string(), lang),
            info.category.to_string(),
            retry_cell(info, lang),
            info.message.get(lang).to_string(),
            info.solution.get(lang).to_string(),
        ]);
    }
    table
}

/// The catalog as a Markdown table in both languages (the README's code table).
pub fn markdown(rows: &[CodeInfo]) -> String {
    let mut md = String::from(
        "| Code | Name | Category | Retry | Source | Meaning | 含义 | What to do |\n|---|---|---|---|---|---|---|---|\n",
    );
    for info in rows {
        let cells = [
            info.code.as_i64().to_string(),
            name_cell(info, format!("`{}`", info.name), Lang::En),
            info.category.to_string(),
            retry_cell(info, Lang::En),
            info.source.as_str().to_string(),
            info.message.en.to_string(),
            info.message.zh.to_string(),
            info.solution.en.to_string(),
        ];
        let escaped: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
        md.push_str(&format!("| {} |\n", escaped.join(" | ")));
    }
    md
}
