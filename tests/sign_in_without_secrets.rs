//! Certificate credentials and workload identity federation through the whole pipeline against
//! the sandbox: both sync the example org as a client secret does, and a wrong certificate, an
//! assertion outside its time range, a token for another subject and an app without federated
//! credentials each give their own reason on `Ready` and `AdminConnected`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

mod common;

use common::issuer::{ISSUER, service_account_token, start_issuer};
use common::pipeline::{Values, connection_with, quick_options, resource};
use common::sign_in::{CERTIFICATE_APP, FEDERATED_APP, app, certificate_file, example_org_with_apps};
use dialpad_teams_operator::api::{
    ApplicationCredentials, AssertionAlgorithm, CertificateCredentials, Reason, TeamsTenantSync,
    TlsSecretRef, WorkloadIdentityCredentials,
};
use dialpad_teams_operator::connect::{ConnectOptions, connect};
use dialpad_teams_operator::sync::model::Policy;
use dialpad_teams_operator::sync::pipeline::{SyncMemory, SyncRun, sync_once};
use dialpad_teams_operator::telemetry::Metrics;
use dialpad_teams_sandbox::fixture::OidcIssuerFixture;
use dialpad_teams_sandbox::{Endpoint, Sandbox, SandboxOptions};

const UNFEDERATED_APP: &str = "5b8e3c4d-9fa0-4b12-83d4-e5f60718293a";
const OPERATOR: &str = "system:serviceaccount:dialpad-teams:dialpad-teams-operator";

/// The example org with a certificate app, a federated app and an app with neither; the issuer
/// at `issuer_address`; Entra's clock `skew` seconds ahead.
async fn sandbox(issuer_address: &str, skew: i64) -> Sandbox {
    let route = OidcIssuerFixture {
        issuer: ISSUER.into(),
        address: Some(issuer_address.into()),
        ca_pem: None,
    };
    let mut org = example_org_with_apps(&[OPERATOR], route);
    org.behaviour.entra_clock_skew_seconds = skew;
    org.tenant.applications.push(app(UNFEDERATED_APP));
    Sandbox::start(&org, SandboxOptions::default()).await.unwrap()
}

/// The demo resource at `sandbox`, signing in as `application`.
fn signing_in_as(sandbox: &Sandbox, application: ApplicationCredentials) -> TeamsTenantSync {
    let mut resource = resource(sandbox);
    resource.spec.credentials.admin_account = None;
    resource.spec.credentials.application = Some(application);
    resource
}

fn with_certificate(algorithm: AssertionAlgorithm) -> ApplicationCredentials {
    ApplicationCredentials {
        client_id: CERTIFICATE_APP.into(),
        secret_ref: None,
        certificate: Some(CertificateCredentials {
            secret_ref: TlsSecretRef {
                name: "teams-app-certificate".into(),
                certificate_key: "tls.crt".into(),
                private_key_key: "tls.key".into(),
            },
            algorithm,
        }),
        workload_identity: None,
    }
}

fn with_workload_identity(client_id: &str) -> ApplicationCredentials {
    ApplicationCredentials {
        client_id: client_id.into(),
        secret_ref: None,
        certificate: None,
        workload_identity: Some(WorkloadIdentityCredentials::default()),
    }
}

/// The Dialpad key and a TLS Secret holding `certificate` and `key`.
fn secrets(certificate: &str, key: &str) -> Values {
    Values::new(HashMap::from([
        (("dialpad", "apiKey"), "sandbox-dialpad-api-key".to_owned()),
        (
            ("teams-app-certificate", "tls.crt"),
            certificate_file(certificate),
        ),
        (("teams-app-certificate", "tls.key"), certificate_file(key)),
    ]))
}

/// The Secrets of [`secrets`] and a token file holding a ServiceAccount token for `subject`.
fn federated_secrets(subject: &str, name: &str) -> (Values, PathBuf) {
    let file = std::env::temp_dir().join(format!("federated-token-{name}-{}", std::process::id()));
    std::fs::write(&file, service_account_token(subject)).unwrap();
    let mut store = secrets("app.crt", "app.key");
    store.token_file = Some(file.clone());
    (store, file)
}

async fn sync(resource: &TeamsTenantSync, store: &Values, options: &ConnectOptions) -> SyncRun {
    let connection = connection_with(resource, store, options);
    sync_once(
        &connection.source,
        &connection.tenant,
        &Policy::from_spec(&resource.spec).unwrap(),
        &mut SyncMemory::default(),
        Some(1),
    )
    .await
}

/// `(reason, message)` of the condition `type_`.
fn condition(run: &SyncRun, type_: &str) -> (String, String) {
    let c = run.status.conditions.iter().find(|c| c.type_ == type_).unwrap();
    (c.reason.clone(), c.message.clone())
}

/// What the example org's first sync does with any working credentials: two assignments, and no
/// drift corrected (Grace's stray number is not this resource's), as `sync_pipeline.rs` shows for
/// the admin account.
fn assert_example_org_synced(run: &SyncRun) {
    assert_eq!(
        condition(run, "AdminConnected").0,
        "SignedIn",
        "{:?}",
        condition(run, "AdminConnected")
    );
    assert_eq!(condition(run, "AdminAuthorized").0, "Authorized");
    assert_eq!((run.execution.assigned, run.execution.drift_corrected), (2, 0));
}

#[tokio::test]
async fn a_certificate_syncs_the_example_org_with_rs256_and_ps256() {
    for algorithm in [AssertionAlgorithm::RS256, AssertionAlgorithm::PS256] {
        let sandbox = sandbox(&start_issuer().await, 0).await;
        let resource = signing_in_as(&sandbox, with_certificate(algorithm));
        let run = sync(
            &resource,
            &secrets("app.crt", "app.key"),
            &quick_options(sandbox.base_url()),
        )
        .await;
        assert_example_org_synced(&run);
    }
}

#[tokio::test]
async fn workload_identity_syncs_the_example_org() {
    let issuer = start_issuer().await;
    let sandbox = sandbox(&issuer, 0).await;
    let (store, file) = federated_secrets(OPERATOR, "sync");
    let resource = signing_in_as(&sandbox, with_workload_identity(FEDERATED_APP));
    let run = sync(&resource, &store, &quick_options(sandbox.base_url())).await;
    std::fs::remove_file(file).unwrap();
    assert_example_org_synced(&run);
}

#[tokio::test]
async fn a_key_that_is_not_the_certificates_is_secret_invalid_before_any_call() {
    let sandbox = sandbox(&start_issuer().await, 0).await;
    let resource = signing_in_as(&sandbox, with_certificate(AssertionAlgorithm::RS256));
    let Err(failure) = connect(
        &resource.spec,
        &secrets("app.crt", "other.key"),
        &quick_options(sandbox.base_url()),
    ) else {
        panic!("a key of another certificate cannot sign in");
    };
    assert_eq!(failure.reason, Reason::SecretInvalid);
    let message = failure.sign_in.map(|side| side.message).unwrap_or_default();
    assert!(
        message.contains("Secret 'teams-app-certificate'")
            && message.contains("does not belong to the certificate"),
        "{message}"
    );
    assert_eq!(sandbox.counters().requests_to(Endpoint::EntraToken, "POST"), 0);
}

#[tokio::test]
async fn a_certificate_the_app_does_not_know_is_certificate_rejected() {
    let sandbox = sandbox(&start_issuer().await, 0).await;
    let resource = signing_in_as(&sandbox, with_certificate(AssertionAlgorithm::RS256));
    let run = sync(
        &resource,
        &secrets("other.crt", "other.key"),
        &quick_options(sandbox.base_url()),
    )
    .await;
    let (reason, message) = condition(&run, "Ready");
    assert_eq!(reason, Reason::CertificateRejected.as_str());
    assert!(message.contains("AADSTS700027"), "{message}");
    assert_eq!(run.execution.assigned, 0);
}

#[tokio::test]
async fn an_assertion_outside_entras_clock_is_assertion_expired() {
    // Entra's clock an hour ahead of the operator's node: every assertion signed "now" has expired.
    let sandbox = sandbox(&start_issuer().await, 3600).await;
    let resource = signing_in_as(&sandbox, with_certificate(AssertionAlgorithm::RS256));
    let run = sync(
        &resource,
        &secrets("app.crt", "app.key"),
        &quick_options(sandbox.base_url()),
    )
    .await;
    let (reason, message) = condition(&run, "AdminConnected");
    assert_eq!(reason, Reason::AssertionExpired.as_str());
    assert!(
        message.contains("AADSTS700024") && message.contains("NTP"),
        "{message}"
    );
}

/// `(reason, message)` of `AdminConnected` after one sync signing in as `app` with a
/// ServiceAccount token for `subject` (the token file is named after `name`).
async fn federated_sign_in(sandbox: &Sandbox, app: &str, subject: &str, name: &str) -> (String, String) {
    let (store, file) = federated_secrets(subject, name);
    let resource = signing_in_as(sandbox, with_workload_identity(app));
    let run = sync(&resource, &store, &quick_options(sandbox.base_url())).await;
    std::fs::remove_file(file).unwrap();
    condition(&run, "AdminConnected")
}

#[tokio::test]
async fn a_token_for_another_service_account_is_a_federated_credential_mismatch_naming_it() {
    let sandbox = sandbox(&start_issuer().await, 0).await;
    let intruder = "system:serviceaccount:default:someone-else";
    let (reason, message) = federated_sign_in(&sandbox, FEDERATED_APP, intruder, "mismatch").await;
    assert_eq!(reason, Reason::FederatedCredentialMismatch.as_str());
    assert!(
        message.contains("AADSTS700213") && message.contains(intruder),
        "{message}"
    );
}

#[tokio::test]
async fn a_subject_registered_in_other_letter_case_is_a_mismatch_that_says_so() {
    let sandbox = sandbox(&start_issuer().await, 0).await;
    let (reason, message) =
        federated_sign_in(&sandbox, FEDERATED_APP, &OPERATOR.to_uppercase(), "case").await;
    assert_eq!(reason, Reason::FederatedCredentialMismatch.as_str());
    assert!(
        message.contains("AADSTS7002138") && message.contains("case-sensitively"),
        "{message}"
    );
}

#[tokio::test]
async fn an_issuer_entra_cannot_reach_is_federated_issuer_unreachable() {
    // A port nothing listens on: bind, note, close.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let sandbox = sandbox(&format!("http://{closed}"), 0).await;
    let (reason, message) = federated_sign_in(&sandbox, FEDERATED_APP, OPERATOR, "unreachable").await;
    assert_eq!(reason, Reason::FederatedIssuerUnreachable.as_str());
    assert!(
        message.contains("AADSTS50166") && message.contains("openid-configuration"),
        "{message}"
    );
}

#[tokio::test]
async fn an_app_without_federated_credentials_is_federated_credential_missing() {
    let sandbox = sandbox(&start_issuer().await, 0).await;
    let (reason, message) = federated_sign_in(&sandbox, UNFEDERATED_APP, OPERATOR, "missing").await;
    assert_eq!(reason, Reason::FederatedCredentialMissing.as_str());
    assert!(message.contains("Federated credentials"), "{message}");
}

#[tokio::test]
async fn the_federated_token_is_not_sent_to_a_login_endpoint_the_operator_does_not_allow() {
    let sandbox = sandbox(&start_issuer().await, 0).await;
    let (store, file) = federated_secrets(OPERATOR, "refused");
    let resource = signing_in_as(&sandbox, with_workload_identity(FEDERATED_APP));
    let nothing_allowed = ConnectOptions {
        allowed_endpoints: Default::default(),
        ..quick_options(sandbox.base_url())
    };
    let refused = connect(&resource.spec, &store, &nothing_allowed).err();
    std::fs::remove_file(file).unwrap();
    let refused = refused.expect("an endpoint the operator does not allow is refused");
    assert_eq!(refused.reason, Reason::EndpointNotAllowed);
    let sign_in = refused.sign_in.expect("on the sign-in side").message;
    assert!(
        sign_in.contains("spec.endpoints.login is http://127.0.0.1")
            && sign_in.contains("--allowed-endpoint"),
        "{sign_in}"
    );
    let token_requests = sandbox.counters().requests_to(Endpoint::EntraToken, "POST");
    assert_eq!(token_requests, 0, "the token never left the operator");
}

/// Everything logged at debug by any test of this binary, and every panic message. A global
/// subscriber: a per-thread one misses events whose call sites another thread registered first.
fn captured_log() -> common::captured_log::LogBuffer {
    use common::captured_log::{Captured, LogBuffer, keep_panics};
    static LOG: std::sync::OnceLock<LogBuffer> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        let buffer = LogBuffer::default();
        let writer = buffer.clone();
        tracing_subscriber::fmt()
            .with_env_filter("debug")
            .with_writer(move || Captured(writer.clone()))
            .init();
        keep_panics(buffer.clone());
        buffer
    })
    .clone()
}

/// Every JWT-shaped string in `text` (header and payload both base64url JSON objects).
fn jwts_in(text: &str) -> Vec<&str> {
    text.match_indices("eyJ")
        .map(|(at, _)| {
            let rest = &text[at..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .filter(|candidate| candidate.matches('.').count() >= 2)
        .collect()
}

#[tokio::test]
async fn no_private_key_assertion_or_service_account_token_reaches_the_log_status_or_metrics() {
    let buffer = captured_log();
    let sandbox = sandbox(&start_issuer().await, 0).await;
    let metrics = Arc::new(Metrics::new());
    let options = ConnectOptions {
        upstream_calls: metrics.clone(),
        policy_types: Default::default(),
        ..quick_options(sandbox.base_url())
    };
    let mut statuses = Vec::new();
    for (certificate, key) in [("app.crt", "app.key"), ("other.crt", "other.key")] {
        let resource = signing_in_as(&sandbox, with_certificate(AssertionAlgorithm::PS256));
        let run = sync(&resource, &secrets(certificate, key), &options).await;
        statuses.push(serde_json::to_string(&run.status).unwrap());
    }
    let mut service_account_tokens = Vec::new();
    for (subject, name) in [(OPERATOR, "scan-ok"), ("system:serviceaccount:x:y", "scan-wrong")] {
        let (store, file) = federated_secrets(subject, name);
        service_account_tokens.push(std::fs::read_to_string(&file).unwrap());
        let resource = signing_in_as(&sandbox, with_workload_identity(FEDERATED_APP));
        let run = sync(&resource, &store, &options).await;
        std::fs::remove_file(file).unwrap();
        statuses.push(serde_json::to_string(&run.status).unwrap());
    }

    let log = common::captured_log::text(&buffer);
    assert!(
        log.contains("connecting to 127.0.0.1"),
        "the scan reads everything logged at debug, down to the HTTP client's connections"
    );
    let recorded = metrics.encode();
    assert!(
        recorded.contains(r#"upstream="entra""#),
        "the metrics scanned are those the syncs' sign-ins recorded into:\n{recorded}"
    );
    let everything = format!("{log}\n{}\n{recorded}", statuses.join("\n"));
    for key in ["app.key", "other.key"] {
        for line in certificate_file(key).lines().filter(|l| !l.starts_with("-----")) {
            assert!(
                !everything.contains(line),
                "a line of the private key {key} was written out"
            );
        }
    }
    for token in &service_account_tokens {
        let signature = token.rsplit('.').next().unwrap();
        assert!(
            !everything.contains(signature),
            "a ServiceAccount token was written out"
        );
    }
    let jwts = jwts_in(&everything);
    assert!(
        jwts.is_empty(),
        "{} JWT-shaped strings (assertions, ServiceAccount or access tokens) were written out, the first {} characters long",
        jwts.len(),
        jwts.first().map_or(0, |j| j.len())
    );
}

#[tokio::test]
async fn a_retried_token_request_carries_a_freshly_signed_assertion() {
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::http::StatusCode;
    use axum::routing::post;
    use dialpad_teams_operator::microsoft::assertion::CertificateSigner;
    use dialpad_teams_operator::microsoft::token::{Credentials, TokenClient};
    use dialpad_teams_operator::upstream::{Service, UpstreamClient, http_client};

    // Entra answers the first attempt "temporarily unavailable" (after it may have seen the
    // assertion), the second with a token: the retry must not present the same jti again.
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let recorder = seen.clone();
    let app = Router::new().route(
        "/{tenant}/oauth2/v2.0/token",
        post(move |body: String| {
            let seen = recorder.clone();
            async move {
                let form: HashMap<String, String> = serde_urlencoded::from_str(&body).unwrap();
                let mut seen = seen.lock().unwrap();
                seen.push(form["client_assertion"].clone());
                if seen.len() == 1 {
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        r#"{"error":"temporarily_unavailable","error_codes":[90033]}"#.to_owned(),
                    )
                } else {
                    (
                        StatusCode::OK,
                        r#"{"access_token":"t","expires_in":3599}"#.to_owned(),
                    )
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let signer = CertificateSigner::from_pem(
        &certificate_file("app.crt"),
        &certificate_file("app.key"),
        AssertionAlgorithm::RS256,
        std::time::SystemTime::now(),
    )
    .unwrap();
    let upstream = UpstreamClient::new(
        Service::Entra,
        http_client(&[]).unwrap(),
        None,
        common::pipeline::quick_retries(),
    );
    let credentials = Credentials::Certificate {
        client_id: CERTIFICATE_APP.into(),
        signer: Arc::new(signer),
    };
    let client = TokenClient::new(upstream, &base, "contoso.com", &base, credentials);
    client.access_token().await.expect("the retry signs in");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "one retry");
    let jti = |assertion: &str| {
        let payload = assertion.split('.').nth(1).unwrap();
        let bytes =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).unwrap();
        serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()["jti"].clone()
    };
    assert_ne!(jti(&seen[0]), jti(&seen[1]), "each attempt has its own jti");
}
