//! Values the vendors do not document yet, read by the real clients from a loopback server: a
//! Dialpad user `state`, a Graph number's `assignmentStatus`, `numberType` and `activationState`,
//! an operation `status`, a licence plan's `capabilityStatus`. Each has a clear outcome, nothing
//! panics, and none of them makes the planner unassign a number, even one this resource owns.

use std::collections::HashMap;

use dialpad_teams_operator::api::Reason;
use dialpad_teams_operator::connect::adapters::GraphTenant;
use dialpad_teams_operator::microsoft::catalog;
use dialpad_teams_operator::microsoft::graph::GraphClient;
use dialpad_teams_operator::microsoft::licences::{AssignedPlan, LicenceState};
use dialpad_teams_operator::sync::input::PlanInput;
use dialpad_teams_operator::sync::model::{ActionKind, DesiredState, Plan, Policy, TeamsState, TenantChecks};
use dialpad_teams_operator::sync::ownership::OwnershipRecord;
use dialpad_teams_operator::sync::plan::plan;
use dialpad_teams_operator::sync::ports::{DesiredSource, TeamsTenant};
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

mod common;
use common::raw_http::{
    RawServer, Seen, dialpad_source, graph_client, json as json_response, response, token,
};

const NUMBERS: &str = "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments";
const OPERATION: &str = "/v1.0/admin/teams/telephoneNumberManagement/operations/op-1";

/// Serves sign-in, and `routes` by path (anything else is 404).
async fn serve(routes: Vec<(&'static str, Value)>) -> RawServer {
    RawServer::start(move |seen: &Seen| {
        if seen.path.ends_with("/oauth2/v2.0/token") {
            return token();
        }
        match routes.iter().find(|(path, _)| *path == seen.path) {
            Some((_, body)) => json_response(body),
            None => response(404, "application/json", b"{}"),
        }
    })
    .await
}

fn graph(server: &RawServer) -> GraphClient {
    graph_client(&server.base)
}

fn licensed_user(id: &str, email: &str, capability: &str) -> Value {
    json!({
        "id": id, "userPrincipalName": email, "mail": email, "accountEnabled": true,
        "assignedPlans": [{"servicePlanId": catalog::MCOEV.id, "capabilityStatus": capability}],
    })
}

fn number(telephone: &str, holder: &str, status: &str, number_type: &str, activation: &str) -> Value {
    json!({
        "telephoneNumber": telephone, "assignmentTargetId": holder, "assignmentStatus": status,
        "numberType": number_type, "activationState": activation, "assignmentCategory": "primary",
    })
}

fn policy() -> Policy {
    Policy {
        grace_period: std::time::Duration::ZERO,
        ..Policy::default()
    }
}

/// Plans with a zero grace period and an ownership record that owns every `(number, holder)`.
fn plan_owning(desired: &DesiredState, teams: &TeamsState, owned: &[(&str, &str)]) -> Plan {
    let record = OwnershipRecord::from_entries(owned.iter().map(|(n, h)| ((*n).to_owned(), (*h).to_owned())));
    let (previous, retries) = (HashMap::new(), HashMap::new());
    plan(&PlanInput {
        scope: None,
        policy: &policy(),
        desired,
        teams,
        checks: &TenantChecks::ok(),
        previous: &previous,
        retries: &retries,
        owned: &record,
        now: Timestamp::from_second(1_800_000_000).unwrap(),
    })
}

fn unassigned(plan: &Plan) -> Vec<&str> {
    plan.actions
        .iter()
        .filter_map(|action| match &action.kind {
            ActionKind::Unassign { number } => Some(number.as_str()),
            ActionKind::Assign { .. } => None,
        })
        .collect()
}

#[tokio::test]
async fn a_number_in_an_unknown_assignment_status_is_held_by_nobody_and_never_unassigned() {
    let server = serve(vec![
        (
            "/v1.0/users",
            json!({"value": [licensed_user("t1", "ada@contoso.com", "Enabled")]}),
        ),
        (
            NUMBERS,
            json!({"value": [
                number("+14155550100", "t1", "conferenceBridgeAssigned", "directRouting", "activated"),
                number("+14155550101", "t1", "userAssigned", "satelliteRouting", "activationDeferred"),
            ]}),
        ),
    ])
    .await;
    let tenant = GraphTenant {
        graph: graph(&server),
        domain: "contoso.com".into(),
        policy_types: Default::default(),
        policy_names: Default::default(),
    };
    let teams = tenant.read().await.expect("unknown values are read, not refused");
    assert_eq!(
        teams
            .numbers
            .iter()
            .map(|n| (n.number.as_str(), n.pending))
            .collect::<Vec<_>>(),
        [("+14155550101", false)],
        "only a userAssigned number has a holder; an unknown activation state is not pending"
    );
    let desired = DesiredState {
        owned_numbers: ["+14155550100".to_owned(), "+14155550101".to_owned()].into(),
        ..Default::default()
    };
    let plan = plan_owning(
        &desired,
        &teams,
        &[("+14155550100", "t1"), ("+14155550101", "t1")],
    );
    assert_eq!(
        unassigned(&plan),
        ["+14155550101"],
        "the number in an unknown status is left alone; the user-assigned one is a departure as documented"
    );
}

#[tokio::test]
async fn an_operation_status_graph_adds_later_counts_as_still_running() {
    let server = serve(vec![(
        OPERATION,
        json!({"id": "op-1", "status": "queuedForRetry"}),
    )])
    .await;
    let url = format!("{}{OPERATION}", server.base);
    let error = graph(&server).operation_outcome(&url).await.unwrap_err();
    assert!(
        error.is_transient(),
        "no verdict: the change stays pending and the next sync reads the number's state"
    );
    let text = error.to_string();
    assert!(
        text.contains("operations/{id}") && text.contains("\"queuedForRetry\""),
        "{text}"
    );
}

#[tokio::test]
async fn a_capability_status_graph_adds_later_is_no_phone_system_and_unassigns_nothing() {
    let plans = [AssignedPlan {
        service_plan_id: Some(catalog::MCOEV.id.to_owned()),
        capability_status: Some("PendingProvisioning".into()),
    }];
    assert_eq!(LicenceState::classify(&plans, &[]).phone_system, None);

    let server = serve(vec![
        (
            "/v1.0/users",
            json!({"value": [licensed_user("t1", "ada@contoso.com", "PendingProvisioning")]}),
        ),
        (
            NUMBERS,
            json!({"value": [number("+14155550100", "t1", "userAssigned", "directRouting", "activated")]}),
        ),
    ])
    .await;
    let tenant = GraphTenant {
        graph: graph(&server),
        domain: "contoso.com".into(),
        policy_types: Default::default(),
        policy_names: Default::default(),
    };
    let teams = tenant.read().await.unwrap();
    let desired = DesiredState {
        users: vec![dialpad_teams_operator::sync::model::DesiredUser {
            dialpad_user_id: Some("1".into()),
            email: Some("ada@contoso.com".into()),
            phone_number: Some("+14155550100".into()),
            display_name: None,
            office: Default::default(),
        }],
        owned_numbers: ["+14155550100".to_owned()].into(),
        ..Default::default()
    };
    let plan = plan_owning(&desired, &teams, &[("+14155550100", "t1")]);
    assert_eq!(plan.outcomes[0].reason, Reason::PhoneSystemLicenseMissing);
    assert!(plan.actions.is_empty(), "{:?}", plan.actions);
}

#[tokio::test]
async fn a_dialpad_state_dialpad_does_not_document_keeps_the_users_number() {
    let users = json!({"items": [
        {"id": "1", "emails": ["ada@contoso.com"], "phone_numbers": ["+14155550100"], "state": "on_leave"},
        {"id": "2", "emails": ["alan@contoso.com"], "phone_numbers": ["+14155550101"]},
        {"id": "3", "emails": ["grace@contoso.com"], "phone_numbers": ["+14155550102"], "state": "deleted"},
    ]});
    let server = serve(vec![
        ("/api/v2/users", users),
        ("/api/v2/numbers", json!({"items": []})),
        ("/api/v2/company", json!({"id": "1", "name": "Contoso"})),
    ])
    .await;
    let source = dialpad_source(&server.base);
    let desired = source.read().await.unwrap();
    assert!(desired.users.is_empty(), "only active users are synced");
    assert!(
        desired.protected_numbers.contains("+14155550100")
            && desired.protected_numbers.contains("+14155550101"),
        "an unknown or missing state protects the numbers: {:?}",
        desired.protected_numbers
    );
    let holders = [
        ("+14155550100", "t1"),
        ("+14155550101", "t2"),
        ("+14155550102", "t3"),
    ];
    let teams = TeamsState {
        numbers: holders
            .iter()
            .map(
                |(number, holder)| dialpad_teams_operator::sync::model::HeldNumber {
                    number: (*number).to_owned(),
                    holder: (*holder).to_owned(),
                    pending: false,
                },
            )
            .collect(),
        ..Default::default()
    };
    let plan = plan_owning(&desired, &teams, &holders);
    assert_eq!(
        unassigned(&plan),
        ["+14155550102"],
        "only the documented departure (deleted) loses its number"
    );
}
