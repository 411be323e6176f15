//! The fields of the websocket and subscription requests: the body's JSON object, int64 ids
//! (path and body), booleans and the single-line `secret`, each refused with a Dialpad 400.

use axum::body::Bytes;
use axum::http::StatusCode;
use serde_json::{Map, Value};

use crate::dialpad::{Failure, failure};

/// The JSON object of a request body; an empty body is `{}`.
pub(crate) fn body_object(body: &Bytes) -> Result<Map<String, Value>, Failure> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(failure(
            StatusCode::BAD_REQUEST,
            "The request body must be a JSON object.",
        )),
    }
}

/// An int64 path parameter, as digits.
pub(crate) fn path_id(id: &str) -> Result<String, Failure> {
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(id.to_owned())
    } else {
        Err(failure(
            StatusCode::BAD_REQUEST,
            &format!("Invalid id: '{id}'. Expected an integer."),
        ))
    }
}

/// An int64 body field, as digits: a JSON integer or a string of digits.
pub(crate) fn id_field(object: &Map<String, Value>, name: &str) -> Result<Option<String>, Failure> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.is_u64() => Ok(Some(n.to_string())),
        Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(Some(s.clone()))
        }
        Some(other) => Err(failure(
            StatusCode::BAD_REQUEST,
            &format!("Invalid value for {name}: {other}. Expected an integer."),
        )),
    }
}

pub(crate) fn bool_field(object: &Map<String, Value>, name: &str) -> Result<Option<bool>, Failure> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(failure(
            StatusCode::BAD_REQUEST,
            &format!("Invalid value for {name}: {other}. Expected true or false."),
        )),
    }
}

/// `secret`: absent means unchanged (`None`); `null` or `""` means none.
pub(crate) fn secret_field(object: &Map<String, Value>) -> Result<Option<Option<String>>, Failure> {
    match object.get("secret") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) if s.is_empty() => Ok(Some(None)),
        // `[single-line only]` says the schema's description of `secret`.
        Some(Value::String(s)) if !s.contains(['\n', '\r']) => Ok(Some(Some(s.clone()))),
        Some(_) => Err(failure(
            StatusCode::BAD_REQUEST,
            "Invalid value for secret: expected a single-line string.",
        )),
    }
}
