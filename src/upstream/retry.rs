//! When to retry an upstream call and how long to wait: exponential backoff with full jitter that
//! never waits less than the server's `Retry-After`, and a retry budget so that a failing upstream
//! is not hammered by every caller at once.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use rand::Rng;

/// Retry settings of one client.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// Backoff base: attempt `n` (from 1) waits a random time up to `base * 2^(n-1)`.
    pub base: Duration,
    /// The most one backoff waits (before `Retry-After`, which always wins).
    pub cap: Duration,
    /// A `Retry-After` longer than this is not waited out: the call fails as transient instead,
    /// and the caller's next sync tries again.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base: Duration::from_millis(200),
            cap: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// How long to wait before retry number `retry` (1 for the first retry): full jitter over the
    /// exponential window, but at least `retry_after`. `unit` is a random number in `0..1`.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>, unit: f64) -> Duration {
        let exponent = retry.saturating_sub(1).min(30);
        let window = self.base.saturating_mul(1u32 << exponent).min(self.cap);
        let jittered = window.mul_f64(unit.clamp(0.0, 1.0));
        match retry_after {
            Some(server) => server.max(jittered),
            None => jittered,
        }
    }

    /// The delay with a fresh random draw.
    pub fn delay_now(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        self.delay(retry, retry_after, rand::rng().random())
    }
}

/// A shared allowance of retries: every first attempt deposits `ratio` of a retry, every retry
/// withdraws one, and time adds `per_second` (a floor that refills while calls are few). When it
/// is empty, calls fail at once instead of retrying, so an upstream that is down sees at most
/// `1 + ratio` requests per call instead of `max_attempts`.
#[derive(Debug)]
pub struct RetryBudget {
    ratio: f64,
    per_second: f64,
    ceiling: f64,
    state: Mutex<Balance>,
}

#[derive(Debug)]
struct Balance {
    retries: f64,
    updated: Instant,
}

impl RetryBudget {
    /// A budget allowing retries for `ratio` of the calls plus `per_second` retries a second,
    /// with `initial` retries to start with (also the most it can save up beyond what deposits
    /// add, up to `initial * 10`).
    pub fn new(ratio: f64, per_second: f64, initial: u32) -> Self {
        Self {
            ratio,
            per_second,
            ceiling: f64::from(initial) * 10.0,
            state: Mutex::new(Balance {
                retries: f64::from(initial),
                updated: Instant::now(),
            }),
        }
    }

    /// Records a first attempt.
    pub fn deposit(&self) {
        self.change(self.ratio);
    }

    /// Takes one retry if the budget allows it.
    pub fn try_withdraw(&self) -> bool {
        let mut state = self.state.lock().expect("retry budget lock");
        self.refill(&mut state);
        if state.retries >= 1.0 {
            state.retries -= 1.0;
            true
        } else {
            false
        }
    }

    fn change(&self, by: f64) {
        let mut state = self.state.lock().expect("retry budget lock");
        self.refill(&mut state);
        state.retries = (state.retries + by).min(self.ceiling);
    }

    fn refill(&self, state: &mut Balance) {
        let now = Instant::now();
        let seconds = now.duration_since(state.updated).as_secs_f64();
        state.retries = (state.retries + seconds * self.per_second).min(self.ceiling);
        state.updated = now;
    }
}

impl Default for RetryBudget {
    /// Retries for half of the calls plus one a second, starting with 20. Half: an upstream
    /// failing one request in five needs a quarter (0.2 / 0.8) of the calls retried; the
    /// fault suite (tests/fault_suite.rs) found a fifth too little, and every later read of the
    /// sync failing with the budget exhausted.
    fn default() -> Self {
        Self::new(0.5, 1.0, 20)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_window_doubles_up_to_the_cap() {
        let policy = RetryPolicy {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(500),
            ..Default::default()
        };
        assert_eq!(policy.delay(1, None, 1.0), Duration::from_millis(100));
        assert_eq!(policy.delay(2, None, 1.0), Duration::from_millis(200));
        assert_eq!(policy.delay(3, None, 1.0), Duration::from_millis(400));
        assert_eq!(policy.delay(4, None, 1.0), Duration::from_millis(500));
        assert_eq!(policy.delay(40, None, 1.0), Duration::from_millis(500));
    }

    #[test]
    fn full_jitter_spans_zero_to_the_window() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay(3, None, 0.0), Duration::ZERO);
        assert_eq!(policy.delay(3, None, 0.5), Duration::from_millis(400));
    }

    #[test]
    fn retry_after_is_never_undercut() {
        let policy = RetryPolicy::default();
        let server = Duration::from_secs(3);
        assert_eq!(policy.delay(1, Some(server), 0.9), server);
        let long_backoff = policy.delay(8, Some(Duration::from_millis(10)), 1.0);
        assert_eq!(long_backoff, policy.cap);
    }

    #[test]
    fn the_budget_runs_dry_and_refills_with_traffic() {
        let budget = RetryBudget::new(0.5, 0.0, 2);
        assert!(budget.try_withdraw());
        assert!(budget.try_withdraw());
        assert!(!budget.try_withdraw(), "two retries to start with");
        budget.deposit();
        assert!(!budget.try_withdraw(), "half a retry is not a retry");
        budget.deposit();
        assert!(budget.try_withdraw());
    }

    #[tokio::test(start_paused = true)]
    async fn an_empty_budget_refills_with_time_while_calls_are_few() {
        let budget = RetryBudget::new(0.5, 1.0, 1);
        assert!(budget.try_withdraw());
        assert!(!budget.try_withdraw(), "empty");
        tokio::time::advance(Duration::from_millis(1100)).await;
        assert!(budget.try_withdraw(), "a second later there is a retry again");
        assert!(!budget.try_withdraw());
        tokio::time::advance(Duration::from_secs(3600)).await;
        let saved = (0..20).filter(|_| budget.try_withdraw()).count();
        assert_eq!(saved, 10, "saving up stops at ten times the initial allowance");
    }

    #[test]
    fn a_fifth_of_calls_failing_is_sustainable_for_the_default_budget() {
        let budget = RetryBudget::default();
        // Every fifth attempt fails, retries included, for 10,000 calls in no time.
        let mut attempt = 0u32;
        let mut refused = 0;
        for _ in 0..10_000 {
            budget.deposit();
            loop {
                attempt += 1;
                if !attempt.is_multiple_of(5) {
                    break;
                }
                if !budget.try_withdraw() {
                    refused += 1;
                    break;
                }
            }
        }
        assert_eq!(refused, 0, "no call gives up for want of budget");
    }
}
