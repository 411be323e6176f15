//! A small OIDC issuer on loopback, standing in for a cluster's service account issuer: it serves
//! discovery and the JWKS of the sandbox's throw-away issuer key (`sandbox/tests/fixtures/`), and
//! mints ServiceAccount-like tokens signed with that key.

use std::net::SocketAddr;

use axum::Json;
use axum::Router;
use axum::routing::get;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// The issuer's name: not a resolvable host, so only the fixture's address reaches it.
pub const ISSUER: &str = "https://oidc.cluster.example/issuer";
/// The audience Entra expects by default.
pub const AUDIENCE: &str = "api://AzureADTokenExchange";

fn fixture_file(name: &str) -> String {
    let path = format!("{}/sandbox/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Serves discovery and the JWKS; its base URL (`http://127.0.0.1:port`).
pub async fn start_issuer() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address: SocketAddr = listener.local_addr().expect("address");
    let jwks: Value = serde_json::from_str(&fixture_file("issuer-jwks.json")).expect("JWKS");
    let app = Router::new()
        .route(
            "/issuer/.well-known/openid-configuration",
            get(|| async {
                Json(json!({
                    "issuer": ISSUER,
                    "jwks_uri": format!("{ISSUER}/openid/v1/jwks"),
                    "id_token_signing_alg_values_supported": ["RS256"],
                }))
            }),
        )
        .route("/issuer/openid/v1/jwks", get(move || async move { Json(jwks) }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

/// A token of the issuer for `subject` with the Entra audience, valid for an hour.
pub fn service_account_token(subject: &str) -> String {
    let now = unix_now();
    let claims = json!({
        "iss": ISSUER, "sub": subject, "aud": [AUDIENCE],
        "iat": now, "nbf": now, "exp": now + 3600,
    });
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("issuer-key-1".into());
    let key = EncodingKey::from_rsa_pem(fixture_file("issuer-key.pem").as_bytes()).expect("issuer key");
    jsonwebtoken::encode(&header, &claims, &key).expect("signs")
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}
