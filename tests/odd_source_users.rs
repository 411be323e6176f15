//! Dialpad users as Dialpad may really send them, read by the real Dialpad source from a loopback
//! server and planned against a tenant where everyone else is ready: null and empty emails, one
//! email on two users in different case and spacing, one email twice on one user, numbers with
//! spaces, dashes, parentheses, dots, extensions, a leading 00, no `+`, letters, nothing at all,
//! and far too long. Each ends with its documented reason and a message naming the value or the
//! fix. (The planner's own cases, one reason each, are in `src/sync/plan_tests.rs`; the
//! normaliser's in `src/sync/numbers.rs`.)

use std::collections::HashMap;

use dialpad_teams_operator::api::Reason;
use dialpad_teams_operator::microsoft::catalog;
use dialpad_teams_operator::microsoft::directory::EmailIndex;
use dialpad_teams_operator::microsoft::graph::GraphUser;
use dialpad_teams_operator::microsoft::licences::{AssignedPlan, LicenceState};
use dialpad_teams_operator::sync::input::PlanInput;
use dialpad_teams_operator::sync::model::{
    DesiredState, Plan, Policy, TeamsState, TeamsUser, TenantChecks, UserOutcome,
};
use dialpad_teams_operator::sync::ownership::OwnershipRecord;
use dialpad_teams_operator::sync::plan::plan;
use dialpad_teams_operator::sync::ports::DesiredSource;
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

mod common;
use common::raw_http::{RawServer, Seen, dialpad_source, json as json_response, response};

const LONG_DIGITS: usize = 300;

/// The odd users, by id: `(id, emails, phone_numbers)` as JSON values.
fn odd_users() -> Vec<Value> {
    let long = format!("+1{}", "5".repeat(LONG_DIGITS));
    let user = |id: u32, emails: Value, numbers: Value| json!({"id": id, "emails": emails, "phone_numbers": numbers, "state": "active", "first_name": format!("User{id}")});
    let number = |n: u32| json!([format!("+1415555{n:04}")]);
    vec![
        user(1, Value::Null, number(1)),
        user(2, json!([null, "", "   "]), number(2)),
        user(3, json!(["Grace@Contoso.com"]), number(3)),
        user(4, json!([" grace@contoso.com "]), number(4)),
        user(5, json!(["ada@contoso.com", "ADA@contoso.com"]), number(5)),
        user(6, json!(["u6@contoso.com"]), json!(["(415) 555-0106"])),
        user(7, json!(["u7@contoso.com"]), json!(["+1 415-555-0107"])),
        user(8, json!(["u8@contoso.com"]), json!(["415.555.0108"])),
        user(9, json!(["u9@contoso.com"]), json!(["+1 415 555 0109 ext. 12"])),
        user(10, json!(["u10@contoso.com"]), json!(["14155550110"])),
        user(11, json!(["u11@contoso.com"]), json!(["0014155550111"])),
        user(12, json!(["u12@contoso.com"]), json!(["call me maybe"])),
        user(13, json!(["u13@contoso.com"]), json!(["", null])),
        user(14, json!(["u14@contoso.com"]), json!([long])),
        user(15, json!(["u15@contoso.com"]), json!(["+14155550115;ext=abc"])),
        user(16, json!(["u16@contoso.com"]), json!(["555-0116"])),
    ]
}

fn teams_user(position: usize, email: &str) -> (GraphUser, TeamsUser) {
    let plans = vec![AssignedPlan {
        service_plan_id: Some(catalog::MCOEV.id.to_owned()),
        capability_status: Some("Enabled".into()),
    }];
    let graph = GraphUser {
        id: format!("teams-{position}"),
        user_principal_name: Some(email.to_owned()),
        mail: Some(email.to_owned()),
        ..Default::default()
    };
    let teams = TeamsUser {
        id: graph.id.clone(),
        user_principal_name: email.to_owned(),
        mail: Some(email.to_owned()),
        enabled: true,
        licence: LicenceState::classify(&plans, &[]),
    };
    (graph, teams)
}

/// A tenant where every email of the odd users has a licensed Teams user.
fn tenant() -> TeamsState {
    let mut emails = vec!["grace@contoso.com".to_owned(), "ada@contoso.com".to_owned()];
    emails.extend((6..=16).map(|i| format!("u{i}@contoso.com")));
    let (graph, users): (Vec<GraphUser>, Vec<TeamsUser>) = emails
        .iter()
        .enumerate()
        .map(|(i, email)| teams_user(i, email))
        .unzip();
    TeamsState {
        index: EmailIndex::new(&graph),
        users,
        numbers: Vec::new(),
        policies: Default::default(),
    }
}

async fn read_source() -> DesiredState {
    let page = json!({"items": odd_users()});
    let server = RawServer::start(move |seen: &Seen| match seen.path.as_str() {
        "/api/v2/users" => json_response(&page),
        "/api/v2/numbers" => json_response(&json!({"items": []})),
        "/api/v2/company" => json_response(&json!({"id": "1", "name": "Contoso"})),
        _ => response(404, "application/json", b"{}"),
    })
    .await;
    let source = dialpad_source(&server.base);
    source.read().await.expect("every odd user is readable")
}

fn policy() -> Policy {
    Policy::default()
}

async fn planned() -> Plan {
    let desired = read_source().await;
    let teams = tenant();
    let policy = policy();
    let checks = TenantChecks::ok();
    let (previous, retries) = (HashMap::new(), HashMap::new());
    let owned = OwnershipRecord::default();
    plan(&PlanInput {
        scope: None,
        policy: &policy,
        desired: &desired,
        teams: &teams,
        checks: &checks,
        previous: &previous,
        retries: &retries,
        owned: &owned,
        now: Timestamp::from_second(1_800_000_000).unwrap(),
    })
}

fn outcome(plan: &Plan, id: u32) -> &UserOutcome {
    plan.outcomes
        .iter()
        .find(|o| o.dialpad_user_id.as_deref() == Some(id.to_string().as_str()))
        .unwrap_or_else(|| panic!("Dialpad user {id} has an outcome"))
}

#[track_caller]
fn assert_outcome(plan: &Plan, id: u32, reason: Reason, words: &[&str]) {
    let outcome = outcome(plan, id);
    assert_eq!(outcome.reason, reason, "user {id}: {}", outcome.message);
    for word in words {
        assert!(
            outcome.message.contains(word),
            "user {id}: {word:?} in {:?}",
            outcome.message
        );
    }
}

#[tokio::test]
async fn null_empty_and_blank_emails_report_email_missing_with_the_fix() {
    let plan = planned().await;
    for id in [1, 2] {
        assert_outcome(
            &plan,
            id,
            Reason::EmailMissing,
            &[
                &format!("User{id} (Dialpad user {id})"),
                "add the user's work email in Dialpad",
            ],
        );
    }
}

#[tokio::test]
async fn one_email_on_two_users_in_different_case_and_spacing_is_a_duplicate_for_both() {
    let plan = planned().await;
    for id in [3, 4] {
        assert_outcome(
            &plan,
            id,
            Reason::DuplicateEmail,
            &["more than one source user", "unique email"],
        );
        let message = outcome(&plan, id).message.to_lowercase();
        assert!(
            message.contains("grace@contoso.com"),
            "names the email as the user spells it: {message}"
        );
    }
}

#[tokio::test]
async fn one_email_twice_on_one_user_is_no_duplicate() {
    let plan = planned().await;
    assert_outcome(&plan, 5, Reason::AssignmentPending, &["+14155550005"]);
}

#[tokio::test]
async fn numbers_in_human_formats_are_normalised_before_they_are_assigned() {
    let plan = planned().await;
    for (id, e164) in [
        (6, "+14155550106"),
        (7, "+14155550107"),
        (8, "+14155550108"),
        (9, "+14155550109;ext=12"),
        (10, "+14155550110"),
    ] {
        assert_outcome(
            &plan,
            id,
            Reason::AssignmentPending,
            &[&format!("assigning {e164} to")],
        );
        assert_eq!(outcome(&plan, id).phone_number.as_deref(), Some(e164));
    }
}

#[tokio::test]
async fn numbers_that_are_not_numbers_report_invalid_phone_number_quoting_them() {
    let plan = planned().await;
    // 00 is not the United States' international prefix (011), so 0014155550111 is no US number.
    for (id, raw) in [
        (11, "0014155550111"),
        (12, "call me maybe"),
        (15, "+14155550115;ext=abc"),
        (16, "555-0116"),
    ] {
        assert_outcome(
            &plan,
            id,
            Reason::InvalidPhoneNumber,
            &[&format!("'{raw}'"), "E.164 form, e.g. +14155550100"],
        );
    }
    let long = outcome(&plan, 14);
    assert_eq!(long.reason, Reason::InvalidPhoneNumber, "{}", long.message);
}

#[tokio::test]
async fn a_user_whose_only_numbers_are_empty_reports_phone_number_missing() {
    let plan = planned().await;
    assert_outcome(
        &plan,
        13,
        Reason::PhoneNumberMissing,
        &["User13 (Dialpad user 13)", "assign a Dialpad number"],
    );
}

#[tokio::test]
async fn nothing_odd_is_assigned_and_nothing_is_unassigned() {
    let plan = planned().await;
    let assigned: Vec<&str> = plan
        .actions
        .iter()
        .map(|action| plan.outcomes[action.outcome].email.as_deref().unwrap_or_default())
        .collect();
    assert_eq!(
        assigned,
        [
            "ada@contoso.com",
            "u6@contoso.com",
            "u7@contoso.com",
            "u8@contoso.com",
            "u9@contoso.com",
            "u10@contoso.com"
        ]
    );
}
