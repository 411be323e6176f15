//! `POST /v1.0/$batch`: JSON batching (`docs/microsoft-graph-teams.md` section 2.3).
//!
//! The batch itself is not authorized: each inner request goes through the whole sandbox router
//! (traffic middleware included, so inner requests are counted, rate limited and hit by faults
//! one by one) with the outer `Authorization` header, and its own handler decides. The batch
//! answers 400 when it is malformed (bad JSON, more than 20 requests, duplicate ids, unknown or
//! circular `dependsOn`), and otherwise 200 with one response per request, in request order.
//! Requests run in waves: every request whose dependencies are done runs concurrently with the
//! others of its wave. A request whose dependency answered 400 or more gets 424 without running.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::handler::Handler;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::SandboxState;
use crate::errors::graph_error;

/// Graph's limit on requests per batch.
pub const MAX_BATCH_REQUESTS: usize = 20;

/// This module's routes.
pub fn routes() -> Router<Arc<SandboxState>> {
    Router::new().route("/v1.0/$batch", post(batch))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchBody {
    requests: Vec<InnerRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InnerRequest {
    id: String,
    method: String,
    url: String,
    #[serde(default)]
    headers: Option<Map<String, Value>>,
    #[serde(default)]
    body: Option<Value>,
    #[serde(default, rename = "dependsOn")]
    depends_on: Vec<String>,
}

/// One entry of `responses`.
struct InnerResponse {
    status: u16,
    headers: Map<String, Value>,
    body: Option<Value>,
}

impl InnerResponse {
    fn error(status: StatusCode, code: &str, message: &str) -> Self {
        let mut headers = Map::new();
        headers.insert("Content-Type".into(), "application/json".into());
        Self {
            status: status.as_u16(),
            headers,
            body: Some(json!({"error": {"code": code, "message": message}})),
        }
    }

    fn to_json(&self, id: &str) -> Value {
        let mut item = Map::new();
        item.insert("id".into(), id.into());
        item.insert("status".into(), self.status.into());
        item.insert("headers".into(), Value::Object(self.headers.clone()));
        if let Some(body) = &self.body {
            item.insert("body".into(), body.clone());
        }
        Value::Object(item)
    }
}

fn bad_batch(message: &str) -> Response {
    graph_error(StatusCode::BAD_REQUEST, "BadRequest", message)
}

/// Checks the batch as a whole; returns, per request, the indices of its dependencies.
fn validate(requests: &[InnerRequest]) -> Result<Vec<Vec<usize>>, String> {
    if requests.len() > MAX_BATCH_REQUESTS {
        return Err(format!(
            "Too many requests in the batch; the limit is {MAX_BATCH_REQUESTS}, the batch has {}.",
            requests.len()
        ));
    }
    for (index, request) in requests.iter().enumerate() {
        if request.id.trim().is_empty() {
            return Err("Every request in the batch needs a non-empty 'id'.".into());
        }
        if requests[..index]
            .iter()
            .any(|other| other.id.eq_ignore_ascii_case(&request.id))
        {
            return Err(format!(
                "Batch request ids must be unique; '{}' appears more than once.",
                request.id
            ));
        }
    }
    let mut dependencies = Vec::with_capacity(requests.len());
    for request in requests {
        let mut indices = Vec::new();
        for dependency in &request.depends_on {
            match requests
                .iter()
                .position(|r| r.id.eq_ignore_ascii_case(dependency))
            {
                Some(index) if !requests[index].id.eq_ignore_ascii_case(&request.id) => indices.push(index),
                _ => {
                    return Err(format!(
                        "Request '{}' depends on '{dependency}', which is not another request of the batch.",
                        request.id
                    ));
                }
            }
        }
        dependencies.push(indices);
    }
    // Reject cycles: repeatedly retire requests whose dependencies are retired.
    let mut retired = vec![false; requests.len()];
    loop {
        let ready: Vec<usize> = (0..requests.len())
            .filter(|&i| !retired[i] && dependencies[i].iter().all(|&d| retired[d]))
            .collect();
        if ready.is_empty() {
            break;
        }
        ready.into_iter().for_each(|i| retired[i] = true);
    }
    if let Some(stuck) = retired.iter().position(|done| !done) {
        return Err(format!(
            "Request '{}' is part of a dependsOn cycle.",
            requests[stuck].id
        ));
    }
    Ok(dependencies)
}

/// `POST /v1.0/$batch`.
async fn batch(State(state): State<Arc<SandboxState>>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(BatchBody { requests }) = serde_json::from_slice::<BatchBody>(&body) else {
        return bad_batch("Invalid batch payload format.");
    };
    let dependencies = match validate(&requests) {
        Ok(dependencies) => dependencies,
        Err(message) => return bad_batch(&message),
    };
    let router = crate::router(state.clone());
    let authorization = headers.get(header::AUTHORIZATION).cloned();
    let mut results: Vec<Option<InnerResponse>> = (0..requests.len()).map(|_| None).collect();
    loop {
        let wave: Vec<usize> = (0..requests.len())
            .filter(|&i| results[i].is_none() && dependencies[i].iter().all(|&d| results[d].is_some()))
            .collect();
        if wave.is_empty() {
            break;
        }
        let mut runs = Vec::new();
        for &index in &wave {
            let failed = dependencies[index]
                .iter()
                .find(|&&d| results[d].as_ref().is_some_and(|r| r.status >= 400))
                .map(|&d| requests[d].id.clone());
            if let Some(failed) = failed {
                results[index] = Some(InnerResponse::error(
                    StatusCode::FAILED_DEPENDENCY,
                    "FailedDependency",
                    &format!("The request depends on request '{failed}', which failed."),
                ));
            } else {
                let run = dispatch(router.clone(), authorization.clone(), &requests[index]);
                runs.push(async move { (index, run.await) });
            }
        }
        for (index, response) in futures::future::join_all(runs).await {
            results[index] = Some(response);
        }
    }
    let responses: Vec<Value> = requests
        .iter()
        .zip(&results)
        .map(|(request, result)| {
            result
                .as_ref()
                .map_or(Value::Null, |response| response.to_json(&request.id))
        })
        .collect();
    (StatusCode::OK, axum::Json(json!({ "responses": responses }))).into_response()
}

/// Runs one inner request through `router`.
async fn dispatch(router: Router, authorization: Option<HeaderValue>, inner: &InnerRequest) -> InnerResponse {
    let request = match build_request(authorization, inner) {
        Ok(request) => request,
        Err(response) => return response,
    };
    let response = Handler::<(), ()>::call(axum::routing::any_service(router), request, ()).await;
    collect(response).await
}

/// The inner request as an HTTP request to `/v1.0{url}`, or its 400 response.
fn build_request(
    authorization: Option<HeaderValue>,
    inner: &InnerRequest,
) -> Result<Request<Body>, InnerResponse> {
    let bad = |message: &str| InnerResponse::error(StatusCode::BAD_REQUEST, "BadRequest", message);
    let method = Method::from_bytes(inner.method.trim().to_ascii_uppercase().as_bytes())
        .ok()
        .filter(|m| {
            [
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ]
            .contains(m)
        })
        .ok_or_else(|| {
            bad(&format!(
                "Invalid method '{}' in batch request '{}'.",
                inner.method, inner.id
            ))
        })?;
    let url = inner.url.trim();
    if url.contains("://") {
        return Err(bad(
            "Batch request URLs must be relative to the version, e.g. '/users'.",
        ));
    }
    // Graph takes inner URLs as written, spaces included (`$filter=mail eq '...'`).
    let url = encode_loosely(url);
    let path = if url.starts_with('/') {
        format!("/v1.0{url}")
    } else {
        format!("/v1.0/{url}")
    };
    if path
        .split('?')
        .next()
        .is_some_and(|p| p.eq_ignore_ascii_case("/v1.0/$batch"))
    {
        return Err(bad("A batch cannot contain another batch."));
    }
    let mut builder = Request::builder().method(method).uri(path.as_str());
    let mut content_type = None;
    for (name, value) in inner.headers.iter().flatten() {
        let text = match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        if name.eq_ignore_ascii_case("authorization") {
            continue;
        }
        if name.eq_ignore_ascii_case("content-type") {
            content_type = Some(text.clone());
        }
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&text),
        ) else {
            return Err(bad(&format!(
                "Invalid header '{name}' in batch request '{}'.",
                inner.id
            )));
        };
        builder = builder.header(name, value);
    }
    if let Some(authorization) = authorization {
        builder = builder.header(header::AUTHORIZATION, authorization);
    }
    let body = match &inner.body {
        None => Body::empty(),
        Some(_) if content_type.is_none() => {
            return Err(bad(&format!(
                "Write request id : {} does not contain Content-Type header or body.",
                inner.id
            )));
        }
        Some(Value::String(text)) if !content_type.as_deref().is_some_and(|c| c.contains("json")) => {
            Body::from(text.clone())
        }
        Some(value) => Body::from(serde_json::to_vec(value).expect("JSON values serialize")),
    };
    builder.body(body).map_err(|_| {
        bad(&format!(
            "Invalid URL '{}' in batch request '{}'.",
            inner.url, inner.id
        ))
    })
}

/// Percent-encodes the bytes a URI may not hold (spaces, quotes, braces, non-ASCII...), leaving
/// everything else, existing `%XX` escapes included, as written.
fn encode_loosely(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for byte in url.bytes() {
        if byte.is_ascii_graphic()
            && !matches!(
                byte,
                b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
            )
        {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Header names as Graph writes them in batch responses (`Content-Type`, `Retry-After`).
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The inner response as a batch entry: JSON bodies inline, other bodies base64 (as Graph does).
async fn collect(response: Response) -> InnerResponse {
    let (parts, body) = response.into_parts();
    let mut headers = Map::new();
    for (name, value) in &parts.headers {
        if [
            header::CONTENT_LENGTH,
            header::TRANSFER_ENCODING,
            header::CONNECTION,
        ]
        .contains(name)
        {
            continue;
        }
        if let Ok(text) = value.to_str() {
            headers.insert(title_case(name.as_str()), text.into());
        }
    }
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return InnerResponse::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "serviceNotAvailable",
                "Service is unavailable. Please try again",
            );
        }
    };
    let body = if bytes.is_empty() {
        None
    } else {
        Some(serde_json::from_slice::<Value>(&bytes).unwrap_or_else(|_| {
            use base64::Engine;
            Value::String(base64::engine::general_purpose::STANDARD.encode(&bytes))
        }))
    };
    InnerResponse {
        status: parts.status.as_u16(),
        headers,
        body,
    }
}

#[cfg(test)]
#[path = "batch_tests.rs"]
mod tests;
