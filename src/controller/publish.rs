//! What a reconcile writes when it ends, whichever way: a resource held back (suspended, its spec
//! invalid, its tenant another's), a sync stopped before any call, or a completed sync: the
//! status, its metrics, Events, the log line and the memory of the next reconcile.

use std::time::{Duration, Instant};

use kube::runtime::controller::Action;
use kube::{Api, Resource, ResourceExt};

use super::change_events::{self, EventsView};
use super::context::{Context, ResourceMemory, backoff_after, key_of};
use super::error::ReconcileError;
use super::events;
use super::status::{self, held_status, setup_failure_status};
use super::timing::{jittered, schedule_next, schedule_revisit};
use super::users_report::publish_report;
use crate::api::conditions::{READY, find_condition};
use crate::api::{Reason, TeamsTenantSync, TeamsTenantSyncStatus};
use crate::connect::setup::SetupFailure;
use crate::sync::pipeline::SyncRun;

/// One info line per sync: what an admin tailing the log wants to know.
fn log_sync(key: &str, run: &SyncRun, elapsed: Duration, targeted: bool) {
    let summary = run.status.summary.clone().unwrap_or_default();
    let ready = find_condition(&run.status.conditions, READY).map_or("", |c| c.reason.as_str());
    tracing::info!(
        resource = %key,
        scope = if targeted { "targeted" } else { "full" },
        ready,
        desired = summary.desired,
        in_sync = summary.in_sync,
        pending = summary.pending,
        failed = summary.failed,
        assigned = run.execution.assigned,
        unassigned = run.execution.unassigned,
        write_failures = run.execution.failed,
        duration_ms = elapsed.as_millis() as u64,
        "synced"
    );
}

/// Why a resource does not sync now, and when to look again.
pub struct Held {
    /// `Suspended`, `InvalidSpec` or `DuplicateTenant`.
    pub reason: Reason,
    /// What the status says, and the fix.
    pub message: String,
    /// The Warning Event's action; `None` for a state nobody must act on (suspended).
    pub action: Option<&'static str>,
    /// When to look again.
    pub recheck: Duration,
}

/// Holds a resource that must not sync (suspended, its spec invalid, or another resource owns
/// its tenant): its status says why (written only when it changes), and, where someone must act, a
/// Warning Event says so once per reason and message.
pub async fn hold(
    api: &Api<TeamsTenantSync>,
    ctx: &Context,
    resource: &TeamsTenantSync,
    mut memory: ResourceMemory,
    held: Held,
) -> Result<Action, ReconcileError> {
    let (key, name) = (key_of(resource), resource.name_any());
    let namespace = resource.namespace().unwrap_or_default();
    // A resource that does not sync needs no events (and its company's feed may go).
    change_events::leave(ctx, &key);
    let mut status = held_status(
        resource.meta().generation,
        memory.sync.status.as_ref(),
        held.reason,
        &held.message,
    );
    status::set_change_events(&mut status, &EventsView::Off, resource.meta().generation);
    status::write_if_changed(
        api,
        &ctx.metrics,
        &namespace,
        &name,
        resource.status.as_ref(),
        &status,
    )
    .await?;
    let already = memory
        .sync
        .status
        .as_ref()
        .and_then(|s| find_condition(&s.conditions, READY))
        .is_some_and(|c| c.reason == held.reason.as_str() && c.message == held.message);
    if let Some(action) = held.action.filter(|_| !already) {
        tracing::warn!(resource = %key, reason = %held.reason, "not syncing: {}", held.message);
        let warning = events::held_warning(held.reason.as_str(), &held.message, action);
        events::publish(&ctx.recorder, &resource.object_ref(&()), &[warning]).await;
    }
    if held.action.is_none() {
        // Nothing failed: a resumed resource starts its backoff afresh.
        memory.failures = 0;
    }
    memory.sync.status = Some(status);
    ctx.remember(&key, memory);
    Ok(Action::requeue(held.recheck))
}

/// Reports a sync that stopped before any call (see [`setup_failure_status`]): each problem on
/// its side, nothing touched, retried with backoff.
pub async fn stop_before_any_call(
    api: &Api<TeamsTenantSync>,
    ctx: &Context,
    resource: &TeamsTenantSync,
    mut memory: ResourceMemory,
    failure: &SetupFailure,
    started: Instant,
) -> Result<Action, ReconcileError> {
    let (key, name) = (key_of(resource), resource.name_any());
    let namespace = resource.namespace().unwrap_or_default();
    let mut status = setup_failure_status(resource, memory.sync.status.as_ref(), failure);
    status.last_handled_sync_now = memory.sync_now.clone();
    status::write(api, &ctx.metrics, &namespace, &name, &status).await?;
    let previous = memory.sync.status.replace(status.clone());
    events::publish(
        &ctx.recorder,
        &resource.object_ref(&()),
        &events::condition_warnings(&status.conditions, previous.as_ref()),
    )
    .await;
    ctx.metrics
        .observe_sync(&namespace, &name, started.elapsed().as_secs_f64());
    tracing::info!(resource = %key, reason = %failure.reason, "sync stopped before any call: {}", failure.message);
    memory.failures = memory.failures.saturating_add(1);
    let wait = backoff_after(memory.failures);
    memory.next_sync = Some(Instant::now() + wait);
    ctx.remember(&key, memory);
    Ok(Action::requeue(wait))
}

/// A sync that completed, with the status written before it started (`None` for a first sync)
/// and when it started.
pub struct Completed {
    /// What the sync did and found.
    pub run: SyncRun,
    /// The status the last sync wrote: Events say what changed since.
    pub previous: Option<TeamsTenantSyncStatus>,
    /// When the sync started.
    pub started: Instant,
    /// The resource's change events as the sync began.
    pub events: EventsView,
    /// Whether it was a targeted re-sync, which leaves the next full sync when it was.
    pub targeted: bool,
}

/// Publishes a completed sync: its metrics, the one status write (also when only timestamps
/// moved: `lastSyncTime` stays true and `lastHandledSyncNow` acknowledges a requested sync), its
/// Events, one log line; and schedules the next sync.
pub async fn synced(
    api: &Api<TeamsTenantSync>,
    ctx: &Context,
    resource: &TeamsTenantSync,
    mut memory: ResourceMemory,
    completed: Completed,
) -> Result<Action, ReconcileError> {
    let Completed {
        mut run,
        previous,
        started,
        events,
        targeted,
    } = completed;
    // The feed may have connected while the sync ran.
    let events = match events {
        EventsView::Feed(_) => change_events::view(ctx, resource),
        other => other,
    };
    status::set_change_events(&mut run.status, &events, resource.meta().generation);
    let (key, name) = (key_of(resource), resource.name_any());
    let namespace = resource.namespace().unwrap_or_default();
    let elapsed = started.elapsed();
    ctx.metrics.observe_sync(&namespace, &name, elapsed.as_secs_f64());
    if let Some(summary) = &run.status.summary {
        ctx.metrics.set_user_counts(&namespace, &name, &summary.by_reason);
    }
    run.status.last_handled_sync_now = memory.sync_now.clone();
    publish_report(ctx, resource, &mut run, previous.as_ref()).await;
    status::write(api, &ctx.metrics, &namespace, &name, &run.status).await?;
    memory.sync.status = Some(run.status.clone());
    events::publish(
        &ctx.recorder,
        &resource.object_ref(&()),
        &events::events_for(&run, previous.as_ref()),
    )
    .await;
    log_sync(&key, &run, elapsed, targeted);
    memory.failures = 0;
    let interval = change_events::full_sync_interval(resource, &events);
    let wait = if targeted {
        schedule_revisit(interval, &mut memory, &run)
    } else if memory.sync.snapshot.is_some() {
        // The users this full sync left waiting are looked at again by targeted re-syncs; the
        // next full sync is the interval's.
        memory.next_sync = Some(Instant::now() + jittered(interval));
        schedule_revisit(interval, &mut memory, &run)
    } else {
        memory.revisit_at = None;
        schedule_next(interval, &mut memory, &run)
    };
    ctx.remember(&key, memory);
    Ok(Action::requeue(wait))
}

/// A resource whose sync is not due: only its `ChangeEvents` condition is brought up to date
/// (the feed connected or dropped since the last write), and it waits `remaining` (until its
/// full sync), or less when users a targeted re-sync left waiting are to be looked at before.
pub async fn waiting(
    api: &Api<TeamsTenantSync>,
    ctx: &Context,
    resource: &TeamsTenantSync,
    mut memory: ResourceMemory,
    remaining: Duration,
) -> Result<Action, ReconcileError> {
    let view = change_events::view(ctx, resource);
    let revisit = memory.revisit_at.map(|at| {
        at.saturating_duration_since(Instant::now())
            .max(super::schedule::MIN_GAP)
    });
    let sooner = |full: Duration| revisit.map_or(full, |revisit| revisit.min(full));
    let Some(current) = memory.sync.status.clone() else {
        return Ok(Action::requeue(sooner(remaining)));
    };
    if !status::change_events_stale(Some(&current), &view) {
        return Ok(Action::requeue(sooner(remaining)));
    }
    let generation = current.observed_generation;
    let mut updated = current;
    status::set_change_events(&mut updated, &view, generation);
    let name = resource.name_any();
    let namespace = resource.namespace().unwrap_or_default();
    status::write(api, &ctx.metrics, &namespace, &name, &updated).await?;
    // The schedule follows the feed: a connected feed lets the full sync wait longer, a lost one
    // brings it back to syncInterval.
    let interval = change_events::full_sync_interval(resource, &view);
    let remaining = match memory.last_sync {
        Some(last) => (last + interval)
            .saturating_duration_since(Instant::now())
            .max(super::schedule::MIN_GAP)
            .min(remaining),
        None => remaining,
    };
    memory.next_sync = Some(Instant::now() + remaining);
    memory.sync.status = Some(updated);
    ctx.remember(&key_of(resource), memory);
    Ok(Action::requeue(sooner(remaining)))
}
