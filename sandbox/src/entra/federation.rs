//! Workload identity federation: a token from an external OIDC issuer (a Kubernetes apiserver's
//! ServiceAccount token, say) presented as the client assertion of an app that trusts it through a
//! federated identity credential (https://learn.microsoft.com/entra/workload-id/workload-identity-federation).
//!
//! The record is matched on issuer, then subject, then audience (exact comparisons), and the
//! signature is checked with the issuer's keys from OIDC discovery
//! (`{iss}/.well-known/openid-configuration` -> `jwks_uri`; the document's `issuer` must be `iss`).
//! Keys are fetched before the world is locked (the handler awaits [`prefetch`] first), cached per
//! issuer for [`JWKS_CACHE_SECONDS`], and fetched again when a token names an unknown `kid`.
//! Unlike certificate assertions, a federated token may be presented again while valid: workload
//! identity clients reuse the projected token file until the kubelet rotates it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

use crate::SandboxState;
use crate::fixture::{ApplicationFixture, OidcIssuerFixture};

use super::assertion_error as fail;
use super::error::AadError;
use super::jwt::{UnverifiedJwt, check_lifetime};

/// How long an issuer's keys are reused (a sandbox choice; Entra's is not documented).
pub const JWKS_CACHE_SECONDS: u64 = 300;

/// Algorithms accepted from external issuers; Microsoft supports RS256 and says others may work
/// ([C] in `assertion_error.rs`, "Supported signing algorithms and issuers").
const FEDERATED_ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// The keys fetched for one token request, before the world is locked.
pub(super) struct Prefetched {
    issuer: String,
    keys: Result<JwkSet, String>,
}

/// Issuers' keys, cached.
#[derive(Debug, Default)]
pub struct OidcKeys {
    cache: Mutex<HashMap<String, (Instant, JwkSet)>>,
}

impl OidcKeys {
    fn cached(&self, issuer: &str, kid: Option<&str>) -> Option<JwkSet> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let (fetched, keys) = cache.get(issuer)?;
        let fresh = fetched.elapsed() < Duration::from_secs(JWKS_CACHE_SECONDS);
        let knows_kid = kid.is_none_or(|kid| keys.find(kid).is_some());
        (fresh && knows_kid).then(|| keys.clone())
    }

    fn store(&self, issuer: &str, keys: JwkSet) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.insert(issuer.to_owned(), (Instant::now(), keys));
    }
}

/// When the request carries a client assertion whose `iss` some app trusts, fetches (or reuses)
/// that issuer's keys. Locks the world only to read the fixture, never across the fetch.
pub(super) async fn prefetch(state: &SandboxState, assertion: Option<&str>) -> Option<Prefetched> {
    let jwt = UnverifiedJwt::parse(assertion?).ok()?;
    if jwt.is_certificate_credential() {
        return None;
    }
    let issuer = jwt.claim("iss")?.to_owned();
    let route = {
        let world = state.world();
        let trusted = world
            .applications
            .iter()
            .flat_map(|app| &app.federated_credentials)
            .any(|credential| credential.issuer == issuer);
        if !trusted {
            return None;
        }
        world
            .behaviour
            .oidc_issuers
            .iter()
            .find(|route| route.issuer == issuer)
            .cloned()
    };
    let kid = jwt.header.kid.as_deref();
    if let Some(keys) = state.oidc_keys.cached(&issuer, kid) {
        return Some(Prefetched {
            issuer,
            keys: Ok(keys),
        });
    }
    let keys = fetch_keys(&issuer, route.as_ref()).await;
    if let Ok(keys) = &keys {
        state.oidc_keys.store(&issuer, keys.clone());
    }
    Some(Prefetched { issuer, keys })
}

/// `url` with the issuer's origin replaced by the fixture's address, when there is one.
fn route_url(url: &str, issuer: &str, route: Option<&OidcIssuerFixture>) -> String {
    let Some(address) = route.and_then(|r| r.address.as_deref()) else {
        return url.to_owned();
    };
    let origin = reqwest::Url::parse(issuer)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    match url.strip_prefix(&origin) {
        Some(rest) if !origin.is_empty() => format!("{}{rest}", address.trim_end_matches('/')),
        _ => url.to_owned(),
    }
}

async fn fetch_keys(issuer: &str, route: Option<&OidcIssuerFixture>) -> Result<JwkSet, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10));
    if let Some(pem) = route.and_then(|r| r.ca_pem.as_deref()) {
        let ca = reqwest::Certificate::from_pem(pem.as_bytes()).map_err(|e| e.to_string())?;
        builder = builder.tls_certs_only([ca]);
    }
    let client = builder.build().map_err(|e| e.to_string())?;
    let discovery = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let document: Value = get_json(&client, &route_url(&discovery, issuer, route)).await?;
    if document.get("issuer").and_then(Value::as_str) != Some(issuer) {
        return Err("the discovery document names another issuer".into());
    }
    let jwks_uri = document
        .get("jwks_uri")
        .and_then(Value::as_str)
        .ok_or("the discovery document has no jwks_uri")?;
    get_json(&client, &route_url(jwks_uri, issuer, route)).await
}

async fn get_json<T: serde::de::DeserializeOwned>(client: &reqwest::Client, url: &str) -> Result<T, String> {
    let response = client.get(url).send().await.map_err(|e| e.to_string())?;
    let response = response.error_for_status().map_err(|e| e.to_string())?;
    response.json::<T>().await.map_err(|e| e.to_string())
}

/// Matches a federated token to `app`'s credentials and verifies it with the prefetched keys and
/// the Entra clock `now`.
pub(super) fn verify_federated_assertion(
    jwt: &UnverifiedJwt,
    app: &ApplicationFixture,
    prefetched: Option<&Prefetched>,
    now: i64,
) -> Result<(), AadError> {
    if app.federated_credentials.is_empty() {
        return Err(fail::no_federated_credentials(&app.client_id));
    }
    let (Some(issuer), Some(subject)) = (jwt.claim("iss"), jwt.claim("sub")) else {
        return Err(fail::no_matching_record(
            jwt.claim("iss").unwrap_or(""),
            jwt.claim("sub").unwrap_or(""),
        ));
    };
    let by_issuer: Vec<_> = app
        .federated_credentials
        .iter()
        .filter(|c| c.issuer == issuer)
        .collect();
    if by_issuer.is_empty() {
        return Err(fail::issuer_mismatch(issuer));
    }
    // Subjects are compared case-sensitively since August 2024; one that matches only in other
    // letter case gets its own code (see `fail::subject_case_mismatch`).
    let (by_subject, other_case): (Vec<_>, Vec<_>) = by_issuer
        .into_iter()
        .filter(|c| c.subject.eq_ignore_ascii_case(subject))
        .partition(|c| c.subject == subject);
    if by_subject.is_empty() {
        return Err(if other_case.is_empty() {
            fail::subject_mismatch(subject)
        } else {
            fail::subject_case_mismatch(subject)
        });
    }
    let audiences = jwt.audiences();
    let matched = by_subject
        .iter()
        .any(|c| c.audiences.iter().any(|a| audiences.contains(&a.as_str())));
    if !matched {
        return Err(fail::audience_mismatch(&audiences.join(", ")));
    }
    let keys = match prefetched {
        Some(p) if p.issuer == issuer => p.keys.as_ref().map_err(|_| fail::oidc_endpoint_failed())?,
        _ => return Err(fail::oidc_endpoint_failed()),
    };
    let candidates: Vec<_> = match jwt.header.kid.as_deref() {
        Some(kid) => keys.find(kid).into_iter().collect(),
        None => keys.keys.iter().collect(),
    };
    let verified = candidates.iter().any(|jwk| {
        DecodingKey::from_jwk(jwk)
            .ok()
            .is_some_and(|key| jwt.verify(&key, FEDERATED_ALGORITHMS).is_ok())
    });
    if !verified {
        let kid = jwt.header.kid.as_deref().unwrap_or("(none)");
        return Err(fail::bad_signature(&format!(
            "The token's signature does not verify with the issuer's published keys (kid '{kid}')."
        )));
    }
    check_lifetime(jwt, now).map(|_| ())
}
