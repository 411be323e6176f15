//! Reconciling one TeamsTenantSync: the finalizer, suspend, deciding whether a sync is due, the
//! sync itself, the status write (only when more than timestamps changed), Events, and the
//! removal policy on delete.

use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::{Api, Resource, ResourceExt};

use super::context::{Context, FINALIZER, ResourceMemory, SYNC_NOW_ANNOTATION};
use super::secrets::{KubeSecrets, referenced_secrets};
use super::writer::{events_for, publish, write_status};
use crate::api::{Reason, RemovalPolicy, TeamsTenantSync, TeamsTenantSyncStatus};
use crate::sync::connect::connect;
use crate::sync::model::{Policy, TenantChecks, parse_duration};
use crate::sync::pipeline::sync_once;
use crate::sync::ports::{DesiredSource, TeamsTenant, TeamsWriter};
use crate::sync::report::{self, DEFAULT_STATUS_BUDGET, ReportInput, SourceState};
use crate::telemetry::metrics;

/// Why a reconcile failed (it is retried with backoff).
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The Kubernetes API failed.
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// The finalizer could not be handled.
    #[error("finalizer: {0}")]
    Finalizer(String),
    /// The resource has no namespace (the CRD is namespaced, so this is a bug upstream of us).
    #[error("the resource has no namespace")]
    NoNamespace,
    /// Deleting the resource would unassign numbers, and that cannot be done now.
    #[error("cannot apply the removal policy on delete: {0}")]
    Cleanup(String),
}

impl ReconcileError {
    /// A short label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            ReconcileError::Kube(_) => "KubernetesApi",
            ReconcileError::Finalizer(_) => "Finalizer",
            ReconcileError::NoNamespace => "NoNamespace",
            ReconcileError::Cleanup(_) => "Cleanup",
        }
    }
}

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
    tracing::warn!(resource = %key, %error, ?wait, "reconcile failed; retrying");
    Action::requeue(wait)
}

fn key_of(resource: &TeamsTenantSync) -> String {
    format!(
        "{}/{}",
        resource.namespace().unwrap_or_default(),
        resource.name_any()
    )
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

/// Whether a sync is due, and if not, how long until it is.
fn due(
    resource: &TeamsTenantSync,
    memory: &ResourceMemory,
    secret_versions: &std::collections::BTreeMap<String, String>,
) -> Result<(), Duration> {
    let Some(last) = memory.last_sync else {
        return Ok(());
    };
    let sync_now = resource.annotations().get(SYNC_NOW_ANNOTATION).cloned();
    if memory.generation != resource.meta().generation
        || memory.sync_now != sync_now
        || &memory.secret_versions != secret_versions
    {
        return Ok(());
    }
    let interval = sync_interval(resource);
    match interval.checked_sub(last.elapsed()) {
        Some(remaining) if !remaining.is_zero() => Err(remaining),
        _ => Ok(()),
    }
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
    let recorder = Recorder::new(ctx.client.clone(), ctx.reporter.clone());
    let reference = resource.object_ref(&());
    if resource.spec.suspend {
        let status = suspended_status(resource, memory.sync.status.as_ref());
        write_if_changed(api, &name, resource.status.as_ref(), &status).await?;
        memory.sync.status = Some(status);
        memory.failures = 0;
        ctx.remember(&key, memory);
        return Ok(Action::requeue(jittered(sync_interval(resource))));
    }
    let secrets_api: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    let secrets = KubeSecrets::fetch(&secrets_api, namespace, &referenced_secrets(&resource.spec)).await?;
    if let Err(remaining) = due(resource, &memory, &secrets.versions) {
        return Ok(Action::requeue(remaining));
    }
    memory.last_sync = Some(Instant::now());
    memory.generation = resource.meta().generation;
    memory.sync_now = resource.annotations().get(SYNC_NOW_ANNOTATION).cloned();
    memory.secret_versions = secrets.versions.clone();
    let connection = match connect(&resource.spec, &secrets, &ctx.connect) {
        Ok(connection) => connection,
        Err(failure) => {
            // A missing Secret or key: report it, touch nothing else, retry with backoff.
            let status = setup_failure_status(
                resource,
                memory.sync.status.as_ref(),
                failure.reason,
                &failure.message,
            );
            write_if_changed(api, &name, resource.status.as_ref(), &status).await?;
            let previous = memory.sync.status.replace(status);
            if previous
                .as_ref()
                .and_then(|p| crate::api::conditions::find_condition(&p.conditions, "AdminConnected"))
                .is_none_or(|c| c.reason != failure.reason.as_str())
            {
                let event = Event {
                    type_: EventType::Warning,
                    reason: failure.reason.as_str().into(),
                    note: Some(super::writer::truncate(&failure.message, 1000)),
                    action: "Sync".into(),
                    secondary: None,
                };
                publish(&recorder, &reference, &[event]).await;
            }
            ctx.remember(&key, memory);
            return Ok(Action::requeue(ctx.backoff(&key)));
        }
    };
    let started = Instant::now();
    let previous = memory.sync.status.clone();
    let policy = Policy::from_spec(&resource.spec);
    let run = sync_once(
        &connection.source,
        &connection.tenant,
        &policy,
        &mut memory.sync,
        resource.meta().generation,
    )
    .await;
    metrics::observe_sync(namespace, &name, started.elapsed().as_secs_f64());
    if let Some(summary) = &run.status.summary {
        metrics::set_user_counts(namespace, &name, &summary.by_reason);
    }
    write_if_changed(api, &name, resource.status.as_ref(), &run.status).await?;
    publish(&recorder, &reference, &events_for(&run, previous.as_ref())).await;
    memory.failures = 0;
    ctx.remember(&key, memory);
    Ok(Action::requeue(jittered(sync_interval(resource))))
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

fn tenant_failure_status(
    resource: &TeamsTenantSync,
    previous: Option<&TeamsTenantSyncStatus>,
    checks: TenantChecks,
) -> TeamsTenantSyncStatus {
    report::build_status(&ReportInput {
        outcomes: &[],
        checks: &checks,
        source: &SourceState::Skipped,
        previous,
        generation: resource.meta().generation,
        now: Time(k8s_openapi::jiff::Timestamp::now()),
        budget_bytes: DEFAULT_STATUS_BUDGET,
    })
}

fn setup_failure_status(
    resource: &TeamsTenantSync,
    previous: Option<&TeamsTenantSyncStatus>,
    reason: Reason,
    message: &str,
) -> TeamsTenantSyncStatus {
    let checks = TenantChecks {
        connected: Err((reason, message.to_owned())),
        authorized: Err((reason, format!("not checked: {message}"))),
    };
    tenant_failure_status(resource, previous, checks)
}

fn suspended_status(
    resource: &TeamsTenantSync,
    previous: Option<&TeamsTenantSyncStatus>,
) -> TeamsTenantSyncStatus {
    let message = "spec.suspend is true: nothing is read or changed until it is set to false";
    setup_failure_status(resource, previous, Reason::Suspended, message)
}

/// Publishes why deletion cannot finish yet and keeps the finalizer (the error requeues).
async fn deletion_blocked(
    recorder: &Recorder,
    reference: &k8s_openapi::api::core::v1::ObjectReference,
    message: String,
) -> Result<Action, ReconcileError> {
    let note = format!("{message}; to delete without unassigning, set spec.removal.policy to Retain");
    let event = Event {
        type_: EventType::Warning,
        reason: "DeletionBlocked".into(),
        note: Some(super::writer::truncate(&note, 1000)),
        action: "Delete".into(),
        secondary: None,
    };
    publish(recorder, reference, &[event]).await;
    Err(ReconcileError::Cleanup(note))
}

/// The removal policy on delete: `Retain` leaves Teams as it is; `Unassign` removes the numbers
/// this resource manages, within the safety limit.
async fn cleanup(
    resource: &TeamsTenantSync,
    namespace: &str,
    ctx: &Context,
) -> Result<Action, ReconcileError> {
    let key = key_of(resource);
    let name = resource.name_any();
    let recorder = Recorder::new(ctx.client.clone(), ctx.reporter.clone());
    let reference = resource.object_ref(&());
    if resource.spec.removal.policy == RemovalPolicy::Retain
        || resource.spec.mode == crate::api::SyncMode::DryRun
    {
        ctx.forget(&key);
        metrics::forget_resource(namespace, &name);
        return Ok(Action::await_change());
    }
    let secrets_api: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    let secrets = KubeSecrets::fetch(&secrets_api, namespace, &referenced_secrets(&resource.spec)).await?;
    let connection = match connect(&resource.spec, &secrets, &ctx.connect) {
        Ok(connection) => connection,
        Err(failure) => return deletion_blocked(&recorder, &reference, failure.message).await,
    };
    let checks = connection.tenant.check().await;
    if let Err((reason, message)) = checks.connected.clone().and(checks.authorized.clone()) {
        return deletion_blocked(&recorder, &reference, format!("{reason}: {message}")).await;
    }
    let desired = match connection.source.read().await {
        Ok(desired) => desired,
        Err(failure) => return deletion_blocked(&recorder, &reference, failure.message).await,
    };
    let teams = match connection.tenant.read().await {
        Ok(teams) => teams,
        Err(error) => return deletion_blocked(&recorder, &reference, error.to_string()).await,
    };
    let removals = crate::sync::cleanup::removals_on_delete(&desired, &teams);
    let limit = usize::try_from(resource.spec.safety.max_unassignments_per_sync.max(0)).unwrap_or(0);
    if removals.len() > limit {
        return deletion_blocked(
            &recorder,
            &reference,
            format!(
                "deleting would unassign {} numbers, more than spec.safety.maxUnassignmentsPerSync ({limit})",
                removals.len()
            ),
        )
        .await;
    }
    let number_type = Policy::from_spec(&resource.spec).number_type;
    let mut failed = Vec::new();
    for removal in &removals {
        match connection.tenant.unassign(&removal.number, number_type).await {
            Ok(crate::microsoft::graph::OperationOutcome::Failed(failure)) => {
                failed.push(format!("{}: {failure:?}", removal.number))
            }
            Ok(_) => {}
            Err(error) => failed.push(format!("{}: {error}", removal.number)),
        }
    }
    if !failed.is_empty() {
        return deletion_blocked(
            &recorder,
            &reference,
            format!(
                "{} of {} numbers could not be unassigned ({})",
                failed.len(),
                removals.len(),
                failed.join("; ")
            ),
        )
        .await;
    }
    let event = Event {
        type_: EventType::Normal,
        reason: "NumbersUnassigned".into(),
        note: Some(format!(
            "Unassigned {} number(s) on delete (removal policy Unassign)",
            removals.len()
        )),
        action: "Delete".into(),
        secondary: None,
    };
    publish(&recorder, &reference, &[event]).await;
    ctx.forget(&key);
    metrics::forget_resource(namespace, &name);
    Ok(Action::await_change())
}
