//! Writes a large error log in the monitor's format, for `scripts/bench-report.sh`:
//! `cargo run --release -p mmerr --example make_error_log -- OUT MEGABYTES`.
//! Events spread over 48 hours; codes, endpoints and trace ids vary as in real logs.

use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "errors-big.jsonl".to_string());
    let megabytes: u64 = args.next().and_then(|m| m.parse().ok()).unwrap_or(1024);
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&path)?);
    let codes = [1002, 1002, 1002, 1001, 1039, 2013, 1026, 2054, 1008, 2064];
    let endpoints = [
        "t2a",
        "chat",
        "chat-compatible",
        "voice-clone",
        "file-upload",
    ];
    let start_ms: u64 = 1_795_737_600_000; // 2026-11-27T00:00:00Z
    let span_ms: u64 = 48 * 3_600_000;
    let mut rng = fastrand::Rng::with_seed(7);
    let mut written = 0u64;
    let mut n = 0u64;
    while written < megabytes << 20 {
        let ms = start_ms + rng.u64(0..span_ms);
        let code = codes[rng.usize(..codes.len())];
        let (code_field, outcome) = match rng.u8(..50) {
            0 => ("null".to_string(), "transport".to_string()),
            1 => ("null".to_string(), "malformed".to_string()),
            _ => (code.to_string(), code.to_string()),
        };
        let line = format!(
            r#"{{"ts":"{}","code":{code_field},"outcome":"{outcome}","endpoint":"{}","trace_id":"{:016x}{:016x}","attempt":{},"final":{},"latency_ms":{},"context":{{"model":"speech-2.8-hd","text_chars":{},"api_key":"[REDACTED]","note":"batch job {}"}}}}"#,
            minimax_monitor::timestamp(ms),
            endpoints[rng.usize(..endpoints.len())],
            rng.u64(..),
            n,
            rng.u32(1..4),
            rng.bool(),
            rng.u32(5..3000),
            rng.u32(1..5000),
            n % 97,
        );
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
        written += line.len() as u64 + 1;
        n += 1;
    }
    out.flush()?;
    eprintln!("{path}: {n} lines, {} MiB", written >> 20);
    Ok(())
}
