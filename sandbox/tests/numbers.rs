//! The sandbox's Teams telephone-number endpoints over real HTTP: listing, assigning and
//! unassigning numbers, long-running operations, Teams user configurations and permissions.

mod common;

use std::time::{Duration, Instant};

use common::token_from;
use common::vendor::assert_graph_schema;
use dialpad_teams_sandbox::{OrgFixture, Sandbox, SandboxOptions};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const TENANT: &str = "9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b34";
const ADA: &str = "a0000000-0000-4000-a000-000000000001";
const BOB: &str = "b0000000-0000-4000-a000-000000000002";
const CAROL: &str = "c0000000-0000-4000-a000-000000000003";
const DAVE: &str = "d0000000-0000-4000-a000-000000000004";
const ERIN: &str = "e0000000-0000-4000-a000-000000000005";
const DAVES_NUMBER: &str = "+14255550199";
const NUMBERS: &str = "/v1.0/admin/teams/telephoneNumberManagement";
const COLLECTION: &str = "microsoft.graph.teamsAdministration.numberAssignmentCollectionResponse";
const ASSIGNMENT: &str = "microsoft.graph.teamsAdministration.numberAssignment";
const OPERATION: &str = "microsoft.graph.teamsAdministration.telephoneNumberLongRunningOperation";
const USER_CONFIGURATION: &str = "microsoft.graph.teamsAdministration.teamsUserConfiguration";

fn fixture(extra_users: &str) -> OrgFixture {
    let yaml = format!(
        r#"
seed: 11
tenant:
  id: {TENANT}
  domains: [contoso.com]
  publicClients: [{{clientId: 0d1f8a7e-3c2b-4e5f-8a9b-1c2d3e4f5a6b}}]
  applications:
  - clientId: 1a1a1a1a-0000-4000-a000-00000000000a
    clientSecret: rw-secret
    permissions: [TeamsTelephoneNumber.ReadWrite.All, TeamsUserConfiguration.Read.All, User.Read.All]
  - clientId: 2b2b2b2b-0000-4000-a000-00000000000b
    clientSecret: ro-secret
    permissions: [TeamsTelephoneNumber.Read.All]
  admins:
  - {{userPrincipalName: teams-admin@contoso.com, password: s3cret, roles: [TeamsAdministrator]}}
  - {{userPrincipalName: helpdesk@contoso.com, password: s3cret, roles: [SkypeForBusinessAdministrator]}}
  users:
  - {{id: {ADA}, userPrincipalName: ada@contoso.com, licenses: [SPE_E5]}}
  - {{id: {BOB}, userPrincipalName: bob@contoso.com, licenses: [SPE_E3]}}
  - {{id: {CAROL}, userPrincipalName: carol@contoso.com, licenses: [SPE_E5], accountEnabled: false}}
  - {{id: {DAVE}, userPrincipalName: dave@contoso.com, licenses: [SPE_E5], phoneNumber: "{DAVES_NUMBER}"}}
  - {{id: {ERIN}, userPrincipalName: erin@contoso.com, licenses: [MCOEV]}}
{extra_users}
behaviour: {{operationDelayMs: 100, activationDelayMs: 400, graphRequestsPerSecond: 1000}}
"#
    );
    OrgFixture::from_yaml(&yaml, "sandbox_numbers test").expect("the test fixture is valid")
}

struct Harness {
    sandbox: Sandbox,
    client: Client,
    token: String,
}

impl Harness {
    async fn start() -> Harness {
        Self::start_with(&fixture("")).await
    }

    async fn start_with(fixture: &OrgFixture) -> Harness {
        let sandbox = Sandbox::start(fixture, SandboxOptions::default())
            .await
            .expect("the sandbox starts");
        let client = Client::new();
        let token = app_token(
            &client,
            &sandbox,
            "1a1a1a1a-0000-4000-a000-00000000000a",
            "rw-secret",
        )
        .await;
        Harness {
            sandbox,
            client,
            token,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.base_url())
    }

    async fn get(&self, path_or_url: &str) -> (StatusCode, Value) {
        let url = if path_or_url.starts_with("http") {
            path_or_url.to_owned()
        } else {
            self.url(path_or_url)
        };
        let response = self
            .client
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("GET is answered");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn list(&self, query: &[(&str, &str)]) -> (StatusCode, Value) {
        let response = self
            .client
            .get(self.url(&format!("{NUMBERS}/numberAssignments")))
            .query(query)
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("the listing is answered");
        let status = response.status();
        let body: Value = response.json().await.expect("the listing is JSON");
        if status == StatusCode::OK {
            assert_graph_schema(COLLECTION, &body);
        }
        (status, body)
    }

    /// POSTs an action; returns the status, the `Location` header and the body text.
    async fn post_action(&self, action: &str, body: &Value) -> (StatusCode, Option<String>, String) {
        self.post_raw(action, body.to_string(), &self.token).await
    }

    async fn post_raw(
        &self,
        action: &str,
        body: String,
        token: &str,
    ) -> (StatusCode, Option<String>, String) {
        let response = self
            .client
            .post(self.url(&format!("{NUMBERS}/numberAssignments/{action}")))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("the action is answered");
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().expect("ASCII").to_owned());
        (status, location, response.text().await.expect("a body"))
    }

    /// Assigns and returns the operation URL from `Location`.
    async fn assign(&self, action: &str, number: &str, user: &str) -> String {
        let body =
            json!({"telephoneNumber": number, "assignmentTargetId": user, "numberType": "directRouting"});
        let (status, location, text) = self.post_action(action, &body).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{text}");
        assert!(text.is_empty(), "202 has an empty body, got {text}");
        location.expect("202 carries Location")
    }

    async fn unassign(&self, action: &str, number: &str) -> String {
        let body = json!({"telephoneNumber": number, "numberType": "directRouting"});
        let (status, location, text) = self.post_action(action, &body).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{text}");
        location.expect("202 carries Location")
    }

    async fn operation(&self, url: &str) -> Value {
        let (status, body) = self.get(url).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_graph_schema(OPERATION, &body);
        body
    }

    /// Polls the operation until it is no longer running.
    async fn finished_operation(&self, url: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let body = self.operation(url).await;
            if body["status"] != "running" {
                return body;
            }
            assert!(Instant::now() < deadline, "the operation never finished: {body}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn assignment_of(&self, number: &str) -> Value {
        let filter = format!("telephoneNumber eq '{number}'");
        let (status, body) = self.list(&[("$filter", &filter)]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let value = body["value"].as_array().expect("value is an array");
        assert_eq!(value.len(), 1, "exactly one entry for {number}: {body}");
        value[0].clone()
    }

    async fn user_configuration(&self, user: &str) -> (StatusCode, Value) {
        let (status, body) = self
            .get(&format!("/v1.0/admin/teams/userConfigurations/{user}"))
            .await;
        if status == StatusCode::OK {
            assert_graph_schema(USER_CONFIGURATION, &body);
        }
        (status, body)
    }

    async fn failure_detail_of_assigning(&self, number: &str, user: &str) -> String {
        let operation_url = self.assign("assignNumber", number, user).await;
        let operation = self.finished_operation(&operation_url).await;
        assert_eq!(operation["status"], "failed", "{operation}");
        assert_eq!(operation["numbers"][0]["status"], "failed", "{operation}");
        assert!(
            operation["numbers"][0]["resourceLocation"].is_null(),
            "{operation}"
        );
        operation["numbers"][0]["statusDetail"]
            .as_str()
            .expect("a failure has a statusDetail")
            .to_owned()
    }
}

/// A token from the sandbox's real token endpoint (client credentials).
async fn app_token(client: &Client, sandbox: &Sandbox, client_id: &str, secret: &str) -> String {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", secret),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    token_from(client, sandbox, &form).await
}

/// A token for an admin account (password grant through the public client).
async fn admin_token(client: &Client, sandbox: &Sandbox, upn: &str) -> String {
    let form = [
        ("grant_type", "password"),
        ("client_id", "0d1f8a7e-3c2b-4e5f-8a9b-1c2d3e4f5a6b"),
        ("username", upn),
        ("password", "s3cret"),
        ("scope", "https://graph.microsoft.com/.default offline_access"),
    ];
    token_from(client, sandbox, &form).await
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn assigning_a_number_answers_202_then_the_operation_succeeds_and_the_number_activates() {
    let h = Harness::start().await;
    let operation_url = h.assign("assignNumber", "14255550100", ADA).await;
    let expected_prefix = format!("{}{NUMBERS}/operations('", h.sandbox.base_url());
    assert!(operation_url.starts_with(&expected_prefix), "{operation_url}");
    assert!(operation_url.ends_with("')"), "{operation_url}");

    let running = h.operation(&operation_url).await;
    assert_eq!(running["status"], "running", "{running}");
    assert!(
        running["createdDateTime"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{running}"
    );

    let done = h.finished_operation(&operation_url).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["numbers"][0]["status"], "succeeded");
    let resource = done["numbers"][0]["resourceLocation"]
        .as_str()
        .expect("a resourceLocation")
        .to_owned();
    assert!(
        resource.starts_with(&format!("{}{NUMBERS}/numberAssignments/", h.sandbox.base_url())),
        "{resource}"
    );

    let (status, entity) = h.get(&resource).await;
    assert_eq!(status, StatusCode::OK, "{entity}");
    assert_graph_schema(ASSIGNMENT, &entity);
    assert_eq!(
        entity["telephoneNumber"], "+14255550100",
        "stored with a leading +"
    );
    assert_eq!(entity["assignmentTargetId"], ADA);
    assert_eq!(entity["assignmentStatus"], "userAssigned");
    assert_eq!(entity["activationState"], "assignmentPending");
    assert_eq!(entity["numberType"], "directRouting");
    assert_eq!(entity["assignmentCategory"], "primary");
    assert_eq!(entity["isoCountryCode"], "US");
    assert_eq!(entity["capabilities"], json!(["userAssignment"]));

    let (status, configuration) = h.user_configuration(ADA).await;
    assert_eq!(status, StatusCode::OK, "{configuration}");
    assert_eq!(configuration["isEnterpriseVoiceEnabled"], true);
    assert_eq!(
        configuration["telephoneNumbers"],
        json!([{"telephoneNumber": "+14255550100", "assignmentCategory": "primary"}])
    );
    assert_eq!(configuration["userPrincipalName"], "ada@contoso.com");
    assert_eq!(configuration["tenantId"], TENANT);
    assert_eq!(configuration["accountType"], "user");
    assert_eq!(configuration["featureTypes"], json!(["Teams", "PhoneSystem"]));

    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(
        h.assignment_of("+14255550100").await["activationState"],
        "activated"
    );
}

#[tokio::test]
async fn a_tenant_answering_without_a_location_still_makes_the_change() {
    let mut org = fixture("");
    org.behaviour.operations_answered_without_location = 1;
    let h = Harness::start_with(&org).await;
    let body =
        json!({"telephoneNumber": "+14255550100", "assignmentTargetId": ADA, "numberType": "directRouting"});
    let (status, location, text) = h.post_action("assignNumber", &body).await;
    assert_eq!(
        (status, location, text.as_str()),
        (StatusCode::NO_CONTENT, None, "")
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (_, listing) = h.list(&[("$filter", "telephoneNumber eq '+14255550100'")]).await;
    assert_eq!(listing["value"][0]["assignmentTargetId"], ADA, "{listing}");
    // Only the first answer is bare: the next carries its Location again.
    let next =
        json!({"telephoneNumber": "+14255550101", "assignmentTargetId": ERIN, "numberType": "directRouting"});
    let (status, location, _) = h.post_action("assignNumber", &next).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(location.is_some());
}

#[tokio::test]
async fn assigning_to_a_user_without_phone_system_fails_for_lack_of_licences() {
    let h = Harness::start().await;
    let detail = h.failure_detail_of_assigning("+14255550101", BOB).await;
    assert!(detail.contains("lacks appropriate licenses"), "{detail}");
    assert!(detail.contains(BOB), "{detail}");
    let (_, listed) = h.list(&[("$filter", "telephoneNumber eq '+14255550101'")]).await;
    assert_eq!(
        listed["value"],
        json!([]),
        "a failed assignment creates no number"
    );
}

#[tokio::test]
async fn assigning_a_number_held_by_another_user_fails_as_already_assigned() {
    let h = Harness::start().await;
    let detail = h.failure_detail_of_assigning(DAVES_NUMBER, ADA).await;
    assert!(
        detail.contains("has already been assigned to another user"),
        "{detail}"
    );
    assert_eq!(
        h.assignment_of(DAVES_NUMBER).await["assignmentTargetId"],
        DAVE,
        "the holder keeps it"
    );
}

#[tokio::test]
async fn assigning_to_a_disabled_user_fails() {
    let h = Harness::start().await;
    let detail = h.failure_detail_of_assigning("+14255550102", CAROL).await;
    assert!(detail.contains("disabled"), "{detail}");
}

#[tokio::test]
async fn assigning_to_an_unknown_user_fails_as_not_found() {
    let h = Harness::start().await;
    let detail = h
        .failure_detail_of_assigning("+14255550103", "f0000000-0000-4000-a000-00000000000f")
        .await;
    assert!(detail.contains("NotFound"), "{detail}");
}

#[tokio::test]
async fn unassigning_frees_the_number_and_clears_the_user_configuration() {
    let h = Harness::start().await;
    let (_, before) = h.user_configuration(DAVE).await;
    assert_eq!(before["isEnterpriseVoiceEnabled"], true, "{before}");

    let operation_url = h
        .unassign("microsoft.graph.teamsAdministration.unassignNumber", DAVES_NUMBER)
        .await;
    let done = h.finished_operation(&operation_url).await;
    assert_eq!(done["status"], "succeeded", "{done}");

    let entry = h.assignment_of(DAVES_NUMBER).await;
    assert_eq!(
        entry["assignmentStatus"], "unassigned",
        "unassigned numbers stay listed: {entry}"
    );
    assert!(entry["assignmentTargetId"].is_null(), "{entry}");
    let (_, after) = h.user_configuration(DAVE).await;
    assert_eq!(after["isEnterpriseVoiceEnabled"], false, "{after}");
    assert_eq!(after["telephoneNumbers"], json!([]));
}

#[tokio::test]
async fn unassigning_a_number_nobody_holds_fails_the_operation() {
    let h = Harness::start().await;
    let operation_url = h.unassign("unassignNumber", "+14255550177").await;
    let done = h.finished_operation(&operation_url).await;
    assert_eq!(done["status"], "failed", "{done}");
    let detail = done["numbers"][0]["statusDetail"]
        .as_str()
        .expect("a statusDetail");
    assert!(detail.contains("is not assigned"), "{detail}");
}

#[tokio::test]
async fn both_action_spellings_and_both_operation_url_forms_work() {
    let h = Harness::start().await;
    let long = h
        .assign(
            "microsoft.graph.teamsAdministration.assignNumber",
            "+14255550110",
            ADA,
        )
        .await;
    let done = h.finished_operation(&long).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let id = done["id"].as_str().expect("an id");
    let by_path = h.operation(&h.url(&format!("{NUMBERS}/operations/{id}"))).await;
    let by_key = h
        .operation(&h.url(&format!("{NUMBERS}/operations('{id}')")))
        .await;
    let by_encoded_key = h
        .operation(&h.url(&format!("{NUMBERS}/operations(%27{id}%27)")))
        .await;
    assert_eq!(by_encoded_key["id"], by_key["id"]);
    assert_eq!(by_path["id"], by_key["id"]);
    assert_eq!(by_path["numbers"], by_key["numbers"]);
    assert_eq!(by_path["status"], "succeeded");

    let short = h.assign("assignNumber", "+14255550111", ERIN).await;
    assert_eq!(h.finished_operation(&short).await["status"], "succeeded");
    let unassign_short = h.unassign("unassignNumber", "+14255550110").await;
    assert_eq!(h.finished_operation(&unassign_short).await["status"], "succeeded");
    let unassign_long = h
        .unassign(
            "microsoft.graph.teamsAdministration.unassignNumber",
            "+14255550111",
        )
        .await;
    assert_eq!(h.finished_operation(&unassign_long).await["status"], "succeeded");
}

#[tokio::test]
async fn a_new_primary_number_replaces_the_users_old_one() {
    let h = Harness::start().await;
    let operation_url = h.assign("assignNumber", "+14255550120", DAVE).await;
    assert_eq!(h.finished_operation(&operation_url).await["status"], "succeeded");
    assert_eq!(
        h.assignment_of(DAVES_NUMBER).await["assignmentStatus"],
        "unassigned"
    );
    let (_, configuration) = h.user_configuration(DAVE).await;
    assert_eq!(
        configuration["telephoneNumbers"],
        json!([{"telephoneNumber": "+14255550120", "assignmentCategory": "primary"}])
    );
}

#[tokio::test]
async fn unknown_operations_and_unknown_or_unlicensed_users_are_404() {
    let h = Harness::start().await;
    for path in [
        format!("{NUMBERS}/operations('00000000-0000-4000-a000-000000000000')"),
        format!("{NUMBERS}/operations/00000000-0000-4000-a000-000000000000"),
        format!("{NUMBERS}/numberAssignments/no-such-assignment"),
    ] {
        let (status, body) = h.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(error_code(&body), "itemNotFound", "{body}");
    }
    let (status, body) = h.user_configuration("f0000000-0000-4000-a000-00000000000f").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = h.user_configuration(ERIN).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a user without a Teams licence is not in Teams: {body}"
    );
}

fn numbered_users(count: usize) -> String {
    (0..count)
        .map(|i| {
            format!(
                "  - {{userPrincipalName: user{i:02}@contoso.com, licenses: [SPE_E5], phoneNumber: \"+1206555{:04}\"}}\n",
                1000 + i
            )
        })
        .collect()
}

#[tokio::test]
async fn top_and_skip_page_through_every_number_to_the_end() {
    let h = Harness::start_with(&fixture(&numbered_users(24))).await;
    let (_, everything) = h.list(&[]).await;
    let all: Vec<String> = everything["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|n| n["telephoneNumber"].as_str().expect("a number").to_owned())
        .collect();
    assert_eq!(all.len(), 25, "24 numbered users and Dave");
    assert!(
        everything.get("@odata.nextLink").is_none(),
        "paging is by $top/$skip only"
    );

    let mut paged = Vec::new();
    let mut sizes = Vec::new();
    for skip in (0..).step_by(10) {
        let (status, page) = h.list(&[("$top", "10"), ("$skip", &skip.to_string())]).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let value = page["value"].as_array().expect("value").clone();
        sizes.push(value.len());
        if value.is_empty() {
            break;
        }
        paged.extend(
            value
                .iter()
                .map(|n| n["telephoneNumber"].as_str().expect("a number").to_owned()),
        );
    }
    assert_eq!(sizes, [10, 10, 5, 0]);
    assert_eq!(paged, all, "pages in a stable order, each number once");

    let (status, body) = h.list(&[("$top", "1001")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(error_code(&body).starts_with("Request_"), "{body}");
    let (status, _) = h.list(&[("$top", "1000")]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = h.list(&[("$skip", "minus-one")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (_, selected) = h
        .list(&[
            ("$top", "2"),
            ("$select", "telephoneNumber,assignmentTargetId"),
            ("$count", "true"),
        ])
        .await;
    assert_eq!(selected["@odata.count"], 25);
    for entry in selected["value"].as_array().expect("value") {
        let mut keys: Vec<&str> = entry
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, ["assignmentTargetId", "id", "telephoneNumber"]);
    }
    let (status, _) = h.list(&[("$select", "telephoneNumber,colour")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn filters_select_numbers_by_number_holder_type_status_and_capability() {
    let h = Harness::start().await;
    let free = h.unassign("unassignNumber", DAVES_NUMBER).await;
    assert_eq!(h.finished_operation(&free).await["status"], "succeeded");
    let held = h.assign("assignNumber", "+442071234567", ADA).await;
    assert_eq!(h.finished_operation(&held).await["status"], "succeeded");

    let numbers_for = |body: &Value| -> Vec<String> {
        body["value"]
            .as_array()
            .expect("value")
            .iter()
            .map(|n| n["telephoneNumber"].as_str().unwrap().to_owned())
            .collect()
    };
    let cases: [(&str, &[&str]); 9] = [
        ("telephoneNumber eq '+442071234567'", &["+442071234567"]),
        (
            &format!("assignmentTargetId eq '{}'", ADA.to_uppercase()),
            &["+442071234567"],
        ),
        (
            "numberType eq 'directRouting'",
            &["+14255550199", "+442071234567"],
        ),
        (
            "numberType eq 'DirectRouting'",
            &["+14255550199", "+442071234567"],
        ),
        ("numberType eq 'callingPlan'", &[]),
        (
            "assignmentStatus eq 'unassigned' and capabilities/any(c:c eq 'userAssignment')",
            &["+14255550199"],
        ),
        ("activationState eq 'assignmentPending'", &["+442071234567"]),
        (
            "assignmentStatus eq 'userAssigned' or telephoneNumber eq '+14255550199'",
            &["+14255550199", "+442071234567"],
        ),
        (
            "telephoneNumber in ('+14255550199', '+10000000000')",
            &["+14255550199"],
        ),
    ];
    for (filter, expected) in cases {
        let (status, body) = h.list(&[("$filter", filter)]).await;
        assert_eq!(status, StatusCode::OK, "{filter}: {body}");
        assert_eq!(numbers_for(&body), expected, "{filter}");
    }
    let gb = h.assignment_of("+442071234567").await;
    assert_eq!(gb["isoCountryCode"], "GB");

    for bad in [
        "colour eq 'blue'",
        "id eq 'x'",
        "telephoneNumber eq",
        "telephoneNumber lt '+1'",
    ] {
        let (status, body) = h.list(&[("$filter", bad)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(error_code(&body).starts_with("Request_"), "{body}");
    }
}

#[tokio::test]
async fn malformed_action_bodies_are_rejected_with_400_naming_the_property() {
    let h = Harness::start().await;
    let cases: [(&str, String, &str); 9] = [
        ("assignNumber", json!({"assignmentTargetId": ADA, "numberType": "directRouting"}).to_string(), "telephoneNumber"),
        ("assignNumber", json!({"telephoneNumber": "+14255550130", "numberType": "directRouting"}).to_string(), "assignmentTargetId"),
        ("assignNumber", json!({"telephoneNumber": "+14255550130", "assignmentTargetId": ADA}).to_string(), "numberType"),
        (
            "assignNumber",
            json!({"telephoneNumber": "+14255550130", "assignmentTargetId": ADA, "numberType": "landline"}).to_string(),
            "numberType",
        ),
        (
            "assignNumber",
            json!({"telephoneNumber": "+14255550130", "assignmentTargetId": ADA, "numberType": "directRouting", "userId": ADA})
                .to_string(),
            "userId",
        ),
        (
            "assignNumber",
            json!({"telephoneNumber": "not a number", "assignmentTargetId": ADA, "numberType": "directRouting"}).to_string(),
            "telephoneNumber",
        ),
        (
            "assignNumber",
            json!({"telephoneNumber": 14255550130u64, "assignmentTargetId": ADA, "numberType": "directRouting"}).to_string(),
            "telephoneNumber",
        ),
        ("unassignNumber", json!({"numberType": "directRouting"}).to_string(), "telephoneNumber"),
        ("assignNumber", "{not json".to_owned(), "JSON"),
    ];
    for (action, body, named) in cases {
        let (status, location, text) = h.post_raw(action, body.clone(), &h.token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {text}");
        assert!(location.is_none());
        let error: Value = serde_json::from_str(&text).expect("a Graph error body");
        assert_eq!(error_code(&error), "BadRequest", "{text}");
        let message = error["error"]["message"].as_str().expect("a message");
        assert!(message.contains(named), "{body}: {message}");
    }
    assert_eq!(
        h.sandbox.with_world(|w| w.operations.len()),
        0,
        "rejected requests start no operation"
    );
}

#[tokio::test]
async fn an_app_token_without_readwrite_permission_may_list_but_not_assign() {
    let h = Harness::start().await;
    let read_only = app_token(
        &h.client,
        &h.sandbox,
        "2b2b2b2b-0000-4000-a000-00000000000b",
        "ro-secret",
    )
    .await;
    let listed = h
        .client
        .get(h.url(&format!("{NUMBERS}/numberAssignments")))
        .bearer_auth(&read_only)
        .send()
        .await
        .expect("answered");
    assert_eq!(listed.status(), StatusCode::OK);
    let body =
        json!({"telephoneNumber": "+14255550140", "assignmentTargetId": ADA, "numberType": "directRouting"});
    let (status, _, text) = h.post_raw("assignNumber", body.to_string(), &read_only).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    let error: Value = serde_json::from_str(&text).expect("a Graph error");
    assert_eq!(error_code(&error), "Authorization_RequestDenied");
    let configuration = h
        .client
        .get(h.url(&format!("/v1.0/admin/teams/userConfigurations/{ADA}")))
        .bearer_auth(&read_only)
        .send()
        .await
        .expect("answered");
    assert_eq!(
        configuration.status(),
        StatusCode::FORBIDDEN,
        "no TeamsUserConfiguration.Read.All"
    );
}

#[tokio::test]
async fn a_delegated_admin_needs_a_teams_admin_role() {
    let h = Harness::start().await;
    let body =
        json!({"telephoneNumber": "+14255550150", "assignmentTargetId": ADA, "numberType": "directRouting"});
    let helpdesk = admin_token(&h.client, &h.sandbox, "helpdesk@contoso.com").await;
    let (status, _, text) = h.post_raw("assignNumber", body.to_string(), &helpdesk).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");

    let teams_admin = admin_token(&h.client, &h.sandbox, "teams-admin@contoso.com").await;
    let (status, location, text) = h.post_raw("assignNumber", body.to_string(), &teams_admin).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    assert!(location.is_some());
}

#[tokio::test]
async fn requests_without_a_valid_token_are_401() {
    let h = Harness::start().await;
    let response = h
        .client
        .get(h.url(&format!("{NUMBERS}/numberAssignments")))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = h
        .client
        .get(h.url(&format!("{NUMBERS}/numberAssignments")))
        .bearer_auth("not-a-token")
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(error_code(&body), "InvalidAuthenticationToken");
}

#[tokio::test]
async fn a_never_completing_operation_stays_running_and_does_not_hold_back_later_ones() {
    let mut org = fixture("");
    org.behaviour.never_completing_operations = 1;
    let h = Harness::start_with(&org).await;
    let lost = h.assign("assignNumber", "14255550100", ADA).await;
    let next = h.assign("assignNumber", "14255550101", ERIN).await;
    let done = h.finished_operation(&next).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(h.operation(&lost).await["status"], "running");
    let (_, listing) = h.list(&[("$filter", "telephoneNumber eq '+14255550100'")]).await;
    assert_eq!(listing["value"], json!([]), "a lost operation changes nothing");
}

#[tokio::test]
async fn a_late_answer_comes_after_the_upstream_acted() {
    let mut org = fixture("");
    org.behaviour.operation_delay_ms = 0;
    org.behaviour.faults =
        vec![serde_yaml::from_str("{endpoint: graph.assignNumber, lateRate: 1.0, lateMs: 2000}").unwrap()];
    let h = Harness::start_with(&org).await;
    let body =
        json!({"telephoneNumber": "14255550100", "assignmentTargetId": ADA, "numberType": "directRouting"});
    let impatient = h
        .client
        .post(h.url(&format!("{NUMBERS}/numberAssignments/assignNumber")))
        .bearer_auth(&h.token)
        .json(&body)
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(impatient.is_err_and(|e| e.is_timeout()), "the answer is late");
    assert_eq!(
        h.assignment_of("+14255550100").await["assignmentTargetId"],
        ADA,
        "the number was assigned all the same"
    );
}
