//! Discovery documents: OpenID configuration, instance discovery and user realm.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::SandboxState;

use super::error::AadError;
use super::*;

/// `host[:port]` of the public URL.
pub(super) fn public_authority(state: &SandboxState) -> String {
    let without_scheme = state
        .public_url
        .split_once("://")
        .map_or(state.public_url.as_str(), |(_, rest)| rest);
    without_scheme
        .split('/')
        .next()
        .unwrap_or(without_scheme)
        .to_owned()
}

pub(super) async fn openid_configuration(
    State(state): State<Arc<SandboxState>>,
    Path(tenant): Path<String>,
) -> Response {
    let (tenant_id, name) = {
        let world = state.world();
        (world.tenant_id.clone(), resolve_tenant(&world, &tenant))
    };
    let (path_tenant, issuer_tenant, region) = match name {
        None => return AadError::tenant_not_found("invalid_tenant", &tenant).into_response(),
        Some(TenantName::Own) => (tenant_id.clone(), tenant_id.clone(), Value::from("NA")),
        Some(TenantName::Consumers) => (
            "consumers".to_owned(),
            "9188040d-6c67-4c5b-b112-36a304b66dad".to_owned(),
            Value::Null,
        ),
        Some(_) => (tenant.to_ascii_lowercase(), "{tenantid}".to_owned(), Value::Null),
    };
    let base = &state.public_url;
    let host = public_authority(&state);
    let document = json!({
        "token_endpoint": format!("{base}/{path_tenant}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{path_tenant}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{base}/{issuer_tenant}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{base}/oidc/userinfo"),
        "authorization_endpoint": format!("{base}/{path_tenant}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/{path_tenant}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{path_tenant}/oauth2/v2.0/logout"),
        "claims_supported": [
            "sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
            "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name",
            "tid", "ver", "at_hash", "c_hash", "email"
        ],
        "kerberos_endpoint": format!("{base}/{path_tenant}/kerberos"),
        "tenant_region_scope": region,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": host,
        "rbac_url": "https://pas.windows.net",
    });
    Json(document).into_response()
}

pub(super) async fn instance_discovery(
    State(state): State<Arc<SandboxState>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    // The tenant is the first path segment of `authorization_endpoint`
    // (`https://host/{tenant}/oauth2/v2.0/authorize`).
    let tenant = query
        .get("authorization_endpoint")
        .map(|endpoint| {
            endpoint
                .split_once("://")
                .map_or(endpoint.as_str(), |(_, rest)| rest)
        })
        .and_then(|rest| rest.split('/').nth(1))
        .filter(|t| !t.is_empty())
        .unwrap_or("common")
        .to_owned();
    let host = public_authority(&state);
    let api_version = query
        .get("api-version")
        .cloned()
        .unwrap_or_else(|| "1.1".to_owned());
    Json(json!({
        "tenant_discovery_endpoint": format!("{}/{tenant}/v2.0/.well-known/openid-configuration", state.public_url),
        "api-version": api_version,
        "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
    }))
    .into_response()
}

pub(super) async fn user_realm(State(state): State<Arc<SandboxState>>, Path(upn): Path<String>) -> Response {
    let domain = upn.rsplit_once('@').map(|(_, domain)| domain.to_owned());
    let verified = domain.and_then(|domain| {
        let world = state.world();
        world
            .domains
            .iter()
            .find(|d| d.eq_ignore_ascii_case(&domain))
            .cloned()
    });
    let body = match verified {
        Some(domain) => json!({
            "ver": "1.0",
            "account_type": "Managed",
            "domain_name": domain,
            "cloud_instance_name": "microsoftonline.com",
            "cloud_audience_urn": "urn:federation:MicrosoftOnline",
        }),
        None => json!({
            "ver": "1.0",
            "account_type": "Unknown",
            "cloud_instance_name": "microsoftonline.com",
        }),
    };
    Json(body).into_response()
}
