//! The Entra sign-in client against the sandbox: every AADSTS case maps to its tenant reason, the
//! token is cached and refreshed once when it expires, transient failures are retried.

use std::sync::Arc;
use std::time::Duration;

use dialpad_teams_operator::api::Reason;
use dialpad_teams_operator::commands::examples::EXAMPLE_ORG;
use dialpad_teams_operator::microsoft::token::{Credentials, TokenClient};
use dialpad_teams_operator::upstream::{RetryPolicy, Service, UpstreamClient, http_client};
use dialpad_teams_sandbox::{Endpoint, OrgFixture, Sandbox, SandboxOptions};
use secrecy::SecretString;

const TENANT: &str = "9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b34";
const PUBLIC_CLIENT: &str = "0d1f8a7e-3c2b-4e5f-8a9b-1c2d3e4f5a6b";
const UNCONSENTED_CLIENT: &str = "1e2f3a4b-5c6d-4e7f-8091-a2b3c4d5e6f7";
const APP: &str = "7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f";
const PASSWORD: &str = "sandbox-admin-password";
const APP_SECRET: &str = "sandbox-client-secret";

fn org() -> OrgFixture {
    OrgFixture::from_yaml(EXAMPLE_ORG, "example").unwrap()
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        base: Duration::from_millis(10),
        cap: Duration::from_millis(50),
        ..Default::default()
    }
}

fn client(sandbox: &Sandbox, tenant: &str, credentials: Credentials) -> TokenClient {
    let upstream = UpstreamClient::new(Service::Entra, http_client(&[]).unwrap(), None, fast_retries());
    TokenClient::new(
        upstream,
        sandbox.base_url(),
        tenant,
        sandbox.base_url(),
        credentials,
    )
}

fn admin(username: &str, password: &str, client_id: &str) -> Credentials {
    Credentials::Password {
        client_id: client_id.into(),
        username: SecretString::from(username.to_owned()),
        password: SecretString::from(password.to_owned()),
        username_in: "Secret 'teams-admin' (key 'username')".into(),
        account: username.into(),
    }
}

async fn sign_in_reason(
    sandbox: &Sandbox,
    tenant: &str,
    credentials: Credentials,
) -> Result<(), (Reason, String)> {
    client(sandbox, tenant, credentials)
        .access_token()
        .await
        .map(|_| ())
        .map_err(|failure| (failure.reason, failure.message))
}

#[tokio::test]
async fn every_sign_in_failure_of_the_example_org_maps_to_its_tenant_reason() {
    let sandbox = Sandbox::start(&org(), SandboxOptions::default()).await.unwrap();
    let cases = [
        (
            "dialpad-msteams-admin@mfa.contoso.com",
            PASSWORD,
            PUBLIC_CLIENT,
            TENANT,
            Reason::MfaRequired,
            "AADSTS50076",
        ),
        (
            "dialpad-msteams-admin@mfaenroll.contoso.com",
            PASSWORD,
            PUBLIC_CLIENT,
            TENANT,
            Reason::MfaRequired,
            "AADSTS50079",
        ),
        (
            "dialpad-msteams-admin@blocked.contoso.com",
            PASSWORD,
            PUBLIC_CLIENT,
            TENANT,
            Reason::SignInBlocked,
            "AADSTS53003",
        ),
        (
            "dialpad-msteams-admin@disabled.contoso.com",
            PASSWORD,
            PUBLIC_CLIENT,
            TENANT,
            Reason::AccountDisabled,
            "AADSTS50057",
        ),
        (
            "dialpad-msteams-admin@locked.contoso.com",
            PASSWORD,
            PUBLIC_CLIENT,
            TENANT,
            Reason::AccountDisabled,
            "AADSTS50053",
        ),
        (
            "dialpad-msteams-admin@expired.contoso.com",
            PASSWORD,
            PUBLIC_CLIENT,
            TENANT,
            Reason::PasswordExpired,
            "AADSTS50055",
        ),
        (
            "dialpad-msteams-admin@contoso.com",
            "wrong",
            PUBLIC_CLIENT,
            TENANT,
            Reason::CredentialsInvalid,
            "AADSTS50126",
        ),
        (
            "nobody@contoso.com",
            PASSWORD,
            PUBLIC_CLIENT,
            TENANT,
            Reason::CredentialsInvalid,
            "AADSTS50034",
        ),
        (
            "dialpad-msteams-admin@contoso.com",
            PASSWORD,
            UNCONSENTED_CLIENT,
            TENANT,
            Reason::ConsentMissing,
            "AADSTS65001",
        ),
        (
            "dialpad-msteams-admin@contoso.com",
            PASSWORD,
            PUBLIC_CLIENT,
            "nosuchtenant.example",
            Reason::TenantNotFound,
            "AADSTS90002",
        ),
        (
            "dialpad-msteams-admin@contoso.com",
            PASSWORD,
            APP,
            TENANT,
            Reason::ConsentMissing,
            "AADSTS7000218",
        ),
    ];
    for (username, password, client_id, tenant, reason, code) in cases {
        let (got, message) = sign_in_reason(&sandbox, tenant, admin(username, password, client_id))
            .await
            .unwrap_err();
        assert_eq!(got, reason, "{username} via {client_id}: {message}");
        assert!(message.starts_with(code), "{username}: {message}");
        assert!(!message.contains(PASSWORD), "the password leaked into: {message}");
    }
}

#[tokio::test]
async fn app_secret_failures_map_to_credentials_invalid() {
    let mut org = org();
    org.tenant.applications[1].secret_expired = true;
    let expired_app = org.tenant.applications[1].client_id.clone();
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let wrong = Credentials::ClientSecret {
        client_id: APP.into(),
        secret: SecretString::from("nope".to_owned()),
    };
    let (reason, message) = sign_in_reason(&sandbox, TENANT, wrong).await.unwrap_err();
    assert_eq!(reason, Reason::CredentialsInvalid);
    assert!(message.starts_with("AADSTS7000215"), "{message}");
    let expired = Credentials::ClientSecret {
        client_id: expired_app,
        secret: SecretString::from(APP_SECRET.to_owned()),
    };
    let (reason, message) = sign_in_reason(&sandbox, TENANT, expired).await.unwrap_err();
    assert_eq!(reason, Reason::CredentialsInvalid);
    assert!(
        message.starts_with("AADSTS7000222") && message.contains("expired"),
        "{message}"
    );
}

#[tokio::test]
async fn a_transient_sign_in_failure_is_retried_until_it_works() {
    let sandbox = Sandbox::start(&org(), SandboxOptions::default()).await.unwrap();
    let credentials = admin("dialpad-msteams-admin@flaky.contoso.com", PASSWORD, PUBLIC_CLIENT);
    sign_in_reason(&sandbox, TENANT, credentials).await.unwrap();
    assert_eq!(sandbox.counters().responses_from(Endpoint::EntraToken, 503), 2);
    assert_eq!(sandbox.counters().responses_from(Endpoint::EntraToken, 200), 1);
}

#[tokio::test]
async fn a_sign_in_that_keeps_failing_transiently_reports_transient_error() {
    let mut org = org();
    let flaky = org
        .tenant
        .admins
        .iter_mut()
        .find(|a| a.user_principal_name.contains("flaky"))
        .unwrap();
    flaky.transient_failures = 0;
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let credentials = admin("dialpad-msteams-admin@flaky.contoso.com", PASSWORD, PUBLIC_CLIENT);
    let (reason, message) = sign_in_reason(&sandbox, TENANT, credentials).await.unwrap_err();
    assert_eq!(reason, Reason::TransientError, "{message}");
    assert_eq!(
        sandbox.counters().requests_to(Endpoint::EntraToken, "POST"),
        u64::from(fast_retries().max_attempts)
    );
}

#[tokio::test]
async fn the_token_is_cached_across_calls() {
    let sandbox = Sandbox::start(&org(), SandboxOptions::default()).await.unwrap();
    let tokens = client(
        &sandbox,
        "contoso.com",
        admin("dialpad-msteams-admin@contoso.com", PASSWORD, PUBLIC_CLIENT),
    );
    let first = tokens.access_token().await.unwrap();
    for _ in 0..20 {
        tokens.access_token().await.unwrap();
    }
    assert_eq!(tokens.token_requests(), 1);
    assert_eq!(sandbox.counters().requests_to(Endpoint::EntraToken, "POST"), 1);
    assert_eq!(first.claims.tid.as_deref(), Some(TENANT));
    assert!(first.claims.oid.is_some(), "a delegated token names the user");
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_not_per_call() {
    let mut org = org();
    org.behaviour.token_lifetime_seconds = 1;
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let tokens = Arc::new(client(
        &sandbox,
        "contoso.com",
        admin("dialpad-msteams-admin@contoso.com", PASSWORD, PUBLIC_CLIENT),
    ));
    tokens.access_token().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let calls = (0..10).map(|_| {
        let tokens = tokens.clone();
        async move { tokens.access_token().await.map(|_| ()) }
    });
    for outcome in futures::future::join_all(calls).await {
        outcome.unwrap();
    }
    assert_eq!(
        tokens.token_requests(),
        2,
        "one sign-in, then one refresh for ten concurrent calls"
    );
}

#[tokio::test]
async fn an_app_token_carries_its_granted_permissions() {
    let sandbox = Sandbox::start(&org(), SandboxOptions::default()).await.unwrap();
    let credentials = Credentials::ClientSecret {
        client_id: APP.into(),
        secret: SecretString::from(APP_SECRET.to_owned()),
    };
    let token = client(&sandbox, TENANT, credentials)
        .access_token()
        .await
        .unwrap();
    assert!(
        token
            .claims
            .roles
            .contains(&"TeamsTelephoneNumber.ReadWrite.All".to_owned())
    );
    assert!(token.claims.oid.is_none());
}

#[test]
fn credentials_never_print_their_secrets() {
    let credentials = admin(
        "dialpad-msteams-admin@contoso.com",
        "hunter2-secret",
        PUBLIC_CLIENT,
    );
    let printed = format!("{credentials:?}");
    assert!(!printed.contains("hunter2"), "{printed}");
    assert!(printed.contains("dialpad-msteams-admin@contoso.com"));
}

#[tokio::test]
async fn a_tenant_named_by_any_verified_domain_resolves_to_its_guid() {
    use dialpad_teams_operator::microsoft::tenant_id::tenant_guid;
    let sandbox = Sandbox::start(&org(), SandboxOptions::default()).await.unwrap();
    let upstream = UpstreamClient::new(Service::Entra, http_client(&[]).unwrap(), None, fast_retries());
    for spelling in [
        TENANT,
        &TENANT.to_uppercase(),
        "contoso.com",
        "CONTOSO.onmicrosoft.com",
    ] {
        let guid = tenant_guid(&upstream, sandbox.base_url(), spelling).await;
        assert_eq!(guid.as_deref(), Ok(TENANT), "{spelling}");
    }
    let unknown = tenant_guid(&upstream, sandbox.base_url(), "fabrikam.example")
        .await
        .unwrap_err();
    assert_eq!(unknown.reason, Reason::TenantNotFound, "{}", unknown.message);
    assert!(
        unknown
            .message
            .contains("'fabrikam.example' (spec.tenant.tenantId)"),
        "{}",
        unknown.message
    );
}
