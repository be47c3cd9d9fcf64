//! Streamed answers (`stream: true`). An attempt counts as started only when its first data
//! event has arrived and is good, so an error event, a dropped connection or a stream cut off
//! before anything reached the caller is retried like any other answer. After that, events are
//! judged one by one by [`StreamCheck`]: an error event ends the stream with a typed error, and
//! so does a stream that stops without its end marker (`[DONE]`, a `finish_reason`, T2A's final
//! status), which would otherwise pass for a complete answer.

use crate::error::{CallFailure, Cause, GuardError, StopReason};
use crate::executor::{Attempt, RawResponse};
use crate::transport::{TransportFailure, TransportKind};
use crate::watch::StreamWatch;
use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use minimax_errors::classify::{EventVerdict, MalformedKind, StreamCheck};
use minimax_errors::sse::{Decoder, Event};
use minimax_errors::{Endpoint, classify};
use std::collections::VecDeque;
use std::time::Duration;

/// A stream of typed events that ends at the first error, which it yields typed.
pub type EventStream<T> = BoxStream<'static, Result<T, GuardError>>;

/// The largest event accepted (a T2A event holds a chunk of hex audio).
const MAX_EVENT: usize = 16 << 20;

/// A stream whose first data event arrived and was good.
pub(crate) struct OpenStream {
    status: u16,
    headers: reqwest::header::HeaderMap,
    /// Everything read up to and including the first data event.
    head: Bytes,
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    decoder: Decoder,
    check: StreamCheck,
    /// The first data event, already judged.
    first: Option<Event<'static>>,
    /// Events read but not yet judged.
    pending: VecDeque<Event<'static>>,
}

/// Reads a streamed answer up to its first data event: started if that event is good;
/// otherwise the bytes read, as a whole answer for the executor to classify and retry.
pub(crate) async fn open(
    response: reqwest::Response,
    endpoint: Endpoint,
) -> Result<Attempt<OpenStream>, TransportFailure> {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let mut check = StreamCheck::new(endpoint, status, classify::trace_id_from_headers(&headers));
    let mut decoder = Decoder::new(MAX_EVENT);
    let mut body = response.bytes_stream().boxed();
    let mut read = Vec::new();
    let answer = |read: Vec<u8>| {
        Ok(Attempt::Answer(RawResponse {
            status,
            headers: headers.clone(),
            body: Bytes::from(read),
        }))
    };
    loop {
        let Some(chunk) = body.next().await else {
            return answer(read);
        };
        let chunk = chunk.map_err(|e| TransportFailure::from_reqwest(&e))?;
        read.extend_from_slice(&chunk);
        let mut events = Vec::new();
        if decoder.feed(&chunk, &mut events).is_err() {
            return Err(too_large());
        }
        let mut events = VecDeque::from(events);
        while let Some(event) = events.pop_front() {
            match check.event(&event) {
                EventVerdict::Skip => {}
                EventVerdict::Failed(_) => return answer(read),
                EventVerdict::Data => {
                    return Ok(Attempt::Started(OpenStream {
                        status,
                        headers,
                        head: Bytes::from(read),
                        body,
                        decoder,
                        check,
                        first: Some(event),
                        pending: events,
                    }));
                }
            }
        }
    }
}

/// A started stream passed on byte for byte, as a proxy passes it: what was read to open it,
/// then each chunk as it arrives. Its events are still judged on the way, so a failure after
/// the start (an error event, a cut-off, a lost connection) is told to the caller.
pub struct RawStream(OpenStream);

impl RawStream {
    /// Reads a streamed answer up to its first data event, as the client's streams do:
    /// started if that event is good; otherwise the bytes read, as a whole answer for the
    /// executor to classify and retry.
    pub async fn open(
        response: reqwest::Response,
        endpoint: Endpoint,
    ) -> Result<Attempt<RawStream>, TransportFailure> {
        Ok(match open(response, endpoint).await? {
            Attempt::Started(open) => Attempt::Started(RawStream(open)),
            Attempt::Answer(answer) => Attempt::Answer(answer),
        })
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.0.status
    }

    /// The headers.
    pub fn headers(&self) -> &reqwest::header::HeaderMap {
        &self.0.headers
    }

    /// The bytes, unchanged; `watch` is told once how the stream ended, or that whoever read
    /// it stopped first (the bytes are dropped). A lost connection ends the byte stream with an
    /// error, so whoever reads it sees the cut.
    pub fn into_bytes(
        self,
        mut watch: StreamWatch,
    ) -> BoxStream<'static, Result<Bytes, std::io::Error>> {
        let mut open = self.0;
        watch.trace_id(open.check.trace_id());
        let head = std::mem::take(&mut open.head);
        // The events after the first one that came in the same read are judged now.
        let mut failure = None;
        for event in std::mem::take(&mut open.pending) {
            judge_raw(&mut open.check, &event, &mut failure);
        }
        watch.passed(head.len());
        let first = stream::once(async move { Ok(head) });
        let rest = stream::unfold(Some((open, failure, watch)), |state| async move {
            let (mut open, mut failure, mut watch) = state?;
            match open.body.next().await {
                Some(Ok(chunk)) => {
                    let mut events = Vec::new();
                    if open.decoder.feed(&chunk, &mut events).is_err() {
                        failure.get_or_insert(Cause::Transport(too_large()));
                    }
                    for event in &events {
                        judge_raw(&mut open.check, event, &mut failure);
                    }
                    watch.passed(chunk.len());
                    Some((Ok(chunk), Some((open, failure, watch))))
                }
                Some(Err(error)) => {
                    let lost = TransportFailure {
                        kind: TransportKind::ConnectionLost,
                        detail: TransportFailure::from_reqwest(&error).detail,
                    };
                    watch.ended(Err(&failure.unwrap_or(Cause::Transport(lost))));
                    let cut = std::io::Error::new(
                        std::io::ErrorKind::ConnectionAborted,
                        "the upstream stream was cut off",
                    );
                    Some((Err(cut), None))
                }
                None => {
                    if let Some(last) = open.decoder.finish() {
                        judge_raw(&mut open.check, &last, &mut failure);
                    }
                    if failure.is_none() {
                        failure = Cause::from_outcome(open.check.end());
                    }
                    watch.ended(failure.as_ref().map_or(Ok(()), Err));
                    None
                }
            }
        });
        first.chain(rest).boxed()
    }
}

/// Judges one event of a passed-on stream, keeping the first failure.
fn judge_raw(check: &mut StreamCheck, event: &Event<'_>, failure: &mut Option<Cause>) {
    if let EventVerdict::Failed(outcome) = check.event(event)
        && failure.is_none()
    {
        *failure = Cause::from_outcome(outcome);
    }
}

fn too_large() -> TransportFailure {
    TransportFailure {
        kind: TransportKind::TooLarge,
        detail: format!("a stream event is larger than {} MiB", MAX_EVENT >> 20),
    }
}

/// What a failure mid-stream reports besides its cause.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StreamContext {
    pub endpoint: Endpoint,
    pub attempts: u32,
    pub waited: Duration,
}

/// A started stream being turned into typed events.
struct Typed<T> {
    open: OpenStream,
    context: StreamContext,
    parse: fn(&str) -> Option<T>,
    watch: StreamWatch,
}

impl<T> Typed<T> {
    fn fail(&self, cause: Cause) -> GuardError {
        GuardError::Failed(Box::new(CallFailure {
            cause,
            endpoint: self.context.endpoint,
            trace_id: self.open.check.trace_id().map(str::to_string),
            attempts: self.context.attempts,
            waited: self.context.waited,
            stopped: StopReason::StreamStarted,
            key_kind: crate::key::KeyKind::Unknown,
        }))
    }

    /// The typed value of a data event.
    fn value(&self, event: &Event<'_>) -> Result<T, GuardError> {
        std::str::from_utf8(&event.data)
            .ok()
            .and_then(self.parse)
            .ok_or_else(|| {
                self.fail(Cause::Malformed {
                    malformed: MalformedKind::UnexpectedShape,
                    detail: "an event does not have the expected fields".to_string(),
                    http_status: 200,
                })
            })
    }

    /// Judges an event: `None` for one the caller does not see.
    fn judge(&mut self, event: &Event<'_>) -> Option<Result<T, GuardError>> {
        match self.open.check.event(event) {
            EventVerdict::Skip => None,
            EventVerdict::Data => Some(self.value(event)),
            EventVerdict::Failed(outcome) => {
                Cause::from_outcome(outcome).map(|c| Err(self.fail(c)))
            }
        }
    }

    /// The next item, or `None` when the stream ended well.
    async fn next(&mut self) -> Option<Result<T, GuardError>> {
        if let Some(first) = self.open.first.take() {
            return Some(self.value(&first));
        }
        loop {
            while let Some(event) = self.open.pending.pop_front() {
                if let Some(item) = self.judge(&event) {
                    return Some(item);
                }
            }
            match self.open.body.next().await {
                Some(Ok(chunk)) => {
                    self.watch.passed(chunk.len());
                    let mut events = Vec::new();
                    if self.open.decoder.feed(&chunk, &mut events).is_err() {
                        return Some(Err(self.fail(Cause::Transport(too_large()))));
                    }
                    self.open.pending.extend(events);
                }
                Some(Err(error)) => {
                    let lost = TransportFailure {
                        kind: TransportKind::ConnectionLost,
                        detail: TransportFailure::from_reqwest(&error).detail,
                    };
                    return Some(Err(self.fail(Cause::Transport(lost))));
                }
                None => {
                    if let Some(last) = self.open.decoder.finish()
                        && let Some(item) = self.judge(&last)
                    {
                        return Some(item);
                    }
                    return Cause::from_outcome(self.open.check.end()).map(|c| Err(self.fail(c)));
                }
            }
        }
    }
}

/// The typed events of a started stream; see the module documentation. It ends after the
/// first error; `watch` is told how it ended, or that the caller dropped it first.
pub(crate) fn typed<T: Send + 'static>(
    open: OpenStream,
    context: StreamContext,
    parse: fn(&str) -> Option<T>,
    mut watch: StreamWatch,
) -> EventStream<T> {
    watch.trace_id(open.check.trace_id());
    watch.passed(open.head.len());
    let typed = Typed {
        open,
        context,
        parse,
        watch,
    };
    stream::unfold(Some(typed), |state| async move {
        let mut typed = state?;
        match typed.next().await {
            Some(Ok(item)) => Some((Ok(item), Some(typed))),
            Some(Err(error)) => {
                match error.failure() {
                    Some(failure) => typed.watch.ended(Err(&failure.cause)),
                    None => typed.watch.ended(Ok(())),
                }
                Some((Err(error), None))
            }
            None => {
                typed.watch.ended(Ok(()));
                None
            }
        }
    })
    .boxed()
}
