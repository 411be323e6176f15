//! Client authentication with a signed JWT (`client_assertion_type=
//! urn:ietf:params:oauth:client-assertion-type:jwt-bearer`), as the certificate-credentials page
//! (https://learn.microsoft.com/entra/identity-platform/certificate-credentials) describes it:
//!
//! - `iss` == `sub` == the app's client id: a **certificate credential**. The header names a
//!   certificate registered on the app and `alg` is PS256 or RS256: the page's "Assertion format",
//!   "Header" table says `alg` "Should be PS256" with `x5t#S256` (base64url SHA-256 of the DER),
//!   and its earlier version
//!   (https://learn.microsoft.com/previous-versions/azure/active-directory/develop/certificate-credentials,
//!   same section) said RS256 with `x5t` (base64url SHA-1 of the DER). Both are accepted, each
//!   thumbprint matched against the registered certificates (`certificate.rs`); an assertion naming
//!   none of them, or with neither header, is refused with AADSTS700027 (`assertion_error.rs`).
//!   UNCONFIRMED: which other pairings Entra refuses; the sandbox does not tie the header to `alg`.
//!   `aud` is this tenant's token endpoint (tenant id or a verified domain, the v2.0 or v1 path,
//!   as the page's examples show both); `exp`/`nbf` cover now; a `jti` is accepted once while
//!   valid.
//! - otherwise: **workload identity federation** (see `federation.rs`).
//!
//! Checks run in this order (a sandbox choice; Microsoft does not document one): form, claims
//! shape, client id, credential match, signature, audience, lifetime, `jti`.

use std::collections::HashMap;
use std::sync::Mutex;

use jsonwebtoken::{Algorithm, DecodingKey};

use crate::SandboxState;
use crate::fixture::ApplicationFixture;
use crate::world::World;

use super::TokenForm;
use super::assertion_error as fail;
use super::certificate::find_certificate;
use super::error::AadError;
use super::federation::{Prefetched, verify_federated_assertion};
use super::jwt::{CLOCK_SKEW_SECONDS, UnverifiedJwt, check_lifetime, entra_now};

/// The only `client_assertion_type` Entra accepts.
pub(super) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Verifies a certificate credential for `app`: registered certificate, RS256/PS256 signature,
/// audience among `audiences`, lifetime at `now`. Returns `exp`, for the `jti` store.
pub(super) fn verify_certificate_assertion(
    jwt: &UnverifiedJwt,
    app: &ApplicationFixture,
    audiences: &[String],
    now: i64,
) -> Result<i64, AadError> {
    let s256 = jwt.header.x5t_s256.as_deref();
    let sha1 = jwt.header.x5t.as_deref();
    let Some(certificate) = find_certificate(&app.certificates, s256, sha1) else {
        let thumbprint = s256.or(sha1).unwrap_or("(none)");
        return Err(fail::bad_signature(&format!(
            "The key was not found., Thumbprint of key used by client: '{thumbprint}'. Please visit the Azure \
             Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{}'.",
            app.client_id
        )));
    };
    let key = DecodingKey::from_rsa_der(&certificate.rsa_public_key_der);
    jwt.verify(&key, &[Algorithm::RS256, Algorithm::PS256])
        .map_err(|reason| fail::bad_signature(&reason))?;
    let accepted = jwt
        .audiences()
        .iter()
        .any(|aud| audiences.iter().any(|a| a.eq_ignore_ascii_case(aud)));
    if !accepted {
        return Err(fail::wrong_audience());
    }
    check_lifetime(jwt, now)
}

/// The audiences a certificate assertion may carry: the token endpoint under `public_url` for
/// the tenant id, each verified domain and the path segment the request used, v2.0 and v1.
pub(super) fn token_endpoint_audiences(public_url: &str, tenants: &[&str]) -> Vec<String> {
    tenants
        .iter()
        .flat_map(|tenant| {
            [
                format!("{public_url}/{tenant}/oauth2/v2.0/token"),
                format!("{public_url}/{tenant}/oauth2/token"),
            ]
        })
        .collect()
}

/// The `jti`s of accepted certificate assertions, kept until their `exp` (plus the skew).
#[derive(Debug, Default)]
pub struct SeenAssertions {
    seen: Mutex<HashMap<(String, String), i64>>,
}

impl SeenAssertions {
    /// Records `jti` of `client_id` valid until `exp`; `Err` when it is already there and valid.
    pub(super) fn remember(&self, client_id: &str, jti: &str, exp: i64, now: i64) -> Result<(), AadError> {
        let mut seen = self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        seen.retain(|_, until| *until > now);
        let key = (client_id.to_ascii_lowercase(), jti.to_owned());
        if seen.contains_key(&key) {
            return Err(fail::replayed());
        }
        seen.insert(key, exp.saturating_add(CLOCK_SKEW_SECONDS));
        Ok(())
    }
}

/// Authenticates the client of a `client_credentials` request by its assertion; returns the
/// app's client id. `tenant_segment` is the `{tenant}` of the request's path.
pub(super) fn authenticate_with_assertion(
    state: &SandboxState,
    world: &World,
    tenant_segment: &str,
    form: &TokenForm,
    form_client_id: Option<&str>,
    prefetched: Option<&Prefetched>,
    directory: &str,
) -> Result<String, AadError> {
    if form.get("client_assertion_type") != Some(JWT_BEARER) {
        return Err(fail::wrong_assertion_type());
    }
    let jwt = UnverifiedJwt::parse(form.require("client_assertion")?)?;
    let now = entra_now(world.behaviour.entra_clock_skew_seconds);
    if jwt.is_certificate_credential() {
        let issuer = jwt.claim("iss").unwrap_or_default();
        if form_client_id.is_some_and(|id| !id.eq_ignore_ascii_case(issuer)) {
            return Err(fail::client_id_mismatch());
        }
        let app = find_app(world, issuer, directory)?;
        let mut tenants: Vec<&str> = vec![world.tenant_id.as_str(), tenant_segment];
        tenants.extend(world.domains.iter().map(String::as_str));
        let audiences = token_endpoint_audiences(&state.public_url, &tenants);
        let exp = verify_certificate_assertion(&jwt, app, &audiences, now)?;
        if let Some(jti) = jwt.claim("jti") {
            state.seen_assertions.remember(&app.client_id, jti, exp, now)?;
        }
        return Ok(app.client_id.clone());
    }
    let client_id = form_client_id.ok_or_else(|| AadError::missing("client_id"))?;
    if jwt
        .claim("iss")
        .is_some_and(|iss| iss.eq_ignore_ascii_case(client_id))
    {
        return Err(fail::subject_mismatches_issuer());
    }
    let app = find_app(world, client_id, directory)?;
    verify_federated_assertion(&jwt, app, prefetched, now)?;
    Ok(app.client_id.clone())
}

/// The confidential app `client_id`; a public client may present no assertion (AADSTS700025).
fn find_app<'w>(
    world: &'w World,
    client_id: &str,
    directory: &str,
) -> Result<&'w ApplicationFixture, AadError> {
    if let Some(app) = world
        .applications
        .iter()
        .find(|a| a.client_id.eq_ignore_ascii_case(client_id))
    {
        return Ok(app);
    }
    if world
        .public_clients
        .iter()
        .any(|c| c.client_id.eq_ignore_ascii_case(client_id))
    {
        return Err(AadError::client(
            700025,
            "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
        ));
    }
    Err(AadError::unknown_client(client_id, directory))
}
