//! `mmerr quota`: a subscription key's plan windows, per model bucket: how much of the 5-hour
//! and the weekly window is used, and when each resets, in the local time zone.

use crate::cli::QuotaArgs;
use anyhow::{Context, bail};
use minimax_errors::{ErrorCode, Lang};
use minimax_guard::{ApiKey, GuardError, MiniMaxClient, PlanRemains, PlanWindowUse};
use minimax_proxy::Upstream;
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;
use time::{OffsetDateTime, UtcOffset};

#[derive(Serialize)]
struct Output<'a> {
    key_kind: minimax_guard::KeyKind,
    account: String,
    base_url: &'a str,
    #[serde(flatten)]
    remains: &'a PlanRemains,
}

/// Asks the plan endpoint and prints the windows.
pub fn run(args: &QuotaArgs, lang: Lang, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    // Read while the process has one thread: the time crate refuses the local offset later.
    let offset = UtcOffset::current_local_offset().unwrap_or(UtcOffset::UTC);
    let Some(key) = std::env::var(&args.key_env)
        .ok()
        .filter(|k| !k.trim().is_empty())
    else {
        bail!(
            "no key: set {} (or name another variable with --key-env)",
            args.key_env
        );
    };
    let key = ApiKey::new(key);
    let base: Upstream = match &args.base_url {
        Some(url) => url.parse()?,
        None => match std::env::var("MINIMAX_BASE_URL") {
            Ok(url) if !url.trim().is_empty() => url.parse()?,
            _ => Upstream::Intl,
        },
    };
    let client = MiniMaxClient::builder()
        .base_url(base.base_url())
        .api_key(key.clone())
        .build()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    let remains = match runtime.block_on(client.plan_remains()) {
        Ok(reply) => reply.value,
        Err(error) => return refused(&error, key.kind(), lang, out),
    };
    if args.json {
        let output = Output {
            key_kind: key.kind(),
            account: key.account().to_string(),
            base_url: base.base_url(),
            remains: &remains,
        };
        writeln!(out, "{}", serde_json::to_string_pretty(&output)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let now = OffsetDateTime::now_utc().unix_timestamp();
    match lang {
        Lang::Zh => writeln!(
            out,
            "mmerr quota：{}，账户指纹 {}，{}",
            key.kind().describe(lang),
            key.account(),
            base.base_url()
        )?,
        Lang::En => writeln!(
            out,
            "mmerr quota: {}, account {}, {}",
            key.kind().describe(lang),
            key.account(),
            base.base_url()
        )?,
    }
    for bucket in &remains.buckets {
        for (window, label_zh, label_en) in [
            (&bucket.interval, "5 小时", "5-hour"),
            (&bucket.weekly, "每周", "weekly"),
        ] {
            let Some(window) = window else { continue };
            let label = match lang {
                Lang::Zh => label_zh,
                Lang::En => label_en,
            };
            writeln!(
                out,
                "  {:<10} {label:<7} {}",
                bucket.name,
                line(window, now, offset, lang)
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// "63 % used  ██████▎░░░  resets 2026-11-29 16:00 +08:00, in 3 h 12 min".
fn line(window: &PlanWindowUse, now: i64, offset: UtcOffset, lang: Lang) -> String {
    let used = (100.0 - window.remaining_percent).clamp(0.0, 100.0);
    let filled = crate::report::bar(used.round() as u64, 100, 10);
    let blank = 10usize.saturating_sub(filled.chars().count());
    let bar = format!("{filled}{}", "░".repeat(blank));
    let end = window.end_ms / 1000;
    let when = OffsetDateTime::from_unix_timestamp(end)
        .map(|t| t.to_offset(offset))
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] [offset_hour sign:mandatory]:[offset_minute]"
            ))
            .ok()
        })
        .unwrap_or_else(|| end.to_string());
    let left = end - now;
    let span = minimax_errors::quota::duration_text(left, lang);
    match (lang, left > 0) {
        (Lang::En, true) => format!("{used:>3.0} % used  {bar}  resets {when}, in {span}"),
        (Lang::Zh, true) => format!("已用 {used:>3.0} %  {bar}  {when} 重置，还有 {span}"),
        (Lang::En, false) => format!("{used:>3.0} % used  {bar}  reset at {when}"),
        (Lang::Zh, false) => format!("已用 {used:>3.0} %  {bar}  已于 {when} 重置"),
    }
}

/// The answer when the plan cannot be read: 1004 means the key has no plan.
fn refused(
    error: &GuardError,
    kind: minimax_guard::KeyKind,
    lang: Lang,
    out: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    if error.code() == Some(ErrorCode::UNAUTHORIZED) {
        match lang {
            Lang::Zh => writeln!(out, "该 key 没有有效的套餐（{}）", kind.describe(lang))?,
            Lang::En => writeln!(out, "no active plan for this key ({})", kind.describe(lang))?,
        }
        return Ok(ExitCode::from(1));
    }
    bail!("{}", minimax_errors::scrub::scrub_text(&error.to_string()))
}
