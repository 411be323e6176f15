//! Admission rules: what the apiserver (and `plan -f`) rejects, and that the message names the field.

mod common;

use dialpad_teams_operator::api::validation::{SchemaViolations, validate_document};
use serde_json::{Value, json};

fn valid() -> Value {
    common::specs::valid_static_resource()
}

fn with(path: &str, value: Value) -> Value {
    let mut document = valid();
    *document
        .pointer_mut(path)
        .unwrap_or_else(|| panic!("{path} exists in the base document")) = value;
    document
}

fn without(parent: &str, field: &str) -> Value {
    let mut document = valid();
    document
        .pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove(field);
    document
}

#[track_caller]
fn rejected(document: Value) -> SchemaViolations {
    validate_document(&document).expect_err("the document should be rejected")
}

#[track_caller]
fn assert_names(violations: &SchemaViolations, field: &str, words: &str) {
    assert!(
        violations
            .0
            .iter()
            .any(|v| v.field == field && v.to_string().contains(words)),
        "expected a violation of {field} mentioning {words:?}, got: {violations}"
    );
}

#[test]
fn the_base_document_is_valid() {
    validate_document(&valid()).unwrap();
}

#[test]
fn two_credential_modes_are_rejected_naming_credentials() {
    let mut document = valid();
    document["spec"]["credentials"]["application"] =
        json!({"clientId": "7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f", "secretRef": {"name": "app"}});
    assert_names(
        &rejected(document),
        "spec.credentials",
        "exactly one of adminAccount or application",
    );
}

#[test]
fn no_credential_mode_is_rejected_naming_credentials() {
    let document = with("/spec/credentials", json!({}));
    assert_names(
        &rejected(document),
        "spec.credentials",
        "exactly one of adminAccount or application",
    );
}

#[test]
fn no_source_is_rejected_naming_source() {
    let document = with("/spec/source", json!({}));
    assert_names(
        &rejected(document),
        "spec.source",
        "exactly one of dialpad or static",
    );
}

#[test]
fn two_sources_are_rejected_naming_source() {
    let mut document = valid();
    document["spec"]["source"]["dialpad"] = json!({"apiKeySecretRef": {"name": "dialpad"}});
    assert_names(
        &rejected(document),
        "spec.source",
        "exactly one of dialpad or static",
    );
}

#[test]
fn a_missing_source_field_is_rejected_as_required() {
    let violations = rejected(without("/spec", "source"));
    assert_names(&violations, "spec", "\"source\" is a required property");
}

#[test]
fn a_number_without_plus_is_rejected_naming_the_phone_number() {
    let document = with("/spec/source/static/users/0/phoneNumber", json!("14155550100"));
    assert_names(
        &rejected(document),
        "spec.source.static.users[0].phoneNumber",
        "does not match",
    );
}

#[test]
fn numbers_with_punctuation_or_too_many_digits_are_rejected() {
    for bad in [
        "+1 415 555 0100",
        "+1-415-555-0100",
        "+0123456789",
        "+1234567890123456",
        "+1415555;ext=",
    ] {
        let document = with("/spec/source/static/users/0/phoneNumber", json!(bad));
        assert_names(
            &rejected(document),
            "spec.source.static.users[0].phoneNumber",
            "does not match",
        );
    }
}

#[test]
fn an_e164_number_with_extension_is_accepted() {
    let document = with(
        "/spec/source/static/users/0/phoneNumber",
        json!("+14255388701;ext=1001"),
    );
    validate_document(&document).unwrap();
}

#[test]
fn a_static_user_without_a_valid_email_is_rejected() {
    let document = with("/spec/source/static/users/0/email", json!("not-an-email"));
    assert_names(
        &rejected(document),
        "spec.source.static.users[0].email",
        "does not match",
    );
}

#[test]
fn a_sync_interval_under_a_minute_is_rejected() {
    let document = with("/spec/syncInterval", json!("30s"));
    assert_names(&rejected(document), "spec.syncInterval", "at least 1m");
}

#[test]
fn sync_intervals_of_a_minute_or_more_are_accepted() {
    for good in ["1m", "60s", "15m", "1h30m", "24h"] {
        validate_document(&with("/spec/syncInterval", json!(good))).unwrap();
    }
}

#[test]
fn a_sync_interval_that_is_not_a_duration_is_rejected() {
    let document = with("/spec/syncInterval", json!("fifteen minutes"));
    assert_names(&rejected(document), "spec.syncInterval", "does not match");
}

#[test]
fn a_negative_grace_period_is_rejected_and_zero_is_accepted() {
    let mut document = valid();
    document["spec"]["removal"] = json!({"policy": "Unassign", "gracePeriod": "-1h"});
    assert_names(
        &rejected(document.clone()),
        "spec.removal.gracePeriod",
        "does not match",
    );
    document["spec"]["removal"]["gracePeriod"] = json!("0s");
    validate_document(&document).unwrap();
}

#[test]
fn a_negative_unassignment_limit_is_rejected_and_zero_is_accepted() {
    let mut document = valid();
    document["spec"]["safety"] = json!({"maxUnassignmentsPerSync": -1});
    assert_names(
        &rejected(document.clone()),
        "spec.safety.maxUnassignmentsPerSync",
        "minimum",
    );
    document["spec"]["safety"]["maxUnassignmentsPerSync"] = json!(0);
    validate_document(&document).unwrap();
}

#[test]
fn a_domain_that_is_not_a_dns_name_is_rejected() {
    for bad in ["contoso", "contoso .com", "-contoso.com", "https://contoso.com"] {
        let document = with("/spec/tenant/domain", json!(bad));
        assert_names(&rejected(document), "spec.tenant.domain", "does not match");
    }
}

#[test]
fn tenant_id_accepts_a_guid_or_a_domain_and_nothing_else() {
    for good in ["9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b34", "contoso.onmicrosoft.com"] {
        validate_document(&with("/spec/tenant/tenantId", json!(good))).unwrap();
    }
    for bad in ["9b5e2f1c4d3a4b8e9f612c7d8e0a1b34", "common", "contoso"] {
        let document = with("/spec/tenant/tenantId", json!(bad));
        assert_names(&rejected(document), "spec.tenant.tenantId", "does not match");
    }
}

#[test]
fn an_unknown_mode_is_rejected_naming_the_allowed_values() {
    let mut document = valid();
    document["spec"]["mode"] = json!("Yolo");
    assert_names(&rejected(document), "spec.mode", "Enforce");
}

#[test]
fn a_misspelled_field_is_rejected_as_unknown() {
    let mut document = valid();
    document["spec"]["syncIntervall"] = json!("15m");
    assert_names(&rejected(document), "spec.syncIntervall", "unknown field");
}

#[test]
fn a_client_id_that_is_not_a_guid_is_rejected() {
    let document = with("/spec/credentials/adminAccount/clientId", json!("my-app"));
    assert_names(
        &rejected(document),
        "spec.credentials.adminAccount.clientId",
        "does not match",
    );
}

#[test]
fn a_document_of_another_kind_is_rejected() {
    let mut document = valid();
    document["kind"] = json!("TeamsTenant");
    assert_names(&rejected(document), "kind", "must be TeamsTenantSync");
}

#[test]
fn violations_read_like_the_apiservers() {
    let mut document = valid();
    document["spec"]["source"] = json!({});
    document["spec"]["source"]["dialpad"] = json!({"apiKeySecretRef": {"name": "dialpad"}});
    document["spec"]["source"]["static"] = json!({"users": []});
    let message = rejected(document).to_string();
    assert_eq!(message, "spec.source: set exactly one of dialpad or static");
}

/// A document whose only credentials are an application with `proofs` beside its client id.
fn application_with(proofs: Value) -> Value {
    let mut application = json!({"clientId": "7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"});
    for (key, value) in proofs.as_object().expect("an object") {
        application[key] = value.clone();
    }
    with("/spec/credentials", json!({"application": application}))
}

#[test]
fn a_certificate_or_workload_identity_alone_is_accepted() {
    validate_document(&application_with(
        json!({"certificate": {"secretRef": {"name": "app-tls"}}}),
    ))
    .unwrap();
    validate_document(&application_with(
        json!({"certificate": {"secretRef": {"name": "app-tls"}, "algorithm": "PS256"}}),
    ))
    .unwrap();
    validate_document(&application_with(json!({"workloadIdentity": {}}))).unwrap();
}

#[test]
fn two_ways_of_proving_the_app_are_rejected_naming_application() {
    for proofs in [
        json!({"secretRef": {"name": "app"}, "certificate": {"secretRef": {"name": "app-tls"}}}),
        json!({"secretRef": {"name": "app"}, "workloadIdentity": {}}),
        json!({"certificate": {"secretRef": {"name": "app-tls"}}, "workloadIdentity": {}}),
    ] {
        assert_names(
            &rejected(application_with(proofs)),
            "spec.credentials.application",
            "exactly one of secretRef, certificate or workloadIdentity",
        );
    }
}

#[test]
fn an_application_with_no_way_of_proving_itself_is_rejected_naming_application() {
    assert_names(
        &rejected(application_with(json!({}))),
        "spec.credentials.application",
        "exactly one of secretRef, certificate or workloadIdentity",
    );
}

#[test]
fn an_unknown_assertion_algorithm_is_rejected_naming_it() {
    let document =
        application_with(json!({"certificate": {"secretRef": {"name": "app-tls"}, "algorithm": "HS256"}}));
    assert_names(
        &rejected(document),
        "spec.credentials.application.certificate.algorithm",
        "RS256",
    );
}

fn with_readiness(readiness: Value) -> Value {
    let mut document = valid();
    document["spec"]["readiness"] = readiness;
    document
}

#[test]
fn max_failed_users_takes_a_count_or_a_percentage_and_nothing_else() {
    for accepted in [json!(0), json!(25), json!("0%"), json!("5%"), json!("100%")] {
        validate_document(&with_readiness(json!({"maxFailedUsers": accepted})))
            .unwrap_or_else(|v| panic!("{accepted} should be accepted: {v}"));
    }
    for refused in [json!(-1), json!("5"), json!("101%"), json!("five%"), json!(null)] {
        let Err(violations) = validate_document(&with_readiness(json!({"maxFailedUsers": refused}))) else {
            panic!("{refused} was accepted");
        };
        assert!(
            violations
                .0
                .iter()
                .any(|v| v.field == "spec.readiness.maxFailedUsers"),
            "{refused}: {violations}"
        );
    }
}

#[test]
fn a_max_activation_time_that_is_not_a_duration_is_rejected() {
    assert_names(
        &rejected(with_readiness(json!({"maxActivationTime": "a day"}))),
        "spec.readiness.maxActivationTime",
        "does not match",
    );
}

fn with_offices(offices: Value) -> Value {
    let mut document = valid();
    document["spec"]["assignment"] = json!({"voiceRoutingPolicy": "Global-Routes", "offices": offices});
    document
}

#[test]
fn an_office_listed_twice_is_rejected_naming_the_offices() {
    let twice = with_offices(json!([
        {"office": "Berlin", "voiceRoutingPolicy": "Berlin-Routes"},
        {"office": "Paris", "dialPlan": "FR-Dialling"},
        {"office": "Berlin", "emergencyLocationId": "berlin-location"}
    ]));
    assert_names(
        &rejected(twice),
        "spec.assignment.offices",
        "an office is listed twice",
    );
}

#[test]
fn offices_listed_once_each_with_their_own_settings_are_accepted() {
    validate_document(&with_offices(json!([
        {"office": "4711", "voiceRoutingPolicy": "Berlin-Routes", "emergencyLocationId": "berlin-location"},
        {"office": "Paris", "dialPlan": "FR-Dialling", "callingPolicy": "AllowCalling"}
    ])))
    .unwrap();
}

#[test]
fn an_office_without_its_name_or_with_an_empty_policy_name_is_rejected() {
    assert_names(
        &rejected(with_offices(json!([{"voiceRoutingPolicy": "Berlin-Routes"}]))),
        "spec.assignment.offices[0]",
        "\"office\" is a required property",
    );
    assert_names(
        &rejected(with_offices(json!([{"office": "Berlin", "dialPlan": ""}]))),
        "spec.assignment.offices[0].dialPlan",
        "shorter than 1 character",
    );
}
