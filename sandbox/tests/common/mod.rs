//! Shared pieces of the client-assertion tests: the throw-away keys in `tests/fixtures/`, signing,
//! and a token request over real HTTP.

#![allow(dead_code)]

pub mod directory;
pub mod events;
pub mod teams;
pub mod vendor;

use base64::Engine;
use dialpad_teams_sandbox::{OrgFixture, Sandbox, SandboxOptions};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const TENANT: &str = "9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b34";
pub const APP: &str = "aaaaaaaa-0000-4000-8000-000000000001";
pub const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A file of `tests/fixtures/`.
pub fn fixture_file(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `text` indented for a YAML block scalar at `spaces`.
pub fn indent(text: &str, spaces: usize) -> String {
    let pad = " ".repeat(spaces);
    text.lines().map(|l| format!("{pad}{l}\n")).collect()
}

/// The DER of a PEM certificate.
fn der(cert_pem: &str) -> Vec<u8> {
    let body: String = cert_pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("PEM body")
}

/// base64url SHA-256 of a PEM certificate's DER (`x5t#S256`).
pub fn thumbprint_s256(cert_pem: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(der(cert_pem)))
}

/// base64url SHA-1 of a PEM certificate's DER (`x5t`).
pub fn thumbprint_sha1(cert_pem: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(der(cert_pem)))
}

pub fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// A JWT over `claims` signed with the PEM RSA key `key_file`, with header fields set by `header`.
pub fn sign(claims: &Value, key_file: &str, alg: Algorithm, header: impl FnOnce(&mut Header)) -> String {
    let mut h = Header::new(alg);
    header(&mut h);
    let key = EncodingKey::from_rsa_pem(fixture_file(key_file).as_bytes()).expect("test key");
    jsonwebtoken::encode(&h, claims, &key).expect("signs")
}

pub async fn start(yaml: &str) -> Sandbox {
    let fixture = OrgFixture::from_yaml(yaml, "test").expect("fixture parses");
    Sandbox::start(&fixture, SandboxOptions::default())
        .await
        .expect("sandbox starts")
}

/// POSTs a client-credentials request with `assertion`; the status and JSON body.
pub async fn request_token(sandbox: &Sandbox, assertion: &str, client_id: Option<&str>) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("scope", GRAPH_DEFAULT),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ];
    if let Some(id) = client_id {
        form.push(("client_id", id));
    }
    let response = reqwest::Client::new()
        .post(format!("{}/{TENANT}/oauth2/v2.0/token", sandbox.base_url()))
        .form(&form)
        .send()
        .await
        .expect("token request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

/// The AADSTS code of an error answer.
pub fn code(body: &Value) -> u64 {
    body["error_codes"][0]
        .as_u64()
        .unwrap_or_else(|| panic!("no error code in {body}"))
}

/// The `roles` of an access token.
pub fn roles(body: &Value) -> Vec<String> {
    let token = body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token in {body}"));
    let payload = token.split('.').nth(1).expect("JWT-shaped");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    let claims: Value = serde_json::from_slice(&bytes).expect("JSON");
    serde_json::from_value(claims["roles"].clone()).expect("roles")
}

/// An access token from the sandbox's token endpoint for the form `form` (any grant); panics
/// unless the answer is 200.
pub async fn token_from(client: &reqwest::Client, sandbox: &Sandbox, form: &[(&str, &str)]) -> String {
    let response = client
        .post(format!("{}/{TENANT}/oauth2/v2.0/token", sandbox.base_url()))
        .form(form)
        .send()
        .await
        .expect("the token endpoint answers");
    let status = response.status();
    let body: Value = response.json().await.expect("the token response is JSON");
    assert_eq!(status.as_u16(), 200, "token request failed: {body}");
    body["access_token"].as_str().expect("an access token").to_owned()
}
