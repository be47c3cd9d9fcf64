//! Time, as a component: the executor and the pacer read the time and sleep only through a
//! [`Clock`], so tests and simulations run in tokio's paused time (or any other clock).

use futures_util::future::BoxFuture;
use std::fmt;
use std::time::SystemTime;
use tokio::time::Instant;

/// Where time comes from.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// Now, on the monotonic clock.
    fn now(&self) -> Instant;
    /// Completes at `deadline`.
    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()>;
    /// Now, on the wall clock (for HTTP dates in `retry-after`).
    fn system_now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// tokio's clock: real time, or paused time in tests (`#[tokio::test(start_paused = true)]`).
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep_until(deadline))
    }
}
