//! A TeamsTenantSync that slipped past the schema: the apiserver validates on write only, so a
//! resource written before a CRD upgrade can hold what the installed CRD refuses. Every such spec
//! that the operator can read is reported naming the field and how to correct it, and no policy
//! setting falls back to a default. (What admission refuses is in `schema_rules.rs`; a spec the
//! operator's types cannot even read is in `controller_invalid_spec.rs`.)

mod common;

use dialpad_teams_operator::api::{DEFAULT_GRACE_PERIOD, TeamsTenantSync};
use dialpad_teams_operator::controller::spec_check::checked_policy;
use dialpad_teams_operator::sync::model::{Policy, PolicyError};
use serde_json::{Value, json};

fn valid() -> Value {
    common::specs::valid_static_resource()
}

/// `valid()` with the JSON pointer `path` set to `value`, read as the watcher reads it.
#[track_caller]
fn read_with(path: &str, value: Value) -> TeamsTenantSync {
    let mut document = valid();
    let (parent, field) = path.rsplit_once('/').unwrap();
    document
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("{parent} exists in the base document"))
        .as_object_mut()
        .unwrap()
        .insert(field.to_owned(), value);
    serde_json::from_value(document).expect("the operator's types read this spec")
}

#[track_caller]
fn assert_invalid(resource: &TeamsTenantSync, field: &str, explain: &str) {
    let message = checked_policy(&resource.spec).expect_err("the spec breaks the CRD's rules");
    assert!(
        message.contains(&format!("{field}: ")),
        "names {field}: {message}"
    );
    assert!(
        message.contains(&format!("kubectl explain {explain}")),
        "says where the format is documented: {message}"
    );
    assert!(
        message.contains("nothing is read or changed"),
        "says what the operator does meanwhile: {message}"
    );
}

#[test]
fn the_base_spec_gives_a_policy() {
    let resource: TeamsTenantSync = serde_json::from_value(valid()).unwrap();
    let policy = checked_policy(&resource.spec).unwrap();
    assert_eq!(policy.grace_period.as_secs(), 72 * 3600);
}

#[test]
fn a_grace_period_that_is_not_a_duration_is_an_invalid_spec_not_the_default() {
    for bad in ["3 days", "72", "-1h", "", "1d"] {
        let resource = read_with("/spec/removal", json!({"gracePeriod": bad}));
        assert_invalid(
            &resource,
            "spec.removal.gracePeriod",
            "teamstenantsync.spec.removal.gracePeriod",
        );
    }
}

#[test]
fn policy_from_spec_never_guesses_a_removal_setting() {
    let resource = read_with("/spec/removal", json!({"gracePeriod": "3 days"}));
    assert_eq!(
        Policy::from_spec(&resource.spec),
        Err(PolicyError::GracePeriod("3 days".into())),
        "an unparseable grace period must not become {DEFAULT_GRACE_PERIOD}"
    );
    let error = Policy::from_spec(&resource.spec).unwrap_err().to_string();
    assert!(
        error.contains("spec.removal.gracePeriod") && error.contains("72h, 30m or 0s"),
        "{error}"
    );
    let negative = read_with("/spec/safety", json!({"maxUnassignmentsPerSync": -3}));
    assert_eq!(
        Policy::from_spec(&negative.spec),
        Err(PolicyError::MaxUnassignments(-3))
    );
}

#[test]
fn a_negative_safety_limit_is_an_invalid_spec() {
    let resource = read_with("/spec/safety", json!({"maxUnassignmentsPerSync": -1}));
    assert_invalid(
        &resource,
        "spec.safety.maxUnassignmentsPerSync",
        "teamstenantsync.spec.safety.maxUnassignmentsPerSync",
    );
}

#[test]
fn a_sync_interval_too_short_or_not_a_duration_is_an_invalid_spec() {
    for bad in ["30s", "fifteen minutes"] {
        let resource = read_with("/spec/syncInterval", json!(bad));
        assert_invalid(
            &resource,
            "spec.syncInterval",
            "teamstenantsync.spec.syncInterval",
        );
    }
}

#[test]
fn endpoint_urls_without_a_scheme_or_with_a_query_are_an_invalid_spec() {
    for bad in [
        "graph.microsoft.com",
        "ftp://graph.microsoft.com",
        "https://graph.microsoft.com/?x=1",
    ] {
        let resource = read_with("/spec/endpoints", json!({"graph": bad}));
        assert_invalid(
            &resource,
            "spec.endpoints.graph",
            "teamstenantsync.spec.endpoints.graph",
        );
    }
}

#[test]
fn identifiers_of_the_wrong_shape_are_an_invalid_spec() {
    let tenant = read_with("/spec/tenant/tenantId", json!("common"));
    assert_invalid(
        &tenant,
        "spec.tenant.tenantId",
        "teamstenantsync.spec.tenant.tenantId",
    );
    let client = read_with("/spec/credentials/adminAccount/clientId", json!("my-app"));
    assert_invalid(
        &client,
        "spec.credentials.adminAccount.clientId",
        "teamstenantsync.spec.credentials.adminAccount.clientId",
    );
}

#[test]
fn a_static_user_with_a_bad_number_or_email_is_named_by_its_index() {
    let users = json!([
        {"email": "a@contoso.com", "phoneNumber": "+14155550100"},
        {"email": "b@contoso.com", "phoneNumber": "(415) 555-0101"},
        {"email": "nobody", "phoneNumber": "+14155550102"}
    ]);
    let resource = read_with("/spec/source/static/users", users);
    assert_invalid(
        &resource,
        "spec.source.static.users[1].phoneNumber",
        "teamstenantsync.spec.source.static.users.phoneNumber",
    );
    assert_invalid(
        &resource,
        "spec.source.static.users[2].email",
        "teamstenantsync.spec.source.static.users.email",
    );
}

#[test]
fn both_or_neither_credentials_and_sources_are_an_invalid_spec() {
    let both = read_with(
        "/spec/credentials/application",
        json!({"clientId": "7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f", "secretRef": {"name": "app"}}),
    );
    let message = checked_policy(&both.spec).unwrap_err();
    assert!(
        message.contains("spec.credentials")
            && message.contains("exactly one of adminAccount or application"),
        "{message}"
    );
    let neither = read_with("/spec/source", json!({}));
    let message = checked_policy(&neither.spec).unwrap_err();
    assert!(
        message.contains("spec.source") && message.contains("exactly one of dialpad or static"),
        "{message}"
    );
}

#[test]
fn empty_secret_names_are_an_invalid_spec() {
    let resource = read_with("/spec/credentials/adminAccount/secretRef", json!({"name": ""}));
    assert_invalid(
        &resource,
        "spec.credentials.adminAccount.secretRef.name",
        "teamstenantsync.spec.credentials.adminAccount.secretRef.name",
    );
}
