//! The error log: one JSON object per line (timestamp, code, endpoint, trace id, context), with
//! secrets scrubbed, written by one thread so concurrent callers never interleave lines, and
//! rotated by size.
//!
//! Recording never blocks a call: the caller only hands a small record to a bounded queue; the
//! writer thread formats, scrubs and writes it. When the queue is full (a disk that stalls) the
//! record is dropped and counted. The file never grows past its bound: when rotation fails
//! (a read-only directory) lines are dropped and counted instead, and rotation is tried again
//! once a second, not once per line. The file only ever holds whole lines: they are written in
//! batches, and a batch a full disk cut short is cut back and counted as lost. A failure is
//! reported once when it starts and once when it ends, not once per line; lines reach the disk
//! within a second, and at once on `flush` or when the log is dropped.

use super::{Event, Seen, timestamp};
use minimax_errors::{Endpoint, scrub};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
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
    /// Dropped because the file could not be written or rotated (a full disk, a read-only
    /// directory).
    pub unwritable: AtomicU64,
}

/// What the error log has done since it was opened, as [`ErrorLog::flush_within`] found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Flushed {
    /// Lines written to the file, whole.
    pub written: u64,
    /// Lines dropped because the queue was full.
    pub queue_full: u64,
    /// Lines dropped because the file could not be written or rotated.
    pub unwritable: u64,
    /// Whether every line queued before the call was written or dropped within the wait (not
    /// so when the disk hangs).
    pub complete: bool,
}

/// The error log's handle.
#[derive(Debug)]
pub struct ErrorLog {
    queue: SyncSender<Message>,
    dropped: Arc<Dropped>,
    written: Arc<AtomicU64>,
}

/// Records queued before new ones are dropped.
const QUEUE: usize = 65_536;
/// Lines reach the disk at least this often.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Whole lines gathered before they are written in one go.
const BATCH_BYTES: usize = 64 << 10;
/// After the file could not be written, opened or rotated, the next attempt waits this long;
/// lines in between are dropped and counted, not each tried.
const RETRY_EVERY: Duration = Duration::from_secs(1);
/// How long [`ErrorLog::flush`] and dropping the log wait for the writer.
const FLUSH_WAIT: Duration = Duration::from_secs(10);

impl ErrorLog {
    /// Opens (appends to) the log and starts its writer thread.
    pub fn open(config: ErrorLogConfig) -> io::Result<ErrorLog> {
        let file = open_append(&config.path)?;
        let size = file.metadata()?.len();
        let (queue, lines) = sync_channel(QUEUE);
        let dropped = Arc::new(Dropped::default());
        let written = Arc::new(AtomicU64::new(0));
        let writer = Writer {
            file: Some(file),
            size,
            batch: Vec::new(),
            batch_lines: 0,
            config,
            dropped: Arc::clone(&dropped),
            written: Arc::clone(&written),
            failing: None,
            retry_at: None,
        };
        std::thread::Builder::new()
            .name("minimax-error-log".to_string())
            .spawn(move || writer.run(lines))?;
        Ok(ErrorLog {
            queue,
            dropped,
            written,
        })
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

    /// Waits, at most `wait`, until every line queued so far is written to the file or
    /// dropped (and counted); says what the log has done since it was opened.
    pub fn flush_within(&self, wait: Duration) -> Flushed {
        let until = Instant::now() + wait;
        let (done, answer) = sync_channel(1);
        let mut message = Message::Flush(done);
        // The queue may be full: wait for room, as long as the time allows.
        let complete = loop {
            match self.queue.try_send(message) {
                Ok(()) => {
                    break answer
                        .recv_timeout(until.saturating_duration_since(Instant::now()))
                        .is_ok();
                }
                Err(TrySendError::Full(back)) if Instant::now() < until => {
                    message = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(_) => break false,
            }
        };
        Flushed {
            written: self.written.load(Ordering::Relaxed),
            queue_full: self.dropped.queue_full.load(Ordering::Relaxed),
            unwritable: self.dropped.unwritable.load(Ordering::Relaxed),
            complete,
        }
    }

    /// [`ErrorLog::flush_within`] ten seconds: time enough for any disk that answers.
    pub fn flush(&self) -> Flushed {
        self.flush_within(FLUSH_WAIT)
    }
}

impl Drop for ErrorLog {
    fn drop(&mut self) {
        self.flush();
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// `write_all`, telling how many bytes went out before a failure (a full disk takes part).
fn write_counted(file: &mut File, bytes: &[u8]) -> (usize, io::Result<()>) {
    let mut sent = 0;
    while sent < bytes.len() {
        match file.write(&bytes[sent..]) {
            Ok(0) => return (sent, Err(io::ErrorKind::WriteZero.into())),
            Ok(n) => sent += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return (sent, Err(error)),
        }
    }
    (sent, Ok(()))
}

/// The writer thread's state. Lines are gathered whole and written in one go; a write that
/// fails is cut back to the last whole line, so the file never holds part of one.
struct Writer {
    /// `None` while the file cannot be opened (after a failed rotation).
    file: Option<File>,
    /// The file's length after its last whole line.
    size: u64,
    /// Whole lines not yet written, and how many.
    batch: Vec<u8>,
    batch_lines: u64,
    config: ErrorLogConfig,
    dropped: Arc<Dropped>,
    written: Arc<AtomicU64>,
    /// Since when writing fails, and why (reported once).
    failing: Option<String>,
    /// After a failure, no new attempt before this.
    retry_at: Option<Instant>,
}

impl Writer {
    fn run(mut self, messages: Receiver<Message>) {
        let mut flushed = Instant::now();
        loop {
            match messages.recv_timeout(FLUSH_EVERY) {
                Ok(Message::Record(record)) => self.line(format(&record)),
                Ok(Message::Line(line)) => self.line(line),
                Ok(Message::Flush(done)) => {
                    self.write_batch();
                    flushed = Instant::now();
                    let _ = done.send(());
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if flushed.elapsed() >= FLUSH_EVERY {
                self.write_batch();
                flushed = Instant::now();
            }
        }
        self.write_batch();
    }

    fn line(&mut self, line: String) {
        if self.retry_at.is_some_and(|at| Instant::now() < at) {
            return self.lost(1, "cannot be written (tried again within a second)");
        }
        let len = line.len() as u64 + 1;
        let queued = self.size + self.batch.len() as u64;
        if self.file.is_none() || (queued > 0 && queued + len > self.config.max_bytes) {
            self.write_batch();
            if let Err(error) = self.rotate() {
                self.retry_at = Some(Instant::now() + RETRY_EVERY);
                return self.lost(1, &format!("cannot rotate: {error}"));
            }
            self.size = 0;
        }
        self.batch.extend_from_slice(line.as_bytes());
        self.batch.push(b'\n');
        self.batch_lines += 1;
        if self.batch.len() >= BATCH_BYTES {
            self.write_batch();
        }
    }

    /// Writes the gathered lines; on failure keeps the whole lines that reached the file, cuts
    /// off the part of one after them, and counts the rest of the batch as lost.
    fn write_batch(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let lines = std::mem::take(&mut self.batch_lines);
        let batch = std::mem::take(&mut self.batch);
        let (sent, result) = match &mut self.file {
            Some(file) => write_counted(file, &batch),
            None => (0, Err(io::Error::other("the file is not open"))),
        };
        let whole = match result {
            Ok(()) => batch.len(),
            Err(_) => batch[..sent]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1),
        };
        let kept = memchr::memchr_iter(b'\n', &batch[..whole]).count() as u64;
        if let (Err(error), Some(file)) = (&result, &mut self.file)
            && whole < sent
            && let Err(cut) = file.set_len(self.size + whole as u64)
        {
            tracing::error!(path = %self.config.path.display(), "the MiniMax error log holds part of a line it could not cut back ({error}; {cut})");
        }
        self.size += whole as u64;
        self.written.fetch_add(kept, Ordering::Relaxed);
        match result {
            Ok(()) => self.recovered(),
            Err(error) => {
                self.retry_at = Some(Instant::now() + RETRY_EVERY);
                self.lost(lines - kept, &format!("cannot write: {error}"));
            }
        }
        // The buffer is kept for the next batch.
        self.batch = batch;
        self.batch.clear();
    }

    /// Lines could not be written: counted, and reported when the trouble starts.
    fn lost(&mut self, lines: u64, why: &str) {
        self.dropped.unwritable.fetch_add(lines, Ordering::Relaxed);
        metrics::counter!("minimax_error_log_dropped_total", "cause" => "unwritable")
            .increment(lines);
        if self.failing.is_none() {
            tracing::error!(path = %self.config.path.display(), "the MiniMax error log {why}; lines are dropped until it can be written again");
            self.failing = Some(why.to_string());
        }
    }

    fn recovered(&mut self) {
        self.retry_at = None;
        if self.failing.take().is_some() {
            let lost = self.dropped.unwritable.load(Ordering::Relaxed);
            tracing::warn!(path = %self.config.path.display(), lost, "the MiniMax error log is written again");
        }
    }

    /// `log` → `log.1` → … → `log.keep` (the oldest is dropped), then a fresh `log`. If that
    /// fails, the current file stays closed: nothing more is written to it.
    fn rotate(&mut self) -> io::Result<()> {
        self.file = None;
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
        self.file = Some(open_append(&config.path)?);
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
