//! Where the monitor keeps its counts: a few shards, each behind its own lock, so threads that
//! record at once rarely meet. Every table has a fixed size (endpoints × outcomes, 60 one-second
//! and 60 one-minute buckets, five sample trace ids per outcome), so memory stays bounded
//! whatever the number of events.

use super::Event;
use super::outcome::{OTHER_CODE, OUTCOMES, index};
use minimax_errors::Endpoint;
use std::collections::{HashMap, VecDeque};

const ENDPOINTS: usize = Endpoint::COUNT;
/// Buckets in each ring: 60 seconds, and 60 minutes.
pub(crate) const RING: usize = 60;
/// Trace ids kept per outcome.
const SAMPLES: usize = 5;
/// Distinct codes outside the catalog tracked one by one (the rest share one count).
const OTHER_CODES_TRACKED: usize = 100;

/// Counts of one time slice.
#[derive(Debug, Clone)]
pub(crate) struct Bucket {
    /// Which second (or minute) since the Unix epoch the bucket holds; stale buckets are reused.
    pub stamp: u64,
    pub outcomes: [u32; OUTCOMES],
    pub calls: [u32; ENDPOINTS],
    pub first_try_ok: [u32; ENDPOINTS],
    pub ok: [u32; ENDPOINTS],
}

impl Bucket {
    fn empty() -> Bucket {
        Bucket {
            stamp: u64::MAX,
            outcomes: [0; OUTCOMES],
            calls: [0; ENDPOINTS],
            first_try_ok: [0; ENDPOINTS],
            ok: [0; ENDPOINTS],
        }
    }

    /// The bucket for `stamp`, emptied if it held an older slice; `None` for an event older than
    /// the slice the bucket already holds (out of the window anyway).
    fn at(&mut self, stamp: u64) -> Option<&mut Bucket> {
        if self.stamp == u64::MAX || stamp > self.stamp {
            *self = Bucket::empty();
            self.stamp = stamp;
        }
        (self.stamp == stamp).then_some(self)
    }
}

/// Counts since start for one endpoint.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct EndpointTotals {
    pub calls: u64,
    pub first_try_ok: u64,
    pub ok: u64,
    pub attempts: u64,
    pub latency_sum_ms: u64,
    pub latency_max_ms: u64,
}

/// One shard.
#[derive(Debug)]
pub(crate) struct Shard {
    pub totals: [[u64; OUTCOMES]; ENDPOINTS],
    pub endpoints: [EndpointTotals; ENDPOINTS],
    pub first_seen_ms: [u64; OUTCOMES],
    pub last_seen_ms: [u64; OUTCOMES],
    pub samples: Vec<VecDeque<(u64, String)>>,
    pub other_codes: HashMap<i64, u64>,
    pub seconds: Vec<Bucket>,
    pub minutes: Vec<Bucket>,
}

impl Shard {
    pub(crate) fn new() -> Shard {
        Shard {
            totals: [[0; OUTCOMES]; ENDPOINTS],
            endpoints: [EndpointTotals::default(); ENDPOINTS],
            first_seen_ms: [u64::MAX; OUTCOMES],
            last_seen_ms: [0; OUTCOMES],
            samples: vec![VecDeque::new(); OUTCOMES],
            other_codes: HashMap::new(),
            seconds: vec![Bucket::empty(); RING],
            minutes: vec![Bucket::empty(); RING],
        }
    }

    pub(crate) fn record(&mut self, event: &Event<'_>, now_ms: u64) {
        let outcome = index(event.seen, event.endpoint);
        let endpoint = event.endpoint.index();
        let (second, minute) = (now_ms / 1000, now_ms / 60_000);
        self.totals[endpoint][outcome] += 1;
        let totals = &mut self.endpoints[endpoint];
        totals.attempts += 1;
        let latency_ms = event.latency.as_millis() as u64;
        totals.latency_sum_ms += latency_ms;
        totals.latency_max_ms = totals.latency_max_ms.max(latency_ms);
        self.first_seen_ms[outcome] = self.first_seen_ms[outcome].min(now_ms);
        self.last_seen_ms[outcome] = self.last_seen_ms[outcome].max(now_ms);

        let ok = event.final_attempt && !event.seen.is_error();
        let first_try_ok = ok && event.attempt <= 1;
        if event.final_attempt {
            totals.calls += 1;
            totals.ok += u64::from(ok);
            totals.first_try_ok += u64::from(first_try_ok);
        }
        let buckets = [
            self.seconds[(second % RING as u64) as usize].at(second),
            self.minutes[(minute % RING as u64) as usize].at(minute),
        ];
        for bucket in buckets.into_iter().flatten() {
            bucket.outcomes[outcome] += 1;
            if event.final_attempt {
                bucket.calls[endpoint] += 1;
                bucket.ok[endpoint] += u32::from(ok);
                bucket.first_try_ok[endpoint] += u32::from(first_try_ok);
            }
        }
        if event.seen.is_error() {
            if let Some(trace) = event.trace_id {
                let samples = &mut self.samples[outcome];
                if samples.len() == SAMPLES {
                    samples.pop_front();
                }
                samples.push_back((now_ms, trace.to_string()));
            }
            if outcome == OTHER_CODE
                && let super::Seen::Code(code) = event.seen
            {
                let tracked = self.other_codes.len();
                if let Some(count) = self.other_codes.get_mut(&code.as_i64()) {
                    *count += 1;
                } else if tracked < OTHER_CODES_TRACKED {
                    self.other_codes.insert(code.as_i64(), 1);
                }
            }
        }
    }
}
