//! The command line: what `mmerr` accepts.

use clap::{Args, Parser, Subcommand};
use minimax_errors::validate::Api;
use minimax_errors::validate::audio::AudioPurpose;
use minimax_errors::{Category, Endpoint, ErrorCode, Lang};
use std::path::PathBuf;

/// Explain MiniMax API error codes and responses.
#[derive(Debug, Parser)]
#[command(name = "mmerr", version, about, long_about = None)]
#[command(after_help = "Shorthand: `mmerr 1002` is `mmerr explain 1002`.")]
pub struct Cli {
    /// Language of the output (default: from LC_ALL / LC_MESSAGES / LANG, else English).
    #[arg(long, global = true, value_name = "zh|en")]
    pub lang: Option<Lang>,

    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// What a code means, what to do, whether and how it is retried.
    Explain(ExplainArgs),
    /// The whole catalog of codes.
    List(ListArgs),
    /// Classify a saved response (JSON, SSE, or `curl -i` output with headers).
    Check(CheckArgs),
    /// Check a request body (or an audio file) before sending it: every violation, with the
    /// code MiniMax would answer.
    Validate(ValidateArgs),
    /// Serve a local MiniMax look-alike with fault injection (for tests and demos).
    Mock(MockArgs),
    /// Serve a MiniMax gateway: point any SDK's base URL at it to get the guard's retries,
    /// pacing and monitoring.
    Proxy(ProxyArgs),
    /// Send a few hundred requests through the guard to a faulty local MiniMax, then sum up.
    Demo(DemoArgs),
    /// Summarise error logs (JSON lines): per code, per endpoint, per hour, with a chart.
    Report(ReportArgs),
    /// A subscription key's plan windows (5-hour and weekly): how much is used, when each resets.
    Quota(QuotaArgs),
    /// Benchmarks of the guard against the retry policies users would otherwise run.
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// `mmerr bench`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Requests through a rate-limited account: ok, failed, calls, wasted, time ÷ ideal, per
    /// client policy, workload and concurrency.
    Goodput(GoodputArgs),
    /// What each client policy sends to an account whose plan window is spent (2056), in
    /// virtual time: 32 agents for 60 s.
    SpentWindow(SpentWindowArgs),
    /// Processes sharing one account: pacing alone vs shared through Redis, a process joining,
    /// Redis killed and restarted (starts its own `redis-server`; a few minutes).
    Fleet(FleetArgs),
    /// One process of `mmerr bench fleet` (started by it).
    #[command(hide = true)]
    FleetWorker(FleetWorkerArgs),
}

/// `mmerr bench fleet`.
#[derive(Debug, Args)]
pub struct FleetArgs {
    /// Processes sharing the account.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(2..=32))]
    pub processes: u32,
    /// Requests in flight at once in each process.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=512))]
    pub concurrency: u32,
    /// Requests of each run, all processes together.
    #[arg(long, default_value_t = 4000, value_parser = clap::value_parser!(u32).range(100..=100_000))]
    pub requests: u32,
    /// The runs to make (default: all).
    #[arg(long, value_delimiter = ',')]
    pub runs: Vec<crate::bench::fleet::Run>,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `mmerr bench fleet-worker`.
#[derive(Debug, Args)]
pub struct FleetWorkerArgs {
    /// The mock's URL.
    #[arg(long)]
    pub url: String,
    /// Requests to send.
    #[arg(long)]
    pub requests: u32,
    /// Requests in flight at once.
    #[arg(long)]
    pub concurrency: u32,
    /// The shared state's Redis URL (none: pace alone).
    #[arg(long)]
    pub state: Option<String>,
}

/// `mmerr bench spent-window`.
#[derive(Debug, Args)]
pub struct SpentWindowArgs {
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `mmerr bench goodput`.
#[derive(Debug, Args)]
pub struct GoodputArgs {
    /// Fewer requests (300) and real-time runs at C = 8 and 32 only.
    #[arg(long)]
    pub quick: bool,
    /// Requests per run (default 1000, 300 with --quick).
    #[arg(long)]
    pub requests: Option<u32>,
    /// Only these client policies (repeatable).
    #[arg(long, value_enum)]
    pub policy: Vec<crate::bench::Policy>,
    /// Only these workloads (repeatable).
    #[arg(long, value_enum)]
    pub workload: Vec<crate::bench::Workload>,
    /// Run every concurrency in virtual time only (seconds instead of minutes).
    #[arg(long)]
    pub virtual_only: bool,
    /// How long a successful call takes (a refusal takes 20 ms), repeatable: a fixed time
    /// (`100ms`, `3s`), uniform (`1s-5s`), or log-normal by median and p99
    /// (`lognormal:3s:30s`). Real-time runs use it too.
    #[arg(long, default_value = "100ms")]
    pub latency: Vec<crate::bench::LatencyArg>,
    /// Print the results as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `mmerr report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Error logs written by minimax-guard's monitor (JSON lines).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Only events at or after this: an RFC 3339 time, a date, or an age (90m, 24h, 7d).
    #[arg(long)]
    pub since: Option<String>,
    /// Only events before this (same forms as --since).
    #[arg(long)]
    pub until: Option<String>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write a self-contained HTML page with the tables and an SVG chart.
    #[arg(long, value_name = "OUT")]
    pub html: Option<PathBuf>,
}

/// `mmerr demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many requests to send.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(20..=100_000))]
    pub requests: u32,
    /// Seed of the mock's faults and of the retry delays.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// Send the requests as an SDK would, straight and then through `mmerr proxy`, and compare.
    #[arg(long)]
    pub proxy: bool,
    /// Keep the pace and the account breaker in Redis (`redis://127.0.0.1:6379/0`), shared
    /// with every process naming it: a second run starts at the pace the first one found.
    #[arg(long, env = "MMERR_STATE")]
    pub state: Option<minimax_fleet::StateBackend>,
}

/// `mmerr mock`.
#[derive(Debug, Args)]
pub struct MockArgs {
    /// Address to serve on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8380")]
    pub addr: std::net::SocketAddr,
    /// Accounts, limits, voices and sensitive words (TOML; see examples/mock-config.toml).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Faults to inject (TOML; see examples/scenario.toml).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Allow serving on an address other than loopback.
    #[arg(long)]
    pub allow_remote: bool,
}

/// `mmerr quota`.
#[derive(Debug, Args)]
pub struct QuotaArgs {
    /// The environment variable holding the key.
    #[arg(long, default_value = "MINIMAX_API_KEY")]
    pub key_env: String,
    /// intl (api.minimax.io), china (api.minimaxi.com) or a URL (default: MINIMAX_BASE_URL, else
    /// intl).
    #[arg(long)]
    pub base_url: Option<String>,
    /// Print the windows as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `mmerr proxy`.
#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// Address to serve on; port 0 picks a free port (default 127.0.0.1:8080, or the
    /// configuration's).
    #[arg(long)]
    pub addr: Option<std::net::SocketAddr>,
    /// Where requests go: intl (api.minimax.io), china (api.minimaxi.com) or a URL.
    #[arg(long)]
    pub upstream: Option<String>,
    /// Configuration (TOML; see examples/proxy.toml): keys, checks, limits, the monitor.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Allow serving on an address other than loopback.
    #[arg(long)]
    pub allow_remote: bool,
    /// Share the pace, the account breakers and the alerts with every proxy naming the same
    /// Redis (`redis://127.0.0.1:6379/0`); default in-process, or the configuration's `state`.
    #[arg(long, env = "MMERR_STATE")]
    pub state: Option<minimax_fleet::StateBackend>,
}

/// `mmerr explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The code: a number (1002) or a name (RATE_LIMIT).
    pub code: ErrorCode,
    /// Context to include in the report (free text or a JSON object); secrets are scrubbed.
    #[arg(long)]
    pub context: Option<String>,
    /// The endpoint the code came from, for codes whose meaning depends on it (e.g. t2a).
    #[arg(long, short)]
    pub endpoint: Option<Endpoint>,
    /// Also print the full report.
    #[arg(long, short)]
    pub verbose: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `mmerr list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print the catalog as JSON.
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Print the catalog as a Markdown table (both languages; the README's table).
    #[arg(long)]
    pub markdown: bool,
    /// Only codes of this category (transient, throttling, quota, auth, billing, content,
    /// invalid_request, permission, conflict, not_found).
    #[arg(long)]
    pub category: Option<Category>,
}

/// `mmerr check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The response file; `-` or nothing reads standard input.
    pub file: Option<PathBuf>,
    /// The HTTP status it came with (default: from `curl -i` headers in the input, else 200).
    #[arg(long)]
    pub status: Option<u16>,
    /// The endpoint it came from: a name (chat, t2a, …) or a URL path.
    #[arg(long, short)]
    pub endpoint: Option<Endpoint>,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `mmerr validate`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ValidateArgs {
    #[command(subcommand)]
    pub audio: Option<ValidateCommand>,
    /// The API the request is for: chat, t2a, t2a-async, voice-clone, video, image.
    #[arg(long)]
    pub api: Option<Api>,
    /// The JSON request body; `-` or nothing reads standard input.
    pub file: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// What `mmerr validate` can check besides request bodies.
#[derive(Debug, Subcommand)]
pub enum ValidateCommand {
    /// Check an audio file for upload: format (by content), size, and duration.
    Audio(AudioArgs),
}

/// `mmerr validate audio`.
#[derive(Debug, Args)]
pub struct AudioArgs {
    /// The audio file (mp3, m4a or wav).
    pub file: PathBuf,
    /// What the upload is for: voice_clone (10 s to 5 min) or prompt_audio (under 8 s).
    #[arg(long)]
    pub purpose: AudioPurpose,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Refuses to serve on `ip` unless it is loopback or `--allow-remote` was given.
pub fn check_loopback(ip: std::net::IpAddr, allow_remote: bool) -> anyhow::Result<()> {
    if !ip.is_loopback() && !allow_remote {
        anyhow::bail!(
            "{ip} is not a loopback address; pass --allow-remote to serve beyond this machine"
        );
    }
    Ok(())
}

/// Rewrites `mmerr 1002 …`, `mmerr RATE_LIMIT …` and `mmerr --lang zh 1039 …` to
/// `mmerr explain …`: the first argument that is not a global option, when it is a code (a
/// number or a catalog name) rather than a command.
pub fn expand_shorthand(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut i = 1;
    while let Some(arg) = args.get(i).and_then(|a| a.to_str()) {
        match arg {
            "--lang" => i += 2,
            _ if arg.starts_with("--lang=") => i += 1,
            _ => break,
        }
    }
    let Some(first) = args.get(i).and_then(|a| a.to_str()) else {
        return args;
    };
    let is_number = first != "-" && first.parse::<i64>().is_ok();
    let is_name = ErrorCode::from_name(first).is_some() && !is_command(first);
    if is_number || is_name {
        args.insert(i, "explain".into());
    }
    args
}

/// Whether `word` names a command (so it is never read as a code).
fn is_command(word: &str) -> bool {
    use clap::CommandFactory;
    word == "help"
        || Cli::command()
            .get_subcommands()
            .any(|c| c.get_name() == word || c.get_all_aliases().any(|a| a == word))
}
