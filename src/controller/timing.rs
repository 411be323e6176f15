//! When a resource syncs, over its memory: whether a sync is due now (a change asks for one at
//! once, otherwise the time the last sync scheduled), and the next sync's time after one ends
//! (see [`schedule`] for the pure rule).

use std::time::{Duration, Instant};

use kube::{Resource, ResourceExt};

use super::context::{ResourceMemory, SYNC_NOW_ANNOTATION};
use super::schedule;
use crate::api::{Reason, TeamsTenantSync};
use crate::sync::model::UserKey;
use crate::sync::model::parse_duration;
use crate::sync::pipeline::SyncRun;

/// The resource's `syncInterval`, at least a minute (15 minutes if it cannot be read).
pub fn sync_interval(resource: &TeamsTenantSync) -> Duration {
    parse_duration(&resource.spec.sync_interval)
        .unwrap_or(Duration::from_secs(900))
        .max(Duration::from_secs(60))
}

/// The interval with up to 10% jitter, so resources created together do not sync in lockstep.
pub fn jittered(interval: Duration) -> Duration {
    interval.mul_f64(1.0 + rand::random::<f64>() * 0.1)
}

/// Whether a sync is due, and if not, how long until it is: at once after a change (a new
/// generation, a new `sync-now` value, a rotated Secret) or on the first reconcile, else at the
/// time the last sync scheduled (see [`schedule`]). `woken`: change events asked for a sync.
pub fn due(
    resource: &TeamsTenantSync,
    memory: &ResourceMemory,
    secret_versions: &std::collections::BTreeMap<String, String>,
    woken: bool,
) -> Result<(), Duration> {
    if woken {
        // Change events asked for it.
        return Ok(());
    }
    let Some(next) = memory.next_sync else {
        return Ok(());
    };
    let sync_now = resource.annotations().get(SYNC_NOW_ANNOTATION).cloned();
    if memory.generation != resource.meta().generation
        || memory.sync_now != sync_now
        || &memory.secret_versions != secret_versions
    {
        return Ok(());
    }
    match next.checked_duration_since(Instant::now()) {
        Some(remaining) if !remaining.is_zero() => Err(remaining),
        _ => Ok(()),
    }
}

/// Schedules the next sync after one that ended now: the earliest of the (jittered) `interval`
/// (see [`super::change_events::full_sync_interval`]), the next user retry and the next look at
/// pending activations.
pub fn schedule_next(interval: Duration, memory: &mut ResourceMemory, run: &SyncRun) -> Duration {
    let now = k8s_openapi::jiff::Timestamp::now();
    let pending = run
        .plan
        .outcomes
        .iter()
        .any(|o| o.reason == Reason::AssignmentPending);
    let follow_up = schedule::FollowUp::of(memory.sync.retries.values(), pending, now);
    let wait = schedule::next_sync_in(jittered(interval), follow_up, memory.pending_checks, now);
    memory.pending_checks = if pending {
        memory.pending_checks.saturating_add(1)
    } else {
        0
    };
    memory.next_sync = Some(Instant::now() + wait);
    wait
}

/// Schedules the look again at the users a sync that ended now left waiting
/// (`memory.sync.revisit`, kept only with a snapshot): as [`schedule_next`] would (their retry
/// times, then pending activations soon and less and less often), by a targeted re-sync; the
/// full sync stays when it is (`memory.next_sync`). Returns the wait until whichever comes first.
pub fn schedule_revisit(interval: Duration, memory: &mut ResourceMemory, run: &SyncRun) -> Duration {
    let now = k8s_openapi::jiff::Timestamp::now();
    let revisit = &memory.sync.revisit;
    let waiting = |key: &UserKey| match key {
        UserKey::Dialpad(id) => revisit.dialpad_users.contains(id),
        UserKey::Departed { teams_user_id, .. } => revisit.teams_users.contains(teams_user_id),
        UserKey::Static(_) => false,
    };
    let pending = run
        .plan
        .outcomes
        .iter()
        .any(|o| o.reason == Reason::AssignmentPending && waiting(&o.key));
    let retries = memory.sync.retries.iter().filter(|(key, _)| waiting(key));
    let follow_up = schedule::FollowUp::of(retries.map(|(_, retry)| retry), pending, now);
    let full = memory
        .next_sync
        .map_or(interval, |next| next.saturating_duration_since(Instant::now()))
        .max(schedule::MIN_GAP);
    if revisit.is_empty() {
        memory.revisit_at = None;
        return full;
    }
    let wait = schedule::next_sync_in(interval, follow_up, memory.pending_checks, now);
    memory.pending_checks = if pending {
        memory.pending_checks.saturating_add(1)
    } else {
        0
    };
    // A look already due sooner (a change re-synced some users in between) stays.
    let earlier = memory
        .revisit_at
        .map(|at| at.saturating_duration_since(Instant::now()));
    let wait = earlier.map_or(wait, |earlier| earlier.min(wait));
    memory.revisit_at = (wait < full).then(|| Instant::now() + wait);
    wait.min(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::commands::demo::demo_resource as demo;

    fn synced(resource: &TeamsTenantSync, next: Instant) -> ResourceMemory {
        ResourceMemory {
            last_sync: Some(Instant::now()),
            next_sync: Some(next),
            generation: resource.meta().generation,
            ..Default::default()
        }
    }

    #[test]
    fn a_sync_is_due_at_the_time_the_last_one_scheduled_and_not_before() {
        let resource = demo();
        let versions = Default::default();
        let later = synced(&resource, Instant::now() + Duration::from_secs(30));
        let wait = due(&resource, &later, &versions, false).unwrap_err();
        assert!(
            wait > Duration::from_secs(29) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        let passed = synced(&resource, Instant::now() - Duration::from_secs(1));
        assert_eq!(due(&resource, &passed, &versions, false), Ok(()));
        assert_eq!(
            due(&resource, &ResourceMemory::default(), &versions, false),
            Ok(()),
            "never synced"
        );
    }

    #[test]
    fn a_change_makes_a_sync_due_at_once() {
        let resource = demo();
        let memory = synced(&resource, Instant::now() + Duration::from_secs(900));
        let rotated = [("teams-admin".to_owned(), "8".to_owned())].into();
        assert_eq!(due(&resource, &memory, &rotated, false), Ok(()));
        let mut changed = resource.clone();
        changed.metadata.generation = Some(2);
        assert_eq!(due(&changed, &memory, &Default::default(), false), Ok(()));
    }

    #[test]
    fn a_change_event_makes_a_sync_due_before_its_time() {
        let resource = demo();
        let memory = synced(&resource, Instant::now() + Duration::from_secs(3600));
        let versions = Default::default();
        assert!(
            due(&resource, &memory, &versions, false).is_err(),
            "not due without an event"
        );
        assert_eq!(due(&resource, &memory, &versions, true), Ok(()));
    }

    fn targeted_run(pending: &[&str]) -> SyncRun {
        use crate::sync::model::{Plan, TenantChecks, UserKey, UserOutcome};
        let outcome = |id: &str, reason| UserOutcome {
            key: UserKey::Dialpad(id.into()),
            email: None,
            phone_number: None,
            dialpad_user_id: Some(id.into()),
            teams_user_id: None,
            reason,
            message: String::new(),
            desired: true,
        };
        let mut outcomes: Vec<UserOutcome> = pending
            .iter()
            .map(|id| outcome(id, Reason::AssignmentPending))
            .collect();
        outcomes.push(outcome("settled", Reason::InSync));
        SyncRun {
            status: Default::default(),
            plan: Plan {
                outcomes,
                ..Plan::default()
            },
            execution: Default::default(),
            checks: TenantChecks::ok(),
            source: crate::sync::report::SourceState::Read,
        }
    }

    #[test]
    fn users_a_targeted_resync_left_activating_are_looked_at_again_soon_and_the_full_sync_stays() {
        let resource = demo();
        let full_at = Instant::now() + Duration::from_secs(24 * 3600);
        let mut memory = synced(&resource, full_at);
        memory.sync.revisit.dialpad_users = ["7".to_owned()].into();
        let wait = schedule_revisit(Duration::from_secs(24 * 3600), &mut memory, &targeted_run(&["7"]));
        assert_eq!(wait, schedule::FIRST_PENDING_CHECK);
        assert_eq!(memory.next_sync, Some(full_at), "the full sync keeps its time");
        let revisit = memory
            .revisit_at
            .expect("a look again")
            .saturating_duration_since(Instant::now());
        assert!(revisit <= schedule::FIRST_PENDING_CHECK, "{revisit:?}");
        // A change re-synced in between keeps the look that is due sooner.
        let wait = schedule_revisit(Duration::from_secs(24 * 3600), &mut memory, &targeted_run(&["7"]));
        assert!(wait <= schedule::FIRST_PENDING_CHECK, "{wait:?}");
        // Still activating at that look (taken when due): every sync that still finds it so
        // doubles the wait (the change in between counted as one).
        memory.revisit_at = None;
        let wait = schedule_revisit(Duration::from_secs(24 * 3600), &mut memory, &targeted_run(&["7"]));
        assert_eq!(wait, schedule::FIRST_PENDING_CHECK * 4);
        // Nobody left waiting: only the full sync is ahead.
        memory.sync.revisit = Default::default();
        let wait = schedule_revisit(Duration::from_secs(24 * 3600), &mut memory, &targeted_run(&[]));
        assert_eq!(memory.revisit_at, None);
        assert!(wait > Duration::from_secs(23 * 3600), "{wait:?}");
    }
}
