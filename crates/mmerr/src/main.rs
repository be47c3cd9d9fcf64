//! `mmerr`: explain MiniMax API error codes and responses from the command line.
//!
//! ```text
//! mmerr demo                       a few hundred requests through the guard to a faulty mock
//! mmerr 1002                       what 1002 means and what to do
//! mmerr explain 1039 --endpoint t2a --lang zh
//! mmerr list --category throttling
//! curl -si https://api.minimax.io/v1/t2a_v2 … | mmerr check --endpoint t2a
//! mmerr validate --api t2a request.json
//! mmerr validate audio sample.m4a --purpose voice_clone
//! mmerr mock --addr 127.0.0.1:0 --scenario examples/scenario.toml
//! mmerr report errors.jsonl --since 24h --html report.html
//! ```

mod bench;
mod check;
mod cli;
mod demo;
mod demo_proxy;
mod explain;
mod input;
mod list;
mod mock;
mod proxy;
mod quota;
mod render;
mod report;
mod runtime;
mod style;
mod validate;

use clap::Parser;
use cli::{Cli, Command};
use minimax_errors::Lang;
use std::io::{self, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse_from(cli::expand_shorthand(std::env::args_os().collect())) {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to stdout with status 0; usage errors to stderr with 2.
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { 2 } else { 0 });
        }
    };
    let lang = cli
        .lang
        .unwrap_or_else(|| Lang::from_env_with(|name| std::env::var(name).ok()));
    // NO_COLOR (no-color.org) wins over everything, including CLICOLOR_FORCE.
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        anstream::ColorChoice::Never.write_global();
    }
    // Not locked for the whole run: `mmerr mock` logs to standard error from other threads.
    let mut out = anstream::stdout();
    let mut err = anstream::stderr();
    let result = match &cli.command {
        Command::Explain(args) => explain::run(args, lang, &mut out, &mut err),
        Command::List(args) => list::run(args, lang, &mut out).map(|()| ExitCode::SUCCESS),
        Command::Check(args) => check::run(args, lang, &mut out, &mut err),
        Command::Validate(args) => match &args.audio {
            Some(cli::ValidateCommand::Audio(audio)) => validate::run_audio(audio, lang, &mut out),
            None => validate::run_request(args, lang, &mut out),
        },
        Command::Mock(args) => mock::run(args, lang, &mut out),
        Command::Proxy(args) => proxy::run(args, lang, &mut out),
        Command::Demo(args) if args.proxy => demo_proxy::run(args, lang, &mut out),
        Command::Demo(args) => demo::run(args, lang, &mut out),
        Command::Report(args) => report::run(args, lang, &mut out),
        Command::Quota(args) => quota::run(args, lang, &mut out),
        Command::Bench(cli::BenchCommand::Goodput(args)) => bench::run(args, lang, &mut out),
        Command::Bench(cli::BenchCommand::Fleet(args)) => bench::fleet::run(args, &mut out),
        Command::Bench(cli::BenchCommand::FleetWorker(args)) => {
            bench::fleet::worker(args, &mut out)
        }
        Command::Bench(cli::BenchCommand::SpentWindow(args)) => {
            bench::spent_window::run(args.json, &mut out).map(|()| ExitCode::SUCCESS)
        }
    };
    let flushed = out.flush();
    match result.and_then(|code| flushed.map(|()| code).map_err(Into::into)) {
        Ok(code) => code,
        // A closed pipe (`mmerr list | head`) is not an error worth a message.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(err, "mmerr: {}", one_line(&error));
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<io::Error>()
        .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

/// The error and its causes on one line: "cannot read x.json: No such file or directory". A
/// cause already spelled out by the message before it is not repeated.
fn one_line(error: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain().map(ToString::to_string) {
        if !parts.iter().any(|p| p.contains(&cause)) {
            parts.push(cause);
        }
    }
    parts.join(": ")
}
