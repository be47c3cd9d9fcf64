//! `mmerr mock`: serve the MiniMax look-alike until Ctrl-C.

use crate::cli::MockArgs;
use anyhow::{Context, bail};
use minimax_mock::{DEMO_KEY, MockConfig, MockServer, Scenario};
use std::io::Write;
use std::process::ExitCode;

/// Serves until interrupted; prints the address and the demo key first.
pub fn run(args: &MockArgs, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    if !args.addr.ip().is_loopback() && !args.allow_remote {
        bail!(
            "{} is not a loopback address; pass --allow-remote to serve beyond this machine",
            args.addr.ip()
        );
    }
    let config = match &args.config {
        Some(path) => MockConfig::load(path)?,
        None => MockConfig::default(),
    };
    let scenario = match &args.scenario {
        Some(path) => Scenario::load(path)?,
        None => Scenario::default(),
    };
    // Each request is logged with its outcome, on standard error.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MMERR_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(async {
        let server = MockServer::start(args.addr, config.clone(), scenario)
            .await
            .with_context(|| format!("cannot serve on {}", args.addr))?;
        writeln!(out, "mmerr mock serving on {}", server.url())?;
        if config.key(DEMO_KEY).is_some() {
            writeln!(out, "demo key: {DEMO_KEY}")?;
        } else {
            writeln!(out, "keys: {} from the configuration", config.keys.len())?;
        }
        writeln!(
            out,
            "stats: {}/__mock/stats   reset: POST {}/__mock/reset   stop: Ctrl-C",
            server.url(),
            server.url()
        )?;
        out.flush()?;
        tokio::signal::ctrl_c()
            .await
            .context("cannot listen for Ctrl-C")?;
        let stats = server.stats();
        server
            .stop()
            .await
            .context("the server did not stop cleanly")?;
        writeln!(out, "stopped after {} requests", stats.requests)?;
        Ok(ExitCode::SUCCESS)
    })
}
