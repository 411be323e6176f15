//! When a resource syncs next: the earliest of its interval, the next per-user retry, and the
//! next look at assignments Teams is still activating (soon after they were made, then less and
//! less often). Pure: the caller passes the clock.

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;

use crate::sync::model::RetryState;

/// The first look at pending activations after a sync that left some; it doubles with every
/// further sync that still finds some, up to the interval.
pub const FIRST_PENDING_CHECK: Duration = Duration::from_secs(30);

/// The shortest gap between two syncs that no change asked for, so that nothing hot-loops.
pub const MIN_GAP: Duration = Duration::from_secs(5);

/// What the last sync left to come back for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FollowUp {
    /// The earliest `next_attempt` of a user's retry that lies in the future.
    pub next_retry: Option<Timestamp>,
    /// Whether some users wait for Teams to activate their assignment.
    pub pending: bool,
}

impl FollowUp {
    /// The follow-up of a sync that ended at `now`, from its retry states and whether any user is
    /// `AssignmentPending`. Retries whose time has passed are left to the interval: they wait on
    /// something else (a tenant failure), and coming back for them at once would loop.
    pub fn of<'a>(retries: impl IntoIterator<Item = &'a RetryState>, pending: bool, now: Timestamp) -> Self {
        let next_retry = retries
            .into_iter()
            .filter_map(|retry| retry.next_attempt)
            .filter(|at| *at > now)
            .min();
        Self { next_retry, pending }
    }
}

/// How long after `now` the next sync is due. `pending_checks` counts the syncs in a row before
/// this one that already found pending activations.
pub fn next_sync_in(
    interval: Duration,
    follow_up: FollowUp,
    pending_checks: u32,
    now: Timestamp,
) -> Duration {
    let mut next = interval;
    if let Some(at) = follow_up.next_retry {
        let wait = Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO);
        next = next.min(wait.max(MIN_GAP));
    }
    if follow_up.pending {
        let check = FIRST_PENDING_CHECK.saturating_mul(1 << pending_checks.min(16));
        next = next.min(check);
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Reason;

    const INTERVAL: Duration = Duration::from_secs(900);

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + second).unwrap()
    }

    fn retry(next: Option<Timestamp>) -> RetryState {
        RetryState {
            attempts: 1,
            next_attempt: next,
            reason: Reason::TransientError,
            message: String::new(),
        }
    }

    #[test]
    fn without_anything_to_follow_up_the_interval_decides() {
        assert_eq!(next_sync_in(INTERVAL, FollowUp::default(), 0, at(0)), INTERVAL);
    }

    #[test]
    fn a_user_retry_due_before_the_interval_brings_the_sync_forward() {
        let retries = [retry(Some(at(120))), retry(Some(at(60))), retry(None)];
        let follow_up = FollowUp::of(&retries, false, at(0));
        assert_eq!(
            next_sync_in(INTERVAL, follow_up, 0, at(0)),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn retries_whose_time_has_passed_do_not_cause_a_loop() {
        let follow_up = FollowUp::of(&[retry(Some(at(-10)))], false, at(0));
        assert_eq!(follow_up.next_retry, None);
        assert_eq!(next_sync_in(INTERVAL, follow_up, 0, at(0)), INTERVAL);
        let soon = FollowUp::of(&[retry(Some(at(1)))], false, at(0));
        assert_eq!(next_sync_in(INTERVAL, soon, 0, at(0)), MIN_GAP);
    }

    #[test]
    fn pending_activations_are_checked_soon_then_less_often_up_to_the_interval() {
        let pending = FollowUp {
            next_retry: None,
            pending: true,
        };
        let waits: Vec<u64> = (0..8)
            .map(|checks| next_sync_in(INTERVAL, pending, checks, at(0)).as_secs())
            .collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 900, 900, 900]);
    }

    #[test]
    fn the_earliest_reason_wins() {
        let follow_up = FollowUp {
            next_retry: Some(at(20)),
            pending: true,
        };
        assert_eq!(
            next_sync_in(INTERVAL, follow_up, 0, at(0)),
            Duration::from_secs(20)
        );
    }
}
