//! The sandbox's Teams policy assignment over real HTTP: `getPolicyId`, `userAssignments/assign`
//! and `unassign`, effective assignments in `userConfigurations` (direct > group by rank >
//! Global), permissions, counters and faults, and every answer against the vendor descriptions.
//! (The user configuration list and emergency locations are in `user_configurations.rs`.)

mod common;

use common::teams::*;
use dialpad_teams_sandbox::Endpoint;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn a_policy_name_resolves_to_its_id_ignoring_case_and_global_always_exists() {
    let h = Harness::start("").await;
    let (status, body) = h.policy_id("onlinevoiceroutingpolicy", "BERLIN").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let found = body["value"].as_array().expect("a collection");
    assert_eq!(found.len(), 1, "{body}");
    assert_eq!(found[0]["name"], "Berlin");
    assert_ne!(h.id_of(ROUTING, "Berlin").await, h.id_of(ROUTING, "Munich").await);
    assert_ne!(
        h.id_of(ROUTING, "Berlin").await,
        h.id_of(DIAL_PLAN, "Berlin").await
    );
    h.id_of("TeamsCallingPolicy", "Global").await;
}

#[tokio::test]
async fn an_unknown_name_is_not_found_and_an_unknown_type_is_a_bad_request() {
    let h = Harness::start("").await;
    let (status, body) = h.policy_id(ROUTING, "Paris").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(code(&body), "itemNotFound");
    assert!(
        message(&body).contains("Paris") && message(&body).contains(ROUTING),
        "{body}"
    );
    let (status, body) = h.policy_id("TeamsShiftsPolicy", "Global").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(message(&body).contains("TeamsShiftsPolicy"), "{body}");
}

#[tokio::test]
async fn an_assigned_policy_is_effective_directly_and_shown_by_introspection() {
    let h = Harness::start("").await;
    let munich = h.id_of(ROUTING, "Munich").await;
    let (status, _) = h
        .get(&format!("/v1.0/admin/teams/userConfigurations/{ERIN}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "Erin is not in Teams");
    assert_eq!(
        h.sandbox.policy_assignments()[0].policy_name.as_deref(),
        Some("Berlin")
    );
    let (status, body) = h
        .post("assign", &batch(vec![entry(CAROL, ROUTING, Some(&munich))]))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let effective = h.effective(CAROL, ROUTING).await;
    assert_eq!(effective["assignmentType"], "direct");
    assert_eq!(effective["policyId"], munich.as_str());
    assert_eq!(effective["displayName"], "Munich");
    assert_eq!(effective["groupId"], Value::Null);
    let direct = h.sandbox.policy_assignments();
    assert_eq!(direct.len(), 1, "{direct:?}");
    assert_eq!(
        direct[0].user_principal_name.as_deref(),
        Some("carol@contoso.com")
    );
    assert_eq!(direct[0].policy_name.as_deref(), Some("Munich"));
    let (_, over_http) = h.get("/_sandbox/policyAssignments").await;
    assert_eq!(over_http[0]["policyType"], ROUTING, "{over_http}");
}

#[tokio::test]
async fn a_group_held_policy_shows_assignment_type_group_and_the_group_with_the_smallest_rank() {
    let h = Harness::start("").await;
    let plan = h.effective(ADA, DIAL_PLAN).await;
    assert_eq!(plan["assignmentType"], "group");
    assert_eq!(plan["groupId"], BERLIN_GROUP);
    assert_eq!(plan["displayName"], "Berlin");
    // Bob's Munich group holds routing at rank 1, his Berlin group at rank 2.
    let routing = h.effective(BOB, ROUTING).await;
    assert_eq!(routing["groupId"], MUNICH_GROUP);
    assert_eq!(routing["displayName"], "Berlin");
    assert_eq!(h.effective(ADA, ROUTING).await["displayName"], "Munich");
}

#[tokio::test]
async fn a_direct_assignment_wins_over_groups_and_unassigning_falls_back_to_the_group_then_global() {
    let h = Harness::start("").await;
    let berlin = h.id_of(ROUTING, "Berlin").await;
    let (status, _) = h
        .post("assign", &batch(vec![entry(ADA, ROUTING, Some(&berlin))]))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(h.effective(ADA, ROUTING).await["assignmentType"], "direct");

    let (status, _) = h
        .post(
            "unassign",
            &batch(vec![entry(ADA, "onlineVoiceRoutingPolicy", None)]),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let fallback = h.effective(ADA, ROUTING).await;
    assert_eq!(fallback["assignmentType"], "group");
    assert_eq!(fallback["groupId"], BERLIN_GROUP);

    // Carol is in no group: without her direct assignment, Global applies and nothing is listed.
    let (status, _) = h
        .post("unassign", &batch(vec![entry(CAROL, ROUTING, None)]))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(h.effective(CAROL, ROUTING).await, Value::Null);
    // Unassigning what is not assigned changes nothing and succeeds.
    let (status, _) = h
        .post("unassign", &batch(vec![entry(CAROL, ROUTING, None)]))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(h.sandbox.policy_assignments().is_empty());
}

#[tokio::test]
async fn a_batch_over_the_limit_empty_or_malformed_is_refused_and_one_bad_entry_changes_nothing() {
    let h = Harness::start(", policyAssignmentBatchLimit: 2").await;
    let munich = h.id_of(ROUTING, "Munich").await;
    let three = (0..3).map(|_| entry(ADA, ROUTING, Some(&munich))).collect();
    let (status, body) = h.post("assign", &batch(three)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(message(&body).contains("at most 2"), "{body}");

    for (body, says) in [
        (json!({"value": []}), "at least one"),
        (json!({}), "'value' is required"),
        (
            json!({"value": [entry(ADA, ROUTING, Some(&munich))], "extra": 1}),
            "'extra'",
        ),
        (
            json!({"value": [{"userId": ADA, "policyType": ROUTING, "policyName": "Munich"}]}),
            "'policyName'",
        ),
        (json!({"value": [entry(ADA, ROUTING, None)]}), "value[0].policyId"),
        (
            json!({"value": [entry("", ROUTING, Some(&munich))]}),
            "value[0].userId",
        ),
    ] {
        let (status, answer) = h.post("assign", &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {answer}");
        assert!(message(&answer).contains(says), "{body} -> {answer}");
    }

    let two_with_a_bad_type = batch(vec![
        entry(ADA, ROUTING, Some(&munich)),
        entry(BOB, "TeamsShiftsPolicy", Some(&munich)),
    ]);
    let (status, body) = h.post("assign", &two_with_a_bad_type).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        message(&body).contains("value[1]") && message(&body).contains("TeamsShiftsPolicy"),
        "{body}"
    );
    let unknown_user = batch(vec![
        entry(ADA, ROUTING, Some(&munich)),
        entry(ERIN, ROUTING, Some(&munich)),
    ]);
    let (status, body) = h.post("assign", &unknown_user).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "itemNotFound"),
        "{body}"
    );
    let wrong_type_id = h.id_of(DIAL_PLAN, "Berlin").await;
    let (status, body) = h
        .post("assign", &batch(vec![entry(ADA, ROUTING, Some(&wrong_type_id))]))
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a dial plan's id is no routing policy: {body}"
    );
    let direct = h.sandbox.policy_assignments();
    assert_eq!(
        direct.len(),
        1,
        "only Carol's own; nothing of a refused batch is applied: {direct:?}"
    );

    let two = batch(vec![
        entry(ADA, ROUTING, Some(&munich)),
        entry(BOB, ROUTING, Some(&munich)),
    ]);
    assert_eq!(h.post("assign", &two).await.0, StatusCode::NO_CONTENT);
    assert_eq!(h.sandbox.policy_assignments().len(), 3);
}

#[tokio::test]
async fn callers_without_the_permission_or_a_teams_admin_role_are_refused() {
    let h = Harness::start("").await;
    let numbers_only = h.token_of_app(NUMBERS_ONLY).await;
    let path = format!("/v1.0/admin/teams/policy/getPolicyId(type='{ROUTING}',name='Berlin')");
    let (status, body) = h.get_as(&numbers_only, &path).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "Authorization_RequestDenied")
    );
    let berlin = h.id_of(ROUTING, "Berlin").await;
    let assign = batch(vec![entry(ADA, ROUTING, Some(&berlin))]);
    assert_eq!(
        h.post_as(&numbers_only, "assign", &assign).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        h.post_as(&numbers_only, "unassign", &assign).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, _) = h
        .get_as(&numbers_only, "/v1.0/admin/teams/userConfigurations")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let helpdesk = h.token_of_admin("helpdesk@contoso.com").await;
    assert_eq!(
        h.post_as(&helpdesk, "assign", &assign).await.0,
        StatusCode::FORBIDDEN
    );
    let teams_admin = h.token_of_admin("teams-admin@contoso.com").await;
    assert_eq!(
        h.post_as(&teams_admin, "assign", &assign).await.0,
        StatusCode::NO_CONTENT
    );
    let holders: Vec<String> = h
        .sandbox
        .policy_assignments()
        .into_iter()
        .map(|a| a.user_id)
        .collect();
    assert_eq!(
        holders,
        [ADA, CAROL],
        "only the Teams admin's assignment was applied"
    );
}

#[tokio::test]
async fn policy_writes_are_counted_as_writes_and_faults_reach_them_by_name() {
    let h = Harness::start(", faults: [{endpoint: graph.assignPolicy, failFirst: 1}]").await;
    let berlin = h.id_of(ROUTING, "Berlin").await;
    let body = batch(vec![entry(ADA, ROUTING, Some(&berlin))]);
    assert_eq!(h.post("assign", &body).await.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(h.post("assign", &body).await.0, StatusCode::NO_CONTENT);
    assert_eq!(h.post("unassign", &body).await.0, StatusCode::NO_CONTENT);
    let counters = h.sandbox.counters();
    assert_eq!(counters.requests_to(Endpoint::GraphAssignPolicy, "POST"), 2);
    assert_eq!(counters.requests_to(Endpoint::GraphUnassignPolicy, "POST"), 1);
    assert_eq!(counters.requests_to(Endpoint::GraphGetPolicyId, "GET"), 1);
    assert_eq!(counters.write_requests(), 3);
}
