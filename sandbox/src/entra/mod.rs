//! The Microsoft identity platform (Entra ID) v2.0 endpoints the operator and MSAL-style clients
//! touch: the token endpoint (ROPC, client credentials with a secret or a JWT client assertion,
//! refresh tokens), OpenID discovery, instance discovery and the user-realm look-up. Client
//! assertions are checked as Entra checks them: a certificate's (`certificate.rs`,
//! `assertion.rs`: thumbprint, signature, `aud`, `iss`/`sub`, lifetime, `jti` reuse) or a federated
//! token of an external issuer (`federation.rs`: the app's federated credentials, then the
//! signature against the issuer's keys found by OIDC discovery).
//!
//! Errors (see `error.rs`) follow `docs/microsoft-graph-teams.md` sections 1.1 to 1.6: HTTP 400 (401 for client
//! authentication, 503 for transient failures) with `error`, `error_description`
//! (`AADSTSnnnnn: text` plus trace, correlation and timestamp lines), `error_codes`, `timestamp`,
//! `trace_id`, `correlation_id` and `error_uri`; MFA answers add `suberror` or `claims`.
//!
//! Choices where the docs are silent:
//! - Checks run in this order: tenant, `grant_type`, required parameters, client authentication,
//!   username, password, account state (disabled, locked, password expired), sign-in policy (MFA,
//!   Conditional Access, transient failures), then consent.
//! - A directory user who is not an admin account has no password the sandbox knows, so any
//!   password gets AADSTS50126; only names unknown to the directory get AADSTS50034.
//! - `common`/`consumers` refuse the password grant with AADSTS9001023 (the code Entra sends for
//!   ROPC there); `common` and `organizations` resolve to the tenant for the other grants.
//! - Refreshing needs the client the refresh token was issued to (AADSTS70000 otherwise) and an
//!   enabled account (AADSTS50057); the old refresh token stops working.

mod assertion;
mod assertion_error;
pub(crate) mod certificate;
mod error;
mod federation;
mod grants;
mod jwt;
mod metadata;

pub use assertion::SeenAssertions;
pub use federation::OidcKeys;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::Value;

use crate::SandboxState;
use crate::world::World;

use error::AadError;
use grants::*;
use metadata::*;

/// Microsoft Graph's application id, as Entra names the resource in MFA messages.
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// Entra's answer when it is temporarily unavailable (AADSTS90033), with `status`; used for
/// injected faults so they look like the real thing.
pub fn temporarily_unavailable(status: StatusCode) -> Response {
    AadError::new(
        status,
        "temporarily_unavailable",
        90033,
        "A transient error has occurred. Please try again.",
    )
    .into_response()
}

/// Entra throttling the tenant (AADSTS90055) with `Retry-After`; used for injected faults.
pub fn throttled(retry_after_seconds: f64) -> Response {
    let mut response = AadError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "temporarily_unavailable",
        90055,
        "The request is throttled temporarily. Please try after some time.",
    )
    .into_response();
    crate::errors::set_retry_after(&mut response, retry_after_seconds);
    response
}

/// This module's routes.
pub fn routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route(
            "/{tenant}/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route("/common/discovery/instance", get(instance_discovery))
        .route("/common/userrealm/{upn}", get(user_realm))
}

// ---------------------------------------------------------------------------------------------
// Token endpoint

/// How the `{tenant}` path segment resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TenantName {
    /// The tenant id or a verified domain.
    Own,
    /// `organizations`: any work or school tenant.
    Organizations,
    /// `common`: any tenant or personal account.
    Common,
    /// `consumers`: personal accounts only.
    Consumers,
}

fn resolve_tenant(world: &World, tenant: &str) -> Option<TenantName> {
    if world.is_tenant(tenant) {
        return Some(TenantName::Own);
    }
    match tenant.to_ascii_lowercase().as_str() {
        "organizations" => Some(TenantName::Organizations),
        "common" => Some(TenantName::Common),
        "consumers" => Some(TenantName::Consumers),
        _ => None,
    }
}

/// The form of a token request; the first value of a repeated field wins, empty means absent.
struct TokenForm {
    fields: HashMap<String, String>,
}

impl TokenForm {
    fn parse(body: &[u8]) -> Self {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        let mut fields = HashMap::new();
        for (key, value) in pairs {
            fields.entry(key).or_insert(value);
        }
        Self { fields }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn require(&self, name: &str) -> Result<&str, AadError> {
        self.get(name).ok_or_else(|| AadError::missing(name))
    }
}

/// Client id and secret from `Authorization: Basic base64(urlencode(id):urlencode(secret))`.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get("authorization")?.to_str().ok()?.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((form_decode(id)?, form_decode(secret)?))
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space, `%XX` a byte).
fn form_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = text.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The client id and secret of a request, from the body or the Basic header.
struct ClientCredentials {
    client_id: Option<String>,
    secret: Option<String>,
}

fn client_credentials_of(form: &TokenForm, headers: &HeaderMap) -> Result<ClientCredentials, AadError> {
    let basic = basic_credentials(headers);
    let body_id = form.get("client_id").map(str::to_owned);
    let body_secret = form.get("client_secret").map(str::to_owned);
    match basic {
        None => Ok(ClientCredentials {
            client_id: body_id,
            secret: body_secret,
        }),
        Some((basic_id, basic_secret)) => {
            if let Some(id) = &body_id
                && !id.eq_ignore_ascii_case(&basic_id)
            {
                return Err(AadError::bad(
                    "invalid_request",
                    90023,
                    "The client_id in the request body does not match the client in the Authorization header.",
                ));
            }
            let secret = body_secret.or((!basic_secret.is_empty()).then_some(basic_secret));
            Ok(ClientCredentials {
                client_id: Some(body_id.unwrap_or(basic_id)),
                secret,
            })
        }
    }
}

/// A client that authenticated: its canonical id and whether delegated permissions are consented.
struct AuthenticatedClient {
    client_id: String,
    consented: bool,
}

/// Finds the client and checks its credentials. Public clients must not present a secret;
/// confidential apps must present their valid, unexpired secret.
fn authenticate_client(
    world: &World,
    client_id: &str,
    secret: Option<&str>,
    allow_public: bool,
    directory: &str,
) -> Result<AuthenticatedClient, AadError> {
    let public = world
        .public_clients
        .iter()
        .find(|c| c.client_id.eq_ignore_ascii_case(client_id));
    let app = world
        .applications
        .iter()
        .find(|a| a.client_id.eq_ignore_ascii_case(client_id));
    match (secret, app, public) {
        (_, None, None) => Err(AadError::unknown_client(client_id, directory)),
        (Some(secret), Some(app), _) => {
            if app.client_secret.is_empty() || secret != app.client_secret {
                Err(AadError::client(
                    7000215,
                    format!(
                        "Invalid client secret provided. Ensure the secret being sent in the request is the client \
                         secret value, not the client secret ID, for a secret added to app '{}'.",
                        app.client_id
                    ),
                ))
            } else if app.secret_expired {
                Err(AadError::client(
                    7000222,
                    format!(
                        "The provided client secret keys for app '{}' are expired. Visit the Azure portal to \
                         create new keys for your app: https://aka.ms/NewClientSecret, or consider using \
                         certificate credentials for added security: https://aka.ms/certCreds.",
                        app.client_id
                    ),
                ))
            } else {
                Ok(AuthenticatedClient {
                    client_id: app.client_id.clone(),
                    consented: true,
                })
            }
        }
        (Some(_), None, Some(_)) => Err(AadError::client(
            700025,
            "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
        )),
        (None, _, Some(public)) if allow_public => Ok(AuthenticatedClient {
            client_id: public.client_id.clone(),
            consented: public.consented,
        }),
        (None, _, _) => Err(AadError::client(
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )),
    }
}

async fn token(
    State(state): State<Arc<SandboxState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = TokenForm::parse(&body);
    // Keys of an external issuer are fetched before the world is locked.
    let prefetched = match form.get("grant_type") {
        Some("client_credentials") => federation::prefetch(&state, form.get("client_assertion")).await,
        _ => None,
    };
    let mut world = state.world();
    match issue(&state, &mut world, &tenant, &form, &headers, prefetched.as_ref()) {
        Ok(body) => {
            let mut response = (StatusCode::OK, Json(body)).into_response();
            response.headers_mut().insert(
                "cache-control",
                axum::http::HeaderValue::from_static("no-store, no-cache"),
            );
            response
        }
        Err(error) => error.into_response(),
    }
}

fn issue(
    state: &SandboxState,
    world: &mut World,
    tenant: &str,
    form: &TokenForm,
    headers: &HeaderMap,
    prefetched: Option<&federation::Prefetched>,
) -> Result<Value, AadError> {
    let Some(tenant_name) = resolve_tenant(world, tenant) else {
        return Err(AadError::tenant_not_found("invalid_request", tenant));
    };
    let grant_type = form.require("grant_type")?;
    match grant_type {
        "password" => password_grant(state, world, tenant_name, form, headers),
        "client_credentials" => {
            let request = ClientCredentialsRequest {
                tenant_name,
                tenant_segment: tenant,
                form,
                headers,
                prefetched,
            };
            client_credentials_grant(state, world, &request)
        }
        "refresh_token" => refresh_token_grant(state, world, tenant_name, form, headers),
        other => Err(AadError::bad(
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{other}'."),
        )),
    }
}

/// The directory name used in "not found in the directory" messages.
fn directory_name(world: &World, tenant_name: TenantName) -> String {
    match tenant_name {
        TenantName::Consumers => "Microsoft Accounts".to_owned(),
        _ => world.tenant_id.clone(),
    }
}
