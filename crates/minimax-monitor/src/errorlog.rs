//! The error log: one JSON object per line (timestamp, code, endpoint, trace id, context), with
//! secrets scrubbed, written by one thread so concurrent callers never interleave lines, and
//! rotated by size.
//!
//! Recording never blocks a call: the caller only hands a small record to a bounded queue; the
//! writer thread formats, scrubs and writes it. When the queue is full (a disk that stalls) the
//! record is dropped and counted. The file never grows past its bound: when rotation fails
//! (a read-only directory) lines are dropped and counted instead. A failure is reported once
//! when it starts and once when it ends, not once per line; lines reach the disk within a
//! second, and at once on `flush` or when the log is dropped.

use super::{Event, Seen, timestamp};
use minimax_errors::{Endpoint, scrub};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

/// Where and how the error log is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ErrorLogConfig {
    /// The file.
    pub path: PathBuf,
    /// Rotate when the file would pass this size; the file never grows past it.
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

/// What the caller hands over: copied, not formatted (formatting is the writer's work).
struct Record {
    at_ms: u64,
    seen: Seen,
    endpoint: Endpoint,
    trace_id: Option<String>,
    attempt: u32,
    final_attempt: bool,
    latency: Duration,
    context: Option<Value>,
}

enum Message {
    Record(Box<Record>),
    Line(String),
    Flush(SyncSender<()>),
}

/// Lines lost, by cause.
#[derive(Debug, Default)]
pub struct Dropped {
    /// Dropped because the queue was full (the writer could not keep up).
    pub queue_full: AtomicU64,
    /// Dropped because the file could not be written or rotated.
    pub unwritable: AtomicU64,
}

/// The error log's handle.
#[derive(Debug)]
pub struct ErrorLog {
    queue: SyncSender<Message>,
    dropped: Arc<Dropped>,
}

/// Records queued before new ones are dropped.
const QUEUE: usize = 65_536;
/// Lines reach the disk at least this often.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// How long dropping the log waits for the writer to flush.
const DROP_WAIT: Duration = Duration::from_secs(2);

impl ErrorLog {
    /// Opens (appends to) the log and starts its writer thread.
    pub fn open(config: ErrorLogConfig) -> io::Result<ErrorLog> {
        let file = open_append(&config.path)?;
        let size = file.metadata()?.len();
        let (queue, lines) = sync_channel(QUEUE);
        let dropped = Arc::new(Dropped::default());
        let writer = Writer {
            out: Some(BufWriter::new(file)),
            size,
            config,
            dropped: Arc::clone(&dropped),
            failing: None,
        };
        std::thread::Builder::new()
            .name("minimax-error-log".to_string())
            .spawn(move || writer.run(lines))?;
        Ok(ErrorLog { queue, dropped })
    }

    /// Lines lost so far.
    pub fn dropped(&self) -> &Dropped {
        &self.dropped
    }

    /// Hands one failed attempt to the writer; never waits.
    pub(crate) fn write(&self, event: &Event<'_>, now_ms: u64) {
        let record = Record {
            at_ms: now_ms,
            seen: event.seen,
            endpoint: event.endpoint,
            trace_id: event.trace_id.map(str::to_string),
            attempt: event.attempt,
            final_attempt: event.final_attempt,
            latency: event.latency,
            context: event.context.cloned(),
        };
        self.send(Message::Record(Box::new(record)));
    }

    /// Queues a ready line (one JSON object, no newline); never waits.
    pub fn write_line(&self, line: String) {
        self.send(Message::Line(line));
    }

    fn send(&self, message: Message) {
        if let Err(TrySendError::Full(_)) = self.queue.try_send(message) {
            let before = self.dropped.queue_full.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("minimax_error_log_dropped_total", "cause" => "queue_full")
                .increment(1);
            if before == 0 {
                tracing::error!("the MiniMax error log cannot keep up; lines are being dropped");
            }
        }
    }

    /// Waits (at most `wait`) until every line queued so far is written out.
    pub fn flush_within(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let (done, answer) = sync_channel(1);
        let mut message = Message::Flush(done);
        // The queue may be full: wait for room, as long as the time allows.
        loop {
            match self.queue.try_send(message) {
                Ok(()) => break,
                Err(TrySendError::Full(back)) if Instant::now() < until => {
                    message = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(_) => return,
            }
        }
        let _ = answer.recv_timeout(until.saturating_duration_since(Instant::now()));
    }

    /// Waits until every line queued so far is written out (up to two seconds).
    pub fn flush(&self) {
        self.flush_within(DROP_WAIT);
    }
}

impl Drop for ErrorLog {
    fn drop(&mut self) {
        self.flush_within(DROP_WAIT);
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// The writer thread's state.
struct Writer {
    /// `None` while the file cannot be opened (after a failed rotation).
    out: Option<BufWriter<File>>,
    size: u64,
    config: ErrorLogConfig,
    dropped: Arc<Dropped>,
    /// Since when writing fails, and why (reported once).
    failing: Option<String>,
}

impl Writer {
    fn run(mut self, messages: Receiver<Message>) {
        let mut flushed = Instant::now();
        loop {
            match messages.recv_timeout(FLUSH_EVERY) {
                Ok(Message::Record(record)) => self.line(format(&record)),
                Ok(Message::Line(line)) => self.line(line),
                Ok(Message::Flush(done)) => {
                    self.flush();
                    flushed = Instant::now();
                    let _ = done.send(());
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if flushed.elapsed() >= FLUSH_EVERY {
                self.flush();
                flushed = Instant::now();
            }
        }
        self.flush();
    }

    fn line(&mut self, line: String) {
        let len = line.len() as u64 + 1;
        if self.size > 0 && self.size + len > self.config.max_bytes {
            match self.rotate() {
                Ok(()) => self.size = 0,
                Err(error) => return self.lost(&format!("cannot rotate: {error}")),
            }
        }
        let Some(out) = &mut self.out else {
            return self.lost("the file is not open");
        };
        match out
            .write_all(line.as_bytes())
            .and_then(|()| out.write_all(b"\n"))
        {
            Ok(()) => {
                self.size += len;
                self.recovered();
            }
            Err(error) => self.lost(&format!("cannot write: {error}")),
        }
    }

    fn flush(&mut self) {
        if let Some(out) = &mut self.out
            && let Err(error) = out.flush()
        {
            self.lost(&format!("cannot write: {error}"));
        }
    }

    /// A line could not be written: counted, and reported when the trouble starts.
    fn lost(&mut self, why: &str) {
        self.dropped.unwritable.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("minimax_error_log_dropped_total", "cause" => "unwritable").increment(1);
        if self.failing.is_none() {
            tracing::error!(path = %self.config.path.display(), "the MiniMax error log {why}; lines are dropped until it can be written again");
            self.failing = Some(why.to_string());
        }
    }

    fn recovered(&mut self) {
        if self.failing.take().is_some() {
            let lost = self.dropped.unwritable.load(Ordering::Relaxed);
            tracing::warn!(path = %self.config.path.display(), lost, "the MiniMax error log is written again");
        }
    }

    /// `log` → `log.1` → … → `log.keep` (the oldest is dropped), then a fresh `log`. If that
    /// fails, the current file stays closed: nothing more is written to it.
    fn rotate(&mut self) -> io::Result<()> {
        if let Some(mut out) = self.out.take() {
            out.flush()?;
        }
        let config = &self.config;
        let numbered = |n: u32| PathBuf::from(format!("{}.{n}", config.path.display()));
        if !config.path.exists() {
            // A rotation that failed half-way: the file to start is all that is missing.
        } else if config.keep == 0 {
            std::fs::remove_file(&config.path)?;
        } else {
            for n in (1..config.keep).rev() {
                if numbered(n).exists() {
                    std::fs::rename(numbered(n), numbered(n + 1))?;
                }
            }
            std::fs::rename(&config.path, numbered(1))?;
        }
        self.out = Some(BufWriter::new(open_append(&config.path)?));
        Ok(())
    }
}

/// One record as a JSON line, secrets scrubbed.
fn format(record: &Record) -> String {
    let code = match record.seen {
        Seen::Code(code) => json!(code.as_i64()),
        _ => Value::Null,
    };
    let mut context = record.context.clone().unwrap_or(Value::Null);
    scrub::scrub_json(&mut context);
    json!({
        "ts": timestamp(record.at_ms),
        "code": code,
        "outcome": record.seen.label(),
        "endpoint": record.endpoint.as_str(),
        "trace_id": record.trace_id.as_deref().map(|t| scrub::scrub_text(t).into_owned()),
        "attempt": record.attempt,
        "final": record.final_attempt,
        "latency_ms": record.latency.as_millis() as u64,
        "context": context,
    })
    .to_string()
}
