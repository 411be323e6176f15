//! `/api/v2/websockets[/{id}]` and `/api/v2/subscriptions/changelog[/{id}]`, per company of the
//! key presented. Shapes: `schemas.websocket.WebsocketProto`/`WebsocketCollection` and
//! `schemas.change_log_event_subscription.ChangeLogEventSubscriptionProto`/`...Collection`
//! (vendor/dialpad-openapi.json, operations `websockets.*` and
//! `webhook_change_log_event_subscription.*`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::fields::{body_object, bool_field, id_field, path_id, secret_field};
use super::hub::Outbound;
use super::registry::{Company, Registry, RegistryError, Subscription, Websocket};
use crate::SandboxState;
use crate::dialpad::{Caller, Failure, check_key, failure, int64, parse_params};
use crate::fixture::IdEncoding;

/// The scope the change-log routes require (`security` of `/api/v2/subscriptions/changelog`).
const CHANGE_LOG_SCOPE: &str = "change_log";

/// Who is calling, and how to write ids for them.
struct Call {
    company: Company,
    encoding: IdEncoding,
    /// Token lifetime for URLs.
    url_lifetime: u64,
}

/// Checks the key (and, for change-log routes, its `change_log` scope).
fn authorise(
    state: &SandboxState,
    headers: &HeaderMap,
    query: Option<&str>,
    change_log: bool,
) -> Result<Call, Failure> {
    let params = parse_params(query)?;
    let world = state.world();
    let caller = check_key(&world, headers, &params)?;
    let (company, scopes) = match caller {
        Caller::Org => (Company::Org, &world.dialpad.api_key_scopes),
        Caller::OtherCompany => (Company::Other, &world.dialpad.other_company.api_key_scopes),
    };
    if change_log && !scopes.iter().any(|s| s == CHANGE_LOG_SCOPE) {
        return Err(failure(
            StatusCode::FORBIDDEN,
            "This API key does not have the required scope: change_log.",
        ));
    }
    Ok(Call {
        company,
        encoding: world.dialpad.id_encoding,
        url_lifetime: world.behaviour.websocket_url_lifetime_seconds,
    })
}

fn answer(result: Result<Value, Failure>) -> Response {
    match result {
        Ok(body) => (StatusCode::OK, axum::Json(body)).into_response(),
        Err(failure) => failure.into_response(),
    }
}

fn registry_failure(error: RegistryError) -> Failure {
    let status = match error {
        RegistryError::NoSuchWebsocket(_) | RegistryError::NoSuchSubscription(_) => StatusCode::NOT_FOUND,
        RegistryError::UnknownEndpoint(_) | RegistryError::SubscriptionLimit => StatusCode::BAD_REQUEST,
    };
    failure(status, &error.to_string())
}

/// `ws://` or `wss://` for the sandbox's public `http://` or `https://` URL.
pub fn websocket_base(public_url: &str) -> String {
    match public_url.strip_prefix("http") {
        Some(rest) => format!("ws{rest}"),
        None => public_url.to_owned(),
    }
}

/// A `WebsocketProto` with a fresh URL (limited to `subscription`, if given).
fn websocket_json(
    state: &SandboxState,
    call: &Call,
    websocket: &Websocket,
    subscription: Option<&str>,
) -> Value {
    let now_ms = jiff::Timestamp::now().as_millisecond();
    let token = state.events.tokens.issue(
        &websocket.id,
        subscription,
        &state.public_url,
        now_ms,
        call.url_lifetime,
    );
    let mut object = Map::new();
    object.insert("id".into(), int64(call.encoding, &websocket.id));
    if let Some(secret) = &websocket.secret {
        object.insert(
            "signature".into(),
            json!({"algo": "HS256", "secret": secret, "type": "jwt"}),
        );
    }
    object.insert(
        "websocket_url".into(),
        format!("{}/events/{token}", websocket_base(&state.public_url)).into(),
    );
    Value::Object(object)
}

/// A `ChangeLogEventSubscriptionProto`: `enabled`, `id` and its `websocket`, whose URL reaches
/// this subscription only.
fn subscription_json(state: &SandboxState, call: &Call, subscription: &Subscription) -> Value {
    let websocket = state.events.with_registry(|r| {
        r.websocket(subscription.company, &subscription.websocket_id)
            .cloned()
    });
    let mut object = Map::new();
    object.insert("enabled".into(), subscription.enabled.into());
    object.insert("id".into(), int64(call.encoding, &subscription.id));
    if let Ok(websocket) = websocket {
        object.insert(
            "websocket".into(),
            websocket_json(state, call, &websocket, Some(&subscription.id)),
        );
    }
    Value::Object(object)
}

/// Checks the caller, then runs `op` on the registry for the caller's company and the path's
/// `id`: what it returned, with the call.
fn by_id<T>(
    state: &SandboxState,
    headers: &HeaderMap,
    query: Option<&str>,
    change_log: bool,
    id: &str,
    op: impl FnOnce(&mut Registry, Company, &str) -> Result<T, RegistryError>,
) -> Result<(Call, T), Failure> {
    let call = authorise(state, headers, query, change_log)?;
    let id = path_id(id)?;
    let found = state
        .events
        .with_registry(|r| op(r, call.company, &id))
        .map_err(registry_failure)?;
    Ok((call, found))
}

/// Checks the caller, then runs `op` on the registry for the caller's company: what it
/// returned, with the call.
fn for_company<T>(
    state: &SandboxState,
    headers: &HeaderMap,
    query: Option<&str>,
    change_log: bool,
    op: impl FnOnce(&mut Registry, Company) -> Result<T, RegistryError>,
) -> Result<(Call, T), Failure> {
    let call = authorise(state, headers, query, change_log)?;
    let found = state
        .events
        .with_registry(|r| op(r, call.company))
        .map_err(registry_failure)?;
    Ok((call, found))
}

/// `POST /api/v2/websockets` (`websockets.create`): `{"secret"?}`.
pub async fn create_websocket(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let secret = match body_object(&body).and_then(|object| secret_field(&object)) {
        Ok(secret) => secret.flatten(),
        Err(failure) => return failure.into_response(),
    };
    answer(
        for_company(&state, &headers, query.as_deref(), false, |r, company| {
            Ok(r.create_websocket(company, secret))
        })
        .map(|(call, websocket)| websocket_json(&state, &call, &websocket, None)),
    )
}

/// `GET /api/v2/websockets` (`websockets.list`): one page, every websocket of the company.
pub async fn list_websockets(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    answer(
        for_company(&state, &headers, query.as_deref(), false, |r, company| {
            Ok(r.websockets_of(company).cloned().collect::<Vec<_>>())
        })
        .map(|(call, websockets)| {
            let items: Vec<Value> = websockets
                .iter()
                .map(|w| websocket_json(&state, &call, w, None))
                .collect();
            json!({"items": items})
        }),
    )
}

/// `GET /api/v2/websockets/{id}` (`websockets.get`): the websocket with a regenerated URL.
pub async fn get_websocket(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(id): Path<String>,
) -> Response {
    answer(
        by_id(
            &state,
            &headers,
            query.as_deref(),
            false,
            &id,
            |r, company, id| r.websocket(company, id).cloned(),
        )
        .map(|(call, websocket)| websocket_json(&state, &call, &websocket, None)),
    )
}

/// `PATCH /api/v2/websockets/{id}` (`websockets.update`): a new `secret` (or none).
pub async fn update_websocket(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let secret = match body_object(&body).and_then(|object| secret_field(&object)) {
        Ok(secret) => secret,
        Err(failure) => return failure.into_response(),
    };
    answer(
        by_id(
            &state,
            &headers,
            query.as_deref(),
            false,
            &id,
            |r, company, id| match secret {
                Some(secret) => r.set_secret(company, id, secret),
                None => r.websocket(company, id).cloned(),
            },
        )
        .map(|(call, websocket)| websocket_json(&state, &call, &websocket, None)),
    )
}

/// `DELETE /api/v2/websockets/{id}` (`websockets.delete`): the websocket as it was. The
/// subscriptions delivering to it are deleted too and its connections closed normally
/// (UNCONFIRMED upstream).
pub async fn delete_websocket(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(id): Path<String>,
) -> Response {
    answer(
        by_id(
            &state,
            &headers,
            query.as_deref(),
            false,
            &id,
            |r, company, id| r.delete_websocket(company, id).map(|(websocket, _)| websocket),
        )
        .map(|(call, websocket)| {
            state.events.end_connections(Some(&websocket.id), Outbound::Close);
            websocket_json(&state, &call, &websocket, None)
        }),
    )
}

/// `enabled` and `endpoint_id` of a subscription's body.
fn subscription_fields(body: &Bytes) -> Result<(Option<bool>, Option<String>), Failure> {
    let object = body_object(body)?;
    Ok((bool_field(&object, "enabled")?, id_field(&object, "endpoint_id")?))
}

/// `POST /api/v2/subscriptions/changelog`: `{"endpoint_id", "enabled"?}`.
pub async fn create_subscription(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let fields = subscription_fields(&body).and_then(|(enabled, endpoint)| {
        let endpoint =
            endpoint.ok_or_else(|| failure(StatusCode::BAD_REQUEST, "endpoint_id is required."))?;
        Ok((enabled.unwrap_or(true), endpoint))
    });
    let (enabled, endpoint) = match fields {
        Ok(fields) => fields,
        Err(failure) => return failure.into_response(),
    };
    answer(
        for_company(&state, &headers, query.as_deref(), true, |r, company| {
            r.create_subscription(company, &endpoint, enabled)
        })
        .map(|(call, subscription)| subscription_json(&state, &call, &subscription)),
    )
}

/// `GET /api/v2/subscriptions/changelog`: one page, every subscription of the company.
pub async fn list_subscriptions(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    answer(
        for_company(&state, &headers, query.as_deref(), true, |r, company| {
            Ok(r.subscriptions_of(company).cloned().collect::<Vec<_>>())
        })
        .map(|(call, subscriptions)| {
            let items: Vec<Value> = subscriptions
                .iter()
                .map(|s| subscription_json(&state, &call, s))
                .collect();
            json!({"items": items})
        }),
    )
}

/// `GET /api/v2/subscriptions/changelog/{id}`.
pub async fn get_subscription(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(id): Path<String>,
) -> Response {
    answer(
        by_id(&state, &headers, query.as_deref(), true, &id, |r, company, id| {
            r.subscription(company, id).cloned()
        })
        .map(|(call, subscription)| subscription_json(&state, &call, &subscription)),
    )
}

/// `PATCH /api/v2/subscriptions/changelog/{id}`: `{"enabled"?, "endpoint_id"?}`.
pub async fn update_subscription(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (enabled, endpoint) = match subscription_fields(&body) {
        Ok(fields) => fields,
        Err(failure) => return failure.into_response(),
    };
    answer(
        by_id(&state, &headers, query.as_deref(), true, &id, |r, company, id| {
            r.update_subscription(company, id, enabled, endpoint.as_deref())
        })
        .map(|(call, subscription)| subscription_json(&state, &call, &subscription)),
    )
}

/// `DELETE /api/v2/subscriptions/changelog/{id}`: the subscription as it was.
pub async fn delete_subscription(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(id): Path<String>,
) -> Response {
    answer(
        by_id(&state, &headers, query.as_deref(), true, &id, |r, company, id| {
            r.delete_subscription(company, id)
        })
        .map(|(call, subscription)| subscription_json(&state, &call, &subscription)),
    )
}
