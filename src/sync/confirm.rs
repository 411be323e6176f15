//! Confirming submitted number changes cheaply and exactly. Polling every operation costs one or
//! more Graph requests per change; instead, after a wave of writes, one paged read of the
//! tenant's number assignments confirms every change whose number now shows its intended holder.
//! Only the rest (refused, or still running) are looked at one by one, so a refusal still gets
//! Teams' own detail. Nothing is assumed: a change is done when Teams shows it done.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use super::change::{ChangeOutcome, WriteError};
use super::model::ActionKind;
use super::ports::ChangeConfirmer;

/// The first wait before looking at operations Teams did not give a `Retry-After` for.
pub const FIRST_LOOK: Duration = Duration::from_millis(100);
/// The longest wait between looks.
pub const LONGEST_WAIT: Duration = Duration::from_secs(5);

/// A change Teams accepted as a long-running operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingChange {
    /// The outcome (user) it belongs to.
    pub outcome: usize,
    /// What was asked.
    pub kind: ActionKind,
    /// The operation's URL; `None` when Teams gave none, so the number listing alone confirms it.
    pub url: Option<String>,
}

/// The verdict of one change.
pub type Verdict = (usize, ActionKind, Result<ChangeOutcome, WriteError>);

/// Whether `holders` shows the change `kind` as made.
fn shows_done(kind: &ActionKind, holders: &HashMap<String, Option<String>>) -> bool {
    match kind {
        ActionKind::Assign { number, user_id, .. } => holders
            .get(number)
            .is_some_and(|holder| holder.as_deref() == Some(user_id.as_str())),
        ActionKind::Unassign { number } => holders.get(number).is_none_or(Option::is_none),
    }
}

/// Waits for the verdicts of `pending`, within the writer's operation timeout; what is still
/// running then is reported as [`ChangeOutcome::StillRunning`] (the next sync sees it).
/// `first_wait` is how long Teams asked to wait before the first look.
pub async fn confirm<W: ChangeConfirmer>(
    writer: &W,
    mut pending: Vec<PendingChange>,
    first_wait: Duration,
) -> Vec<Verdict> {
    let mut verdicts = Vec::with_capacity(pending.len());
    let deadline = Instant::now() + writer.operation_timeout();
    let mut wait = first_wait.max(Duration::from_millis(1));
    // A listing costs about one request per 1,000 numbers; it is worth it while more changes
    // are pending than that. Until the first listing says how many numbers there are, assume
    // a page's worth.
    let mut listing_cost = 1;
    while !pending.is_empty() {
        if Instant::now() + wait > deadline {
            break;
        }
        tokio::time::sleep(wait).await;
        // A failed listing is not a verdict: the changes are then looked at one by one.
        let listing_worth_it =
            pending.len() > listing_cost.max(1) * 2 || pending.iter().any(|change| change.url.is_none());
        if listing_worth_it && let Ok(holders) = writer.holders().await {
            listing_cost = holders.len().div_ceil(1000);
            pending.retain(|change| {
                let done = shows_done(&change.kind, &holders);
                if done {
                    verdicts.push((change.outcome, change.kind.clone(), Ok(ChangeOutcome::Succeeded)));
                }
                !done
            });
        }
        // What the listing did not confirm is refused or still running: look at each, while
        // that costs less than listing again.
        if pending.len() <= listing_cost.max(1) * 2 || wait >= LONGEST_WAIT {
            let mut still_running = Vec::new();
            for change in pending {
                let Some(url) = &change.url else {
                    still_running.push(change);
                    continue;
                };
                match writer.outcome(url).await {
                    Ok(None) => still_running.push(change),
                    Ok(Some(outcome)) => verdicts.push((change.outcome, change.kind, Ok(outcome))),
                    Err(error) if error.is_transient() => still_running.push(change),
                    Err(error) => verdicts.push((change.outcome, change.kind, Err(error))),
                }
            }
            pending = still_running;
        }
        wait = (wait * 2).min(LONGEST_WAIT);
    }
    verdicts.extend(
        pending
            .into_iter()
            .map(|change| (change.outcome, change.kind, Ok(ChangeOutcome::StillRunning))),
    );
    verdicts
}

/// How many changes to keep in flight: enough to keep the request budget busy while each
/// request takes `latency` (Little's law, doubled for variance), at least 2 and at most 64.
/// Without a known budget, 8.
pub fn concurrency_for(requests_per_second: Option<u32>, latency: Duration) -> usize {
    match requests_per_second {
        Some(rate) => {
            let in_flight = (f64::from(rate) * latency.as_secs_f64() * 2.0).ceil();
            (in_flight as usize).clamp(2, 64)
        }
        None => 8,
    }
}

#[cfg(test)]
#[path = "confirm_tests.rs"]
mod confirm_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrency_follows_the_budget_and_the_latency() {
        assert_eq!(concurrency_for(Some(200), Duration::from_millis(5)), 2);
        assert_eq!(concurrency_for(Some(200), Duration::from_millis(50)), 20);
        assert_eq!(concurrency_for(Some(30), Duration::from_millis(400)), 24);
        assert_eq!(concurrency_for(Some(10_000), Duration::from_secs(1)), 64);
        assert_eq!(concurrency_for(None, Duration::from_millis(50)), 8);
    }

    #[test]
    fn a_listing_confirms_assignments_to_the_intended_user_and_unassignments_only() {
        let holders: HashMap<String, Option<String>> = [
            ("+1".to_owned(), Some("ada".to_owned())),
            ("+2".to_owned(), Some("bob".to_owned())),
            ("+3".to_owned(), None),
        ]
        .into();
        let assign = |number: &str, user: &str| ActionKind::Assign {
            number: number.into(),
            user_id: user.into(),
            location_id: None,
        };
        assert!(shows_done(&assign("+1", "ada"), &holders));
        assert!(
            !shows_done(&assign("+2", "ada"), &holders),
            "held by someone else"
        );
        assert!(!shows_done(&assign("+3", "ada"), &holders));
        assert!(!shows_done(&assign("+9", "ada"), &holders), "not listed");
        let unassign = |number: &str| ActionKind::Unassign {
            number: number.into(),
        };
        assert!(shows_done(&unassign("+3"), &holders));
        assert!(shows_done(&unassign("+9"), &holders));
        assert!(!shows_done(&unassign("+1"), &holders));
    }
}
