//! TeamsTenantSyncs the operator's types cannot read: a resource written before a CRD upgrade
//! can hold what the installed CRD no longer allows (a `mode` that was removed, a field that is now
//! required, a number where text is expected), and the apiserver serves it as stored.
//!
//! Watched as typed objects, one such resource made every list of its scope fail: no resource of
//! the scope was reconciled and the operator never became ready. So the scope watches untyped
//! objects and reads each one here: a readable resource goes on to the controller, an unreadable
//! one is left out of it and reported on its own status (`Ready` False, reason `InvalidSpec`,
//! naming the field) and by a Warning Event, once per generation and message.

use std::sync::Arc;

use k8s_openapi::api::core::v1::ObjectReference;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::watcher::Event;
use kube::{Resource, ResourceExt};
use serde_json::{Value, json};

use super::context::{Context, FINALIZER};
use super::events;
use super::spec_check::invalid_spec_message;
use super::status::{self, held_status};
use crate::api::conditions::{READY, find_condition};
use crate::api::validation::{SchemaViolation, validate_document};
use crate::api::{Reason, TeamsTenantSync, TeamsTenantSyncStatus};

/// A resource that cannot be read, with the status to write on it.
#[derive(Clone, Debug, PartialEq)]
pub struct Unreadable {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// The `InvalidSpec` message.
    pub message: String,
    /// Its status with `Ready` False (`InvalidSpec`) and `Stalled` True, the rest kept.
    pub status: TeamsTenantSyncStatus,
    /// The resource, for its Event.
    pub reference: ObjectReference,
}

/// The typed watch event for `event`, and the resource to report if one could not be read. An
/// unreadable resource is left out of the typed event (never in the cache, never reconciled);
/// one already reported for this generation with this message is not reported again, so that
/// the status write it causes does not cause another.
pub fn read_event(event: Event<DynamicObject>) -> (Option<Event<TeamsTenantSync>>, Option<Unreadable>) {
    let one =
        |object: DynamicObject, typed: fn(TeamsTenantSync) -> Event<TeamsTenantSync>| match read(&object) {
            Ok(resource) => (Some(typed(resource)), None),
            Err(error) => (None, unreadable(&object, &error)),
        };
    match event {
        Event::Init => (Some(Event::Init), None),
        Event::InitDone => (Some(Event::InitDone), None),
        Event::InitApply(object) => one(object, Event::InitApply),
        Event::Apply(object) => one(object, Event::Apply),
        // An unreadable resource never entered the cache, so there is nothing to remove.
        Event::Delete(object) => match read(&object) {
            Ok(resource) => (Some(Event::Delete(resource)), None),
            Err(_) => (None, None),
        },
    }
}

fn as_json(object: &DynamicObject) -> Value {
    let mut value = serde_json::to_value(object).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        map.insert("apiVersion".into(), "teamssync.io/v1alpha1".into());
        map.insert("kind".into(), "TeamsTenantSync".into());
    }
    value
}

fn read(object: &DynamicObject) -> Result<TeamsTenantSync, serde_json::Error> {
    serde_json::from_value(as_json(object))
}

/// What is wrong with an object that does not read: every rule of the CRD its spec breaks, or, if
/// it breaks none, what the reader said.
pub fn unreadable_message(object: &Value, error: &serde_json::Error) -> String {
    let document = json!({
        "apiVersion": "teamssync.io/v1alpha1",
        "kind": "TeamsTenantSync",
        "metadata": {},
        "spec": object.get("spec").cloned().unwrap_or(Value::Null),
    });
    let violations = match validate_document(&document) {
        Err(violations) => violations.0,
        Ok(()) => vec![SchemaViolation {
            field: String::new(),
            message: format!("the operator cannot read it: {error}"),
        }],
    };
    let mut message = invalid_spec_message(&violations);
    if object.pointer("/metadata/deletionTimestamp").is_some() {
        message.push_str(&format!(
            "; it is being deleted: correct the spec so that the removal policy can run, or remove the finalizer {FINALIZER} to leave its numbers assigned"
        ));
    }
    message
}

fn unreadable(object: &DynamicObject, error: &serde_json::Error) -> Option<Unreadable> {
    let value = as_json(object);
    let message = unreadable_message(&value, error);
    let generation = object.metadata.generation;
    // A status this operator wrote reads even when the spec does not; anything else starts afresh.
    let previous: Option<TeamsTenantSyncStatus> = value
        .get("status")
        .and_then(|s| serde_json::from_value(s.clone()).ok());
    let reported = previous.as_ref().is_some_and(|status| {
        status.observed_generation == generation
            && find_condition(&status.conditions, READY)
                .is_some_and(|c| c.reason == Reason::InvalidSpec.as_str() && c.message == message)
    });
    if reported {
        return None;
    }
    let status = held_status(generation, previous.as_ref(), Reason::InvalidSpec, &message);
    Some(Unreadable {
        namespace: object.namespace().unwrap_or_default(),
        name: object.name_any(),
        message,
        status,
        reference: object.object_ref(&resource()),
    })
}

/// The API resource of TeamsTenantSync, for untyped access.
pub fn resource() -> ApiResource {
    ApiResource::erase::<TeamsTenantSync>(&())
}

/// Writes each reported resource's status and Event, until the sending watch ends.
pub async fn report(ctx: Arc<Context>, mut reports: tokio::sync::mpsc::UnboundedReceiver<Unreadable>) {
    while let Some(report) = reports.recv().await {
        let key = format!("{}/{}", report.namespace, report.name);
        tracing::error!(resource = %key, "cannot read the resource: {}", report.message);
        let api: Api<DynamicObject> =
            Api::namespaced_with(ctx.client.clone(), &report.namespace, &resource());
        if let Err(error) = status::write_untyped(&api, &report.name, &report.status).await {
            tracing::warn!(resource = %key, %error, "cannot write the status of an unreadable resource");
        }
        let warning = events::held_warning(Reason::InvalidSpec.as_str(), &report.message, "Read");
        events::publish(&ctx.recorder, &report.reference, &[warning]).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(spec: Value, status: Option<Value>) -> DynamicObject {
        let mut value = json!({
            "apiVersion": "teamssync.io/v1alpha1",
            "kind": "TeamsTenantSync",
            "metadata": {"name": "old", "namespace": "telephony", "generation": 3, "uid": "u-1"},
            "spec": spec,
        });
        if let Some(status) = status {
            value["status"] = status;
        }
        serde_json::from_value(value).unwrap()
    }

    fn valid_spec() -> Value {
        json!({
            "tenant": {"tenantId": "contoso.onmicrosoft.com", "domain": "contoso.com"},
            "credentials": {"application": {"clientId": "7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f", "secretRef": {"name": "app"}}},
            "source": {"static": {"users": []}},
        })
    }

    #[test]
    fn a_readable_resource_goes_on_and_an_unreadable_one_is_reported_instead() {
        let (typed, report) = read_event(Event::Apply(object(valid_spec(), None)));
        assert!(matches!(typed, Some(Event::Apply(_))) && report.is_none());
        let mut spec = valid_spec();
        spec["mode"] = json!("Audit");
        let (typed, report) = read_event(Event::InitApply(object(spec, None)));
        assert!(typed.is_none(), "never cached, never reconciled");
        let report = report.expect("reported");
        assert_eq!(
            (report.namespace.as_str(), report.name.as_str()),
            ("telephony", "old")
        );
        assert!(report.message.contains("spec.mode: "), "{}", report.message);
        let ready = find_condition(&report.status.conditions, READY).unwrap();
        assert_eq!(
            (ready.reason.as_str(), ready.status.as_str()),
            ("InvalidSpec", "False")
        );
        assert_eq!(report.status.observed_generation, Some(3));
    }

    #[test]
    fn a_resource_reported_for_this_generation_and_message_is_not_reported_again() {
        let mut spec = valid_spec();
        spec.as_object_mut().unwrap().remove("tenant");
        let (_, first) = read_event(Event::Apply(object(spec.clone(), None)));
        let first = first.unwrap();
        let status = serde_json::to_value(&first.status).unwrap();
        let (typed, again) = read_event(Event::Apply(object(spec, Some(status))));
        assert!(
            typed.is_none() && again.is_none(),
            "its own status write causes no other"
        );
    }

    #[test]
    fn markers_pass_through_and_an_unreadable_deletion_is_dropped() {
        assert!(matches!(read_event(Event::Init), (Some(Event::Init), None)));
        assert!(matches!(
            read_event(Event::InitDone),
            (Some(Event::InitDone), None)
        ));
        assert!(matches!(
            read_event(Event::Delete(object(json!({"mode": 5}), None))),
            (None, None)
        ));
    }

    #[test]
    fn a_deleted_unreadable_resource_says_how_to_let_it_go() {
        let mut value = as_json(&object(json!({"mode": "Audit"}), None));
        value["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        let error = serde_json::from_value::<TeamsTenantSync>(value.clone()).unwrap_err();
        let message = unreadable_message(&value, &error);
        assert!(
            message.contains(FINALIZER) && message.contains("being deleted"),
            "{message}"
        );
    }
}
