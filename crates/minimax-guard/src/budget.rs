//! The retry budget shared by all calls of a client, in the manner of the AWS SDKs' retry quota:
//! a bucket of tokens that retries spend (throttling retries less than others) and first-try
//! successes refill. When it is empty no call retries, so a failing upstream never sees more
//! than a bounded multiple of the normal load.

use std::sync::Mutex;

/// Budget settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetConfig {
    /// Tokens when full.
    pub capacity: u32,
    /// Cost of retrying a throttled call.
    pub throttling_cost: u32,
    /// Cost of any other retry.
    pub retry_cost: u32,
    /// Tokens a call that succeeds at its first attempt gives back.
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

/// The shared bucket.
#[derive(Debug)]
pub struct RetryBudget {
    config: BudgetConfig,
    tokens: Mutex<u32>,
}

impl RetryBudget {
    /// A full bucket.
    pub fn new(config: BudgetConfig) -> RetryBudget {
        RetryBudget {
            config,
            tokens: Mutex::new(config.capacity),
        }
    }

    /// Tokens left.
    pub fn level(&self) -> u32 {
        *self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the cost of one retry; `false` (and nothing taken) when the bucket cannot pay.
    pub fn try_spend(&self, throttling: bool) -> bool {
        let cost = if throttling {
            self.config.throttling_cost
        } else {
            self.config.retry_cost
        };
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if *tokens < cost {
            return false;
        }
        *tokens -= cost;
        true
    }

    /// A call succeeded at its first attempt: refill a little.
    pub fn refund(&self) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        *tokens = (*tokens + self.config.success_refund).min(self.config.capacity);
    }
}

impl Default for RetryBudget {
    fn default() -> RetryBudget {
        RetryBudget::new(BudgetConfig::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spends_and_refills() {
        let budget = RetryBudget::new(BudgetConfig {
            capacity: 20,
            throttling_cost: 5,
            retry_cost: 14,
            success_refund: 1,
        });
        assert!(budget.try_spend(false));
        assert_eq!(budget.level(), 6);
        assert!(!budget.try_spend(false), "14 > 6");
        assert!(budget.try_spend(true));
        assert_eq!(budget.level(), 1);
        for _ in 0..30 {
            budget.refund();
        }
        assert_eq!(budget.level(), 20, "never above capacity");
    }
}
