//! Entra's token-endpoint error body.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::json;

use crate::errors::request_id;

// ---------------------------------------------------------------------------------------------
// Errors

/// A token-endpoint error, rendered in Entra's body shape.
#[derive(Debug)]
pub(super) struct AadError {
    pub(super) status: StatusCode,
    pub(super) error: &'static str,
    pub(super) code: u32,
    pub(super) message: String,
    pub(super) suberror: Option<&'static str>,
    pub(super) claims: Option<String>,
}

impl AadError {
    pub(super) fn new(
        status: StatusCode,
        error: &'static str,
        code: u32,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            error,
            code,
            message: message.into(),
            suberror: None,
            claims: None,
        }
    }

    pub(super) fn bad(error: &'static str, code: u32, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error, code, message)
    }

    pub(super) fn client(code: u32, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", code, message)
    }

    pub(super) fn with_suberror(mut self, suberror: &'static str) -> Self {
        self.suberror = Some(suberror);
        self
    }

    pub(super) fn missing(parameter: &str) -> Self {
        Self::bad(
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{parameter}'."),
        )
    }

    pub(super) fn tenant_not_found(error: &'static str, tenant: &str) -> Self {
        Self::bad(
            error,
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing \
                 into the correct cloud. Check with your subscription administrator, this may happen if there \
                 are no active subscriptions for the tenant."
            ),
        )
    }

    pub(super) fn unknown_client(client_id: &str, directory: &str) -> Self {
        Self::bad(
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{directory}'. This can \
                 happen if the application has not been installed by the administrator of the tenant or \
                 consented to by any user in the tenant. You may have sent your authentication request to the \
                 wrong tenant."
            ),
        )
    }

    pub(super) fn grant_on_common() -> Self {
        Self::bad(
            "invalid_request",
            9001023,
            "The grant type is not supported over the /common or /consumers endpoints. Please use the \
             /organizations or tenant-specific endpoint.",
        )
    }
}

impl IntoResponse for AadError {
    fn into_response(self) -> Response {
        let now = Timestamp::now().strftime("%Y-%m-%d %H:%M:%SZ").to_string();
        let trace_id = request_id();
        let correlation_id = request_id();
        let mut body = json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {now}",
                self.code, self.message
            ),
            "error_codes": [self.code],
            "timestamp": now,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        });
        if let Some(suberror) = self.suberror {
            body["suberror"] = suberror.into();
        }
        if let Some(claims) = self.claims {
            body["claims"] = claims.into();
        }
        let mut response = (self.status, Json(body)).into_response();
        response.headers_mut().insert(
            "cache-control",
            axum::http::HeaderValue::from_static("no-store, no-cache"),
        );
        response
    }
}
