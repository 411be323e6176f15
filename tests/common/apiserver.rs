//! A tower-test mocked apiserver that answers the operator's bookkeeping itself: the tenant claim
//! Leases and the ownership-record ConfigMaps in the operator's namespace, kept in memory like a
//! tiny apiserver would, and the GET of a Secret the test put in [`ApiServer::objects`]. Every
//! other request goes to the test, which asserts on it exactly.

use std::collections::BTreeMap;

use http::{Method, Request, Response, StatusCode};
use kube::client::Body;
use serde_json::{Value, json};
use tower_test::mock::{Handle, SendResponse};

/// The mocked apiserver, with the bookkeeping objects it holds.
pub struct ApiServer {
    handle: Handle<Request<Body>, Response<Body>>,
    /// Leases, ConfigMaps and Secrets by their URL path.
    pub objects: BTreeMap<String, Value>,
}

fn is_bookkeeping(method: &Method, path: &str) -> bool {
    path.starts_with("/apis/coordination.k8s.io/")
        || (path.starts_with("/api/v1/") && path.contains("/configmaps"))
        || (method == Method::GET && path.starts_with("/api/v1/") && path.contains("/secrets/"))
}

/// Answers the request behind `send` with `status` and the JSON `body`.
pub fn reply(send: SendResponse<Response<Body>>, status: StatusCode, body: &Value) {
    send.send_response(
        Response::builder()
            .status(status)
            .body(Body::from(serde_json::to_vec(body).unwrap()))
            .unwrap(),
    );
}

fn not_found() -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404, "message": "not found"})
}

impl ApiServer {
    /// Wraps a tower-test handle.
    pub fn new(handle: Handle<Request<Body>, Response<Body>>) -> Self {
        Self {
            handle,
            objects: BTreeMap::new(),
        }
    }

    /// The next request that is not bookkeeping (bookkeeping is answered on the way).
    pub async fn next_request(&mut self) -> Option<(Request<Body>, SendResponse<Response<Body>>)> {
        loop {
            let (request, send) = self.handle.next_request().await?;
            if !is_bookkeeping(request.method(), request.uri().path()) {
                return Some((request, send));
            }
            self.serve(request, send).await;
        }
    }

    /// The ownership-record ConfigMaps held, by name.
    pub fn config_maps(&self) -> BTreeMap<String, Value> {
        self.objects
            .iter()
            .filter(|(path, _)| path.contains("/configmaps/"))
            .map(|(_, object)| {
                (
                    object["metadata"]["name"].as_str().unwrap_or_default().to_owned(),
                    object.clone(),
                )
            })
            .collect()
    }

    async fn serve(&mut self, request: Request<Body>, send: SendResponse<Response<Body>>) {
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let merge = request
            .headers()
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap_or_default().contains("merge-patch"));
        let bytes = request.into_body().collect_bytes().await.unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let collection = path.ends_with("/leases") || path.ends_with("/configmaps");
        match (method, collection) {
            (Method::GET, true) => {
                let items: Vec<Value> = self
                    .objects
                    .iter()
                    .filter(|(p, _)| p.starts_with(&format!("{path}/")))
                    .map(|(_, o)| o.clone())
                    .collect();
                reply(
                    send,
                    StatusCode::OK,
                    &json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": "1"}, "items": items}),
                );
            }
            (Method::POST, true) => {
                let name = body["metadata"]["name"].as_str().unwrap_or_default();
                let key = format!("{path}/{name}");
                if self.objects.contains_key(&key) {
                    let conflict = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "AlreadyExists", "code": 409, "message": "exists"});
                    return reply(send, StatusCode::CONFLICT, &conflict);
                }
                let mut object = body.clone();
                object["metadata"]["uid"] = json!(format!("uid-{name}"));
                object["metadata"]["resourceVersion"] = json!("1");
                self.objects.insert(key, object.clone());
                reply(send, StatusCode::CREATED, &object);
            }
            (Method::GET, false) => match self.objects.get(&path) {
                Some(object) => reply(send, StatusCode::OK, object),
                None => reply(send, StatusCode::NOT_FOUND, &not_found()),
            },
            (Method::PATCH, false) if merge => match self.objects.get_mut(&path) {
                Some(object) => {
                    merge_into(object, &body);
                    let object = object.clone();
                    reply(send, StatusCode::OK, &object);
                }
                None => reply(send, StatusCode::NOT_FOUND, &not_found()),
            },
            (Method::PUT | Method::PATCH, false) => {
                let mut object = body.clone();
                let name = path.rsplit('/').next().unwrap_or_default();
                object["metadata"]["name"] = json!(name);
                object["metadata"]["resourceVersion"] = json!("2");
                self.objects.insert(path, object.clone());
                reply(send, StatusCode::OK, &object);
            }
            (Method::DELETE, false) => match self.objects.remove(&path) {
                Some(object) => reply(send, StatusCode::OK, &object),
                None => reply(send, StatusCode::NOT_FOUND, &not_found()),
            },
            (method, _) => panic!("the mocked apiserver does not serve {method} {path}"),
        }
    }
}

/// A JSON merge patch (RFC 7386) of `patch` into `target`.
fn merge_into(target: &mut Value, patch: &Value) {
    match (target.as_object_mut(), patch.as_object()) {
        (Some(target), Some(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(key);
                } else {
                    merge_into(target.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        _ => *target = patch.clone(),
    }
}
