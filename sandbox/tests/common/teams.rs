//! The Teams policy tests' org and harness: a tenant with policies, two ranked groups, a user
//! with a direct assignment, one without Teams and an emergency location, and an HTTP client
//! that checks every answer against the vendor descriptions.

use dialpad_teams_sandbox::{OrgFixture, Sandbox, SandboxOptions};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::token_from;
use super::vendor::assert_graph_schema;

pub const TENANT: &str = "9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b34";
pub const ADA: &str = "a0000000-0000-4000-a000-000000000001";
pub const BOB: &str = "b0000000-0000-4000-a000-000000000002";
pub const CAROL: &str = "c0000000-0000-4000-a000-000000000003";
pub const ERIN: &str = "e0000000-0000-4000-a000-000000000005";
pub const BERLIN_GROUP: &str = "6b000000-0000-4000-a000-0000000000b1";
pub const MUNICH_GROUP: &str = "6b000000-0000-4000-a000-0000000000b2";
pub const BERLIN_LOCATION: &str = "10c00000-0000-4000-a000-000000000001";
pub const WRITER: (&str, &str) = ("1a1a1a1a-0000-4000-a000-00000000000a", "rw-secret");
pub const NUMBERS_ONLY: (&str, &str) = ("2b2b2b2b-0000-4000-a000-00000000000b", "ro-secret");
pub const ROUTING: &str = "OnlineVoiceRoutingPolicy";
pub const DIAL_PLAN: &str = "TenantDialPlan";
pub const CONFIGURATION: &str = "microsoft.graph.teamsAdministration.teamsUserConfiguration";
pub const CONFIGURATIONS: &str =
    "microsoft.graph.teamsAdministration.teamsUserConfigurationCollectionResponse";
pub const POLICY_IDS: &str = "microsoft.graph.teamsAdministration.policyIdentifierDetailCollectionResponse";
pub const ASSIGNMENTS_BODY: &str = "microsoft.graph.teamsAdministration.policyUserAssignmentsBody";
pub const ERROR: &str = "microsoft.graph.ODataErrors.ODataError";

/// Ada and Bob are in the Berlin group (dial plan Berlin, rank 1; routing Munich, rank 2); Bob is
/// also in the Munich group (routing Berlin, rank 1); Carol holds routing Berlin directly; Erin
/// has no Teams plan.
pub fn fixture(behaviour: &str) -> OrgFixture {
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

pub struct Harness {
    pub sandbox: Sandbox,
    pub client: Client,
    pub token: String,
}

impl Harness {
    pub async fn start(behaviour: &str) -> Harness {
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
        let token = token_from(&client, &sandbox, &form).await;
        Harness {
            sandbox,
            client,
            token,
        }
    }

    pub async fn token_of_app(&self, (client_id, secret): (&str, &str)) -> String {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ];
        token_from(&self.client, &self.sandbox, &form).await
    }

    pub async fn token_of_admin(&self, upn: &str) -> String {
        let form = [
            ("grant_type", "password"),
            ("client_id", "0d1f8a7e-3c2b-4e5f-8a9b-1c2d3e4f5a6b"),
            ("username", upn),
            ("password", "s3cret"),
            ("scope", "https://graph.microsoft.com/.default"),
        ];
        token_from(&self.client, &self.sandbox, &form).await
    }

    pub async fn get_as(&self, token: &str, path_or_url: &str) -> (StatusCode, Value) {
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

    pub async fn get(&self, path_or_url: &str) -> (StatusCode, Value) {
        self.get_as(&self.token, path_or_url).await
    }

    /// `getPolicyId(type='...',name='...')`; a 200 answer is checked against the schema.
    pub async fn policy_id(&self, policy_type: &str, name: &str) -> (StatusCode, Value) {
        let path = format!("/v1.0/admin/teams/policy/getPolicyId(type='{policy_type}',name='{name}')");
        let (status, body) = self.get(&path).await;
        if status == StatusCode::OK {
            assert_graph_schema(POLICY_IDS, &body);
        }
        (status, body)
    }

    pub async fn id_of(&self, policy_type: &str, name: &str) -> String {
        let (status, body) = self.policy_id(policy_type, name).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["value"][0]["policyId"]
            .as_str()
            .expect("a policy id")
            .to_owned()
    }

    /// POSTs `body` to the sandbox's `path` with `token`.
    pub async fn post_json(&self, token: &str, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.sandbox.base_url()))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("the POST is answered")
    }

    /// POSTs `assign` or `unassign` with `body`; the status and the error body if any.
    pub async fn post_as(&self, token: &str, action: &str, body: &Value) -> (StatusCode, Value) {
        let path = format!("/v1.0/admin/teams/policy/userAssignments/{action}");
        let response = self.post_json(token, &path, body).await;
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

    pub async fn post(&self, action: &str, body: &Value) -> (StatusCode, Value) {
        self.post_as(&self.token, action, body).await
    }

    /// The user's effective assignment of `policy_type` (Null when Global applies).
    pub async fn effective(&self, user_id: &str, policy_type: &str) -> Value {
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

pub fn entry(user_id: &str, policy_type: &str, policy_id: Option<&str>) -> Value {
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

pub fn batch(entries: Vec<Value>) -> Value {
    let body = json!({"value": entries});
    assert_graph_schema(ASSIGNMENTS_BODY, &body);
    body
}

pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

pub fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}
