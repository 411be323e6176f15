//! Deleting a TeamsTenantSync: the finalizer applies `spec.removal.policy`. `Retain` (and
//! `DryRun`) leave Teams as it is; `Unassign` removes the numbers this resource manages, within the
//! safety limit, and keeps the finalizer with a Warning Event while that cannot be done.

use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder};
use kube::{Resource, ResourceExt};

use super::context::Context;
use super::reconcile::{ReconcileError, cached_secrets, key_of};
use super::writer::{publish, truncate};
use crate::api::{RemovalPolicy, TeamsTenantSync};
use crate::sync::connect::connect_reusing;
use crate::sync::model::Policy;
use crate::sync::ports::{DesiredSource, TeamsTenant, TeamsWriter};
use crate::telemetry::metrics;

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
        note: Some(truncate(&note, 1000)),
        action: "Delete".into(),
        secondary: None,
    };
    publish(recorder, reference, &[event]).await;
    Err(ReconcileError::Cleanup(note))
}

/// The removal policy on delete: `Retain` leaves Teams as it is; `Unassign` removes the numbers
/// this resource manages, within the safety limit.
pub(super) async fn cleanup(
    resource: &TeamsTenantSync,
    namespace: &str,
    ctx: &Context,
) -> Result<Action, ReconcileError> {
    let key = key_of(resource);
    let name = resource.name_any();
    let recorder = &ctx.recorder;
    let reference = resource.object_ref(&());
    if resource.spec.removal.policy == RemovalPolicy::Retain
        || resource.spec.mode == crate::api::SyncMode::DryRun
    {
        ctx.forget(&key);
        metrics::forget_resource(namespace, &name);
        return Ok(Action::await_change());
    }
    let secrets = cached_secrets(ctx, namespace, resource).await?;
    let sign_in = ctx.recall(&key).sign_in;
    let connection = match connect_reusing(&resource.spec, &secrets, &ctx.connect, sign_in.as_ref()) {
        Ok(connection) => connection,
        Err(failure) => return deletion_blocked(recorder, &reference, failure.message).await,
    };
    let checks = connection.tenant.check().await;
    if let Err((reason, message)) = checks.connected.clone().and(checks.authorized.clone()) {
        return deletion_blocked(recorder, &reference, format!("{reason}: {message}")).await;
    }
    let desired = match connection.source.read().await {
        Ok(desired) => desired,
        Err(failure) => return deletion_blocked(recorder, &reference, failure.message).await,
    };
    let teams = match connection.tenant.read().await {
        Ok(teams) => teams,
        Err(error) => return deletion_blocked(recorder, &reference, error.to_string()).await,
    };
    let removals = crate::sync::cleanup::removals_on_delete(&desired, &teams);
    let limit = usize::try_from(resource.spec.safety.max_unassignments_per_sync.max(0)).unwrap_or(0);
    if removals.len() > limit {
        return deletion_blocked(
            recorder,
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
            recorder,
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
    publish(recorder, &reference, &[event]).await;
    ctx.forget(&key);
    metrics::forget_resource(namespace, &name);
    Ok(Action::await_change())
}
