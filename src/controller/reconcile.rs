//! Reconciling one TeamsTenantSync: the finalizer, suspend, deciding whether a sync is due, the
//! sync itself, the status write (only when more than timestamps changed), Events, and the
//! removal policy on delete.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::{Api, Resource, ResourceExt};
use tracing::Instrument;

use super::change_events;
use super::context::{Context, FINALIZER, ResourceMemory, SYNC_NOW_ANNOTATION, key_of};
use super::deletion::cleanup;
use super::error::ReconcileError;
use super::owner::{TenantOwner, own_tenant};
use super::progress::ProgressReport;
use super::publish::{self, Held};
use super::record_store::ConfigMapRecordStore;
use super::spec_check::checked_policy;
use super::status::{self, SUSPENDED_MESSAGE, first_sync_status};
use super::timing::{due, jittered, sync_interval};
use crate::api::{Reason, TeamsTenantSync};
use crate::connect::setup::SetupFailure;
use crate::connect::{Connection, connect_reusing};
use crate::events::Wanted;
use crate::sync::model::Policy;
use crate::sync::pipeline::{SyncRun, sync_once_reporting};
use crate::sync::targeted::sync_targets;
use crate::sync::targets::Targets;

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
            ctx.metrics.record_reconcile(true);
            Ok(action)
        }
        Err(
            kube::runtime::finalizer::Error::ApplyFailed(error)
            | kube::runtime::finalizer::Error::CleanupFailed(error),
        ) => {
            ctx.metrics.record_reconcile(false);
            Err(error)
        }
        Err(other) => {
            ctx.metrics.record_reconcile(false);
            Err(ReconcileError::Finalizer(Box::new(other)))
        }
    }
}

/// Requeue policy on errors: backoff that grows with consecutive failures of that resource.
pub fn error_policy(resource: Arc<TeamsTenantSync>, error: &ReconcileError, ctx: Arc<Context>) -> Action {
    ctx.metrics.record_reconcile_error(error.kind());
    let key = key_of(&resource);
    let wait = ctx.backoff(&key);
    if error.is_forbidden() {
        tracing::error!(resource = %key, %error, ?wait, "the operator's ServiceAccount lacks a permission (grant the RBAC of the Helm chart, or of deploy/dialpad-teams-operator.yaml); retrying");
    } else {
        tracing::warn!(resource = %key, %error, ?wait, "reconcile failed; retrying");
    }
    Action::requeue(wait)
}

/// One reconcile of a resource that is not being deleted: **gate** (suspended, invalid spec: held
/// back), **due** (nothing changed and the time has not come: wait), **connect** (endpoints,
/// Secrets, tokens; then the tenant's one owner), **sync**, **publish** (see [`publish`]).
async fn apply(
    resource: &TeamsTenantSync,
    api: &Api<TeamsTenantSync>,
    namespace: &str,
    ctx: &Context,
) -> Result<Action, ReconcileError> {
    let mut memory = ctx.recall(&key_of(resource));
    if memory.sync.status.is_none() {
        // After a restart, the last written status carries grace periods and transition times.
        memory.sync.status = resource.status.clone();
    }
    // What the apiserver holds is what was last written: after a restart too, every resource's
    // series are there before its next sync is due.
    let name = resource.name_any();
    ctx.metrics
        .set_schedule(namespace, &name, sync_interval(resource), resource.spec.suspend);
    if let Some(status) = &resource.status {
        ctx.metrics.set_status(namespace, &name, status);
    }
    let policy = match gate(resource) {
        Ok(policy) => policy,
        Err(held) => return publish::hold(api, ctx, resource, memory, held).await,
    };
    let secrets = ctx
        .secrets
        .referenced_by(&ctx.client, namespace, resource)
        .await?;
    let key = key_of(resource);
    let revisit_due = memory.revisit_at.is_some_and(|at| at <= Instant::now());
    let woken = revisit_due
        || ctx
            .events
            .as_ref()
            .is_some_and(|events| events.hub.is_wanted(&key));
    if let Err(remaining) = due(resource, &memory, &secrets.versions, woken) {
        return publish::waiting(api, ctx, resource, memory, remaining).await;
    }
    // Due without changes (its schedule, a new generation or Secret, sync-now): a full sync.
    let full_due = due(resource, &memory, &secrets.versions, false).is_ok();
    let last_full_sync = memory.last_sync;
    memory.last_sync = Some(Instant::now());
    memory.generation = resource.meta().generation;
    memory.sync_now = resource.annotations().get(SYNC_NOW_ANNOTATION).cloned();
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
        Err(failure) => {
            return publish::stop_before_any_call(api, ctx, resource, memory, &failure, started).await;
        }
    };
    // Only a resource that changes Teams needs to be the tenant's one owner.
    match own_tenant(ctx, resource).await? {
        TenantOwner::Held => {}
        TenantOwner::Unknown(failure) => {
            let failure = SetupFailure::on_sign_in(failure.reason, failure.message);
            return publish::stop_before_any_call(api, ctx, resource, memory, &failure, started).await;
        }
        TenantOwner::Refused { holder, tenant } => {
            // Looked at again soon, whatever the schedule: the owner may be gone by then.
            memory.next_sync = None;
            return publish::hold(api, ctx, resource, memory, refused(resource, &holder, &tenant)).await;
        }
    }
    memory.sign_in = Some(connection.sign_in.clone());
    // Joined before the sync reads anything, so that a change made while it reads wakes it again.
    let events = change_events::join(ctx, resource, &connection, &secrets.versions).await;
    let mut wanted = ctx
        .events
        .as_ref()
        .and_then(|change_events| change_events.hub.take_wanted(&key));
    if revisit_due {
        memory.revisit_at = None;
        let revisit = std::mem::take(&mut memory.sync.revisit);
        let named = wanted.get_or_insert_default();
        named.add_users(&revisit.dialpad_users, &revisit.teams_users);
    }
    // Only the users changes named are synced, unless a full sync is due anyway.
    let targets = wanted
        .and_then(Wanted::named)
        .filter(|_| !full_due)
        .map(|(dialpad_users, teams_users)| Targets {
            dialpad_users,
            teams_users,
        });
    memory.sync.keeps_snapshot = change_events::enabled(resource);
    let previous = memory.sync.status.clone();
    let synced = sync(
        api,
        ctx,
        resource,
        &connection,
        &policy,
        &mut memory,
        started,
        targets.as_ref(),
    )
    .await;
    let (run, targeted) = match synced {
        Ok(synced) => synced,
        Err(error) => {
            ctx.remember(&key_of(resource), memory);
            return Err(error);
        }
    };
    if targeted {
        // A targeted re-sync is no full sync: the next one stays due when it was.
        memory.last_sync = last_full_sync;
    }
    let completed = publish::Completed {
        run,
        previous,
        started,
        events,
        targeted,
    };
    publish::synced(api, ctx, resource, memory, completed).await
}

/// The policy of a resource that may sync, or why it is held back: suspended (looked at again
/// each interval), or a spec the installed CRD's rules let through but the operator cannot use
/// (a corrected spec is a new generation, which reconciles at once; the interval re-check only
/// keeps the status honest).
fn gate(resource: &TeamsTenantSync) -> Result<Policy, Held> {
    let recheck = jittered(sync_interval(resource));
    if resource.spec.suspend {
        return Err(Held {
            reason: Reason::Suspended,
            message: SUSPENDED_MESSAGE.to_owned(),
            action: None,
            recheck,
        });
    }
    checked_policy(&resource.spec).map_err(|message| Held {
        reason: Reason::InvalidSpec,
        message,
        action: Some("Validate"),
        recheck,
    })
}

/// Why a resource is held back while `holder` owns its tenant.
fn refused(resource: &TeamsTenantSync, holder: &str, tenant: &str) -> Held {
    let message = format!(
        "TeamsTenantSync {holder} already syncs Microsoft tenant {} ({tenant}), so this resource changes nothing; delete one of them (this one takes over once {holder} is gone)",
        resource.spec.tenant.tenant_id
    );
    Held {
        reason: Reason::DuplicateTenant,
        message,
        action: Some("Claim"),
        recheck: CLAIM_RECHECK,
    }
}

/// Runs one sync, writing its first status at once for a resource that has none (kstatus reads a
/// resource without one as finished until the first sync ends, which can take minutes) and its
/// progress while it runs long. With `targets`, only those users are synced when that can be
/// done exactly (see [`crate::sync::targeted`]), else everyone; the flag says which it was.
#[allow(clippy::too_many_arguments)]
async fn sync(
    api: &Api<TeamsTenantSync>,
    ctx: &Context,
    resource: &TeamsTenantSync,
    connection: &Connection,
    policy: &Policy,
    memory: &mut ResourceMemory,
    started: Instant,
    targets: Option<&Targets>,
) -> Result<(SyncRun, bool), ReconcileError> {
    let (key, name) = (key_of(resource), resource.name_any());
    let namespace = resource.namespace().unwrap_or_default();
    let previous = memory.sync.status.clone();
    if previous.is_none() {
        let status = first_sync_status(resource.meta().generation);
        status::write(api, &ctx.metrics, &namespace, &name, &status).await?;
    }
    let (progress_tx, progress_rx) = tokio::sync::watch::channel((0, 0));
    let report = ProgressReport {
        api,
        metrics: &ctx.metrics,
        namespace: &namespace,
        name: &name,
        key: &key,
        generation: resource.meta().generation,
        previous,
        started,
        every: ctx.progress_every,
    };
    let progress = move |done, total| {
        let _ = progress_tx.send((done, total));
    };
    let record = ConfigMapRecordStore::new(ctx.client.clone(), &ctx.settings.operator_namespace, resource);
    // The change trail's lines (`sync::trail`) name the resource through this span.
    let span = tracing::info_span!("sync", resource = %key);
    let generation = resource.meta().generation;
    let sync = async {
        if let Some(targets) = targets {
            let (source, tenant) = (&connection.source, &connection.tenant);
            let targeted = sync_targets(
                source,
                tenant,
                &record,
                policy,
                &mut memory.sync,
                generation,
                targets,
                &progress,
            );
            if let Some(run) = targeted.await? {
                return Ok((run, true));
            }
        }
        let full = sync_once_reporting(
            &connection.source,
            &connection.tenant,
            &record,
            policy,
            &mut memory.sync,
            generation,
            &progress,
        );
        full.await.map(|run| (run, false))
    }
    .instrument(span);
    let run = tokio::select! {
        run = sync => run,
        never = report.run(progress_rx) => match never {},
    };
    // On an error nothing was changed: the record could not be read, or not written before a
    // change.
    run.map_err(ReconcileError::Ownership)
}
