//! `mmerr proxy`: serve the MiniMax gateway until Ctrl-C or SIGTERM, then drain.

use crate::cli::ProxyArgs;
use anyhow::Context;
use minimax_errors::Lang;
use minimax_proxy::{ProxyConfig, ProxyServer};
use std::io::Write;
use std::process::ExitCode;

/// Serves until interrupted. The first line is always `mmerr proxy serving on URL`, for
/// scripts; a one-line banner in the chosen language follows.
pub fn run(args: &ProxyArgs, lang: Lang, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let mut config = match &args.config {
        Some(path) => ProxyConfig::load(path)?,
        None => ProxyConfig::from_toml("")?,
    };
    if let Some(addr) = args.addr {
        config.addr = addr;
    }
    if let Some(upstream) = &args.upstream {
        config.upstream = upstream.parse()?;
    }
    if let Some(state) = &args.state {
        config.state = state.clone();
    }
    crate::cli::check_loopback(config.addr.ip(), args.allow_remote)?;
    crate::style::log_to_stderr();
    let runtime = crate::runtime::multi_thread()?;
    runtime.block_on(async {
        let upstream = config.upstream.base_url().to_string();
        let keys = config.keys.len();
        let checks = config.validate;
        let monitor = config.monitor.is_some();
        let proxy = ProxyServer::start(config).await?;
        writeln!(out, "mmerr proxy serving on {}", proxy.url())?;
        let on = |yes: bool, zh: &'static str, en: &'static str| match (yes, lang) {
            (true, Lang::Zh) => zh,
            (true, Lang::En) => en,
            (false, _) => "",
        };
        let keys_text = match (keys, lang) {
            (0, Lang::Zh) => "客户端自带 key".to_string(),
            (0, Lang::En) => "clients' own keys".to_string(),
            (n, Lang::Zh) => format!("{n} 个代理令牌"),
            (n, Lang::En) => format!("{n} proxy tokens"),
        };
        match lang {
            Lang::Zh => writeln!(
                out,
                "上游 {upstream}；{keys_text}；重试、节奏、快速失败{}{}；停止：Ctrl-C",
                on(checks, "、请求检查", ", request checks"),
                on(monitor, "、监控", ", monitor")
            )?,
            Lang::En => writeln!(
                out,
                "upstream {upstream}; {keys_text}; retries, pacing, fail-fast{}{}; stop: Ctrl-C",
                on(checks, "、请求检查", ", request checks"),
                on(monitor, "、监控", ", monitor")
            )?,
        }
        out.flush()?;
        shutdown_signal().await?;
        proxy.stop().await;
        match lang {
            Lang::Zh => writeln!(out, "已停止")?,
            Lang::En => writeln!(out, "stopped")?,
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Ctrl-C, or SIGTERM where there is one (what service managers and containers send).
async fn shutdown_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("cannot listen for SIGTERM")?;
        tokio::select! {
            signal = tokio::signal::ctrl_c() => signal.context("cannot listen for Ctrl-C")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("cannot listen for Ctrl-C")?;
    Ok(())
}
