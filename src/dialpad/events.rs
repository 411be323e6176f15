//! Dialpad's event endpoints: a WebSocket endpoint (`/api/v2/websockets`) and a change-log
//! subscription (`/api/v2/subscriptions/changelog`) that sends the company's change log to it.
//!
//! From Dialpad's OpenAPI description (vendor/dialpad-openapi.json, operationIds
//! `websockets.create`, `websockets.get`, `websockets.delete`,
//! `webhook_change_log_event_subscription.create`, `.get`, `.delete`):
//! - `POST /api/v2/websockets` takes `schemas.websocket.CreateWebsocket` (`secret`: with one,
//!   events "will be encoded and signed in the JWT format using the shared secret with the HS256
//!   algorithm") and answers `schemas.websocket.WebsocketProto` (`id`, `signature`,
//!   `websocket_url`). The URL "will be expired after 1 hour. Please use the GET websocket API to
//!   regenerate url rather than creating new ones."
//! - `POST /api/v2/subscriptions/changelog` takes `endpoint_id` and `enabled`, "Requires a company
//!   admin API key" and "scope: `change_log`", and answers
//!   `schemas.change_log_event_subscription.ChangeLogEventSubscriptionProto`.
//!
//! The secret is only ever sent to the configured Dialpad endpoint, in the body of the create
//! call; it is never read back from Dialpad's answers (they echo it in `signature.secret`).

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::DialpadClient;
use super::model::id;
use crate::upstream::{Service, UpstreamError};

/// A WebSocket endpoint as Dialpad describes it; its signature (which holds the secret) is not
/// read.
#[derive(Clone, Deserialize)]
pub struct WebsocketEndpoint {
    /// Its id.
    #[serde(default, deserialize_with = "id")]
    pub id: Option<String>,
    /// Where to connect; valid for an hour after it was issued.
    #[serde(default)]
    pub websocket_url: Option<String>,
}

impl std::fmt::Debug for WebsocketEndpoint {
    // The URL carries Dialpad's connection token: not shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebsocketEndpoint")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A change-log subscription as Dialpad describes it.
#[derive(Clone, Debug, Deserialize)]
pub struct ChangeLogSubscription {
    /// Its id.
    #[serde(default, deserialize_with = "id")]
    pub id: Option<String>,
    /// Whether it sends events.
    #[serde(default)]
    pub enabled: Option<bool>,
}

impl DialpadClient {
    /// Creates a WebSocket endpoint whose events are signed with `secret`.
    pub async fn create_websocket(&self, secret: &SecretString) -> Result<WebsocketEndpoint, UpstreamError> {
        let body = serde_json::json!({ "secret": secret.expose_secret() });
        let endpoint = "POST /api/v2/websockets";
        self.write(endpoint, reqwest::Method::POST, "/api/v2/websockets", Some(&body))
            .await?
            .json(Service::Dialpad, endpoint)
    }

    /// The WebSocket endpoint `id`, with a newly issued URL.
    pub async fn get_websocket(&self, id: &str) -> Result<WebsocketEndpoint, UpstreamError> {
        self.read(
            "GET /api/v2/websockets/{id}",
            &format!("/api/v2/websockets/{}", segment(id)),
        )
        .await
    }

    /// Deletes the WebSocket endpoint `id`.
    pub async fn delete_websocket(&self, id: &str) -> Result<(), UpstreamError> {
        let path = format!("/api/v2/websockets/{}", segment(id));
        self.write(
            "DELETE /api/v2/websockets/{id}",
            reqwest::Method::DELETE,
            &path,
            None,
        )
        .await
        .map(drop)
    }

    /// Subscribes the company's change log to the WebSocket endpoint `endpoint_id`.
    pub async fn create_changelog_subscription(
        &self,
        endpoint_id: &str,
    ) -> Result<ChangeLogSubscription, UpstreamError> {
        // `endpoint_id` is an int64 in CreateChangeLogEventSubscription; an id Dialpad gave as
        // text is sent back as the number it spells.
        let endpoint_id: serde_json::Value = endpoint_id
            .parse::<i64>()
            .map_or_else(|_| endpoint_id.into(), Into::into);
        let body = serde_json::json!({ "endpoint_id": endpoint_id, "enabled": true });
        let endpoint = "POST /api/v2/subscriptions/changelog";
        self.write(
            endpoint,
            reqwest::Method::POST,
            "/api/v2/subscriptions/changelog",
            Some(&body),
        )
        .await?
        .json(Service::Dialpad, endpoint)
    }

    /// The change-log subscription `id`.
    pub async fn get_changelog_subscription(&self, id: &str) -> Result<ChangeLogSubscription, UpstreamError> {
        let path = format!("/api/v2/subscriptions/changelog/{}", segment(id));
        self.read("GET /api/v2/subscriptions/changelog/{id}", &path).await
    }

    /// Deletes the change-log subscription `id`.
    pub async fn delete_changelog_subscription(&self, id: &str) -> Result<(), UpstreamError> {
        let path = format!("/api/v2/subscriptions/changelog/{}", segment(id));
        self.write(
            "DELETE /api/v2/subscriptions/changelog/{id}",
            reqwest::Method::DELETE,
            &path,
            None,
        )
        .await
        .map(drop)
    }
}

/// An id as one path segment: ids are digits, anything else is percent-encoded.
fn segment(id: &str) -> String {
    percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC).to_string()
}
