//! Whether Redis answers: a change is said once in the log and in the
//! `minimax_shared_state_up` gauge; while it does not, one operation every 200 ms tries it
//! (soon after Redis is back every process shares again: a process still alone meanwhile
//! sends on top of the fleet's pace).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// How often Redis is tried while it does not answer.
const RETRY_EVERY_MS: u64 = 200;

#[derive(Debug)]
pub(crate) struct Health {
    up: AtomicBool,
    /// While down: when (ms since `started`) the next operation may try Redis.
    next_try_ms: AtomicU64,
    started: Instant,
}

impl Default for Health {
    fn default() -> Health {
        Health {
            up: AtomicBool::new(true),
            next_try_ms: AtomicU64::new(0),
            started: Instant::now(),
        }
    }
}

impl Health {
    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    pub(crate) fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    /// Whether an operation may go to Redis now: always while it answers; while it does not,
    /// one operation per [`RETRY_EVERY_MS`] (the one that moves the next try on).
    pub(crate) fn may_try(&self) -> bool {
        if self.is_up() {
            return true;
        }
        let now = self.now_ms();
        let next = self.next_try_ms.load(Ordering::Acquire);
        now >= next
            && self
                .next_try_ms
                .compare_exchange(
                    next,
                    now + RETRY_EVERY_MS,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                )
                .is_ok()
    }

    pub(crate) fn answered(&self, place: &str) {
        if !self.up.swap(true, Ordering::AcqRel) {
            tracing::warn!(redis = %place, "the shared state answers again; the fleet's pace, breaker and alerts are shared again");
        }
        metrics::gauge!("minimax_shared_state_up").set(1.0);
    }

    pub(crate) fn failed(&self, place: &str) {
        metrics::counter!("minimax_shared_state_errors_total").increment(1);
        self.next_try_ms
            .store(self.now_ms() + RETRY_EVERY_MS, Ordering::Release);
        if self.up.swap(false, Ordering::AcqRel) {
            tracing::error!(redis = %place, "the shared state does not answer; each process goes on with its own state (its share of the fleet's last rate) until it does");
        }
        metrics::gauge!("minimax_shared_state_up").set(0.0);
    }
}
