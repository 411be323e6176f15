//! Deleting a TeamsTenantSync: the finalizer applies `spec.removal.policy`. `Retain` (and
//! `DryRun`) leave Teams as it is. `Unassign` removes the numbers the resource owns (its ownership
//! record: what it assigned or adopted) that Teams still shows on their user, within the safety
//! limit. It signs in with the Secrets, or, once they are gone (a namespace being deleted takes
//! them first), with the last sync's sign-in. While that cannot be done, deletion waits with a
//! Warning Event, for at most the cleanup timeout from the deletion request; then it gives up:
//! the numbers stay assigned, the record stays in the operator's namespace marked as left, and a
//! log line, a metric and an Event there say so. Either way the tenant claim is released.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::controller::Action;
use kube::runtime::events::Recorder;
use kube::{Resource, ResourceExt};
use tracing::Instrument;

use super::claim::{held_claims, lease_name, release};
use super::context::Context;
use super::context::key_of;
use super::error::{CleanupBlocked, NotUnassigned, ReconcileError, retry_note};
use super::events::{self, truncate};
use super::record_store::ConfigMapRecordStore;
use crate::api::{RemovalPolicy, SyncMode, TeamsTenantSync};
use crate::connect::connect_tenant;
use crate::sync::change::ChangeOutcome;
use crate::sync::model::{ActionKind, Cause, number_type_name};
use crate::sync::policies::{PolicyChange, requests};
use crate::sync::ports::{OwnershipStore, TeamsTenant};
use crate::sync::trail::{self, Subject};

/// The removal policy on delete (see the module docs).
pub(super) async fn cleanup(
    resource: &TeamsTenantSync,
    namespace: &str,
    ctx: &Context,
) -> Result<Action, ReconcileError> {
    let key = key_of(resource);
    let name = resource.name_any();
    let reference = resource.object_ref(&());
    let record = ConfigMapRecordStore::new(ctx.client.clone(), &ctx.settings.operator_namespace, resource);
    let unassign =
        resource.spec.removal.policy == RemovalPolicy::Unassign && resource.spec.mode == SyncMode::Enforce;
    if unassign {
        // The change trail's lines name the resource through this span, as a sync's do.
        let span = tracing::info_span!("delete", resource = %key);
        match unassign_owned(resource, namespace, ctx, &record)
            .instrument(span)
            .await
        {
            Ok(0) => {}
            Ok(count) => {
                let note = format!(
                    "Unassigned {count} number(s) this resource owned, on delete (removal policy Unassign)"
                );
                let event = events::on_delete("NumbersUnassigned", note);
                let fallback = claim_reference(ctx, resource).await;
                events::publish_somewhere(&ctx.recorder, &reference, &fallback, &event).await;
            }
            Err(problem) if !past_deadline(resource, ctx) => {
                return deletion_blocked(&ctx.recorder, &reference, problem, ctx).await;
            }
            Err(problem) => return give_up(resource, namespace, ctx, &record, &problem).await,
        }
    }
    // The resource owns nothing any more. Past the deadline, a record or claim that cannot be
    // removed (a missing permission) is logged and left rather than holding the deletion.
    let tidied = match record.delete().await {
        Ok(()) => release(&ctx.client, &ctx.settings.operator_namespace, resource)
            .await
            .map_err(ReconcileError::from),
        Err(error) => Err(ReconcileError::Ownership(error)),
    };
    match tidied {
        Err(error) if past_deadline(resource, ctx) => {
            tracing::error!(resource = %key, %error, "deleted without removing its ownership record or tenant claim; remove them by hand")
        }
        other => other?,
    }
    ctx.forget(&key);
    ctx.metrics.forget_resource(namespace, &name);
    Ok(Action::await_change())
}

/// Unassigns what the resource owns; the count, or what stopped it.
async fn unassign_owned(
    resource: &TeamsTenantSync,
    namespace: &str,
    ctx: &Context,
    record: &ConfigMapRecordStore,
) -> Result<usize, CleanupBlocked> {
    let owned = record.load().await?;
    if owned.is_empty() {
        return Ok(0);
    }
    let secrets = ctx
        .secrets
        .referenced_by(&ctx.client, namespace, resource)
        .await
        .map_err(|error| CleanupBlocked::Secrets(Box::new(error)))?;
    let sign_in = ctx.recall(&key_of(resource)).sign_in;
    let credentials = ctx.credentials(namespace, &secrets);
    let tenant = connect_tenant(&resource.spec, &credentials, &ctx.connect, sign_in.as_ref())
        .map_err(CleanupBlocked::SignIn)?;
    let checks = tenant.check().await;
    if let Err((reason, message)) = checks.connected.and(checks.authorized) {
        return Err(CleanupBlocked::Check { reason, message });
    }
    let teams = tenant.read().await.map_err(CleanupBlocked::Read)?;
    let removals = owned.removals(&teams);
    let policy_removals = owned.policy_removals(&teams);
    let limit = usize::try_from(resource.spec.safety.max_unassignments_per_sync.max(0)).unwrap_or(0);
    if removals.len() + policy_removals.len() > limit {
        return Err(CleanupBlocked::OverLimit {
            count: removals.len() + policy_removals.len(),
            limit,
        });
    }
    unassign_policies(&tenant, &policy_removals).await?;
    let number_type = number_type_name(resource.spec.assignment.number_type);
    let mut failed = Vec::new();
    for removal in &removals {
        // Sending and waiting are one call here: the sent line goes first, without an operation.
        let subject = Subject::holder(&removal.holder);
        let kind = ActionKind::Unassign {
            number: removal.number.clone(),
        };
        trail::sent(&subject, &kind, &Cause::ResourceDeleted, None);
        let result = tenant.unassign_and_wait(&removal.number, number_type).await;
        trail::confirmed(&subject, &kind, &Cause::ResourceDeleted, &result);
        let why = match result {
            Ok(ChangeOutcome::Refused(refusal)) => Ok(refusal),
            Ok(_) => continue,
            Err(error) => Err(error),
        };
        failed.push(NotUnassigned {
            number: removal.number.clone(),
            why,
        });
    }
    if !failed.is_empty() {
        return Err(CleanupBlocked::Unassign {
            failed,
            attempted: removals.len(),
        });
    }
    Ok(removals.len())
}

/// Unassigns `changes` (policies the resource assigned), in requests of the tenant's size; the
/// first failure stops it.
async fn unassign_policies(
    tenant: &impl TeamsTenant,
    changes: &[PolicyChange],
) -> Result<(), CleanupBlocked> {
    let mut done = 0;
    for request in requests(changes, tenant.policy_changes_per_request()) {
        let reason = Cause::ResourceDeleted.as_str();
        for change in &request {
            trail::policy_sent(change, reason);
        }
        let result = tenant.submit_policy_changes(&request).await;
        for change in &request {
            trail::policy_confirmed(change, reason, &result);
        }
        if let Err(error) = result {
            return Err(CleanupBlocked::PolicyUnassign {
                failed: changes.len() - done,
                attempted: changes.len(),
                error,
            });
        }
        done += request.len();
    }
    Ok(())
}

/// Whether the cleanup timeout has passed since deletion was requested.
fn past_deadline(resource: &TeamsTenantSync, ctx: &Context) -> bool {
    let Some(requested) = &resource.meta().deletion_timestamp else {
        return false;
    };
    let timeout = k8s_openapi::jiff::SignedDuration::try_from(ctx.settings.cleanup_timeout)
        .unwrap_or(k8s_openapi::jiff::SignedDuration::MAX);
    requested
        .0
        .checked_add(timeout)
        .is_ok_and(|deadline| k8s_openapi::jiff::Timestamp::now() >= deadline)
}

/// Publishes why deletion cannot finish yet and keeps the finalizer (the error requeues).
async fn deletion_blocked(
    recorder: &Recorder,
    reference: &ObjectReference,
    blocked: CleanupBlocked,
    ctx: &Context,
) -> Result<Action, ReconcileError> {
    let timeout = ctx.settings.cleanup_timeout;
    let note = format!("{blocked}{}", retry_note(timeout));
    let event = events::warning_on_delete("DeletionBlocked", &note);
    events::publish(recorder, reference, &[event]).await;
    Err(ReconcileError::Cleanup { blocked, timeout })
}

/// Lets the resource go without unassigning: the record stays (marked as left) in the operator's
/// namespace, the claim is released, and a log line, a metric and an Event say what was left.
async fn give_up(
    resource: &TeamsTenantSync,
    namespace: &str,
    ctx: &Context,
    record: &ConfigMapRecordStore,
    problem: &CleanupBlocked,
) -> Result<Action, ReconcileError> {
    let key = key_of(resource);
    let name = resource.name_any();
    let left = record.load().await.map(|r| r.len()).unwrap_or(0);
    let shards = record.shard_names();
    let note = format!(
        "gave up unassigning after {:?}: {problem}",
        ctx.settings.cleanup_timeout
    );
    if let Err(error) = record.mark_left(&truncate(&note, 1000)).await {
        tracing::warn!(resource = %key, %error, "cannot mark the ownership record as left");
    }
    let where_ = match shards.first() {
        Some(first) => format!("listed in ConfigMap {}/{first}", record.namespace()),
        None => "no record".to_owned(),
    };
    tracing::error!(
        resource = %key,
        tenant = %resource.spec.tenant.tenant_id,
        left,
        record = %where_,
        "deleted without unassigning its numbers: {problem}"
    );
    ctx.metrics.record_numbers_left(namespace, &name, left as u64);
    let message = format!(
        "TeamsTenantSync {key} was deleted, leaving {left} number(s) it owned assigned in tenant {} ({where_}): {note}",
        resource.spec.tenant.tenant_id
    );
    let event = events::warning_on_delete("NumbersLeftAssigned", &message);
    let regarding = match shards.first() {
        Some(first) => ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("ConfigMap".into()),
            namespace: Some(record.namespace().to_owned()),
            name: Some(first.clone()),
            ..Default::default()
        },
        None => claim_reference(ctx, resource).await,
    };
    // The operator's namespace still exists; the resource's may be terminating.
    events::publish(&ctx.recorder, &regarding, std::slice::from_ref(&event)).await;
    events::publish(&ctx.recorder, &resource.object_ref(&()), &[event]).await;
    if let Err(error) = release(&ctx.client, &ctx.settings.operator_namespace, resource).await {
        tracing::error!(resource = %key, %error, "cannot release the tenant claim; delete it by hand");
    }
    ctx.forget(&key);
    ctx.metrics.forget_resource(namespace, &name);
    Ok(Action::await_change())
}

/// The tenant claim Lease the resource holds, as an Event's subject in the operator's namespace
/// (named after the tenant as the spec names it if the claim cannot be read).
async fn claim_reference(ctx: &Context, resource: &TeamsTenantSync) -> ObjectReference {
    let leases = kube::Api::namespaced(ctx.client.clone(), &ctx.settings.operator_namespace);
    let held = held_claims(&leases, &resource.uid().unwrap_or_default()).await;
    let name = held
        .ok()
        .and_then(|claims| claims.into_iter().next())
        .map(|lease| lease.name_any())
        .unwrap_or_else(|| lease_name(&resource.spec.tenant.tenant_id));
    ObjectReference {
        api_version: Some("coordination.k8s.io/v1".into()),
        kind: Some("Lease".into()),
        namespace: Some(ctx.settings.operator_namespace.clone()),
        name: Some(name),
        ..Default::default()
    }
}
