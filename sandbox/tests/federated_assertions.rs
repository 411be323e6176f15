//! Workload identity federation over real HTTP: a tiny OIDC issuer (discovery + JWKS) runs in the
//! test on 127.0.0.1, and `behaviour.oidcIssuers[].address` points the sandbox at it.

mod common;

use std::net::SocketAddr;

use axum::Json;
use axum::Router;
use axum::routing::get;
use common::*;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

/// The issuer's name: not a resolvable host, so only the fixture's address reaches it.
const ISSUER: &str = "https://oidc.cluster.example/issuer";
const SUBJECT: &str = "system:serviceaccount:dialpad:operator";
const AUDIENCE: &str = "api://AzureADTokenExchange";
const NO_FIC_APP: &str = "aaaaaaaa-0000-4000-8000-000000000002";

/// Serves discovery and the JWKS of `tests/fixtures/issuer-jwks.json`; its address.
async fn start_issuer() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let jwks: Value = serde_json::from_str(&fixture_file("issuer-jwks.json")).expect("JWKS");
    let app = Router::new()
        .route(
            "/issuer/.well-known/openid-configuration",
            get(|| async {
                Json(json!({
                    "issuer": ISSUER,
                    "jwks_uri": "https://oidc.cluster.example/issuer/openid/v1/jwks",
                    "id_token_signing_alg_values_supported": ["RS256"],
                }))
            }),
        )
        .route("/issuer/openid/v1/jwks", get(move || async move { Json(jwks) }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

fn fixture(address: &str) -> String {
    format!(
        "tenant:
  id: {TENANT}
  domains: [contoso.com]
  applications:
  - clientId: {APP}
    permissions: [User.Read.All]
    federatedCredentials:
    - {{name: operator, issuer: '{ISSUER}', subject: '{SUBJECT}'}}
  - clientId: {NO_FIC_APP}
    clientSecret: some-secret
behaviour:
  oidcIssuers:
  - {{issuer: '{ISSUER}', address: '{address}'}}
"
    )
}

fn token(claims_change: impl FnOnce(&mut Value), key: &str) -> String {
    let now = now();
    let mut claims = json!({
        "iss": ISSUER, "sub": SUBJECT, "aud": [AUDIENCE],
        "iat": now, "nbf": now, "exp": now + 3600,
    });
    claims_change(&mut claims);
    sign(&claims, key, Algorithm::RS256, |h| {
        h.kid = Some("issuer-key-1".into())
    })
}

async fn federation() -> dialpad_teams_sandbox::Sandbox {
    let issuer = start_issuer().await;
    start(&fixture(&format!("http://{issuer}"))).await
}

#[tokio::test]
async fn federated_token_is_accepted_and_gets_the_apps_roles() {
    let sandbox = federation().await;
    let jwt = token(|_| {}, "issuer-key.pem");
    let (status, body) = request_token(&sandbox, &jwt, Some(APP)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(roles(&body), ["User.Read.All"]);
    // The same projected token may be presented again (from the cached keys).
    assert_eq!(request_token(&sandbox, &jwt, Some(APP)).await.0, 200);
}

#[tokio::test]
async fn app_without_federated_credentials_answers_aadsts70025() {
    let sandbox = federation().await;
    let (status, body) = request_token(&sandbox, &token(|_| {}, "issuer-key.pem"), Some(NO_FIC_APP)).await;
    assert_eq!((status, code(&body)), (401, 70025), "{body}");
}

#[tokio::test]
async fn token_from_another_issuer_answers_aadsts700211() {
    let sandbox = federation().await;
    let jwt = token(|c| c["iss"] = json!("https://other.example"), "issuer-key.pem");
    assert_eq!(code(&request_token(&sandbox, &jwt, Some(APP)).await.1), 700211);
}

#[tokio::test]
async fn token_for_another_subject_answers_aadsts700213() {
    let sandbox = federation().await;
    let jwt = token(
        |c| c["sub"] = json!("system:serviceaccount:dialpad:other"),
        "issuer-key.pem",
    );
    assert_eq!(code(&request_token(&sandbox, &jwt, Some(APP)).await.1), 700213);
}

#[tokio::test]
async fn token_for_another_audience_answers_aadsts700212() {
    let sandbox = federation().await;
    let jwt = token(
        |c| c["aud"] = json!("https://kubernetes.default.svc"),
        "issuer-key.pem",
    );
    assert_eq!(code(&request_token(&sandbox, &jwt, Some(APP)).await.1), 700212);
}

#[tokio::test]
async fn token_whose_subject_differs_only_in_case_answers_aadsts7002138() {
    let sandbox = federation().await;
    let jwt = token(
        |c| c["sub"] = json!("system:serviceaccount:dialpad:Operator"),
        "issuer-key.pem",
    );
    let (status, body) = request_token(&sandbox, &jwt, Some(APP)).await;
    assert_eq!((status, code(&body)), (401, 7002138), "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|text| text.contains("case-insensitive comparison")),
        "{body}"
    );
}

#[tokio::test]
async fn token_without_subject_answers_aadsts70021() {
    let sandbox = federation().await;
    let jwt = token(
        |c| {
            if let Some(o) = c.as_object_mut() {
                o.remove("sub");
            }
        },
        "issuer-key.pem",
    );
    assert_eq!(code(&request_token(&sandbox, &jwt, Some(APP)).await.1), 70021);
}

#[tokio::test]
async fn token_signed_by_another_key_answers_aadsts700027() {
    let sandbox = federation().await;
    let jwt = token(|_| {}, "other-key.pem");
    assert_eq!(code(&request_token(&sandbox, &jwt, Some(APP)).await.1), 700027);
}

#[tokio::test]
async fn expired_federated_token_answers_aadsts700024() {
    let sandbox = federation().await;
    let jwt = token(|c| c["exp"] = json!(now() - 3600), "issuer-key.pem");
    assert_eq!(code(&request_token(&sandbox, &jwt, Some(APP)).await.1), 700024);
}

#[tokio::test]
async fn unreachable_issuer_answers_aadsts50166() {
    // A port nothing listens on: bind, note, close.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address");
    let sandbox = start(&fixture(&format!("http://{closed}"))).await;
    let (status, body) = request_token(&sandbox, &token(|_| {}, "issuer-key.pem"), Some(APP)).await;
    assert_eq!((status, code(&body)), (401, 50166), "{body}");
}
