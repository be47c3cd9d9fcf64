//! The error log: one JSON object per line (timestamp, code, endpoint, trace id, context), with
//! secrets scrubbed, written by one thread so concurrent callers never interleave or lose lines,
//! and rotated by size.

use super::{Event, Seen, timestamp};
use minimax_errors::scrub;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Where and how the error log is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ErrorLogConfig {
    /// The file.
    pub path: PathBuf,
    /// Rotate when the file would pass this size.
    pub max_bytes: u64,
    /// Rotated files kept (`errors.jsonl.1` … `.N`).
    pub keep: u32,
}

impl Default for ErrorLogConfig {
    fn default() -> ErrorLogConfig {
        ErrorLogConfig {
            path: PathBuf::from("minimax-errors.jsonl"),
            max_bytes: 64 << 20,
            keep: 5,
        }
    }
}

enum Message {
    Line(String),
    Flush(SyncSender<()>),
}

/// The error log's handle. Lines are queued to a writer thread; the queue is bounded, so a disk
/// that cannot keep up slows writers down rather than losing lines or filling memory.
#[derive(Debug)]
pub struct ErrorLog {
    queue: SyncSender<Message>,
}

/// Lines queued before writers wait.
const QUEUE: usize = 65_536;

impl ErrorLog {
    /// Opens (appends to) the log and starts its writer thread.
    pub fn open(config: ErrorLogConfig) -> io::Result<ErrorLog> {
        let file = open_append(&config.path)?;
        let size = file.metadata()?.len();
        let (queue, lines) = sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("minimax-error-log".to_string())
            .spawn(move || writer(config, file, size, lines))?;
        Ok(ErrorLog { queue })
    }

    /// Queues the line for one failed attempt.
    pub(crate) fn write(&self, event: &Event<'_>, now_ms: u64) {
        let code = match event.seen {
            Seen::Code(code) => json!(code.as_i64()),
            _ => Value::Null,
        };
        let mut context = event.context.cloned().unwrap_or(Value::Null);
        scrub::scrub_json(&mut context);
        let line = json!({
            "ts": timestamp(now_ms),
            "code": code,
            "outcome": event.seen.label(),
            "endpoint": event.endpoint.as_str(),
            "trace_id": event.trace_id.map(|t| scrub::scrub_text(t).into_owned()),
            "attempt": event.attempt,
            "final": event.last,
            "latency_ms": event.latency.as_millis() as u64,
            "context": context,
        });
        self.write_line(line.to_string());
    }

    /// Queues a ready line (one JSON object, no newline).
    pub fn write_line(&self, line: String) {
        // The writer ends only when every handle is gone, so this cannot fail while `self` lives.
        let _ = self.queue.send(Message::Line(line));
    }

    /// Waits until every line queued so far is on disk.
    pub fn flush(&self) {
        let (done, wait) = sync_channel(1);
        if self.queue.send(Message::Flush(done)).is_ok() {
            let _ = wait.recv();
        }
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

fn writer(config: ErrorLogConfig, file: File, mut size: u64, lines: Receiver<Message>) {
    let mut out = BufWriter::new(file);
    let report = |error: io::Error| tracing::error!(path = %config.path.display(), %error, "cannot write the MiniMax error log");
    for message in lines {
        match message {
            Message::Line(line) => {
                let len = line.len() as u64 + 1;
                if size > 0 && size + len > config.max_bytes {
                    match rotate(&config, &mut out) {
                        Ok(()) => size = 0,
                        Err(error) => report(error),
                    }
                }
                match out
                    .write_all(line.as_bytes())
                    .and_then(|()| out.write_all(b"\n"))
                {
                    Ok(()) => size += len,
                    Err(error) => report(error),
                }
            }
            Message::Flush(done) => {
                if let Err(error) = out.flush() {
                    report(error);
                }
                let _ = done.send(());
            }
        }
    }
    let _ = out.flush();
}

/// `log` → `log.1` → … → `log.keep` (the oldest is dropped), then a fresh `log`.
fn rotate(config: &ErrorLogConfig, out: &mut BufWriter<File>) -> io::Result<()> {
    out.flush()?;
    let numbered = |n: u32| PathBuf::from(format!("{}.{n}", config.path.display()));
    if config.keep == 0 {
        std::fs::remove_file(&config.path)?;
    } else {
        for n in (1..config.keep).rev() {
            if numbered(n).exists() {
                std::fs::rename(numbered(n), numbered(n + 1))?;
            }
        }
        std::fs::rename(&config.path, numbered(1))?;
    }
    *out = BufWriter::new(open_append(&config.path)?);
    Ok(())
}
