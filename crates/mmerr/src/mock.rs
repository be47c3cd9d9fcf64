//! `mmerr mock`: serve the MiniMax look-alike until Ctrl-C.

use crate::cli::MockArgs;
use anyhow::Context;
use minimax_errors::Lang;
use minimax_mock::{DEMO_KEY, MockConfig, MockServer, Scenario};
use std::io::Write;
use std::process::ExitCode;

/// Serves until interrupted; prints the address and the demo key first.
pub fn run(args: &MockArgs, lang: Lang, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    crate::cli::check_loopback(args.addr.ip(), args.allow_remote)?;
    let config = match &args.config {
        Some(path) => MockConfig::load(path)?,
        None => MockConfig::default(),
    };
    let scenario = match &args.scenario {
        Some(path) => Scenario::load(path)?,
        None => Scenario::default(),
    };
    // Each request is logged with its outcome, on standard error.
    crate::style::log_to_stderr();
    let runtime = crate::runtime::multi_thread()?;
    runtime.block_on(async {
        let server = MockServer::start(args.addr, config.clone(), scenario)
            .await
            .with_context(|| format!("cannot serve on {}", args.addr))?;
        let url = server.url();
        let zh = lang == Lang::Zh;
        writeln!(
            out,
            "{} {url}",
            if zh {
                "mmerr mock 已启动："
            } else {
                "mmerr mock serving on"
            }
        )?;
        match (config.key(DEMO_KEY).is_some(), zh) {
            (true, true) => writeln!(out, "演示 key：{DEMO_KEY}")?,
            (true, false) => writeln!(out, "demo key: {DEMO_KEY}")?,
            (false, true) => writeln!(out, "key：配置文件中的 {} 个", config.keys.len())?,
            (false, false) => writeln!(out, "keys: {} from the configuration", config.keys.len())?,
        }
        if zh {
            writeln!(
                out,
                "统计：{url}/__mock/stats   重置：POST {url}/__mock/reset   停止：Ctrl-C"
            )?;
        } else {
            writeln!(
                out,
                "stats: {url}/__mock/stats   reset: POST {url}/__mock/reset   stop: Ctrl-C"
            )?;
        }
        out.flush()?;
        tokio::signal::ctrl_c()
            .await
            .context("cannot listen for Ctrl-C")?;
        let stats = server.stats();
        server
            .stop()
            .await
            .context("the server did not stop cleanly")?;
        if zh {
            writeln!(out, "已停止，共处理 {} 个请求", stats.requests)?;
        } else {
            writeln!(out, "stopped after {} requests", stats.requests)?;
        }
        Ok(ExitCode::SUCCESS)
    })
}
