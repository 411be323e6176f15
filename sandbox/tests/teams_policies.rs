//! The sandbox's Teams policy assignment over real HTTP: `getPolicyId`, `userAssignments/assign`
//! and `unassign`, effective assignments in `userConfigurations` (direct > group by rank >
//! Global), the paged list of user configurations, permissions, emergency locations of
//! `assignNumber`, and every answer against the vendor descriptions.

mod common;

use std::time::Duration;

use common::vendor::assert_graph_schema;
use dialpad_teams_sandbox::{Endpoint, OrgFixture, Sandbox, SandboxOptions};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const TENANT: &str = "9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b34";
const ADA: &str = "a0000000-0000-4000-a000-000000000001";
const BOB: &str = "b0000000-0000-4000-a000-000000000002";
const CAROL: &str = "c0000000-0000-4000-a000-000000000003";
const ERIN: &str = "e0000000-0000-4000-a000-000000000005";
const BERLIN_GROUP: &str = "6b000000-0000-4000-a000-0000000000b1";
const MUNICH_GROUP: &str = "6b000000-0000-4000-a000-0000000000b2";
const BERLIN_LOCATION: &str = "10c00000-0000-4000-a000-000000000001";
const WRITER: (&str, &str) = ("1a1a1a1a-0000-4000-a000-00000000000a", "rw-secret");
const NUMBERS_ONLY: (&str, &str) = ("2b2b2b2b-0000-4000-a000-00000000000b", "ro-secret");
const ROUTING: &str = "OnlineVoiceRoutingPolicy";
const DIAL_PLAN: &str = "TenantDialPlan";
const CONFIGURATION: &str = "microsoft.graph.teamsAdministration.teamsUserConfiguration";
const CONFIGURATIONS: &str = "microsoft.graph.teamsAdministration.teamsUserConfigurationCollectionResponse";
const POLICY_IDS: &str = "microsoft.graph.teamsAdministration.policyIdentifierDetailCollectionResponse";
const ASSIGNMENTS_BODY: &str = "microsoft.graph.teamsAdministration.policyUserAssignmentsBody";
const ERROR: &str = "microsoft.graph.ODataErrors.ODataError";

/// Ada and Bob are in the Berlin group (dial plan Berlin, rank 1; routing Munich, rank 2); Bob is
/// also in the Munich group (routing Berlin, rank 1); Carol holds routing Berlin directly; Erin
/// has no Teams plan.
fn fixture(behaviour: &str) -> OrgFixture {
    let yaml = format!(
        r#"
tenant:
  id: {TENANT}
  domains: [contoso.com]
  publicClients: [{{clientId: 0d1f8a7e-3c2b-4e5f-8a9b-1c2d3e4f5a6b}}]
  applications:
  - clientId: {writer}
    clientSecret: rw-secret
    permissions: [TeamsPolicyUserAssign.ReadWrite.All, TeamsUserConfiguration.Read.All, TeamsTelephoneNumber.ReadWrite.All]
  - clientId: {numbers_only}
    clientSecret: ro-secret
    permissions: [TeamsTelephoneNumber.ReadWrite.All]
  admins:
  - {{userPrincipalName: teams-admin@contoso.com, password: s3cret, roles: [TeamsAdministrator]}}
  - {{userPrincipalName: helpdesk@contoso.com, password: s3cret, roles: []}}
  users:
  - {{id: {ADA}, userPrincipalName: ada@contoso.com, licenses: [SPE_E5]}}
  - {{id: {BOB}, userPrincipalName: bob@contoso.com, licenses: [SPE_E5]}}
  - id: {CAROL}
    userPrincipalName: carol@contoso.com
    licenses: [SPE_E5]
    policies: [{{policyType: {ROUTING}, name: Berlin}}]
  - {{id: {ERIN}, userPrincipalName: erin@contoso.com, licenses: [MCOEV]}}
  teams:
    policies:
    - {{policyType: {ROUTING}, name: Berlin}}
    - {{policyType: {ROUTING}, name: Munich}}
    - {{policyType: {DIAL_PLAN}, name: Berlin}}
    groups:
    - id: {BERLIN_GROUP}
      displayName: Berlin office
      members: [ada@contoso.com, bob@contoso.com]
      policies:
      - {{policyType: {DIAL_PLAN}, name: Berlin, rank: 1}}
      - {{policyType: {ROUTING}, name: Munich, rank: 2}}
    - id: {MUNICH_GROUP}
      displayName: Munich office
      members: [bob@contoso.com]
      policies: [{{policyType: {ROUTING}, name: Berlin, rank: 1}}]
    emergencyLocations:
    - {{id: {BERLIN_LOCATION}, description: Berlin HQ}}
behaviour: {{operationDelayMs: 0, activationDelayMs: 0, graphRequestsPerSecond: 1000{behaviour}}}
"#,
        writer = WRITER.0,
        numbers_only = NUMBERS_ONLY.0,
    );
    OrgFixture::from_yaml(&yaml, "teams_policies test").expect("the test fixture is valid")
}

struct Harness {
    sandbox: Sandbox,
    client: Client,
    token: String,
}

impl Harness {
    async fn start(behaviour: &str) -> Harness {
        let sandbox = Sandbox::start(&fixture(behaviour), SandboxOptions::default())
            .await
            .expect("the sandbox starts");
        let client = Client::new();
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", WRITER.0),
            ("client_secret", WRITER.1),
            ("scope", "https://graph.microsoft.com/.default"),
        ];
        let token = token(&client, &sandbox, &form).await;
        Harness {
            sandbox,
            client,
            token,
        }
    }

    async fn token_of_app(&self, (client_id, secret): (&str, &str)) -> String {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ];
        token(&self.client, &self.sandbox, &form).await
    }

    async fn token_of_admin(&self, upn: &str) -> String {
        let form = [
            ("grant_type", "password"),
            ("client_id", "0d1f8a7e-3c2b-4e5f-8a9b-1c2d3e4f5a6b"),
            ("username", upn),
            ("password", "s3cret"),
            ("scope", "https://graph.microsoft.com/.default"),
        ];
        token(&self.client, &self.sandbox, &form).await
    }

    async fn get_as(&self, token: &str, path_or_url: &str) -> (StatusCode, Value) {
        let url = if path_or_url.starts_with("http") {
            path_or_url.to_owned()
        } else {
            format!("{}{path_or_url}", self.sandbox.base_url())
        };
        let response = self
            .client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .expect("GET is answered");
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        if status.is_client_error() || status.is_server_error() {
            assert_graph_schema(ERROR, &body);
        }
        (status, body)
    }

    async fn get(&self, path_or_url: &str) -> (StatusCode, Value) {
        self.get_as(&self.token, path_or_url).await
    }

    /// `getPolicyId(type='...',name='...')`; a 200 answer is checked against the schema.
    async fn policy_id(&self, policy_type: &str, name: &str) -> (StatusCode, Value) {
        let path = format!("/v1.0/admin/teams/policy/getPolicyId(type='{policy_type}',name='{name}')");
        let (status, body) = self.get(&path).await;
        if status == StatusCode::OK {
            assert_graph_schema(POLICY_IDS, &body);
        }
        (status, body)
    }

    async fn id_of(&self, policy_type: &str, name: &str) -> String {
        let (status, body) = self.policy_id(policy_type, name).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["value"][0]["policyId"]
            .as_str()
            .expect("a policy id")
            .to_owned()
    }

    /// POSTs `assign` or `unassign` with `body`; the status and the error body if any.
    async fn post_as(&self, token: &str, action: &str, body: &Value) -> (StatusCode, Value) {
        let url = format!(
            "{}/v1.0/admin/teams/policy/userAssignments/{action}",
            self.sandbox.base_url()
        );
        let response = self
            .client
            .post(url)
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("the action is answered");
        let status = response.status();
        let text = response.text().await.expect("a body");
        if status == StatusCode::NO_CONTENT {
            assert!(text.is_empty(), "204 carries no body: {text}");
            return (status, Value::Null);
        }
        let error: Value = serde_json::from_str(&text).expect("an error body is JSON");
        assert_graph_schema(ERROR, &error);
        (status, error)
    }

    async fn post(&self, action: &str, body: &Value) -> (StatusCode, Value) {
        self.post_as(&self.token, action, body).await
    }

    /// The user's effective assignment of `policy_type` (Null when Global applies).
    async fn effective(&self, user_id: &str, policy_type: &str) -> Value {
        let (status, body) = self
            .get(&format!("/v1.0/admin/teams/userConfigurations/{user_id}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_graph_schema(CONFIGURATION, &body);
        body["effectivePolicyAssignments"]
            .as_array()
            .expect("effectivePolicyAssignments is a list")
            .iter()
            .find(|a| a["policyType"] == policy_type)
            .map(|a| a["policyAssignment"].clone())
            .unwrap_or(Value::Null)
    }
}

async fn token(client: &Client, sandbox: &Sandbox, form: &[(&str, &str)]) -> String {
    let response = client
        .post(format!("{}/{TENANT}/oauth2/v2.0/token", sandbox.base_url()))
        .form(form)
        .send()
        .await
        .expect("the token endpoint answers");
    let body: Value = response.json().await.expect("the token response is JSON");
    body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {body}"))
        .to_owned()
}

fn entry(user_id: &str, policy_type: &str, policy_id: Option<&str>) -> Value {
    let mut entry = json!({
        "@odata.type": "#microsoft.graph.teamsAdministration.teamsPolicyUserAssignment",
        "userId": user_id,
        "policyType": policy_type,
    });
    if let Some(id) = policy_id {
        entry["policyId"] = id.into();
    }
    entry
}

fn batch(entries: Vec<Value>) -> Value {
    let body = json!({"value": entries});
    assert_graph_schema(ASSIGNMENTS_BODY, &body);
    body
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

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
async fn user_configurations_are_listed_in_pages_through_next_links_with_select_and_filter() {
    let h = Harness::start("").await;
    let mut url =
        "/v1.0/admin/teams/userConfigurations?$top=2&$select=id,effectivePolicyAssignments".to_owned();
    let mut seen: Vec<String> = Vec::new();
    let mut pages = 0;
    loop {
        let (status, body) = h.get(&url).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_graph_schema(CONFIGURATIONS, &body);
        pages += 1;
        for item in body["value"].as_array().expect("a page") {
            assert!(
                item.get("userPrincipalName").is_none(),
                "$select keeps only what is asked: {item}"
            );
            seen.push(item["id"].as_str().expect("an id").to_owned());
        }
        match body["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    // Ada, Bob and Carol hold Teams; Erin and the admins (no licences) do not.
    assert_eq!(seen, [ADA, BOB, CAROL]);
    assert_eq!(pages, 2);

    let filter = format!("/v1.0/admin/teams/userConfigurations?$filter=id in ('{ADA}','{CAROL}')");
    let (_, body) = h.get(&filter).await;
    assert_graph_schema(CONFIGURATIONS, &body);
    let ids: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["id"].as_str())
        .collect();
    assert_eq!(ids, [ADA, CAROL]);
    let (status, body) = h.get("/v1.0/admin/teams/userConfigurations?$top=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = h
        .get("/v1.0/admin/teams/userConfigurations?$skiptoken=garbage")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn assign_number_with_an_unknown_emergency_location_fails_the_operation() {
    let h = Harness::start("").await;
    let assign = |location: &str, number: &str| json!({"telephoneNumber": number, "assignmentTargetId": ADA, "numberType": "directRouting", "locationId": location});
    for (location, number, outcome) in [
        ("10c00000-0000-4000-a000-0000000000ff", "+4930123456701", "failed"),
        (BERLIN_LOCATION, "+4930123456702", "succeeded"),
    ] {
        let url = format!(
            "{}/v1.0/admin/teams/telephoneNumberManagement/numberAssignments/assignNumber",
            h.sandbox.base_url()
        );
        let response = h
            .client
            .post(url)
            .bearer_auth(&h.token)
            .json(&assign(location, number))
            .send()
            .await
            .expect("assignNumber is answered");
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let operation = response.headers()["location"]
            .to_str()
            .expect("a Location")
            .to_owned();
        let mut body = Value::Null;
        for _ in 0..50 {
            body = h.get(&operation).await.1;
            if body["status"] != "running" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(body["status"], outcome, "{body}");
        if outcome == "failed" {
            let detail = body["numbers"][0]["statusDetail"].as_str().unwrap_or_default();
            assert!(detail.contains(location), "{body}");
        }
    }
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
