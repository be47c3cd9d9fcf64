//! The retry budget shared by all calls of a client: it bounds retries of transient failures, so
//! a failing upstream never sees more than a bounded multiple of the normal load (tower's
//! `Budget`, the AWS SDKs' retry quota). Throttled calls do not draw on it when calls are
//! paced: the pacer, not the budget, protects the API from throttling, and self-inflicted
//! throttles must not drain what transient faults need.

use std::fmt;
use std::sync::Mutex;

/// A budget: retries withdraw from it, successes deposit.
pub trait Budget: Send + Sync + fmt::Debug {
    /// Takes `cost` for one retry; `false` (and nothing taken) when the budget cannot pay.
    fn withdraw(&self, cost: u32) -> bool;
    /// Gives `amount` back.
    fn deposit(&self, amount: u32);
    /// What is left, for metrics.
    fn level(&self) -> u32;
}

/// Budget settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BudgetConfig {
    /// Tokens when full.
    pub capacity: u32,
    /// Cost of retrying a throttled call when calls are not paced (paced, it costs nothing).
    pub throttling_cost: u32,
    /// Cost of any other retry.
    pub retry_cost: u32,
    /// Tokens a call that succeeds at its first attempt gives back (a retried call that
    /// succeeds gives back what its retries cost).
    pub success_refund: u32,
}

impl Default for BudgetConfig {
    /// The AWS SDKs' standard figures: 500 tokens; a throttling retry costs 5, another 14; a
    /// first-try success gives 1 back.
    fn default() -> BudgetConfig {
        BudgetConfig {
            capacity: 500,
            throttling_cost: 5,
            retry_cost: 14,
            success_refund: 1,
        }
    }
}

/// The default budget: a bucket of tokens.
#[derive(Debug)]
pub struct RetryBudget {
    capacity: u32,
    tokens: Mutex<u32>,
}

impl RetryBudget {
    /// A full bucket of `capacity` tokens.
    pub fn new(capacity: u32) -> RetryBudget {
        RetryBudget {
            capacity,
            tokens: Mutex::new(capacity),
        }
    }
}

impl Budget for RetryBudget {
    fn withdraw(&self, cost: u32) -> bool {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if *tokens < cost {
            return false;
        }
        *tokens -= cost;
        true
    }

    fn deposit(&self, amount: u32) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        *tokens = tokens.saturating_add(amount).min(self.capacity);
    }

    fn level(&self) -> u32 {
        *self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn withdraws_and_deposits_within_capacity() {
        let budget = RetryBudget::new(20);
        assert!(budget.withdraw(14));
        assert_eq!(budget.level(), 6);
        assert!(!budget.withdraw(14), "14 > 6");
        assert_eq!(budget.level(), 6, "nothing taken");
        assert!(budget.withdraw(5));
        assert_eq!(budget.level(), 1);
        budget.deposit(1000);
        assert_eq!(budget.level(), 20, "never above capacity");
    }
}
