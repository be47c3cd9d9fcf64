//! The pacer with a fleet's shared state, in paused time: it follows the fleet's pace and
//! breaker, tells the fleet of throttles, and when the state cannot be reached goes on alone at
//! its share of the fleet's last rate, then follows the fleet again when it answers.

use async_trait::async_trait;
use minimax_errors::{ErrorCode, LimitGroup};
use minimax_guard::pacer::{AccountId, Pacer, PacingConfig, Throttle};
use minimax_guard::shared::{
    FleetPace, SharedState, SharedTrip, ThrottleNews, Turn, TurnAsk, Unshared,
};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, atomic::AtomicU32};
use tokio::time::Duration;

/// A fleet whose pace is fixed; it can be switched off, and records what it is told.
#[derive(Debug, Default)]
struct FixedFleet {
    down: AtomicBool,
    turns: AtomicU32,
    news: Mutex<Vec<ThrottleNews>>,
    trip: Mutex<Option<SharedTrip>>,
}

const FLEET_RATE: f64 = 40.0;
const MEMBERS: u32 = 4;

#[async_trait]
impl SharedState for FixedFleet {
    async fn turn(&self, _ask: TurnAsk) -> Result<Turn, Unshared> {
        if self.down.load(Ordering::SeqCst) {
            return Err(Unshared);
        }
        self.turns.fetch_add(1, Ordering::SeqCst);
        Ok(Turn {
            wait: Some(Duration::from_millis(100)),
            pace: FleetPace {
                rate: FLEET_RATE,
                epoch: 7,
                w_max: FLEET_RATE / 0.95,
                since_cut: Duration::from_secs(1),
            },
            members: MEMBERS,
            tripped: self.trip.lock().unwrap().clone(),
        })
    }

    async fn throttled(&self, news: ThrottleNews) -> Result<(), Unshared> {
        self.news.lock().unwrap().push(news);
        Ok(())
    }

    async fn trip(&self, _account: AccountId, trip: SharedTrip) -> Result<(), Unshared> {
        *self.trip.lock().unwrap() = Some(trip);
        Ok(())
    }

    async fn tripped(&self, _account: AccountId) -> Result<Option<SharedTrip>, Unshared> {
        Ok(self.trip.lock().unwrap().clone())
    }
}

fn pacer(fleet: &Arc<FixedFleet>) -> Pacer {
    let shared: Arc<dyn SharedState> = Arc::clone(fleet) as Arc<dyn SharedState>;
    Pacer::with_shared(
        PacingConfig::default(),
        Arc::new(minimax_guard::clock::TokioClock),
        shared,
    )
}

/// Takes `turns` turns of `account`'s text group, one after the other, each a success.
async fn succeed(pacer: &Pacer, account: AccountId, turns: u32) {
    for _ in 0..turns {
        pacer
            .acquire(account, LimitGroup::Text, 0, None)
            .await
            .unwrap()
            .succeeded();
    }
}
#[tokio::test(start_paused = true)]
async fn follows_the_fleet_then_goes_alone_at_its_share_then_follows_again() {
    let fleet = Arc::new(FixedFleet::default());
    let pacer = pacer(&fleet);
    let account = AccountId::of_key("sk-api-fleet");
    let permit = pacer
        .acquire(account, LimitGroup::Text, 0, None)
        .await
        .unwrap();
    assert_eq!(
        permit.waited(),
        Duration::from_millis(100),
        "the fleet's wait"
    );
    permit.succeeded();
    let (rpm, _) = pacer.pace(account, LimitGroup::Text).unwrap();
    // The fleet's rate, grown along the fleet's cubic (its proposal for the next turn).
    let w_max = FLEET_RATE / 0.95 * 60.0;
    assert!(
        (FLEET_RATE * 60.0..=w_max).contains(&rpm),
        "the fleet's rate: {rpm}"
    );

    fleet.down.store(true, Ordering::SeqCst);
    succeed(&pacer, account, 1).await;
    let (rpm, _) = pacer.pace(account, LimitGroup::Text).unwrap();
    let share = FLEET_RATE / f64::from(MEMBERS) * 60.0;
    assert!((rpm - share).abs() < 1.0, "alone at its share: {rpm}");
    // Alone, the turns come at the share's pace.
    let started = tokio::time::Instant::now();
    succeed(&pacer, account, 10).await;
    let took = started.elapsed().as_secs_f64();
    assert!((0.85..1.2).contains(&took), "10 turns at 10/s: {took} s");

    fleet.down.store(false, Ordering::SeqCst);
    let before = fleet.turns.load(Ordering::SeqCst);
    succeed(&pacer, account, 1).await;
    assert_eq!(
        fleet.turns.load(Ordering::SeqCst),
        before + 1,
        "back in the fleet"
    );
    let (rpm, _) = pacer.pace(account, LimitGroup::Text).unwrap();
    assert!(
        rpm >= FLEET_RATE * 60.0 - 1.0,
        "the fleet's rate again: {rpm}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_throttle_is_told_to_the_fleet_with_the_turns_epoch() {
    let fleet = Arc::new(FixedFleet::default());
    let pacer = pacer(&fleet);
    let account = AccountId::of_key("sk-api-fleet");
    succeed(&pacer, account, 5).await;
    let permit = pacer
        .acquire(account, LimitGroup::Text, 0, None)
        .await
        .unwrap();
    permit.throttled(Throttle::Rate, None);
    tokio::task::yield_now().await;
    tokio::time::sleep(Duration::from_millis(1)).await;
    let news = fleet.news.lock().unwrap().clone();
    assert_eq!(news.len(), 1, "{news:?}");
    assert_eq!(news[0].epoch, 7);
    let (rate, w_max) = news[0].cut.expect("a cut");
    assert!(rate < FLEET_RATE && w_max <= FLEET_RATE, "{rate} {w_max}");
    assert!(news[0].hold.is_some());
}

#[tokio::test(start_paused = true)]
async fn a_breaker_opened_elsewhere_fails_the_call_before_it_is_sent() {
    let fleet = Arc::new(FixedFleet::default());
    *fleet.trip.lock().unwrap() = Some(SharedTrip {
        code: ErrorCode::INVALID_API_KEY,
        trace_id: None,
        remaining: Duration::from_secs(60),
        resets_at: None,
    });
    let shared: Arc<dyn SharedState> = Arc::clone(&fleet) as Arc<dyn SharedState>;
    let executor =
        minimax_guard::Executor::new(minimax_guard::RetryConfig::default()).with_shared(shared);
    let sent = Arc::new(AtomicU32::new(0));
    let counted = Arc::clone(&sent);
    let call = minimax_guard::Call::from(minimax_errors::Endpoint::Chat)
        .account(AccountId::of_key("sk-api-fleet"));
    let result = executor
        .execute(call, move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async {
                Ok(minimax_guard::RawResponse {
                    status: 200,
                    headers: Default::default(),
                    body: r#"{"base_resp":{"status_code":0}}"#.into(),
                })
            }
        })
        .await;
    match result {
        Err(minimax_guard::GuardError::FailingFast { code, .. }) => {
            assert_eq!(code, ErrorCode::INVALID_API_KEY);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sent.load(Ordering::SeqCst), 0);
}
