//! The connections a group may have in flight, learned from 1041 the way the rate is learned
//! from 1002: a 1041 sets the cap just under what was in flight; successes give connections
//! back one at a time, less often each time a 1041 finds the cap where the last one did (a
//! stable cap is tested less and less). A cap given in advance is kept as it is.

/// Connections given back one per this many successes, at first...
const REGROWTH: u32 = 20;
/// ... and at most.
const MAX_REGROWTH: u32 = 640;

/// A group's cap on calls in flight.
#[derive(Debug, Clone, Copy)]
pub(super) struct ConnectionCap {
    /// `None`: no cap known.
    max: Option<u32>,
    /// Given in advance: never learned.
    fixed: bool,
    /// Successes since the cap last changed, and how many give a connection back.
    since: u32,
    regrowth: u32,
}

impl ConnectionCap {
    pub(super) fn new(given: Option<u32>) -> ConnectionCap {
        ConnectionCap {
            max: given,
            fixed: given.is_some(),
            since: 0,
            regrowth: REGROWTH,
        }
    }

    /// Whether `in_flight` calls use every connection.
    pub(super) fn full(&self, in_flight: u32) -> bool {
        self.max.is_some_and(|max| in_flight >= max)
    }

    /// A call succeeded.
    pub(super) fn succeeded(&mut self) {
        if self.fixed {
            return;
        }
        if let Some(max) = self.max {
            self.since += 1;
            if self.since >= self.regrowth {
                self.since = 0;
                self.max = Some(max + 1);
            }
        }
    }

    /// A 1041 came with `in_flight` calls out (this one included).
    pub(super) fn refused(&mut self, in_flight: u32) {
        if self.fixed {
            return;
        }
        let cap = in_flight.saturating_sub(1).max(1);
        let same = self.max.is_some_and(|old| old.abs_diff(cap) <= 1);
        self.regrowth = match same {
            true => (self.regrowth * 2).min(MAX_REGROWTH),
            false => REGROWTH,
        };
        self.max = Some(cap);
        self.since = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cap_found_again_in_the_same_place_is_tested_less_often() {
        let mut cap = ConnectionCap::new(None);
        assert!(!cap.full(1_000));
        cap.refused(21);
        assert!(cap.full(20) && !cap.full(19));
        (0..REGROWTH).for_each(|_| cap.succeeded());
        assert!(
            !cap.full(20),
            "one connection back after {REGROWTH} successes"
        );
        cap.refused(21);
        (0..REGROWTH).for_each(|_| cap.succeeded());
        assert!(
            cap.full(20),
            "the same cap again: twice as many successes needed"
        );
        (0..REGROWTH).for_each(|_| cap.succeeded());
        assert!(!cap.full(20));
        let mut given = ConnectionCap::new(Some(4));
        given.refused(2);
        (0..1000).for_each(|_| given.succeeded());
        assert!(given.full(4) && !given.full(3), "a given cap is kept");
    }
}
