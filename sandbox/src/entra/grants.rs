//! The grants: password (ROPC), client credentials and refresh token.

use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::SandboxState;
use crate::errors::request_id;
use crate::fixture::SignInBehaviour;
use crate::world::{Principal, World, base64_url};

use super::error::AadError;
use super::jwt::claims_of;
use super::*;

pub(super) fn password_grant(
    state: &SandboxState,
    world: &mut World,
    tenant_name: TenantName,
    form: &TokenForm,
    headers: &HeaderMap,
) -> Result<Value, AadError> {
    if matches!(tenant_name, TenantName::Common | TenantName::Consumers) {
        return Err(AadError::grant_on_common());
    }
    let credentials = client_credentials_of(form, headers)?;
    let client_id = credentials
        .client_id
        .as_deref()
        .ok_or_else(|| AadError::missing("client_id"))?;
    let scope = form.require("scope")?;
    let username = form.require("username")?;
    let password = form.require("password")?;
    let directory = directory_name(world, tenant_name);
    let client = authenticate_client(world, client_id, credentials.secret.as_deref(), true, &directory)?;

    let key = username.to_lowercase();
    let Some(admin) = world.admins.get(&key) else {
        if world.user_by_upn(username).is_some() {
            return Err(invalid_credentials());
        }
        return Err(AadError::bad(
            "invalid_grant",
            50034,
            format!(
                "The user account {{EUII Hidden}} does not exist in the {} directory. To sign into this \
                 application, the account must be added to the directory.",
                world.tenant_id
            ),
        ));
    };
    if admin.fixture.password != password {
        return Err(invalid_credentials());
    }
    let user_id = admin.user_id.clone();
    let account_enabled = world.user(&user_id).is_none_or(|u| u.account_enabled);
    let behaviour = admin.fixture.sign_in;
    if behaviour == SignInBehaviour::Disabled || !account_enabled {
        return Err(account_disabled());
    }
    match behaviour {
        SignInBehaviour::Ok | SignInBehaviour::Disabled => {}
        SignInBehaviour::Locked => {
            return Err(AadError::bad(
                "invalid_grant",
                50053,
                "The account is locked, you've tried to sign in too many times with an incorrect user ID or \
                 password.",
            ));
        }
        SignInBehaviour::PasswordExpired => {
            return Err(AadError::bad("invalid_grant", 50055, "The password is expired."));
        }
        SignInBehaviour::MfaRequired => {
            return Err(AadError::bad(
                "invalid_grant",
                50076,
                format!(
                    "Due to a configuration change made by your administrator, or because you moved to a new \
                     location, you must use multi-factor authentication to access '{GRAPH_APP_ID}'."
                ),
            )
            .with_suberror("basic_action"));
        }
        SignInBehaviour::MfaEnrollmentRequired => {
            let mut error = AadError::bad(
                "interaction_required",
                50079,
                format!(
                    "Due to a configuration change made by your administrator, or because you moved to a new \
                     location, you must enroll in multi-factor authentication to access '{GRAPH_APP_ID}'."
                ),
            );
            error.claims = Some(
                json!({"access_token": {"capolids": {"essential": true, "values": [request_id()]}}})
                    .to_string(),
            );
            return Err(error);
        }
        SignInBehaviour::ConditionalAccessBlocked => {
            return Err(AadError::bad(
                "invalid_grant",
                53003,
                "Access has been blocked by Conditional Access policies. The access policy does not allow token \
                 issuance.",
            ));
        }
        SignInBehaviour::TransientError => {
            let admin = world.admins.get_mut(&key).expect("the admin was found above");
            let fails = admin.fixture.transient_failures == 0 || admin.transient_failures_left > 0;
            if fails {
                admin.transient_failures_left = admin.transient_failures_left.saturating_sub(1);
                return Err(AadError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    90033,
                    "A transient error has occurred. Please try again.",
                ));
            }
        }
    }
    if !client.consented {
        return Err(AadError::bad(
            "invalid_grant",
            65001,
            format!(
                "The user or administrator has not consented to use the application with ID '{}'. Send an \
                 interactive authorization request for this user and resource.",
                client.client_id
            ),
        )
        .with_suberror("consent_required"));
    }
    let principal = Principal::User {
        user_id,
        client_id: client.client_id,
    };
    Ok(user_tokens(
        state,
        world,
        principal,
        scope,
        scope_has(scope, "offline_access"),
    ))
}

pub(super) fn invalid_credentials() -> AadError {
    AadError::bad(
        "invalid_grant",
        50126,
        "Error validating credentials due to invalid username or password.",
    )
}

pub(super) fn account_disabled() -> AadError {
    AadError::bad("invalid_grant", 50057, "The user account is disabled.")
}

pub(super) fn scope_has(scope: &str, wanted: &str) -> bool {
    scope.split_whitespace().any(|s| s.eq_ignore_ascii_case(wanted))
}

/// The success body of a delegated grant: access token, and refresh/ID tokens when asked for.
pub(super) fn user_tokens(
    state: &SandboxState,
    world: &mut World,
    principal: Principal,
    scope: &str,
    refresh: bool,
) -> Value {
    let now = Instant::now();
    let seconds = world.behaviour.token_lifetime_seconds;
    let access_token = world.issue_access_token(principal.clone(), Duration::from_secs(seconds), now);
    let mut granted: Vec<String> = claims_of(&access_token)
        .and_then(|claims| claims.get("scp").and_then(Value::as_str).map(str::to_owned))
        .map(|scp| scp.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    for oidc in ["openid", "profile", "email", "offline_access"] {
        if scope_has(scope, oidc) || (oidc == "offline_access" && refresh) {
            granted.push(oidc.to_owned());
        }
    }
    let mut body = json!({
        "token_type": "Bearer",
        "scope": granted.join(" "),
        "expires_in": seconds,
        "ext_expires_in": seconds,
        "access_token": access_token,
    });
    if refresh {
        body["refresh_token"] = world.issue_refresh_token(principal.clone(), now).into();
    }
    if scope_has(scope, "openid")
        && let Principal::User { user_id, client_id } = &principal
    {
        body["id_token"] = id_token(state, world, user_id, client_id, seconds).into();
    }
    body
}

/// A JWT-shaped ID token (unsigned in substance: the signature is random).
pub(super) fn id_token(
    state: &SandboxState,
    world: &mut World,
    user_id: &str,
    client_id: &str,
    lifetime: u64,
) -> String {
    let now = Timestamp::now().as_second();
    let (upn, name) = world
        .user(user_id)
        .map(|u| (u.user_principal_name.clone(), u.display_name.clone()))
        .unwrap_or_default();
    let claims = json!({
        "aud": client_id,
        "iss": format!("{}/{}/v2.0", state.public_url, world.tenant_id),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime as i64,
        "name": name,
        "oid": user_id,
        "preferred_username": upn,
        "sub": base64_url(format!("{client_id}:{user_id}").as_bytes()),
        "tid": world.tenant_id,
        "ver": "2.0",
    });
    let header = base64_url(br#"{"typ":"JWT","alg":"RS256","kid":"sandbox"}"#);
    let payload = base64_url(claims.to_string().as_bytes());
    format!("{header}.{payload}.{}", world.new_opaque(32))
}

/// What a `client_credentials` request brings besides the world.
pub(super) struct ClientCredentialsRequest<'a> {
    pub(super) tenant_name: TenantName,
    /// The `{tenant}` path segment as sent.
    pub(super) tenant_segment: &'a str,
    pub(super) form: &'a TokenForm,
    pub(super) headers: &'a HeaderMap,
    /// An external issuer's keys, fetched before the world was locked.
    pub(super) prefetched: Option<&'a super::federation::Prefetched>,
}

/// Client credentials: a secret, or a client assertion (certificate or federated token); when a
/// request carries both, the assertion decides (a sandbox choice, UNCONFIRMED).
pub(super) fn client_credentials_grant(
    state: &SandboxState,
    world: &mut World,
    request: &ClientCredentialsRequest<'_>,
) -> Result<Value, AadError> {
    let form = request.form;
    let credentials = client_credentials_of(form, request.headers)?;
    let assertion = form.get("client_assertion").is_some() || form.get("client_assertion_type").is_some();
    if !assertion && credentials.client_id.is_none() {
        return Err(AadError::missing("client_id"));
    }
    let named_client = credentials.client_id.as_deref().unwrap_or_default();
    let scope = form.require("scope")?;
    if request.tenant_name == TenantName::Consumers {
        return Err(AadError::unknown_client(named_client, "Microsoft Accounts"));
    }
    let directory = directory_name(world, request.tenant_name);
    let client_id = if assertion {
        super::assertion::authenticate_with_assertion(
            state,
            world,
            request.tenant_segment,
            form,
            credentials.client_id.as_deref(),
            request.prefetched,
            &directory,
        )?
    } else {
        authenticate_client(
            world,
            named_client,
            credentials.secret.as_deref(),
            false,
            &directory,
        )?
        .client_id
    };
    let client = AuthenticatedClient {
        client_id,
        consented: true,
    };
    let scopes: Vec<&str> = scope.split_whitespace().collect();
    if scopes.len() != 1 || !scopes[0].ends_with("/.default") {
        return Err(AadError::bad(
            "invalid_scope",
            70011,
            format!(
                "The provided request must include a 'scope' input parameter. The provided value for the input \
                 parameter 'scope' is not valid. The scope {scope} is not valid. Client credential flows must \
                 have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        ));
    }
    let roles = world
        .applications
        .iter()
        .find(|a| a.client_id == client.client_id)
        .map(|a| a.permissions.clone())
        .unwrap_or_default();
    let seconds = world.behaviour.token_lifetime_seconds;
    let principal = Principal::Application {
        client_id: client.client_id,
        roles,
    };
    let access_token = world.issue_access_token(principal, Duration::from_secs(seconds), Instant::now());
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": seconds,
        "ext_expires_in": seconds,
        "access_token": access_token,
    }))
}

pub(super) fn refresh_token_grant(
    state: &SandboxState,
    world: &mut World,
    tenant_name: TenantName,
    form: &TokenForm,
    headers: &HeaderMap,
) -> Result<Value, AadError> {
    let credentials = client_credentials_of(form, headers)?;
    let client_id = credentials
        .client_id
        .as_deref()
        .ok_or_else(|| AadError::missing("client_id"))?;
    let refresh_token = form.require("refresh_token")?;
    if tenant_name == TenantName::Consumers {
        return Err(AadError::unknown_client(client_id, "Microsoft Accounts"));
    }
    let directory = directory_name(world, tenant_name);
    let client = authenticate_client(world, client_id, credentials.secret.as_deref(), true, &directory)?;
    let now = Instant::now();
    let Some(grant) = world.refresh_tokens.get(refresh_token).cloned() else {
        return Err(AadError::bad(
            "invalid_grant",
            9002313,
            "Invalid request. Request is malformed or invalid.",
        ));
    };
    if grant.expires_at <= now {
        world.refresh_tokens.remove(refresh_token);
        return Err(AadError::bad(
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a new \
             interactive authorization request for this user and resource.",
        ));
    }
    let Principal::User {
        user_id,
        client_id: issued_to,
    } = &grant.principal
    else {
        return Err(AadError::bad(
            "invalid_grant",
            9002313,
            "Invalid request. Request is malformed or invalid.",
        ));
    };
    if !issued_to.eq_ignore_ascii_case(&client.client_id) {
        return Err(AadError::bad(
            "invalid_grant",
            70000,
            "Provided grant is invalid or malformed.",
        ));
    }
    let enabled = world.user(user_id).is_some_and(|u| u.account_enabled)
        && !world
            .admins
            .values()
            .any(|a| &a.user_id == user_id && a.fixture.sign_in == SignInBehaviour::Disabled);
    if !enabled {
        return Err(account_disabled());
    }
    world.refresh_tokens.remove(refresh_token);
    let scope = form.get("scope").unwrap_or("");
    Ok(user_tokens(state, world, grant.principal, scope, true))
}

// ---------------------------------------------------------------------------------------------
// Metadata
