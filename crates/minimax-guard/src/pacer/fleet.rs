//! A group of a fleet: its turns come from the schedule every process of the account shares;
//! while that cannot be reached, the group paces alone at its share of the fleet's last rate.

use super::PaceTooLong;
use super::group::Group;
use super::rate;
use crate::clock::Clock;
use crate::shared::{FleetPace, SharedState, SharedTrip, TurnAsk};
use std::sync::Arc;
use tokio::time::{Duration, Instant};

/// What a group last heard of its fleet.
#[derive(Debug, Clone, Copy)]
pub(super) struct FleetView {
    pub(super) pace: FleetPace,
    pub(super) members: u32,
    pub(super) seen: Instant,
}

impl Group {
    /// Takes this call's turn in the fleet's schedule and waits for it, following the
    /// fleet's pace. `Ok(None)`: the fleet's state cannot be reached (the group then paces
    /// alone, at its share of the fleet's last rate).
    pub(super) async fn fleet_turn(
        &self,
        shared: &dyn SharedState,
        deadline: Option<Instant>,
        asked: Instant,
        clock: &Arc<dyn Clock>,
    ) -> Result<Option<(u64, Option<SharedTrip>)>, PaceTooLong> {
        let now = clock.now();
        let ask = {
            let state = self.state();
            let start = match state.fleet {
                Some(last) => FleetPace {
                    since_cut: last.pace.since_cut + now.saturating_duration_since(last.seen),
                    ..last.pace
                },
                None => FleetPace {
                    rate: state.rate.rate(),
                    epoch: 0,
                    w_max: 0.0,
                    since_cut: Duration::ZERO,
                },
            };
            TurnAsk {
                account: self.account,
                group: self.name,
                start,
                proposed_rate: state.rate.rate(),
                epoch: state.following().map_or(0, |f| f.pace.epoch),
                max_wait: deadline.map(|d| d.saturating_duration_since(now)),
            }
        };
        let turn = match shared.turn(ask).await {
            Ok(turn) => turn,
            Err(_) => {
                let mut state = self.state();
                if let Some(fleet) = state.following() {
                    let share = fleet.pace.rate / f64::from(fleet.members.max(1));
                    state.rate.go_alone(share, clock.now());
                    // The turn the fleet gave last is a turn of this process's share too.
                    let gap = Duration::from_secs_f64(1.0 / state.rate.rate());
                    state.next_free = clock.now() + gap;
                }
                return Ok(None);
            }
        };
        {
            let mut state = self.state();
            let pace = turn.pace;
            let new_epoch = state.following().is_none_or(|f| f.pace.epoch != pace.epoch);
            let now = clock.now();
            let cut = (pace.w_max, pace.since_cut);
            state
                .rate
                .follow(pace.rate, new_epoch, cut, turn.members, now);
            let view = FleetView {
                pace,
                members: turn.members,
                seen: now,
            };
            state.fleet = Some(view);
        }
        let Some(wait) = turn.wait else {
            let wait = Duration::from_secs_f64(1.0 / turn.pace.rate.max(rate::MIN_RATE));
            return Err(self.too_long(clock.now() + wait - asked));
        };
        if !wait.is_zero() {
            clock.sleep_until(clock.now() + wait).await;
        }
        Ok(Some((turn.pace.epoch, turn.tripped)))
    }
}
