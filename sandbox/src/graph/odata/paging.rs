//! Paging and option checks shared by the list endpoints: the opaque `$skiptoken` (the id of the
//! first item of the next page, so pages stay consistent while items are added or removed), the
//! `@odata.nextLink` that carries it, and the refusal of options a resource does not simulate.

use super::{QueryError, QueryOptions};

/// Refuses system query options the sandbox does not simulate on this resource.
pub fn check_options(options: &QueryOptions, supported: &[&str]) -> Result<(), QueryError> {
    match options.unsupported_system_options(supported).first() {
        None => Ok(()),
        Some(name) if name.eq_ignore_ascii_case("$skip") => Err(QueryError::bad_request(
            "'$skip' is not supported by the service.",
        )),
        Some(name) => Err(QueryError::unsupported(format!(
            "The query option '{name}' is not supported on this resource by the sandbox."
        ))),
    }
}

/// Percent-encodes a query value, leaving characters that are safe in a query as they are.
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b','
            | b'\''
            | b'('
            | b')'
            | b':' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The `$skiptoken` of a `kind` listing (`users`, ...) whose next page starts at `next_id`.
pub fn encode_skiptoken(kind: &str, next_id: &str) -> String {
    crate::world::base64_url(format!("sandbox-{kind}:{next_id}").as_bytes())
}

/// The id a `kind` listing's `$skiptoken` resumes at; anything else is Graph's 400.
pub fn decode_skiptoken(kind: &str, token: &str) -> Result<String, QueryError> {
    use base64::Engine;
    let prefix = format!("sandbox-{kind}:");
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix(&prefix).map(str::to_owned))
        .ok_or_else(|| {
            QueryError::bad_request(format!("Invalid value '{token}' for query option '$skiptoken'."))
        })
}

/// `{base}?{carried options}&$skiptoken=...`: the next page of a `kind` listing at `base`.
pub fn next_link(base: &str, carried: &[(&'static str, String)], kind: &str, next_id: &str) -> String {
    let mut link = format!("{base}?");
    for (name, value) in carried {
        link.push_str(name);
        link.push('=');
        link.push_str(&encode_query_value(value));
        link.push('&');
    }
    link.push_str("$skiptoken=");
    link.push_str(&encode_skiptoken(kind, next_id));
    link
}
