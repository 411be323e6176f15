//! The sandbox's Microsoft Graph user endpoints over real HTTP: `/v1.0/users` (projection,
//! paging, `$filter`, `$count`), `/v1.0/users/{id}`, `/v1.0/me`, `/v1.0/me/memberOf/...` and
//! `/v1.0/$batch`, with tokens from the sandbox's own token endpoint and bodies checked against
//! the vendor OpenAPI description.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::vendor::assert_graph_schema;
use dialpad_teams_sandbox::directory_roles;
use dialpad_teams_sandbox::fixture::RoleGroupFixture;
use dialpad_teams_sandbox::licensing::licensing;
use dialpad_teams_sandbox::{OrgFixture, Sandbox, SandboxOptions};
use reqwest::StatusCode;
use serde_json::{Value, json};

const TENANT: &str = "9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b34";
const PUBLIC_CLIENT: &str = "0d1f8a7e-3c2b-4e5f-8a9b-1c2d3e4f5a6b";
const USER_READER_APP: &str = "5f1e6a2b-1111-4c3d-9e8f-0a1b2c3d4e5f";
const NUMBERS_APP: &str = "5f1e6a2b-2222-4c3d-9e8f-0a1b2c3d4e5f";
const ADMIN: &str = "dialpad-msteams-admin@contoso.com";
const ADMIN_PASSWORD: &str = "s3cret";

const USER_COLLECTION: &str = "microsoft.graph.userCollectionResponse";
const ODATA_ERROR: &str = "microsoft.graph.ODataErrors.ODataError";

/// A small org: an admin with two Teams roles, three users, two apps.
fn fixture_yaml(behaviour: &str) -> String {
    format!(
        r#"
seed: 11
tenant:
  id: {TENANT}
  domains: [contoso.com, contoso.onmicrosoft.com]
  publicClients: [{{clientId: {PUBLIC_CLIENT}}}]
  applications:
  - {{clientId: {USER_READER_APP}, clientSecret: reader-secret, permissions: [User.Read.All]}}
  - {{clientId: {NUMBERS_APP}, clientSecret: numbers-secret, permissions: [TeamsTelephoneNumber.ReadWrite.All]}}
  admins:
  - userPrincipalName: {ADMIN}
    password: {ADMIN_PASSWORD}
    roles: [TeamsAdministrator, SkypeForBusinessAdministrator]
  users:
  - userPrincipalName: ann@contoso.com
    mail: Ann.Smith@contoso.com
    proxyAddresses: ["SMTP:Ann.Smith@contoso.com", "smtp:ann@sales.contoso.com"]
    usageLocation: US
    licenses: [SPE_E5]
    disabledPlans: [MCOMEETADV]
  - userPrincipalName: bob@contoso.com
    mail: bob@contoso.com
    accountEnabled: false
    licenses: [MCOTEAMS_ESSENTIALS]
  - userPrincipalName: carol@contoso.onmicrosoft.com
{behaviour}
"#
    )
}

fn small_fixture() -> OrgFixture {
    OrgFixture::from_yaml(&fixture_yaml(""), "inline").expect("the fixture is valid")
}

/// The small org plus `count` generated users (`user00000@contoso.com`, ...).
fn fixture_with_users(count: usize) -> OrgFixture {
    let mut fixture = small_fixture();
    fixture
        .tenant
        .users
        .extend(common::directory::licensed_users(count));
    fixture
}

async fn start(fixture: &OrgFixture) -> Sandbox {
    Sandbox::start(fixture, SandboxOptions::default())
        .await
        .expect("the sandbox starts")
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// A sandbox serving one org, and a client signed in to it with one token.
struct Session {
    sandbox: Sandbox,
    client: reqwest::Client,
    token: String,
}

impl Session {
    /// The user-reader app (`User.Read.All`) signed in to a sandbox serving `fixture`.
    async fn reader(fixture: &OrgFixture) -> Self {
        Self::reader_on(start(fixture).await).await
    }

    /// The user-reader app signed in to `sandbox`.
    async fn reader_on(sandbox: Sandbox) -> Self {
        let client = client();
        let token = reader_token(&client, sandbox.base_url()).await;
        Self {
            sandbox,
            client,
            token,
        }
    }

    /// The admin, signed in with a password, on a sandbox serving `fixture`.
    async fn admin(fixture: &OrgFixture) -> Self {
        let sandbox = start(fixture).await;
        let client = client();
        let token = admin_token(&client, sandbox.base_url()).await;
        Self {
            sandbox,
            client,
            token,
        }
    }

    /// The numbers app, which lacks `User.Read.All`, signed in to a sandbox serving `fixture`.
    async fn numbers_app(fixture: &OrgFixture) -> Self {
        let sandbox = start(fixture).await;
        let client = client();
        let token = app_token(&client, sandbox.base_url(), NUMBERS_APP, "numbers-secret").await;
        Self {
            sandbox,
            client,
            token,
        }
    }

    /// GETs `path_or_url` (a path below the sandbox's base URL, or a whole URL such as a next
    /// link) with the session's token; the status and JSON body.
    async fn get(&self, path_or_url: &str) -> (StatusCode, Value) {
        self.get_with(path_or_url, &[]).await
    }

    /// [`Session::get`] with extra headers.
    async fn get_with(&self, path_or_url: &str, headers: &[(&str, &str)]) -> (StatusCode, Value) {
        let url = if path_or_url.starts_with("http") {
            path_or_url.to_owned()
        } else {
            format!("{}{path_or_url}", self.sandbox.base_url())
        };
        get(&self.client, &url, &self.token, headers).await
    }

    /// Lists the users matching the `$filter` expression `filter`.
    async fn users_where(&self, filter: &str) -> (StatusCode, Value) {
        self.get(&format!("/v1.0/users?$filter={}", urlencode(filter)))
            .await
    }

    /// POSTs a batch with the session's token; the outer status and body.
    async fn batch(&self, body: &Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}/v1.0/$batch", self.sandbox.base_url()))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }
}

async fn token(client: &reqwest::Client, base: &str, form: &[(&str, &str)]) -> String {
    let response = client
        .post(format!("{base}/{TENANT}/oauth2/v2.0/token"))
        .form(form)
        .send()
        .await
        .expect("the token endpoint answers");
    let status = response.status();
    let body: Value = response.json().await.expect("a JSON token response");
    assert_eq!(status, StatusCode::OK, "token request failed: {body}");
    body["access_token"].as_str().expect("an access token").to_owned()
}

async fn admin_token(client: &reqwest::Client, base: &str) -> String {
    token(
        client,
        base,
        &[
            ("grant_type", "password"),
            ("client_id", PUBLIC_CLIENT),
            ("username", ADMIN),
            ("password", ADMIN_PASSWORD),
            ("scope", "https://graph.microsoft.com/.default offline_access"),
        ],
    )
    .await
}

async fn app_token(client: &reqwest::Client, base: &str, client_id: &str, secret: &str) -> String {
    token(
        client,
        base,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await
}

async fn reader_token(client: &reqwest::Client, base: &str) -> String {
    app_token(client, base, USER_READER_APP, "reader-secret").await
}

/// GET `url` with `token` and extra headers; returns the status and JSON body.
async fn get(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut request = client.get(url).bearer_auth(token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("the sandbox answers");
    let status = response.status();
    let body: Value = response.json().await.expect("a JSON body");
    (status, body)
}

fn error_code(body: &Value) -> &str {
    assert_graph_schema(ODATA_ERROR, body);
    body["error"]["code"].as_str().expect("an error code")
}

fn upns(body: &Value) -> Vec<String> {
    body["value"]
        .as_array()
        .expect("a value array")
        .iter()
        .map(|u| u["userPrincipalName"].as_str().expect("a UPN").to_owned())
        .collect()
}

fn keys(object: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = object
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

#[tokio::test]
async fn users_without_select_have_graphs_default_property_set() {
    let graph = Session::reader(&small_fixture()).await;
    let (status, body) = graph.get("/v1.0/users").await;
    assert_eq!(status, StatusCode::OK);
    assert_graph_schema(USER_COLLECTION, &body);
    assert_eq!(
        body["@odata.context"],
        format!("{}/v1.0/$metadata#users", graph.sandbox.base_url())
    );
    assert!(body.get("@odata.nextLink").is_none());
    assert!(body.get("@odata.count").is_none());
    let users = body["value"].as_array().unwrap();
    assert_eq!(users.len(), 4, "three users and the admin");
    let expected = [
        "businessPhones",
        "displayName",
        "givenName",
        "id",
        "jobTitle",
        "mail",
        "mobilePhone",
        "officeLocation",
        "preferredLanguage",
        "surname",
        "userPrincipalName",
    ];
    for user in users {
        assert_eq!(keys(user), expected);
    }
    let ids: Vec<&str> = users.iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "users come in id order");
    let carol = users
        .iter()
        .find(|u| u["userPrincipalName"] == "carol@contoso.onmicrosoft.com")
        .unwrap();
    assert_eq!(carol["mail"], Value::Null);
    assert_eq!(carol["displayName"], "Carol");
    assert_eq!(carol["businessPhones"], json!([]));
}

#[tokio::test]
async fn select_returns_the_selected_properties_and_id() {
    let graph = Session::reader(&small_fixture()).await;
    let select = "userPrincipalName,mail,otherMails,proxyAddresses,accountEnabled,assignedPlans,assignedLicenses,usageLocation";
    let url = format!("/v1.0/users?$select={select}&$filter=userPrincipalName eq 'ann@contoso.com'");
    let (status, body) = graph.get(&url).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_graph_schema(USER_COLLECTION, &body);
    assert_eq!(
        body["@odata.context"],
        format!("{}/v1.0/$metadata#users({select})", graph.sandbox.base_url())
    );
    let ann = &body["value"][0];
    assert_eq!(
        keys(ann),
        [
            "accountEnabled",
            "assignedLicenses",
            "assignedPlans",
            "id",
            "mail",
            "otherMails",
            "proxyAddresses",
            "usageLocation",
            "userPrincipalName"
        ]
    );
    assert_eq!(ann["accountEnabled"], true);
    assert_eq!(ann["otherMails"], json!([]));
    assert_eq!(
        ann["proxyAddresses"],
        json!(["SMTP:Ann.Smith@contoso.com", "smtp:ann@sales.contoso.com"])
    );
    assert_eq!(ann["usageLocation"], "US");
    let e5 = licensing().sku_by_part_number("SPE_E5").unwrap();
    let meetings = licensing().plan_by_name("MCOMEETADV").unwrap();
    assert_eq!(
        ann["assignedLicenses"],
        json!([{"disabledPlans": [meetings.id], "skuId": e5.id}])
    );
    let plans = ann["assignedPlans"].as_array().unwrap();
    assert_eq!(plans.len(), licensing().plans_of(e5).count());
    for plan in plans {
        assert_eq!(
            keys(plan),
            ["assignedDateTime", "capabilityStatus", "service", "servicePlanId"]
        );
    }
    let status_of = |id: &str| {
        plans
            .iter()
            .find(|p| p["servicePlanId"] == id)
            .map(|p| p["capabilityStatus"].clone())
    };
    assert_eq!(
        status_of(&licensing().plan_by_name("MCOEV").unwrap().id),
        Some(json!("Enabled"))
    );
    assert_eq!(status_of(&meetings.id), Some(json!("Deleted")));
    let phone_system = plans
        .iter()
        .find(|p| p["servicePlanId"] == "4828c8ec-dc2e-4779-b502-87ac9ce28ab7")
        .unwrap();
    assert_eq!(phone_system["service"], "MicrosoftCommunicationsOnline");

    // A property the schema does not know is refused; unmodelled ones are null or empty.
    let (status, body) = graph.get("/v1.0/users?$select=id,shoeSize").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "Request_BadRequest");
    let (status, body) = graph
        .get("/v1.0/users?$select=jobTitle,imAddresses,manager")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_graph_schema(USER_COLLECTION, &body);
    assert_eq!(keys(&body["value"][0]), ["id", "imAddresses", "jobTitle"]);
}

#[tokio::test]
async fn top_must_be_between_1_and_999() {
    let graph = Session::reader(&small_fixture()).await;
    for top in ["0", "1000", "-1", "many"] {
        let (status, body) = graph.get(&format!("/v1.0/users?$top={top}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "$top={top}");
        assert_eq!(error_code(&body), "Request_BadRequest");
        assert_eq!(
            body["error"]["message"],
            format!("Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive.")
        );
    }
    let (status, body) = graph.get("/v1.0/users?$top=1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["value"].as_array().unwrap().len(), 1);
    assert!(body["@odata.nextLink"].is_string());
    let (status, body) = graph.get("/v1.0/users?$top=999").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["value"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn the_default_page_holds_100_users() {
    let graph = Session::reader(&fixture_with_users(150)).await;
    let (status, body) = graph.get("/v1.0/users").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["value"].as_array().unwrap().len(), 100);
    let next = body["@odata.nextLink"].as_str().unwrap();
    let (_, body) = graph.get(next).await;
    assert_eq!(body["value"].as_array().unwrap().len(), 54);
    assert!(body.get("@odata.nextLink").is_none());
}

#[tokio::test]
async fn paging_with_top_999_returns_every_user_once_through_public_next_links() {
    let fixture = fixture_with_users(2_500);
    let options = SandboxOptions {
        public_url: Some("http://proxy.example/".into()),
        ..Default::default()
    };
    let graph = Session::reader_on(Sandbox::start(&fixture, options).await.unwrap()).await;
    let mut url = "/v1.0/users?$select=id,userPrincipalName,mail&$top=999".to_owned();
    let mut seen = HashSet::new();
    let mut page_sizes = Vec::new();
    loop {
        let (status, body) = graph.get(&url).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_graph_schema(USER_COLLECTION, &body);
        assert_eq!(
            body["@odata.context"],
            "http://proxy.example/v1.0/$metadata#users(id,userPrincipalName,mail)"
        );
        for user in body["value"].as_array().unwrap() {
            assert_eq!(keys(user), ["id", "mail", "userPrincipalName"]);
            assert!(
                seen.insert(user["id"].as_str().unwrap().to_owned()),
                "{} listed twice",
                user["id"]
            );
        }
        page_sizes.push(body["value"].as_array().unwrap().len());
        let Some(next) = body.get("@odata.nextLink") else {
            break;
        };
        let next = next.as_str().unwrap();
        assert!(next.starts_with("http://proxy.example/v1.0/users?"), "{next}");
        assert!(next.contains("$select=id,userPrincipalName,mail"), "{next}");
        assert!(next.contains("$top=999"), "{next}");
        assert!(next.contains("$skiptoken="), "{next}");
        url = next.replacen("http://proxy.example", graph.sandbox.base_url(), 1);
    }
    assert_eq!(page_sizes, [999, 999, 506], "2,500 users, 3 others and the admin");
    let everyone: HashSet<String> = graph
        .sandbox
        .with_world(|w| w.users.iter().map(|u| u.id.clone()).collect());
    assert_eq!(seen, everyone);
}

#[tokio::test]
async fn filter_pages_carry_the_filter_into_next_links() {
    let graph = Session::reader(&fixture_with_users(30)).await;
    let mut url =
        "/v1.0/users?$filter=startsWith(userPrincipalName,'user00001') or accountEnabled eq false&$top=4"
            .to_owned();
    let mut found = Vec::new();
    loop {
        let (status, body) = graph.get(&url).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        found.extend(upns(&body));
        match body.get("@odata.nextLink") {
            Some(next) => url = next.as_str().unwrap().to_owned(),
            None => break,
        }
    }
    found.sort();
    let mut expected: Vec<String> = (10..20).map(|i| format!("user{i:06}@contoso.com")).collect();
    expected.push("bob@contoso.com".into());
    expected.sort();
    assert_eq!(found, expected);
}

#[tokio::test]
async fn filter_on_mail_and_user_principal_name_ignores_case() {
    let graph = Session::reader(&small_fixture()).await;
    let cases = [
        ("mail eq 'ann.smith@CONTOSO.com'", vec!["ann@contoso.com"]),
        ("userPrincipalName eq 'BOB@contoso.com'", vec!["bob@contoso.com"]),
        ("mail eq 'nobody@contoso.com'", vec![]),
        (
            "mail eq 'ann@contoso.com' or userPrincipalName eq 'ann@contoso.com'",
            vec!["ann@contoso.com"],
        ),
        ("mail eq 'O''Brien@contoso.com'", vec![]),
    ];
    for (filter, expected) in cases {
        let url = format!(
            "/v1.0/users?$select=userPrincipalName&$filter={}",
            urlencode(filter)
        );
        let (status, body) = graph.get(&url).await;
        assert_eq!(status, StatusCode::OK, "{filter}: {body}");
        assert_graph_schema(USER_COLLECTION, &body);
        assert_eq!(upns(&body), expected, "{filter}");
    }
}

#[tokio::test]
async fn filter_on_proxy_addresses_and_other_mails_uses_any() {
    let graph = Session::reader(&small_fixture()).await;
    let cases = [
        (
            "proxyAddresses/any(p:p eq 'smtp:ann@sales.contoso.com')",
            vec!["ann@contoso.com"],
        ),
        (
            "proxyAddresses/any(x:x eq 'SMTP:ANN.SMITH@contoso.com')",
            vec!["ann@contoso.com"],
        ),
        ("proxyAddresses/any(p:p eq 'smtp:bob@contoso.com')", vec![]),
        ("otherMails/any(o:o eq 'ann@gmail.com')", vec![]),
    ];
    for (filter, expected) in cases {
        let (status, body) = graph.users_where(filter).await;
        assert_eq!(status, StatusCode::OK, "{filter}: {body}");
        assert_eq!(upns(&body), expected, "{filter}");
    }
}

#[tokio::test]
async fn filter_supports_in_booleans_and_parentheses() {
    let graph = Session::reader(&small_fixture()).await;
    let cases = [
        (
            "mail in ('bob@contoso.com', 'ann.smith@contoso.com')",
            vec!["ann@contoso.com", "bob@contoso.com"],
        ),
        ("accountEnabled eq false", vec!["bob@contoso.com"]),
        (
            "accountEnabled eq true and (mail eq 'bob@contoso.com' or userPrincipalName eq 'carol@contoso.onmicrosoft.com')",
            vec!["carol@contoso.onmicrosoft.com"],
        ),
    ];
    for (filter, expected) in cases {
        let (status, body) = graph.users_where(filter).await;
        assert_eq!(status, StatusCode::OK, "{filter}: {body}");
        let mut found = upns(&body);
        found.sort();
        assert_eq!(found, expected, "{filter}");
    }
}

#[tokio::test]
async fn unsupported_filters_are_request_unsupported_query() {
    let graph = Session::reader(&small_fixture()).await;
    for filter in [
        "mail ne 'x@contoso.com'",
        "endsWith(mail,'@contoso.com')",
        "jobTitle eq 'CEO'",
        "accountEnabled eq 'yes'",
    ] {
        let (status, body) = graph.users_where(filter).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{filter}");
        assert_eq!(error_code(&body), "Request_UnsupportedQuery", "{filter}");
    }
    let (_, body) = graph.users_where("jobTitle eq 'CEO'").await;
    assert_eq!(
        body["error"]["message"],
        "Unsupported or invalid query filter clause specified for property 'jobTitle' of resource 'user'."
    );
    let (status, body) = graph.users_where("mail eq 'unterminated").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "Request_BadRequest");
}

#[tokio::test]
async fn count_needs_consistency_level_eventual_and_appears_on_the_first_page_only() {
    let graph = Session::reader(&fixture_with_users(10)).await;
    let url = "/v1.0/users?$count=true&$top=5";
    let (status, body) = graph.get(url).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "Request_BadRequest");
    assert_eq!(body["error"]["message"], "$count is not currently supported.");

    let eventual = [("ConsistencyLevel", "eventual")];
    let (status, body) = graph.get_with(url, &eventual).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_graph_schema(USER_COLLECTION, &body);
    assert_eq!(body["@odata.count"], 14);
    let next = body["@odata.nextLink"].as_str().unwrap();
    let (status, body) = graph.get_with(next, &eventual).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("@odata.count").is_none());

    let url = "/v1.0/users?$count=true&$filter=accountEnabled eq false";
    let (_, body) = graph.get_with(url, &eventual).await;
    assert_eq!(body["@odata.count"], 1);
}

#[tokio::test]
async fn get_user_finds_a_user_by_id_or_user_principal_name() {
    let graph = Session::reader(&small_fixture()).await;
    let id = graph
        .sandbox
        .with_world(|w| w.user_by_upn("bob@contoso.com").unwrap().id.clone());
    for key in [id.as_str(), "BOB@contoso.com"] {
        let url = format!("/v1.0/users/{key}?$select=id,accountEnabled");
        let (status, body) = graph.get(&url).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_graph_schema("microsoft.graph.user", &body);
        assert_eq!(body["id"], id.as_str());
        assert_eq!(body["accountEnabled"], false);
        assert!(
            body["@odata.context"]
                .as_str()
                .unwrap()
                .ends_with("#users(id,accountEnabled)/$entity")
        );
    }
    let (status, body) = graph.get("/v1.0/users/nobody@contoso.com").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "Request_ResourceNotFound");
}

#[tokio::test]
async fn me_returns_the_signed_in_admin() {
    let graph = Session::admin(&small_fixture()).await;
    let (status, body) = graph.get("/v1.0/me").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_graph_schema("microsoft.graph.user", &body);
    assert_eq!(body["userPrincipalName"], ADMIN);
    assert_eq!(
        body["@odata.context"],
        format!("{}/v1.0/$metadata#users/$entity", graph.sandbox.base_url())
    );
    assert!(body.get("accountEnabled").is_none(), "not in the default set");

    let url = "/v1.0/me?$select=displayName,accountEnabled";
    let (status, body) = graph.get(url).await;
    assert_eq!(status, StatusCode::OK);
    assert_graph_schema("microsoft.graph.user", &body);
    assert_eq!(
        keys(&body),
        ["@odata.context", "accountEnabled", "displayName", "id"]
    );
}

#[tokio::test]
async fn me_with_an_app_only_token_is_a_bad_request() {
    let graph = Session::reader(&small_fixture()).await;
    for path in ["/v1.0/me", "/v1.0/me/memberOf/microsoft.graph.directoryRole"] {
        let (status, body) = graph.get(path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(error_code(&body), "BadRequest");
    }
}

/// The small org with the admin's two roles held through a role-assignable group instead.
fn group_roles_fixture() -> OrgFixture {
    let mut fixture = small_fixture();
    fixture.tenant.admins[0].roles.clear();
    fixture.tenant.groups.push(RoleGroupFixture {
        display_name: "Voice admins".into(),
        roles: vec![
            "TeamsAdministrator".into(),
            "SkypeForBusinessAdministrator".into(),
        ],
        members: vec![ADMIN.into()],
    });
    fixture
}

#[tokio::test]
async fn roles_held_through_a_group_are_transitive_memberships_only() {
    let graph = Session::admin(&group_roles_fixture()).await;
    let (status, body) = graph.get("/v1.0/me/memberOf/microsoft.graph.directoryRole").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["value"],
        json!([]),
        "no role is assigned to the admin directly"
    );
    let (status, body) = graph.get("/v1.0/me/memberOf").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let direct = body["value"].as_array().unwrap();
    assert_eq!(direct.len(), 1, "{body}");
    assert_eq!(direct[0]["@odata.type"], "#microsoft.graph.group");
    assert_eq!(direct[0]["displayName"], "Voice admins");

    let cast = "/v1.0/me/transitiveMemberOf/microsoft.graph.directoryRole?$count=true";
    let (status, body) = graph.get(cast).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the cast is an advanced query: {body}"
    );
    assert_eq!(error_code(&body), "Request_UnsupportedQuery");
    let (status, body) = graph.get_with(cast, &[("ConsistencyLevel", "eventual")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_graph_schema("microsoft.graph.directoryRoleCollectionResponse", &body);
    assert_eq!(body["@odata.count"], 2);
    let names: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Teams Administrator", "Skype for Business Administrator"]);

    let numbers = "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments";
    let (status, body) = graph.get(numbers).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "roles through a group authorise Teams admin calls: {body}"
    );
}

#[test]
fn a_group_member_outside_the_tenant_is_named_in_the_fixture_error() {
    let mut fixture = group_roles_fixture();
    fixture.tenant.groups[0].members.push("nobody@contoso.com".into());
    let error = fixture.check().unwrap_err();
    assert_eq!(
        error,
        "tenant.groups[0].members[1]: nobody@contoso.com is not an admin or user of the tenant; add the account to tenant.admins or tenant.users, or remove it from the group"
    );
}

#[tokio::test]
async fn member_of_lists_the_admins_directory_roles_under_both_cast_spellings() {
    let graph = Session::admin(&small_fixture()).await;
    let mut bodies = Vec::new();
    for cast in ["microsoft.graph.directoryRole", "graph.directoryRole"] {
        let url = format!("/v1.0/me/memberOf/{cast}");
        let (status, body) = graph.get(&url).await;
        assert_eq!(status, StatusCode::OK, "{cast}: {body}");
        assert_graph_schema("microsoft.graph.directoryRoleCollectionResponse", &body);
        assert_eq!(
            body["@odata.context"],
            format!("{}/v1.0/$metadata#directoryRoles", graph.sandbox.base_url())
        );
        let roles = body["value"].as_array().unwrap();
        assert_eq!(roles.len(), 2);
        for role in roles {
            assert_eq!(role["@odata.type"], "#microsoft.graph.directoryRole");
            assert_eq!(
                keys(role),
                [
                    "@odata.type",
                    "deletedDateTime",
                    "description",
                    "displayName",
                    "id",
                    "roleTemplateId"
                ]
            );
            assert_ne!(
                role["id"], role["roleTemplateId"],
                "the instance id is not the template id"
            );
        }
        let templates: Vec<&str> = roles
            .iter()
            .map(|r| r["roleTemplateId"].as_str().unwrap())
            .collect();
        assert_eq!(
            templates,
            [
                directory_roles::role_by_key("TeamsAdministrator")
                    .unwrap()
                    .template_id,
                directory_roles::role_by_key("SkypeForBusinessAdministrator")
                    .unwrap()
                    .template_id
            ]
        );
        assert_eq!(roles[0]["displayName"], "Teams Administrator");
        bodies.push(body);
    }
    assert_eq!(
        bodies[0]["value"], bodies[1]["value"],
        "same instance ids under both spellings"
    );

    // As documented: $select, $count with ConsistencyLevel, and the cast works either way.
    let url =
        "/v1.0/me/memberOf/microsoft.graph.directoryRole?$select=id,displayName,roleTemplateId&$count=true";
    let (status, body) = graph.get_with(url, &[("ConsistencyLevel", "eventual")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_graph_schema("microsoft.graph.directoryRoleCollectionResponse", &body);
    assert_eq!(body["@odata.count"], 2);
    assert_eq!(
        keys(&body["value"][0]),
        ["@odata.type", "displayName", "id", "roleTemplateId"]
    );

    let (status, body) = graph.get("/v1.0/me/memberOf/microsoft.graph.user").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "BadRequest");
    assert_eq!(
        body["error"]["message"],
        "Resource not found for the segment 'microsoft.graph.user'."
    );
}

#[tokio::test]
async fn an_app_without_user_read_all_is_forbidden() {
    let graph = Session::numbers_app(&small_fixture()).await;
    let (status, body) = graph.get("/v1.0/users").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), "Authorization_RequestDenied");
}

#[tokio::test]
async fn missing_unknown_and_expired_tokens_are_unauthorized() {
    let yaml = fixture_yaml("behaviour: {tokenLifetimeSeconds: 1}");
    let sandbox = start(&OrgFixture::from_yaml(&yaml, "inline").unwrap()).await;
    let client = client();
    let url = format!("{}/v1.0/users", sandbox.base_url());
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key("www-authenticate"));
    let (status, body) = get(&client, &url, "not-a-token", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "InvalidAuthenticationToken");

    let token = reader_token(&client, sandbox.base_url()).await;
    let (status, _) = get(&client, &url, &token, &[]).await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let (status, body) = get(&client, &url, &token, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "InvalidAuthenticationToken");
    assert_eq!(
        body["error"]["message"],
        "Access token has expired or is not yet valid."
    );
}

fn inner<'a>(body: &'a Value, id: &str) -> &'a Value {
    body["responses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no response {id}"))
}

#[tokio::test]
async fn batch_answers_each_inner_request_on_its_own() {
    let graph = Session::admin(&small_fixture()).await;
    let request = json!({"requests": [
        {"id": "1", "method": "GET", "url": "/users?$select=id,mail&$filter=mail eq 'bob@contoso.com'"},
        {"id": "2", "method": "GET", "url": "/users/nobody@contoso.com"},
        {"id": "3", "method": "GET", "url": "me/memberOf/graph.directoryRole"},
        {"id": "4", "method": "GET", "url": "/users?$count=true&$top=1", "headers": {"ConsistencyLevel": "eventual"}},
        {"id": "5", "method": "GET", "url": "/users?$top=1000"},
        {"id": "6", "method": "POST", "url": "/users", "body": {"displayName": "x"}},
    ]});
    let (status, body) = graph.batch(&request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["responses"].as_array().unwrap().len(), 6);

    let first = inner(&body, "1");
    assert_eq!(first["status"], 200);
    assert!(
        first["headers"]["Content-Type"]
            .as_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert_graph_schema(USER_COLLECTION, &first["body"]);
    assert_eq!(first["body"]["value"][0]["mail"], "bob@contoso.com");

    let second = inner(&body, "2");
    assert_eq!(second["status"], 404);
    assert_eq!(error_code(&second["body"]), "Request_ResourceNotFound");

    let third = inner(&body, "3");
    assert_eq!(third["status"], 200);
    assert_graph_schema("microsoft.graph.directoryRoleCollectionResponse", &third["body"]);

    let fourth = inner(&body, "4");
    assert_eq!(fourth["status"], 200, "{fourth}");
    assert_eq!(fourth["body"]["@odata.count"], 4);

    assert_eq!(inner(&body, "5")["status"], 400);
    let sixth = inner(&body, "6");
    assert_eq!(sixth["status"], 400, "a body without Content-Type");
    assert_eq!(error_code(&sixth["body"]), "BadRequest");
}

#[tokio::test]
async fn batch_inner_requests_use_the_outer_token() {
    let graph = Session::numbers_app(&small_fixture()).await;
    let request = json!({"requests": [{"id": "a", "method": "GET", "url": "/users"}, {"id": "b", "method": "GET", "url": "/me"}]});
    let (status, body) = graph.batch(&request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(inner(&body, "a")["status"], 403);
    assert_eq!(inner(&body, "b")["status"], 400);
}

#[tokio::test]
async fn batch_with_more_than_20_requests_or_duplicate_ids_is_a_bad_request() {
    let graph = Session::admin(&small_fixture()).await;
    let many: Vec<Value> = (0..21)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/me"}))
        .collect();
    let (status, body) = graph.batch(&json!({ "requests": many })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "BadRequest");

    let twenty: Vec<Value> = (0..20)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/me"}))
        .collect();
    let (status, body) = graph.batch(&json!({ "requests": twenty })).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let duplicates = json!({"requests": [
        {"id": "a", "method": "GET", "url": "/me"},
        {"id": "A", "method": "GET", "url": "/me"},
    ]});
    let (status, body) = graph.batch(&duplicates).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "BadRequest");

    let response = graph
        .client
        .post(format!("{}/v1.0/$batch", graph.sandbox.base_url()))
        .bearer_auth(&graph.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn batch_dependents_of_a_failed_request_get_424() {
    let graph = Session::admin(&small_fixture()).await;
    let request = json!({"requests": [
        {"id": "lookup", "method": "GET", "url": "/users/nobody@contoso.com"},
        {"id": "use", "method": "GET", "url": "/me", "dependsOn": ["lookup"]},
        {"id": "then", "method": "GET", "url": "/me", "dependsOn": ["use"]},
        {"id": "ok", "method": "GET", "url": "/me"},
        {"id": "after-ok", "method": "GET", "url": "/me", "dependsOn": ["OK"]},
    ]});
    let (status, body) = graph.batch(&request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(inner(&body, "lookup")["status"], 404);
    assert_eq!(inner(&body, "use")["status"], 424);
    assert_eq!(inner(&body, "then")["status"], 424);
    assert_eq!(inner(&body, "ok")["status"], 200);
    assert_eq!(inner(&body, "after-ok")["status"], 200);
    let ids: Vec<&str> = body["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["lookup", "use", "then", "ok", "after-ok"]);

    let unknown = json!({"requests": [{"id": "1", "method": "GET", "url": "/me", "dependsOn": ["9"]}]});
    let (status, _) = graph.batch(&unknown).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn batch_inner_throttling_stays_inside_the_batch() {
    let yaml = fixture_yaml(
        "behaviour:\n  faults: [{endpoint: graph.memberOf, throttleRate: 1.0, retryAfterSeconds: 2}]",
    );
    let graph = Session::admin(&OrgFixture::from_yaml(&yaml, "inline").unwrap()).await;
    let request = json!({"requests": [
        {"id": "roles", "method": "GET", "url": "/me/memberOf/microsoft.graph.directoryRole"},
        {"id": "me", "method": "GET", "url": "/me"},
    ]});
    let (status, body) = graph.batch(&request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let roles = inner(&body, "roles");
    assert_eq!(roles["status"], 429);
    assert_eq!(roles["headers"]["Retry-After"], "2");
    assert_eq!(error_code(&roles["body"]), "TooManyRequests");
    assert_eq!(inner(&body, "me")["status"], 200);
    let counters = graph.sandbox.counters();
    assert_eq!(counters.requests.get("graph.batch POST"), Some(&1));
    assert_eq!(counters.responses.get("graph.memberOf 429"), Some(&1));
}

/// Percent-encodes a query value (spaces as `%20`, quotes kept).
fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'\''
            | b'('
            | b')'
            | b','
            | b':' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
