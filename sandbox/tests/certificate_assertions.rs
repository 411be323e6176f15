//! Client assertions signed with a certificate registered on the app, over real HTTP.

mod common;

use common::*;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

fn fixture(skew: i64) -> String {
    format!(
        "tenant:\n  id: {TENANT}\n  domains: [contoso.com]\n  applications:\n  - clientId: {APP}\n    permissions: [User.Read.All]\n    certificates:\n    - |\n{}behaviour:\n  entraClockSkewSeconds: {skew}\n",
        indent(&fixture_file("app-cert.pem"), 6)
    )
}

fn claims(sandbox: &dialpad_teams_sandbox::Sandbox, tenant: &str) -> Value {
    let now = now();
    json!({
        "aud": format!("{}/{tenant}/oauth2/v2.0/token", sandbox.base_url()),
        "iss": APP, "sub": APP, "jti": format!("jti-{}", rand_id()),
        "nbf": now, "iat": now, "exp": now + 600,
    })
}

fn rand_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn signed(claims: &Value, key: &str, cert: &str, alg: Algorithm) -> String {
    let thumbprint = thumbprint_s256(&fixture_file(cert));
    sign(claims, key, alg, |h| h.x5t_s256 = Some(thumbprint))
}

/// `claims` signed RS256 with the registered app certificate's key, as a well-behaved client does.
fn signed_by_app(claims: &Value) -> String {
    signed(claims, "app-key.pem", "app-cert.pem", Algorithm::RS256)
}

#[tokio::test]
async fn certificate_assertion_signed_rs256_or_ps256_gets_a_token_with_the_apps_roles() {
    let sandbox = start(&fixture(0)).await;
    for alg in [Algorithm::RS256, Algorithm::PS256] {
        let jwt = signed(&claims(&sandbox, TENANT), "app-key.pem", "app-cert.pem", alg);
        let (status, body) = request_token(&sandbox, &jwt, Some(APP)).await;
        assert_eq!(status, 200, "{alg:?}: {body}");
        assert_eq!(roles(&body), ["User.Read.All"]);
    }
    // The verified-domain form of the audience, and no client_id field.
    let jwt = signed(
        &claims(&sandbox, "contoso.com"),
        "app-key.pem",
        "app-cert.pem",
        Algorithm::PS256,
    );
    assert_eq!(request_token(&sandbox, &jwt, None).await.0, 200);
}

#[tokio::test]
async fn assertion_with_an_unregistered_certificate_answers_aadsts700027() {
    let sandbox = start(&fixture(0)).await;
    let jwt = signed(
        &claims(&sandbox, TENANT),
        "other-key.pem",
        "other-cert.pem",
        Algorithm::RS256,
    );
    let (status, body) = request_token(&sandbox, &jwt, Some(APP)).await;
    assert_eq!((status, code(&body)), (401, 700027), "{body}");
    // The registered certificate's thumbprint, but signed by another key.
    let jwt = signed(
        &claims(&sandbox, TENANT),
        "other-key.pem",
        "app-cert.pem",
        Algorithm::RS256,
    );
    assert_eq!(code(&request_token(&sandbox, &jwt, Some(APP)).await.1), 700027);
}

#[tokio::test]
async fn ps256_with_the_sha256_thumbprint_and_rs256_with_the_sha1_thumbprint_each_get_a_token() {
    let sandbox = start(&fixture(0)).await;
    let s256 = thumbprint_s256(&fixture_file("app-cert.pem"));
    let jwt = sign(&claims(&sandbox, TENANT), "app-key.pem", Algorithm::PS256, |h| {
        h.x5t_s256 = Some(s256)
    });
    let (status, body) = request_token(&sandbox, &jwt, Some(APP)).await;
    assert_eq!(status, 200, "PS256 with x5t#S256: {body}");
    let sha1 = thumbprint_sha1(&fixture_file("app-cert.pem"));
    let jwt = sign(&claims(&sandbox, TENANT), "app-key.pem", Algorithm::RS256, |h| {
        h.x5t = Some(sha1)
    });
    let (status, body) = request_token(&sandbox, &jwt, Some(APP)).await;
    assert_eq!(status, 200, "RS256 with x5t: {body}");
}

#[tokio::test]
async fn assertion_naming_no_certificate_or_a_wrong_thumbprint_answers_aadsts700027() {
    let sandbox = start(&fixture(0)).await;
    let neither = sign(&claims(&sandbox, TENANT), "app-key.pem", Algorithm::PS256, |_| {});
    let (status, body) = request_token(&sandbox, &neither, Some(APP)).await;
    assert_eq!(
        (status, code(&body)),
        (401, 700027),
        "no thumbprint header: {body}"
    );
    let other_sha1 = thumbprint_sha1(&fixture_file("other-cert.pem"));
    let wrong_sha1 = sign(&claims(&sandbox, TENANT), "app-key.pem", Algorithm::RS256, |h| {
        h.x5t = Some(other_sha1)
    });
    let (status, body) = request_token(&sandbox, &wrong_sha1, Some(APP)).await;
    assert_eq!((status, code(&body)), (401, 700027), "wrong x5t: {body}");
    // The registered certificate's SHA-1 thumbprint put where the SHA-256 one belongs.
    let swapped = thumbprint_sha1(&fixture_file("app-cert.pem"));
    let misplaced = sign(&claims(&sandbox, TENANT), "app-key.pem", Algorithm::PS256, |h| {
        h.x5t_s256 = Some(swapped)
    });
    let (status, body) = request_token(&sandbox, &misplaced, Some(APP)).await;
    assert_eq!((status, code(&body)), (401, 700027), "SHA-1 in x5t#S256: {body}");
}

#[tokio::test]
async fn expired_assertion_answers_aadsts700024() {
    let sandbox = start(&fixture(0)).await;
    let mut old = claims(&sandbox, TENANT);
    old["nbf"] = json!(now() - 7200);
    old["exp"] = json!(now() - 3600);
    let jwt = signed_by_app(&old);
    let (status, body) = request_token(&sandbox, &jwt, Some(APP)).await;
    assert_eq!((status, code(&body)), (401, 700024), "{body}");
}

#[tokio::test]
async fn entra_clock_ahead_of_the_host_makes_a_fresh_assertion_expired() {
    let ahead = start(&fixture(3600)).await;
    let jwt = signed_by_app(&claims(&ahead, TENANT));
    assert_eq!(code(&request_token(&ahead, &jwt, Some(APP)).await.1), 700024);
    let behind = start(&fixture(-3600)).await;
    let jwt = signed_by_app(&claims(&behind, TENANT));
    assert_eq!(code(&request_token(&behind, &jwt, Some(APP)).await.1), 700024);
}

#[tokio::test]
async fn reused_jti_answers_aadsts50013() {
    let sandbox = start(&fixture(0)).await;
    let jwt = signed_by_app(&claims(&sandbox, TENANT));
    assert_eq!(request_token(&sandbox, &jwt, Some(APP)).await.0, 200);
    let (status, body) = request_token(&sandbox, &jwt, Some(APP)).await;
    assert_eq!((status, code(&body)), (401, 50013), "{body}");
}

#[tokio::test]
async fn assertion_for_another_audience_answers_aadsts700023() {
    let sandbox = start(&fixture(0)).await;
    let mut wrong = claims(&sandbox, TENANT);
    wrong["aud"] = json!(format!(
        "https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
    ));
    let jwt = signed_by_app(&wrong);
    let (status, body) = request_token(&sandbox, &jwt, Some(APP)).await;
    assert_eq!((status, code(&body)), (401, 700023), "{body}");
}

#[tokio::test]
async fn assertion_whose_issuer_is_not_the_client_id_answers_aadsts700021() {
    let sandbox = start(&fixture(0)).await;
    let jwt = signed_by_app(&claims(&sandbox, TENANT));
    let other = "bbbbbbbb-0000-4000-8000-000000000009";
    assert_eq!(code(&request_token(&sandbox, &jwt, Some(other)).await.1), 700021);
    let mut split = claims(&sandbox, TENANT);
    split["sub"] = json!(other);
    let jwt = signed_by_app(&split);
    assert_eq!(code(&request_token(&sandbox, &jwt, Some(APP)).await.1), 50048);
}

#[tokio::test]
async fn malformed_assertion_answers_invalid_request_without_a_panic() {
    let sandbox = start(&fixture(0)).await;
    for junk in ["", "abc", "a.b.c", "eyJhbGciOiJub25lIn0.e30."] {
        let (status, body) = request_token(&sandbox, junk, Some(APP)).await;
        assert!(status == 400 || status == 401, "{junk:?}: {status} {body}");
        assert!(body["error_codes"].is_array(), "{body}");
    }
}

#[tokio::test]
async fn app_without_a_secret_refuses_any_secret() {
    let sandbox = start(&fixture(0)).await;
    let code_for_secret = |secret: &'static str| {
        let url = format!("{}/{TENANT}/oauth2/v2.0/token", sandbox.base_url());
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("scope", GRAPH_DEFAULT),
                    ("client_id", APP),
                    ("client_secret", secret),
                ])
                .send()
                .await
                .expect("request");
            code(&response.json::<Value>().await.expect("JSON"))
        }
    };
    assert_eq!(code_for_secret("").await, 7000218);
    assert_eq!(code_for_secret("anything").await, 7000215);
}

#[test]
fn fixture_with_a_bad_certificate_pem_names_its_path() {
    let yaml = format!(
        "tenant:\n  id: {TENANT}\n  domains: [contoso.com]\n  applications:\n  - clientId: {APP}\n    certificates: [ok-looking-but-not-pem]\n"
    );
    let error = dialpad_teams_sandbox::OrgFixture::from_yaml(&yaml, "org.yaml")
        .expect_err("bad PEM refused")
        .to_string();
    assert!(error.contains("org.yaml"), "{error}");
    assert!(
        error.contains("tenant.applications[0].certificates[0]"),
        "{error}"
    );
}
