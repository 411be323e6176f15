//! What an upstream's 429 means for every request of the client, not only the one it answered.
//! Graph documents throttling as 429 with `Retry-After` ("wait, retry, and keep honouring it;
//! immediate retries count against the limit": https://learn.microsoft.com/graph/throttling),
//! and publishes no fixed rate for the Teams number APIs. So a client without a configured rate
//! learns one: after a 429 every request waits out `Retry-After`, then the client paces itself a
//! little below the rate that was getting through when it was throttled, and speeds up again a
//! tenth per second without a 429 until it is unlimited again.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Above this learned rate the client is unlimited again.
const UNLIMITED_ABOVE: f64 = 100_000.0;
/// The lowest pace it falls to.
const SLOWEST: f64 = 1.0;

/// The shared state of one upstream client's throttling.
#[derive(Debug, Default)]
pub struct Throttle {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// No request before this instant (the latest `Retry-After` seen).
    paused_until: Option<Instant>,
    /// The learned pace in requests per second; `None` is unlimited.
    rate: Option<f64>,
    /// The earliest instant the next paced request may go.
    next_slot: Option<Instant>,
    /// When the pace was last raised (or learned).
    last_change: Option<Instant>,
    /// Answers that were not 429 in the last second: what was getting through.
    passed: VecDeque<Instant>,
}

impl Throttle {
    /// How long the next request must wait before it is sent; reserves its slot.
    pub fn reserve(&self, now: Instant) -> Duration {
        let mut state = self.state.lock().expect("throttle lock");
        state.raise(now);
        let mut at = now;
        if let Some(paused) = state.paused_until.filter(|until| *until > now) {
            at = paused;
        }
        if let Some(rate) = state.rate {
            let slot = state.next_slot.map_or(at, |slot| slot.max(at));
            state.next_slot = Some(slot + Duration::from_secs_f64(1.0 / rate));
            at = slot;
        }
        at.duration_since(now)
    }

    /// Records an answer that was not a 429, at `now`.
    pub fn passed(&self, now: Instant) {
        let mut state = self.state.lock().expect("throttle lock");
        state.forget_before(now);
        state.passed.push_back(now);
    }

    /// Records a 429 (or a 503 with `Retry-After`) seen at `now`: every request waits
    /// `retry_after` (if given), and the pace drops to what was getting through.
    pub fn throttled(&self, now: Instant, retry_after: Option<Duration>) {
        let mut state = self.state.lock().expect("throttle lock");
        if let Some(wait) = retry_after {
            let until = now + wait;
            state.paused_until = Some(state.paused_until.map_or(until, |p| p.max(until)));
        }
        // Learn at most once per second: a burst of 429s answers one excess, not many.
        if state
            .last_change
            .is_some_and(|changed| now.duration_since(changed) < Duration::from_secs(1))
            && state.rate.is_some()
        {
            return;
        }
        state.forget_before(now);
        let getting_through = state.passed.len() as f64 * 0.9;
        let learned = match state.rate {
            Some(rate) => (rate * 0.5).min(getting_through.max(SLOWEST)),
            // Nothing got through lately (a cold client, or a quota someone else spent): there
            // is no rate to learn, only the pause to honour.
            None if getting_through < SLOWEST => return,
            None => getting_through,
        };
        state.rate = Some(learned.max(SLOWEST));
        state.last_change = Some(now);
    }

    /// The learned pace, if any (for logs and tests).
    pub fn rate(&self) -> Option<f64> {
        self.state.lock().expect("throttle lock").rate
    }
}

impl State {
    fn forget_before(&mut self, now: Instant) {
        while self
            .passed
            .front()
            .is_some_and(|at| now.duration_since(*at) > Duration::from_secs(1))
        {
            self.passed.pop_front();
        }
    }

    /// A tenth faster per second without a 429.
    fn raise(&mut self, now: Instant) {
        let (Some(rate), Some(changed)) = (self.rate, self.last_change) else {
            return;
        };
        let quiet = now.duration_since(changed);
        if quiet < Duration::from_secs(1) {
            return;
        }
        let raised = rate * 1.1_f64.powf(quiet.as_secs_f64());
        self.rate = (raised <= UNLIMITED_ABOVE).then_some(raised);
        self.last_change = Some(now);
        if self.rate.is_none() {
            self.next_slot = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_429_to_a_cold_client_pauses_it_without_learning_a_crawl() {
        let throttle = Throttle::default();
        let start = Instant::now();
        throttle.throttled(start, Some(Duration::from_secs(3)));
        assert_eq!(
            throttle.rate(),
            None,
            "nothing got through, so there is no pace to learn"
        );
        assert_eq!(throttle.reserve(start), Duration::from_secs(3));
        assert_eq!(throttle.reserve(start + Duration::from_secs(3)), Duration::ZERO);
    }

    #[test]
    fn an_unthrottled_client_never_waits() {
        let throttle = Throttle::default();
        let now = Instant::now();
        for _ in 0..1000 {
            assert_eq!(throttle.reserve(now), Duration::ZERO);
        }
        assert_eq!(throttle.rate(), None);
    }

    #[test]
    fn after_a_429_every_request_waits_out_retry_after_then_goes_at_the_learned_pace() {
        let throttle = Throttle::default();
        let start = Instant::now();
        // 100 requests got through in the last second, then a 429 asking for 2 s.
        for _ in 0..100 {
            throttle.reserve(start);
            throttle.passed(start);
        }
        throttle.throttled(start, Some(Duration::from_secs(2)));
        assert_eq!(throttle.rate(), Some(90.0));
        let first = throttle.reserve(start);
        let second = throttle.reserve(start);
        assert_eq!(first, Duration::from_secs(2), "the pause holds for every request");
        assert_eq!(second - first, Duration::from_secs_f64(1.0 / 90.0));
    }

    #[test]
    fn a_burst_of_429s_lowers_the_pace_once_and_quiet_raises_it_back_to_unlimited() {
        let throttle = Throttle::default();
        let start = Instant::now();
        for _ in 0..50 {
            throttle.reserve(start);
            throttle.passed(start);
        }
        for _ in 0..20 {
            throttle.throttled(start, None);
        }
        assert_eq!(throttle.rate(), Some(45.0));
        throttle.reserve(start + Duration::from_secs(10));
        let raised = throttle.rate().expect("still paced");
        assert!((raised - 45.0 * 1.1_f64.powi(10)).abs() < 0.01, "{raised}");
        throttle.reserve(start + Duration::from_secs(200));
        assert_eq!(throttle.rate(), None, "quiet long enough: unlimited again");
    }
}
