//! The sandbox's Entra ID simulation, driven over real HTTP: the token endpoint's grants and
//! every AADSTS answer, OpenID discovery, instance discovery and the user-realm look-up.

use std::time::Instant;

use base64::Engine;
use dialpad_teams_sandbox::world::Principal;
use dialpad_teams_sandbox::{OrgFixture, Sandbox, SandboxOptions};
use reqwest::StatusCode;
use serde_json::Value;

const TENANT: &str = "9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b34";
const CLIENT: &str = "0d1f8a7e-3c2b-4e5f-8a9b-1c2d3e4f5a6b";
const UNCONSENTED_CLIENT: &str = "11111111-2222-4333-8444-555555555555";
const APP: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const APP_SECRET: &str = "Zx9~app.secret_VALUE-42";
const EXPIRED_APP: &str = "aaaaaaaa-0000-4000-8000-000000000002";
const BARE_APP: &str = "aaaaaaaa-0000-4000-8000-000000000003";
const ODD_SECRET_APP: &str = "aaaaaaaa-0000-4000-8000-000000000004";
const ODD_SECRET: &str = "a:b+c/d=e&f%g h";
const ADMIN: &str = "dialpad-msteams-admin@contoso.com";
const PASSWORD: &str = "Pa55w0rd!-unique-7f3a";
const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
const LIFETIME: u64 = 1234;

const FIXTURE: &str = r#"
seed: 11
tenant:
  id: 9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b34
  domains: [contoso.com, contoso.onmicrosoft.com]
  publicClients:
  - clientId: 0d1f8a7e-3c2b-4e5f-8a9b-1c2d3e4f5a6b
  - clientId: 11111111-2222-4333-8444-555555555555
    consented: false
  applications:
  - clientId: aaaaaaaa-0000-4000-8000-000000000001
    clientSecret: Zx9~app.secret_VALUE-42
    permissions: [User.Read.All, TeamsTelephoneNumber.ReadWrite.All]
  - clientId: aaaaaaaa-0000-4000-8000-000000000002
    clientSecret: Zx9~app.secret_VALUE-42
    secretExpired: true
    permissions: [User.Read.All]
  - clientId: aaaaaaaa-0000-4000-8000-000000000003
    clientSecret: Zx9~app.secret_VALUE-42
  - clientId: aaaaaaaa-0000-4000-8000-000000000004
    clientSecret: "a:b+c/d=e&f%g h"
    permissions: [User.Read.All]
  admins:
  - userPrincipalName: dialpad-msteams-admin@contoso.com
    password: Pa55w0rd!-unique-7f3a
    roles: [TeamsAdministrator]
  - {userPrincipalName: mfa@contoso.com, password: Pa55w0rd!-unique-7f3a, signIn: mfaRequired}
  - {userPrincipalName: enrol@contoso.com, password: Pa55w0rd!-unique-7f3a, signIn: mfaEnrollmentRequired}
  - {userPrincipalName: blocked@contoso.com, password: Pa55w0rd!-unique-7f3a, signIn: conditionalAccessBlocked}
  - {userPrincipalName: disabled@contoso.com, password: Pa55w0rd!-unique-7f3a, signIn: disabled}
  - {userPrincipalName: locked@contoso.com, password: Pa55w0rd!-unique-7f3a, signIn: locked}
  - {userPrincipalName: expired@contoso.com, password: Pa55w0rd!-unique-7f3a, signIn: passwordExpired}
  - {userPrincipalName: flaky@contoso.com, password: Pa55w0rd!-unique-7f3a, signIn: transientError, transientFailures: 2}
  - {userPrincipalName: down@contoso.com, password: Pa55w0rd!-unique-7f3a, signIn: transientError}
  users:
  - userPrincipalName: ada@contoso.com
    mail: ada@contoso.com
    licenses: [SPE_E5]
behaviour:
  tokenLifetimeSeconds: 1234
"#;

async fn start() -> Sandbox {
    let fixture = OrgFixture::from_yaml(FIXTURE, "test").expect("fixture parses");
    Sandbox::start(&fixture, SandboxOptions::default())
        .await
        .expect("sandbox starts")
}

fn token_url(sandbox: &Sandbox, tenant: &str) -> String {
    format!("{}/{tenant}/oauth2/v2.0/token", sandbox.base_url())
}

async fn post_token(sandbox: &Sandbox, tenant: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(token_url(sandbox, tenant))
        .form(form)
        .send()
        .await
        .expect("token request is answered");
    let status = response.status();
    let body = response.json().await.expect("token answer is JSON");
    (status, body)
}

async fn get_json(url: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .get(url)
        .send()
        .await
        .expect("request is answered");
    let status = response.status();
    (status, response.json().await.expect("answer is JSON"))
}

fn ropc<'a>(
    client: &'a str,
    username: &'a str,
    password: &'a str,
    scope: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "password"),
        ("client_id", client),
        ("username", username),
        ("password", password),
        ("scope", scope),
    ]
}

async fn sign_in(sandbox: &Sandbox, username: &str, password: &str) -> (StatusCode, Value) {
    post_token(sandbox, TENANT, &ropc(CLIENT, username, password, GRAPH_DEFAULT)).await
}

fn is_guid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn is_timestamp(text: &str) -> bool {
    // yyyy-mm-dd hh:mm:ssZ
    let b = text.as_bytes();
    b.len() == 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b' '
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z'
        && text
            .chars()
            .enumerate()
            .all(|(i, c)| [4, 7, 10, 13, 16, 19].contains(&i) || c.is_ascii_digit())
}

/// Asserts an Entra error answer: status, `error`, `error_codes`, and the full body shape.
fn assert_aad(status: StatusCode, body: &Value, want_status: u16, error: &str, code: u64) {
    assert_eq!(status.as_u16(), want_status, "status of {body}");
    assert_eq!(body["error"], error, "error of {body}");
    assert_eq!(
        body["error_codes"],
        serde_json::json!([code]),
        "error_codes of {body}"
    );
    let description = body["error_description"].as_str().expect("error_description");
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "description {description:?}"
    );
    let trace = body["trace_id"].as_str().expect("trace_id");
    let correlation = body["correlation_id"].as_str().expect("correlation_id");
    let timestamp = body["timestamp"].as_str().expect("timestamp");
    assert!(is_guid(trace) && is_guid(correlation), "ids of {body}");
    assert!(is_timestamp(timestamp), "timestamp {timestamp:?}");
    let tail = format!("\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {timestamp}");
    assert!(description.ends_with(&tail), "description {description:?}");
    assert_eq!(
        body["error_uri"],
        format!("https://login.microsoftonline.com/error?code={code}")
    );
    let allowed = [
        "error",
        "error_description",
        "error_codes",
        "timestamp",
        "trace_id",
        "correlation_id",
        "error_uri",
        "suberror",
        "claims",
    ];
    for key in body.as_object().expect("an object").keys() {
        assert!(
            allowed.contains(&key.as_str()),
            "unexpected field {key} in {body}"
        );
    }
}

fn jwt_claims(token: &str) -> Value {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "JWT-shaped: {token}");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1])
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON payload")
}

fn admin_id(sandbox: &Sandbox) -> String {
    sandbox.with_world(|w| w.admins[ADMIN].user_id.clone())
}

fn principal_of(sandbox: &Sandbox, token: &str) -> Principal {
    sandbox.with_world(|w| {
        w.access_grant(token, Instant::now())
            .expect("a valid access token")
            .principal
            .clone()
    })
}

// ---------------------------------------------------------------------------------------------
// Password grant (ROPC)

#[tokio::test]
async fn password_grant_issues_user_token_with_fixture_lifetime() {
    let sandbox = start().await;
    let (status, body) = sign_in(&sandbox, ADMIN, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], LIFETIME);
    assert_eq!(body["ext_expires_in"], LIFETIME);
    assert!(body["scope"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(
        body.get("refresh_token").is_none(),
        "no offline_access, no refresh token: {body}"
    );
    assert!(body.get("id_token").is_none(), "no openid, no ID token: {body}");
    let token = body["access_token"].as_str().unwrap();
    let claims = jwt_claims(token);
    assert_eq!(claims["tid"], TENANT);
    assert_eq!(claims["oid"], admin_id(&sandbox));
    assert_eq!(
        principal_of(&sandbox, token),
        Principal::User {
            user_id: admin_id(&sandbox),
            client_id: CLIENT.into()
        }
    );
}

#[tokio::test]
async fn offline_access_scope_adds_refresh_token() {
    let sandbox = start().await;
    let scope = format!("{GRAPH_DEFAULT} offline_access");
    let (status, body) = post_token(&sandbox, TENANT, &ropc(CLIENT, ADMIN, PASSWORD, &scope)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let refresh = body["refresh_token"].as_str().expect("a refresh token");
    assert!(sandbox.with_world(|w| w.refresh_tokens.contains_key(refresh)));
    assert!(
        body["scope"]
            .as_str()
            .unwrap()
            .split(' ')
            .any(|s| s == "offline_access")
    );
}

#[tokio::test]
async fn openid_scope_adds_id_token_for_the_admin() {
    let sandbox = start().await;
    let scope = format!("openid profile {GRAPH_DEFAULT}");
    let (status, body) = post_token(&sandbox, TENANT, &ropc(CLIENT, ADMIN, PASSWORD, &scope)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let claims = jwt_claims(body["id_token"].as_str().expect("an ID token"));
    assert_eq!(claims["tid"], TENANT);
    assert_eq!(claims["aud"], CLIENT);
    assert_eq!(claims["oid"], admin_id(&sandbox));
    assert_eq!(claims["preferred_username"], ADMIN);
    assert!(body.get("refresh_token").is_none());
}

#[tokio::test]
async fn domain_and_organizations_tenants_accept_password_grant() {
    let sandbox = start().await;
    for tenant in [
        "contoso.com",
        "CONTOSO.onmicrosoft.com",
        "organizations",
        &TENANT.to_uppercase(),
    ] {
        let (status, body) =
            post_token(&sandbox, tenant, &ropc(CLIENT, ADMIN, PASSWORD, GRAPH_DEFAULT)).await;
        assert_eq!(status, StatusCode::OK, "{tenant}: {body}");
    }
}

#[tokio::test]
async fn username_is_matched_ignoring_case() {
    let sandbox = start().await;
    let (status, body) = sign_in(&sandbox, &ADMIN.to_uppercase(), PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn unknown_tenant_answers_aadsts90002() {
    let sandbox = start().await;
    let (status, body) = post_token(
        &sandbox,
        "fabrikam.com",
        &ropc(CLIENT, ADMIN, PASSWORD, GRAPH_DEFAULT),
    )
    .await;
    assert_aad(status, &body, 400, "invalid_request", 90002);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS90002: Tenant 'fabrikam.com' not found")
    );
}

#[tokio::test]
async fn common_and_consumers_refuse_password_grant_with_aadsts9001023() {
    let sandbox = start().await;
    for tenant in ["common", "consumers"] {
        let (status, body) =
            post_token(&sandbox, tenant, &ropc(CLIENT, ADMIN, PASSWORD, GRAPH_DEFAULT)).await;
        assert_aad(status, &body, 400, "invalid_request", 9001023);
    }
}

#[tokio::test]
async fn unknown_client_answers_aadsts700016() {
    let sandbox = start().await;
    let form = ropc(
        "99999999-9999-4999-8999-999999999999",
        ADMIN,
        PASSWORD,
        GRAPH_DEFAULT,
    );
    let (status, body) = post_token(&sandbox, TENANT, &form).await;
    assert_aad(status, &body, 400, "unauthorized_client", 700016);
}

#[tokio::test]
async fn confidential_app_without_secret_answers_aadsts7000218() {
    let sandbox = start().await;
    let (status, body) = post_token(&sandbox, TENANT, &ropc(APP, ADMIN, PASSWORD, GRAPH_DEFAULT)).await;
    assert_aad(status, &body, 401, "invalid_client", 7000218);
}

#[tokio::test]
async fn confidential_app_with_secret_may_use_password_grant() {
    let sandbox = start().await;
    let mut form = ropc(APP, ADMIN, PASSWORD, GRAPH_DEFAULT);
    form.push(("client_secret", APP_SECRET));
    let (status, body) = post_token(&sandbox, TENANT, &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(
        principal_of(&sandbox, token),
        Principal::User {
            user_id: admin_id(&sandbox),
            client_id: APP.into()
        }
    );
}

#[tokio::test]
async fn public_client_presenting_secret_answers_aadsts700025() {
    let sandbox = start().await;
    let mut form = ropc(CLIENT, ADMIN, PASSWORD, GRAPH_DEFAULT);
    form.push(("client_secret", "anything"));
    let (status, body) = post_token(&sandbox, TENANT, &form).await;
    assert_aad(status, &body, 401, "invalid_client", 700025);
}

#[tokio::test]
async fn unknown_username_answers_aadsts50034() {
    let sandbox = start().await;
    let (status, body) = sign_in(&sandbox, "nobody@contoso.com", PASSWORD).await;
    assert_aad(status, &body, 400, "invalid_grant", 50034);
}

#[tokio::test]
async fn directory_user_without_known_password_answers_aadsts50126() {
    let sandbox = start().await;
    let (status, body) = sign_in(&sandbox, "ada@contoso.com", PASSWORD).await;
    assert_aad(status, &body, 400, "invalid_grant", 50126);
}

#[tokio::test]
async fn wrong_password_answers_aadsts50126() {
    let sandbox = start().await;
    let (status, body) = sign_in(&sandbox, ADMIN, "not-the-password").await;
    assert_aad(status, &body, 400, "invalid_grant", 50126);
    // A behaviour only shows once the password is right.
    let (status, body) = sign_in(&sandbox, "mfa@contoso.com", "not-the-password").await;
    assert_aad(status, &body, 400, "invalid_grant", 50126);
}

#[tokio::test]
async fn password_is_case_sensitive() {
    let sandbox = start().await;
    let (status, body) = sign_in(&sandbox, ADMIN, &PASSWORD.to_uppercase()).await;
    assert_aad(status, &body, 400, "invalid_grant", 50126);
}

#[tokio::test]
async fn mfa_required_answers_aadsts50076_with_basic_action() {
    let sandbox = start().await;
    let (status, body) = sign_in(&sandbox, "mfa@contoso.com", PASSWORD).await;
    assert_aad(status, &body, 400, "invalid_grant", 50076);
    assert_eq!(body["suberror"], "basic_action");
}

#[tokio::test]
async fn mfa_enrollment_required_answers_aadsts50079_with_claims() {
    let sandbox = start().await;
    let (status, body) = sign_in(&sandbox, "enrol@contoso.com", PASSWORD).await;
    assert_aad(status, &body, 400, "interaction_required", 50079);
    let claims: Value =
        serde_json::from_str(body["claims"].as_str().expect("a claims string")).expect("claims JSON");
    assert!(claims.get("access_token").is_some(), "{claims}");
}

#[tokio::test]
async fn conditional_access_block_answers_aadsts53003() {
    let sandbox = start().await;
    let (status, body) = sign_in(&sandbox, "blocked@contoso.com", PASSWORD).await;
    assert_aad(status, &body, 400, "invalid_grant", 53003);
}

#[tokio::test]
async fn disabled_account_answers_aadsts50057() {
    let sandbox = start().await;
    let (status, body) = sign_in(&sandbox, "disabled@contoso.com", PASSWORD).await;
    assert_aad(status, &body, 400, "invalid_grant", 50057);
}

#[tokio::test]
async fn locked_account_answers_aadsts50053() {
    let sandbox = start().await;
    let (status, body) = sign_in(&sandbox, "locked@contoso.com", PASSWORD).await;
    assert_aad(status, &body, 400, "invalid_grant", 50053);
}

#[tokio::test]
async fn expired_password_answers_aadsts50055() {
    let sandbox = start().await;
    let (status, body) = sign_in(&sandbox, "expired@contoso.com", PASSWORD).await;
    assert_aad(status, &body, 400, "invalid_grant", 50055);
}

#[tokio::test]
async fn transient_error_answers_aadsts90033_then_succeeds() {
    let sandbox = start().await;
    for _ in 0..2 {
        let (status, body) = sign_in(&sandbox, "flaky@contoso.com", PASSWORD).await;
        assert_aad(status, &body, 503, "temporarily_unavailable", 90033);
    }
    let (status, body) = sign_in(&sandbox, "flaky@contoso.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = sign_in(&sandbox, "flaky@contoso.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn transient_error_without_count_never_succeeds() {
    let sandbox = start().await;
    for _ in 0..4 {
        let (status, body) = sign_in(&sandbox, "down@contoso.com", PASSWORD).await;
        assert_aad(status, &body, 503, "temporarily_unavailable", 90033);
    }
}

#[tokio::test]
async fn missing_consent_answers_aadsts65001_after_password_check() {
    let sandbox = start().await;
    let form = ropc(UNCONSENTED_CLIENT, ADMIN, PASSWORD, GRAPH_DEFAULT);
    let (status, body) = post_token(&sandbox, TENANT, &form).await;
    assert_aad(status, &body, 400, "invalid_grant", 65001);
    let form = ropc(UNCONSENTED_CLIENT, ADMIN, "not-the-password", GRAPH_DEFAULT);
    let (status, body) = post_token(&sandbox, TENANT, &form).await;
    assert_aad(status, &body, 400, "invalid_grant", 50126);
}

#[tokio::test]
async fn missing_parameters_answer_aadsts900144_naming_the_parameter() {
    let sandbox = start().await;
    let full = ropc(CLIENT, ADMIN, PASSWORD, GRAPH_DEFAULT);
    for missing in ["grant_type", "client_id", "username", "password", "scope"] {
        let form: Vec<(&str, &str)> = full.iter().copied().filter(|(k, _)| *k != missing).collect();
        let (status, body) = post_token(&sandbox, TENANT, &form).await;
        assert_aad(status, &body, 400, "invalid_request", 900144);
        let description = body["error_description"].as_str().unwrap();
        let want =
            format!("AADSTS900144: The request body must contain the following parameter: '{missing}'.");
        assert!(description.starts_with(&want), "{description}");
    }
    let (status, body) = post_token(
        &sandbox,
        TENANT,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", APP),
            ("client_secret", APP_SECRET),
        ],
    )
    .await;
    assert_aad(status, &body, 400, "invalid_request", 900144);
    assert!(body["error_description"].as_str().unwrap().contains("'scope'"));
    let (status, body) = post_token(
        &sandbox,
        TENANT,
        &[("grant_type", "refresh_token"), ("client_id", CLIENT)],
    )
    .await;
    assert_aad(status, &body, 400, "invalid_request", 900144);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("'refresh_token'")
    );
}

#[tokio::test]
async fn unsupported_grant_type_answers_aadsts70003() {
    let sandbox = start().await;
    let form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", CLIENT),
    ];
    let (status, body) = post_token(&sandbox, TENANT, &form).await;
    assert_aad(status, &body, 400, "unsupported_grant_type", 70003);
}

// ---------------------------------------------------------------------------------------------
// Client credentials

fn client_credentials<'a>(client: &'a str, secret: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "client_credentials"),
        ("client_id", client),
        ("client_secret", secret),
        ("scope", GRAPH_DEFAULT),
    ]
}

#[tokio::test]
async fn client_credentials_issue_app_token_with_permissions_as_roles() {
    let sandbox = start().await;
    let (status, body) = post_token(&sandbox, TENANT, &client_credentials(APP, APP_SECRET)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], LIFETIME);
    assert_eq!(body["ext_expires_in"], LIFETIME);
    assert!(body.get("refresh_token").is_none(), "{body}");
    let token = body["access_token"].as_str().unwrap();
    let roles = vec![
        "User.Read.All".to_owned(),
        "TeamsTelephoneNumber.ReadWrite.All".to_owned(),
    ];
    assert_eq!(
        principal_of(&sandbox, token),
        Principal::Application {
            client_id: APP.into(),
            roles: roles.clone()
        }
    );
    assert_eq!(jwt_claims(token)["roles"], serde_json::json!(roles));
}

#[tokio::test]
async fn client_credentials_accept_secret_in_basic_header() {
    let sandbox = start().await;
    // RFC 6749 2.3.1: both parts form-urlencoded, then base64.
    let encoded_secret: String = serde_urlencoded::to_string([("s", ODD_SECRET)]).unwrap()[2..].to_owned();
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{ODD_SECRET_APP}:{encoded_secret}"));
    let response = reqwest::Client::new()
        .post(token_url(&sandbox, "contoso.com"))
        .header("authorization", format!("Basic {basic}"))
        .form(&[("grant_type", "client_credentials"), ("scope", GRAPH_DEFAULT)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap();
    assert!(
        matches!(principal_of(&sandbox, token), Principal::Application { client_id, .. } if client_id == ODD_SECRET_APP)
    );

    // reqwest's basic_auth does not url-encode; a secret without reserved characters still works.
    let response = reqwest::Client::new()
        .post(token_url(&sandbox, TENANT))
        .basic_auth(APP, Some(APP_SECRET))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", APP),
            ("scope", GRAPH_DEFAULT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn wrong_secret_in_basic_header_answers_aadsts7000215() {
    let sandbox = start().await;
    let response = reqwest::Client::new()
        .post(token_url(&sandbox, TENANT))
        .basic_auth(APP, Some("wrong"))
        .form(&[("grant_type", "client_credentials"), ("scope", GRAPH_DEFAULT)])
        .send()
        .await
        .unwrap();
    let status = response.status();
    assert_aad(
        status,
        &response.json().await.unwrap(),
        401,
        "invalid_client",
        7000215,
    );
}

#[tokio::test]
async fn client_credentials_without_secret_answer_aadsts7000218() {
    let sandbox = start().await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", APP),
        ("scope", GRAPH_DEFAULT),
    ];
    let (status, body) = post_token(&sandbox, TENANT, &form).await;
    assert_aad(status, &body, 401, "invalid_client", 7000218);
}

#[tokio::test]
async fn wrong_client_secret_answers_aadsts7000215() {
    let sandbox = start().await;
    let (status, body) = post_token(
        &sandbox,
        TENANT,
        &client_credentials(APP, "Zx9~app.secret_value-42"),
    )
    .await;
    assert_aad(status, &body, 401, "invalid_client", 7000215);
}

#[tokio::test]
async fn expired_client_secret_answers_aadsts7000222() {
    let sandbox = start().await;
    let (status, body) = post_token(&sandbox, TENANT, &client_credentials(EXPIRED_APP, APP_SECRET)).await;
    assert_aad(status, &body, 401, "invalid_client", 7000222);
}

#[tokio::test]
async fn client_credentials_for_unknown_app_answer_aadsts700016() {
    let sandbox = start().await;
    let form = client_credentials("99999999-9999-4999-8999-999999999999", APP_SECRET);
    let (status, body) = post_token(&sandbox, TENANT, &form).await;
    assert_aad(status, &body, 400, "unauthorized_client", 700016);
}

#[tokio::test]
async fn client_credentials_need_a_default_scope_else_aadsts70011() {
    let sandbox = start().await;
    for scope in [
        "https://graph.microsoft.com/User.Read.All",
        "User.Read.All",
        "https://graph.microsoft.com/.default offline_access",
    ] {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", APP),
            ("client_secret", APP_SECRET),
            ("scope", scope),
        ];
        let (status, body) = post_token(&sandbox, TENANT, &form).await;
        assert_aad(status, &body, 400, "invalid_scope", 70011);
    }
}

#[tokio::test]
async fn app_without_consented_permissions_gets_token_with_no_roles() {
    let sandbox = start().await;
    let (status, body) = post_token(&sandbox, TENANT, &client_credentials(BARE_APP, APP_SECRET)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(
        principal_of(&sandbox, token),
        Principal::Application {
            client_id: BARE_APP.into(),
            roles: vec![]
        }
    );
    assert_eq!(jwt_claims(token)["roles"], serde_json::json!([]));
}

// ---------------------------------------------------------------------------------------------
// Refresh tokens

async fn refresh_token_for_admin(sandbox: &Sandbox) -> String {
    let scope = format!("{GRAPH_DEFAULT} offline_access");
    let (status, body) = post_token(sandbox, TENANT, &ropc(CLIENT, ADMIN, PASSWORD, &scope)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["refresh_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn refresh_token_grant_rotates_the_refresh_token() {
    let sandbox = start().await;
    let first = refresh_token_for_admin(&sandbox).await;
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", CLIENT),
        ("refresh_token", first.as_str()),
    ];
    let (status, body) = post_token(&sandbox, TENANT, &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expires_in"], LIFETIME);
    let second = body["refresh_token"]
        .as_str()
        .expect("a new refresh token")
        .to_owned();
    assert_ne!(second, first);
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(
        principal_of(&sandbox, token),
        Principal::User {
            user_id: admin_id(&sandbox),
            client_id: CLIENT.into()
        }
    );

    // The old one no longer works; the new one does.
    let (status, body) = post_token(&sandbox, TENANT, &form).await;
    assert_aad(status, &body, 400, "invalid_grant", 9002313);
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", CLIENT),
        ("refresh_token", second.as_str()),
    ];
    let (status, body) = post_token(&sandbox, "organizations", &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn unknown_refresh_token_answers_aadsts9002313() {
    let sandbox = start().await;
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", CLIENT),
        ("refresh_token", "0.garbage"),
    ];
    let (status, body) = post_token(&sandbox, TENANT, &form).await;
    assert_aad(status, &body, 400, "invalid_grant", 9002313);
}

#[tokio::test]
async fn expired_refresh_token_answers_aadsts70008() {
    let sandbox = start().await;
    let refresh = refresh_token_for_admin(&sandbox).await;
    sandbox.with_world(|w| w.refresh_tokens.get_mut(&refresh).unwrap().expires_at = Instant::now());
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", CLIENT),
        ("refresh_token", refresh.as_str()),
    ];
    let (status, body) = post_token(&sandbox, TENANT, &form).await;
    assert_aad(status, &body, 400, "invalid_grant", 70008);
}

#[tokio::test]
async fn refresh_token_of_another_client_answers_aadsts70000() {
    let sandbox = start().await;
    let refresh = refresh_token_for_admin(&sandbox).await;
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", UNCONSENTED_CLIENT),
        ("refresh_token", refresh.as_str()),
    ];
    let (status, body) = post_token(&sandbox, TENANT, &form).await;
    assert_aad(status, &body, 400, "invalid_grant", 70000);
}

#[tokio::test]
async fn refresh_for_disabled_account_answers_aadsts50057() {
    let sandbox = start().await;
    let refresh = refresh_token_for_admin(&sandbox).await;
    let id = admin_id(&sandbox);
    sandbox.with_world(|w| {
        let index = w.users.iter().position(|u| u.id == id).unwrap();
        w.users[index].account_enabled = false;
    });
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", CLIENT),
        ("refresh_token", refresh.as_str()),
    ];
    let (status, body) = post_token(&sandbox, TENANT, &form).await;
    assert_aad(status, &body, 400, "invalid_grant", 50057);
}

// ---------------------------------------------------------------------------------------------
// Secrets

#[tokio::test]
async fn password_and_secret_never_appear_in_responses() {
    let sandbox = start().await;
    let mut bodies = Vec::new();
    let users = [
        ADMIN,
        "nobody@contoso.com",
        "ada@contoso.com",
        "mfa@contoso.com",
        "enrol@contoso.com",
        "blocked@contoso.com",
        "disabled@contoso.com",
        "locked@contoso.com",
        "expired@contoso.com",
        "down@contoso.com",
    ];
    for user in users {
        for password in [PASSWORD, "Wrong-Pa55w0rd!-unique"] {
            for (client, tenant) in [
                (CLIENT, TENANT),
                (UNCONSENTED_CLIENT, TENANT),
                (CLIENT, "common"),
                (CLIENT, "fabrikam.com"),
            ] {
                let scope = format!("openid profile offline_access {GRAPH_DEFAULT}");
                bodies.push(
                    post_token(&sandbox, tenant, &ropc(client, user, password, &scope))
                        .await
                        .1,
                );
            }
        }
    }
    for secret in [APP_SECRET, "Wrong-app-secret-unique"] {
        for client in [
            APP,
            EXPIRED_APP,
            BARE_APP,
            CLIENT,
            "99999999-9999-4999-8999-999999999999",
        ] {
            bodies.push(
                post_token(&sandbox, TENANT, &client_credentials(client, secret))
                    .await
                    .1,
            );
            let mut form = ropc(client, ADMIN, PASSWORD, GRAPH_DEFAULT);
            form.push(("client_secret", secret));
            bodies.push(post_token(&sandbox, TENANT, &form).await.1);
        }
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", APP),
            ("client_secret", secret),
            ("scope", "User.Read"),
        ];
        bodies.push(post_token(&sandbox, TENANT, &form).await.1);
    }
    for body in &bodies {
        let text = body.to_string();
        for secret in [
            PASSWORD,
            "Wrong-Pa55w0rd!-unique",
            APP_SECRET,
            "Wrong-app-secret-unique",
        ] {
            assert!(!text.contains(secret), "{secret} echoed in {text}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Metadata

#[tokio::test]
async fn openid_configuration_points_at_this_sandbox() {
    let sandbox = start().await;
    let base = sandbox.base_url();
    for tenant in [TENANT, "contoso.com"] {
        for path in [
            format!("{base}/{tenant}/v2.0/.well-known/openid-configuration"),
            format!("{base}/{tenant}/.well-known/openid-configuration"),
        ] {
            let (status, doc) = get_json(&path).await;
            assert_eq!(status, StatusCode::OK, "{path}: {doc}");
            assert_eq!(
                doc["token_endpoint"],
                format!("{base}/{TENANT}/oauth2/v2.0/token")
            );
            assert_eq!(
                doc["authorization_endpoint"],
                format!("{base}/{TENANT}/oauth2/v2.0/authorize")
            );
            assert_eq!(
                doc["device_authorization_endpoint"],
                format!("{base}/{TENANT}/oauth2/v2.0/devicecode")
            );
            assert_eq!(
                doc["end_session_endpoint"],
                format!("{base}/{TENANT}/oauth2/v2.0/logout")
            );
            assert_eq!(doc["jwks_uri"], format!("{base}/{TENANT}/discovery/v2.0/keys"));
            assert_eq!(doc["issuer"], format!("{base}/{TENANT}/v2.0"));
            assert!(doc["userinfo_endpoint"].as_str().unwrap().starts_with(base));
            assert_eq!(
                doc["id_token_signing_alg_values_supported"],
                serde_json::json!(["RS256"])
            );
            assert_eq!(
                doc["token_endpoint_auth_methods_supported"],
                serde_json::json!(["client_secret_post", "private_key_jwt", "client_secret_basic"])
            );
            assert_eq!(doc["tenant_region_scope"], "NA");
            assert_eq!(doc["cloud_instance_name"], "microsoftonline.com");
            for list in [
                "response_types_supported",
                "scopes_supported",
                "subject_types_supported",
                "claims_supported",
            ] {
                assert!(doc[list].as_array().is_some_and(|l| !l.is_empty()), "{list}");
            }
            assert!(doc["msgraph_host"].is_string());
        }
    }
}

#[tokio::test]
async fn openid_configuration_for_organizations_uses_tenant_placeholder() {
    let sandbox = start().await;
    let base = sandbox.base_url();
    let (status, doc) = get_json(&format!(
        "{base}/organizations/v2.0/.well-known/openid-configuration"
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        doc["token_endpoint"],
        format!("{base}/organizations/oauth2/v2.0/token")
    );
    assert_eq!(doc["issuer"], format!("{base}/{{tenantid}}/v2.0"));
}

#[tokio::test]
async fn openid_configuration_for_unknown_tenant_answers_aadsts90002() {
    let sandbox = start().await;
    let (status, body) = get_json(&format!(
        "{}/fabrikam.com/v2.0/.well-known/openid-configuration",
        sandbox.base_url()
    ))
    .await;
    assert_aad(status, &body, 400, "invalid_tenant", 90002);
}

#[tokio::test]
async fn instance_discovery_points_at_the_tenant_discovery_document() {
    let sandbox = start().await;
    let base = sandbox.base_url();
    let host = base.split_once("://").unwrap().1;
    let authorize = format!("{base}/contoso.com/oauth2/v2.0/authorize");
    let response = reqwest::Client::new()
        .get(format!("{base}/common/discovery/instance"))
        .query(&[
            ("api-version", "1.1"),
            ("authorization_endpoint", authorize.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["tenant_discovery_endpoint"],
        format!("{base}/contoso.com/v2.0/.well-known/openid-configuration")
    );
    assert_eq!(body["api-version"], "1.1");
    assert_eq!(
        body["metadata"],
        serde_json::json!([{"preferred_network": host, "preferred_cache": host, "aliases": [host]}])
    );
    let (status, _) = get_json(body["tenant_discovery_endpoint"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn user_realm_reports_verified_domains_as_managed() {
    let sandbox = start().await;
    let base = sandbox.base_url();
    let (status, body) = get_json(&format!(
        "{base}/common/userrealm/Someone@Contoso.com?api-version=1.0"
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        serde_json::json!({
            "ver": "1.0",
            "account_type": "Managed",
            "domain_name": "contoso.com",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_audience_urn": "urn:federation:MicrosoftOnline",
        })
    );
    let (status, body) = get_json(&format!(
        "{base}/common/userrealm/someone%40fabrikam.com?api-version=1.0"
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["account_type"], "Unknown");
    assert_eq!(body["ver"], "1.0");
}

#[tokio::test]
async fn token_and_metadata_requests_are_counted_as_entra_endpoints() {
    use dialpad_teams_sandbox::Endpoint;
    let sandbox = start().await;
    sign_in(&sandbox, ADMIN, PASSWORD).await;
    sign_in(&sandbox, ADMIN, "wrong").await;
    get_json(&format!(
        "{}/{TENANT}/v2.0/.well-known/openid-configuration",
        sandbox.base_url()
    ))
    .await;
    let counters = sandbox.counters();
    assert_eq!(counters.requests_to(Endpoint::EntraToken, "POST"), 2);
    assert_eq!(counters.responses_from(Endpoint::EntraToken, 200), 1);
    assert_eq!(counters.responses_from(Endpoint::EntraToken, 400), 1);
    assert_eq!(counters.requests_to(Endpoint::EntraMetadata, "GET"), 1);
}
