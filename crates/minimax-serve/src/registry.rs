//! The open connections: which have a request in flight, which are idle and since when, and
//! which one makes room when the bound is reached.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// What a connection is doing.
#[derive(Debug, Clone, Copy)]
enum Use {
    /// Accepted, and not a byte has arrived yet.
    Silent { since: Instant },
    /// Bytes arrived, but no request yet.
    Unused { since: Instant },
    /// Its last answer ended at `since`.
    Idle { since: Instant },
    /// Requests in flight.
    Busy { requests: usize },
}

impl Use {
    /// Its place in the order of eviction: silent first, then those that sent something but
    /// no request, then idle ones, each oldest first. A working client's new connection speaks
    /// at once, so a flood of silent connections pushes out only its own kind.
    fn evictable(self) -> Option<(u8, Instant)> {
        match self {
            Use::Silent { since } => Some((0, since)),
            Use::Unused { since } => Some((1, since)),
            Use::Idle { since } => Some((2, since)),
            Use::Busy { .. } => None,
        }
    }

    fn idle_since(self) -> Option<Instant> {
        self.evictable().map(|(_, since)| since)
    }
}

/// How long a connection is safe from eviction after it opened or its last answer ended: time
/// for a working client to send its request, and for a kept-alive one to send its next.
pub(crate) const GRACE: Duration = Duration::from_secs(1);

#[derive(Default)]
struct Slots {
    next: u64,
    open: HashMap<u64, (Use, Arc<Notify>)>,
}

/// Every open connection, under one lock (taken once when a request starts and once when its
/// answer ends; an eviction scans at most the bound).
pub(crate) struct Registry {
    slots: Mutex<Slots>,
    allowed: usize,
}

/// Whether a new connection may be served.
pub(crate) enum Admission {
    /// Served, tracked by this handle.
    Admitted(Arc<Connection>),
    /// At the bound with every connection busy.
    Full,
}

impl Registry {
    pub(crate) fn new(allowed: usize) -> Registry {
        Registry {
            slots: Mutex::new(Slots::default()),
            allowed,
        }
    }

    fn slots(&self) -> MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Admits a new connection, closing the most evictable one past its grace when at the
    /// bound; when there is none, the new one is refused.
    pub(crate) fn admit(self: &Arc<Self>) -> Admission {
        let now = Instant::now();
        let mut slots = self.slots();
        if slots.open.len() >= self.allowed {
            let victim = slots
                .open
                .iter()
                .filter_map(|(id, (state, _))| state.evictable().map(|order| (order, *id)))
                .filter(|((_, since), _)| now.saturating_duration_since(*since) >= GRACE)
                .min();
            let Some((_, victim)) = victim else {
                return Admission::Full;
            };
            if let Some((_, changed)) = slots.open.remove(&victim) {
                changed.notify_one();
            }
        }
        let id = slots.next;
        slots.next += 1;
        let changed = Arc::new(Notify::new());
        slots
            .open
            .insert(id, (Use::Silent { since: now }, Arc::clone(&changed)));
        Admission::Admitted(Arc::new(Connection {
            id,
            registry: Arc::clone(self),
            changed,
        }))
    }

    fn state(&self, id: u64) -> Option<Use> {
        self.slots().open.get(&id).map(|(state, _)| *state)
    }
}

/// One open connection's handle; the connection is forgotten when the last handle goes.
pub(crate) struct Connection {
    id: u64,
    registry: Arc<Registry>,
    changed: Arc<Notify>,
}

impl Connection {
    /// Its first bytes arrived.
    pub(crate) fn spoke(&self) {
        if let Some((state, _)) = self.registry.slots().open.get_mut(&self.id)
            && let Use::Silent { since } = *state
        {
            *state = Use::Unused { since };
        }
    }

    /// A request arrived; it is in flight until the guard is dropped.
    pub(crate) fn request_started(self: &Arc<Self>) -> RequestGuard {
        if let Some((state, _)) = self.registry.slots().open.get_mut(&self.id) {
            *state = match *state {
                Use::Busy { requests } => Use::Busy {
                    requests: requests + 1,
                },
                _ => Use::Busy { requests: 1 },
            };
        }
        self.changed.notify_one();
        RequestGuard(Arc::clone(self))
    }

    /// Completes when the connection is to be closed: idle for `idle`, or evicted.
    pub(crate) async fn closed(&self, idle: Duration) {
        loop {
            let changed = self.changed.notified();
            match self.registry.state(self.id) {
                None => return,
                Some(Use::Busy { .. }) => changed.await,
                Some(state) => {
                    let since = state.idle_since().unwrap_or_else(Instant::now);
                    tokio::select! {
                        () = tokio::time::sleep_until(since + idle) => {
                            let still = self.registry.state(self.id).and_then(Use::idle_since);
                            if still == Some(since) {
                                self.registry.slots().open.remove(&self.id);
                                return;
                            }
                        }
                        () = changed => {}
                    }
                }
            }
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.registry.slots().open.remove(&self.id);
    }
}

/// A request in flight on a connection.
pub(crate) struct RequestGuard(Arc<Connection>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let connection = &self.0;
        if let Some((state, _)) = connection.registry.slots().open.get_mut(&connection.id) {
            *state = match *state {
                Use::Busy { requests } if requests > 1 => Use::Busy {
                    requests: requests - 1,
                },
                _ => Use::Idle {
                    since: Instant::now(),
                },
            };
        }
        connection.changed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn at_the_bound_the_silent_go_first_then_the_unused_then_the_longest_idle_never_the_busy()
    {
        let registry = Arc::new(Registry::new(3));
        let admit = || match registry.admit() {
            Admission::Admitted(connection) => Some(connection),
            Admission::Full => None,
        };
        let open = |c: &Arc<Connection>| registry.state(c.id).is_some();
        let busy = admit().expect("room");
        let _request = busy.request_started();
        let used = admit().expect("room");
        drop(used.request_started());
        let unused = admit().expect("room");
        unused.spoke();
        assert!(admit().is_none(), "none past its grace: refused");
        tokio::time::advance(GRACE).await;
        // Full: the one that spoke but asked nothing goes before the one idle longer.
        let silent = admit().expect("room by eviction");
        assert!(!open(&unused) && open(&used));
        // A silent one goes before the idle one.
        tokio::time::advance(GRACE).await;
        let working = admit().expect("room by eviction");
        assert!(!open(&silent) && open(&used));
        let _working_request = working.request_started();
        // Then the idle one.
        let last = admit().expect("the idle one makes room");
        assert!(!open(&used));
        let _last_request = last.request_started();
        assert!(admit().is_none(), "all busy: refused");
        assert!(open(&busy) && open(&working) && open(&last));
    }

    #[tokio::test(start_paused = true)]
    async fn idle_connections_close_after_their_limit_and_busy_ones_do_not() {
        let registry = Arc::new(Registry::new(8));
        let Admission::Admitted(connection) = registry.admit() else {
            panic!("room")
        };
        let started = Instant::now();
        connection.closed(Duration::from_secs(5)).await;
        assert_eq!(started.elapsed(), Duration::from_secs(5));

        let Admission::Admitted(connection) = registry.admit() else {
            panic!("room")
        };
        let request = connection.request_started();
        let waiting = tokio::time::timeout(
            Duration::from_secs(60),
            connection.closed(Duration::from_secs(5)),
        );
        assert!(waiting.await.is_err(), "a busy connection is not idle");
        drop(request);
        let started = Instant::now();
        connection.closed(Duration::from_secs(5)).await;
        assert_eq!(started.elapsed(), Duration::from_secs(5));
    }
}
