//! Reconciling one TeamsTenantSync: the finalizer, suspend, deciding whether a sync is due, the
//! sync itself, the status write (only when more than timestamps changed), Events, and the
//! removal policy on delete.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::{Api, Resource, ResourceExt};

use super::context::{Context, FINALIZER, ResourceMemory, SYNC_NOW_ANNOTATION, backoff_after, key_of};
use super::deletion::cleanup;
use super::error::ReconcileError;
use super::held::{held_status, setup_failure_status, suspended_status};
use super::owner::{Ownership, own_tenant};
use super::ownership::ConfigMapOwnership;
use super::progress::{ProgressReport, first_sync_status};
use super::schedule;
use super::spec_check::checked_policy;
use super::writer::{condition_warnings, events_for, publish, write_status};
use crate::api::conditions::{READY, find_condition};
use crate::api::{Reason, TeamsTenantSync, TeamsTenantSyncStatus};
use crate::sync::connect::connect_reusing;
use crate::sync::model::parse_duration;
use crate::sync::pipeline::{SyncRun, sync_once_reporting};
use crate::sync::report;
use crate::sync::setup::SetupFailure;
use crate::telemetry::metrics;

/// How often a resource refused for a duplicate tenant looks whether the owner is gone.
const CLAIM_RECHECK: Duration = Duration::from_secs(15);

/// The reconcile entry point for the kube-runtime Controller.
pub async fn reconcile(resource: Arc<TeamsTenantSync>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    let namespace = resource.namespace().ok_or(ReconcileError::NoNamespace)?;
    let api: Api<TeamsTenantSync> = Api::namespaced(ctx.client.clone(), &namespace);
    let result = finalizer(&api, FINALIZER, resource, |event| async {
        match event {
            Finalizer::Apply(resource) => apply(&resource, &api, &namespace, &ctx).await,
            Finalizer::Cleanup(resource) => cleanup(&resource, &namespace, &ctx).await,
        }
    })
    .await;
    match result {
        Ok(action) => {
            metrics::record_reconcile(true);
            Ok(action)
        }
        Err(
            kube::runtime::finalizer::Error::ApplyFailed(error)
            | kube::runtime::finalizer::Error::CleanupFailed(error),
        ) => {
            metrics::record_reconcile(false);
            Err(error)
        }
        Err(other) => {
            metrics::record_reconcile(false);
            Err(ReconcileError::Finalizer(other.to_string()))
        }
    }
}

/// Requeue policy on errors: backoff that grows with consecutive failures of that resource.
pub fn error_policy(resource: Arc<TeamsTenantSync>, error: &ReconcileError, ctx: Arc<Context>) -> Action {
    metrics::record_reconcile_error(error.kind());
    let key = key_of(&resource);
    let wait = ctx.backoff(&key);
    if error.is_forbidden() {
        tracing::error!(resource = %key, %error, ?wait, "the operator's ServiceAccount lacks a permission (grant the RBAC of the Helm chart, or of deploy/dialpad-teams-operator.yaml); retrying");
    } else {
        tracing::warn!(resource = %key, %error, ?wait, "reconcile failed; retrying");
    }
    Action::requeue(wait)
}

fn sync_interval(resource: &TeamsTenantSync) -> Duration {
    parse_duration(&resource.spec.sync_interval)
        .unwrap_or(Duration::from_secs(900))
        .max(Duration::from_secs(60))
}

/// The interval with up to 10% jitter, so resources created together do not sync in lockstep.
fn jittered(interval: Duration) -> Duration {
    interval.mul_f64(1.0 + rand::random::<f64>() * 0.1)
}

/// Whether a sync is due, and if not, how long until it is: at once after a change (a new
/// generation, a new `sync-now` value, a rotated Secret) or on the first reconcile, else at the
/// time the last sync scheduled (see [`schedule`]).
fn due(
    resource: &TeamsTenantSync,
    memory: &ResourceMemory,
    secret_versions: &std::collections::BTreeMap<String, String>,
) -> Result<(), Duration> {
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

/// Schedules the next sync after one that ended now: the earliest of the (jittered) interval,
/// the next user retry and the next look at pending activations.
fn schedule_next(resource: &TeamsTenantSync, memory: &mut ResourceMemory, run: &SyncRun) -> Duration {
    let now = k8s_openapi::jiff::Timestamp::now();
    let pending = run
        .plan
        .outcomes
        .iter()
        .any(|o| o.reason == Reason::AssignmentPending);
    let follow_up = schedule::FollowUp::of(memory.sync.retries.values(), pending, now);
    let wait = schedule::next_sync_in(
        jittered(sync_interval(resource)),
        follow_up,
        memory.pending_checks,
        now,
    );
    memory.pending_checks = if pending {
        memory.pending_checks.saturating_add(1)
    } else {
        0
    };
    memory.next_sync = Some(Instant::now() + wait);
    wait
}

async fn apply(
    resource: &TeamsTenantSync,
    api: &Api<TeamsTenantSync>,
    namespace: &str,
    ctx: &Context,
) -> Result<Action, ReconcileError> {
    let key = key_of(resource);
    let name = resource.name_any();
    let mut memory = ctx.recall(&key);
    if memory.sync.status.is_none() {
        // After a restart, the last written status carries grace periods and transition times.
        memory.sync.status = resource.status.clone();
    }
    let reference = resource.object_ref(&());
    if resource.spec.suspend {
        let status = suspended_status(resource, memory.sync.status.as_ref());
        write_if_changed(api, &name, resource.status.as_ref(), &status).await?;
        metrics::set_conditions(namespace, &name, &status.conditions);
        memory.sync.status = Some(status);
        memory.failures = 0;
        ctx.remember(&key, memory);
        return Ok(Action::requeue(jittered(sync_interval(resource))));
    }
    let policy = match checked_policy(&resource.spec) {
        Ok(policy) => policy,
        // Nothing is read or changed; a corrected spec is a new generation, which reconciles at
        // once, so the interval re-check only keeps the status honest.
        Err(message) => {
            let held = Held {
                reason: Reason::InvalidSpec,
                message,
                action: "Validate",
                recheck: jittered(sync_interval(resource)),
            };
            return hold(api, ctx, resource, memory, held).await;
        }
    };
    let secrets = ctx
        .secrets
        .referenced_by(&ctx.client, namespace, resource)
        .await?;
    if let Err(remaining) = due(resource, &memory, &secrets.versions) {
        return Ok(Action::requeue(remaining));
    }
    let sync_now = resource.annotations().get(SYNC_NOW_ANNOTATION).cloned();
    memory.last_sync = Some(Instant::now());
    memory.generation = resource.meta().generation;
    memory.sync_now = sync_now.clone();
    memory.secret_versions = secrets.versions.clone();
    let started = Instant::now();
    let credentials = ctx.credentials(namespace, &secrets);
    let connection = match connect_reusing(
        &resource.spec,
        &credentials,
        &ctx.connect,
        memory.sign_in.as_ref(),
    ) {
        Ok(connection) => connection,
        Err(failure) => return stop_before_any_call(api, ctx, resource, memory, &failure, started).await,
    };
    // Only a resource that changes Teams needs to be the tenant's one owner.
    match own_tenant(ctx, resource).await? {
        Ownership::Owner => {}
        Ownership::Unknown(failure) => {
            let failure = SetupFailure::on_sign_in(failure.reason, failure.message);
            return stop_before_any_call(api, ctx, resource, memory, &failure, started).await;
        }
        Ownership::Refused { holder, tenant } => {
            let message = format!(
                "TeamsTenantSync {holder} already syncs Microsoft tenant {} ({tenant}), so this resource changes nothing; delete one of them (this one takes over once {holder} is gone)",
                resource.spec.tenant.tenant_id
            );
            tracing::debug!(resource = %key, %holder, "refused: another resource syncs this tenant");
            // Looked at again soon, whatever the schedule: the owner may be gone by then.
            memory.next_sync = None;
            let held = Held {
                reason: Reason::DuplicateTenant,
                message,
                action: "Claim",
                recheck: CLAIM_RECHECK,
            };
            return hold(api, ctx, resource, memory, held).await;
        }
    }
    memory.sign_in = Some(connection.sign_in.clone());
    let previous = memory.sync.status.clone();
    if previous.is_none() {
        // A resource without a status looks finished to kstatus (Flux's `wait`) until its first
        // sync ends, which can take minutes: say at once that the first sync is running.
        let status = first_sync_status(resource.meta().generation);
        write_status(api, &name, &status).await?;
        metrics::set_conditions(namespace, &name, &status.conditions);
    }
    let (progress_tx, progress_rx) = tokio::sync::watch::channel((0, 0));
    let report = ProgressReport {
        api,
        name: &name,
        key: &key,
        generation: resource.meta().generation,
        previous: previous.clone(),
        started,
        every: ctx.progress_every,
    };
    let progress = move |done, total| {
        let _ = progress_tx.send((done, total));
    };
    let record = ConfigMapOwnership::new(ctx.client.clone(), &ctx.settings.operator_namespace, resource);
    let sync = sync_once_reporting(
        &connection.source,
        &connection.tenant,
        &record,
        &policy,
        &mut memory.sync,
        resource.meta().generation,
        &progress,
    );
    let run = tokio::select! {
        run = sync => run,
        never = report.run(progress_rx) => match never {},
    };
    let mut run = match run {
        Ok(run) => run,
        Err(error) => {
            // Nothing was changed: the record could not be read, or not written before a change.
            ctx.remember(&key, memory);
            return Err(ReconcileError::Ownership(error.to_string()));
        }
    };
    let elapsed = started.elapsed();
    metrics::observe_sync(namespace, &name, elapsed.as_secs_f64());
    if let Some(summary) = &run.status.summary {
        metrics::set_user_counts(namespace, &name, &summary.by_reason);
    }
    run.status.last_handled_sync_now = sync_now;
    // One write per completed sync, also when only timestamps moved: `lastSyncTime` stays true
    // and `lastHandledSyncNow` acknowledges a requested sync.
    write_status(api, &name, &run.status).await?;
    metrics::set_conditions(namespace, &name, &run.status.conditions);
    memory.sync.status = Some(run.status.clone());
    publish(&ctx.recorder, &reference, &events_for(&run, previous.as_ref())).await;
    log_sync(&key, &run, elapsed);
    memory.failures = 0;
    let wait = schedule_next(resource, &mut memory, &run);
    ctx.remember(&key, memory);
    Ok(Action::requeue(wait))
}

/// One info line per sync: what an admin tailing the log wants to know.
fn log_sync(key: &str, run: &SyncRun, elapsed: Duration) {
    let summary = run.status.summary.clone().unwrap_or_default();
    let ready = find_condition(&run.status.conditions, READY).map_or("", |c| c.reason.as_str());
    tracing::info!(
        resource = %key,
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

async fn write_if_changed(
    api: &Api<TeamsTenantSync>,
    name: &str,
    current: Option<&TeamsTenantSyncStatus>,
    status: &TeamsTenantSyncStatus,
) -> Result<(), kube::Error> {
    if current.is_some_and(|current| !report::status_changed(current, status)) {
        return Ok(());
    }
    write_status(api, name, status).await
}

/// Why a resource does not sync now, and when to look again.
struct Held {
    reason: Reason,
    message: String,
    /// The Event's action.
    action: &'static str,
    recheck: Duration,
}

/// Holds a resource that must not sync (its spec is invalid, or another resource owns its
/// tenant): its status says why (written only when it changes), and a Warning Event says so once
/// per reason and message.
async fn hold(
    api: &Api<TeamsTenantSync>,
    ctx: &Context,
    resource: &TeamsTenantSync,
    mut memory: ResourceMemory,
    held: Held,
) -> Result<Action, ReconcileError> {
    let (key, name) = (key_of(resource), resource.name_any());
    let namespace = resource.namespace().unwrap_or_default();
    let status = held_status(
        resource.meta().generation,
        memory.sync.status.as_ref(),
        held.reason,
        &held.message,
    );
    write_if_changed(api, &name, resource.status.as_ref(), &status).await?;
    metrics::set_conditions(&namespace, &name, &status.conditions);
    let already = memory
        .sync
        .status
        .as_ref()
        .and_then(|s| find_condition(&s.conditions, READY))
        .is_some_and(|c| c.reason == held.reason.as_str() && c.message == held.message);
    if !already {
        tracing::warn!(resource = %key, reason = %held.reason, "not syncing: {}", held.message);
        let warning = kube::runtime::events::Event {
            type_: kube::runtime::events::EventType::Warning,
            reason: held.reason.as_str().into(),
            note: Some(super::writer::truncate(&held.message, 1000)),
            action: held.action.into(),
            secondary: None,
        };
        publish(&ctx.recorder, &resource.object_ref(&()), &[warning]).await;
    }
    memory.sync.status = Some(status);
    ctx.remember(&key, memory);
    Ok(Action::requeue(held.recheck))
}

/// Reports a sync that stopped before any call (see [`setup_failure_status`]): each problem on
/// its side, nothing touched, retried with backoff.
async fn stop_before_any_call(
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
    write_status(api, &name, &status).await?;
    metrics::set_conditions(&namespace, &name, &status.conditions);
    let previous = memory.sync.status.replace(status.clone());
    publish(
        &ctx.recorder,
        &resource.object_ref(&()),
        &condition_warnings(&status.conditions, previous.as_ref()),
    )
    .await;
    metrics::observe_sync(&namespace, &name, started.elapsed().as_secs_f64());
    tracing::info!(resource = %key, reason = %failure.reason, "sync stopped before any call: {}", failure.message);
    memory.failures = memory.failures.saturating_add(1);
    let wait = backoff_after(memory.failures);
    memory.next_sync = Some(Instant::now() + wait);
    ctx.remember(&key, memory);
    Ok(Action::requeue(wait))
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
        let wait = due(&resource, &later, &versions).unwrap_err();
        assert!(
            wait > Duration::from_secs(29) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        let passed = synced(&resource, Instant::now() - Duration::from_secs(1));
        assert_eq!(due(&resource, &passed, &versions), Ok(()));
        assert_eq!(
            due(&resource, &ResourceMemory::default(), &versions),
            Ok(()),
            "never synced"
        );
    }

    #[test]
    fn a_change_makes_a_sync_due_at_once() {
        let resource = demo();
        let memory = synced(&resource, Instant::now() + Duration::from_secs(900));
        let rotated = [("teams-admin".to_owned(), "8".to_owned())].into();
        assert_eq!(due(&resource, &memory, &rotated), Ok(()));
        let mut changed = resource.clone();
        changed.metadata.generation = Some(2);
        assert_eq!(due(&changed, &memory, &Default::default()), Ok(()));
    }
}
