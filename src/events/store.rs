//! What a company's event feed keeps across restarts: the secret it generated for Dialpad to
//! sign events with, and the ids of the WebSocket endpoint and change-log subscription it made, in
//! one Secret of the operator's own namespace (where no resource writer can read it).

use std::collections::BTreeMap;

use base64::Engine;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, ObjectMeta, Patch, PatchParams};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::Digest;

/// The Secret's key holding the signing secret.
const SECRET_KEY: &str = "secret";
const WEBSOCKET_KEY: &str = "websocketId";
const SUBSCRIPTION_KEY: &str = "subscriptionId";

/// A feed's lasting state.
#[derive(Clone)]
pub struct FeedRecord {
    /// The HS256 secret Dialpad signs events with.
    pub secret: SecretString,
    /// The WebSocket endpoint's id, once made.
    pub websocket_id: Option<String>,
    /// The change-log subscription's id, once made.
    pub subscription_id: Option<String>,
}

impl std::fmt::Debug for FeedRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedRecord")
            .field("websocket_id", &self.websocket_id)
            .field("subscription_id", &self.subscription_id)
            .finish_non_exhaustive()
    }
}

impl FeedRecord {
    /// A record with a new random secret (32 bytes, base64url: one line, as Dialpad's
    /// `CreateWebsocket.secret` asks) and nothing made yet.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self {
            secret: SecretString::from(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)),
            websocket_id: None,
            subscription_id: None,
        }
    }
}

/// Why the record could not be read or written. Never carries the secret.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} the Secret {namespace}/{name} that keeps the change-event secret: {source}")]
pub struct StoreError {
    action: &'static str,
    namespace: String,
    name: String,
    #[source]
    source: kube::Error,
}

/// Where a feed's record lives.
pub trait FeedStore: Send + Sync + 'static {
    /// The record, if one was saved.
    fn load(&self) -> impl Future<Output = Result<Option<FeedRecord>, StoreError>> + Send;
    /// Saves the record.
    fn save(&self, record: &FeedRecord) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Forgets the record.
    fn delete(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The record in a Secret of the operator's namespace.
#[derive(Clone)]
pub struct SecretFeedStore {
    api: Api<Secret>,
    namespace: String,
    name: String,
    manager: &'static str,
}

impl SecretFeedStore {
    /// The store of the feed of Dialpad company `company` at `base`, in `namespace`, written as
    /// field manager `manager`.
    pub fn new(
        client: kube::Client,
        namespace: &str,
        base: &str,
        company: &str,
        manager: &'static str,
    ) -> Self {
        Self {
            api: Api::namespaced(client, namespace),
            namespace: namespace.to_owned(),
            name: secret_name(base, company),
            manager,
        }
    }

    fn failed(&self, action: &'static str, source: kube::Error) -> StoreError {
        StoreError {
            action,
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            source,
        }
    }
}

/// `dialpad-events-<company>-<hash of the base URL>`: one per company and Dialpad endpoint, a
/// valid Secret name whatever the id holds.
pub fn secret_name(base: &str, company: &str) -> String {
    let digest = sha2::Sha256::digest(format!("{}\n{company}", base.trim_end_matches('/')).as_bytes());
    let hash: String = digest[..5].iter().map(|b| format!("{b:02x}")).collect();
    let company: String = company
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(20)
        .collect::<String>()
        .to_ascii_lowercase();
    format!("dialpad-events-{company}-{hash}")
}

impl FeedStore for SecretFeedStore {
    async fn load(&self) -> Result<Option<FeedRecord>, StoreError> {
        let Some(secret) = self
            .api
            .get_opt(&self.name)
            .await
            .map_err(|e| self.failed("read", e))?
        else {
            return Ok(None);
        };
        let data = secret.data.unwrap_or_default();
        let text = |key: &str| {
            data.get(key)
                .and_then(|value| String::from_utf8(value.0.clone()).ok())
                .filter(|value| !value.is_empty())
        };
        Ok(text(SECRET_KEY).map(|secret| FeedRecord {
            secret: SecretString::from(secret),
            websocket_id: text(WEBSOCKET_KEY),
            subscription_id: text(SUBSCRIPTION_KEY),
        }))
    }

    async fn save(&self, record: &FeedRecord) -> Result<(), StoreError> {
        let mut data = BTreeMap::from([(
            SECRET_KEY.to_owned(),
            ByteString(record.secret.expose_secret().as_bytes().to_vec()),
        )]);
        for (key, value) in [
            (WEBSOCKET_KEY, &record.websocket_id),
            (SUBSCRIPTION_KEY, &record.subscription_id),
        ] {
            if let Some(value) = value {
                data.insert(key.to_owned(), ByteString(value.as_bytes().to_vec()));
            }
        }
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(self.name.clone()),
                labels: Some(BTreeMap::from([(
                    "app.kubernetes.io/managed-by".to_owned(),
                    self.manager.to_owned(),
                )])),
                ..Default::default()
            },
            data: Some(data),
            type_: Some("Opaque".into()),
            ..Default::default()
        };
        let mut body =
            serde_json::to_value(&secret).map_err(|e| self.failed("write", kube::Error::SerdeError(e)))?;
        body["apiVersion"] = "v1".into();
        body["kind"] = "Secret".into();
        self.api
            .patch(
                &self.name,
                &PatchParams::apply(self.manager).force(),
                &Patch::Apply(&body),
            )
            .await
            .map_err(|e| self.failed("write", e))?;
        Ok(())
    }

    async fn delete(&self) -> Result<(), StoreError> {
        match self.api.delete(&self.name, &DeleteParams::default()).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
            Err(e) => Err(self.failed("delete", e)),
        }
    }
}

/// A record kept in memory, for tests and `demo`.
#[derive(Clone, Default)]
pub struct MemoryFeedStore(pub std::sync::Arc<std::sync::Mutex<Option<FeedRecord>>>);

impl FeedStore for MemoryFeedStore {
    async fn load(&self) -> Result<Option<FeedRecord>, StoreError> {
        Ok(self.0.lock().expect("store lock").clone())
    }

    async fn save(&self, record: &FeedRecord) -> Result<(), StoreError> {
        *self.0.lock().expect("store lock") = Some(record.clone());
        Ok(())
    }

    async fn delete(&self) -> Result<(), StoreError> {
        *self.0.lock().expect("store lock") = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_company_and_endpoint_has_its_own_valid_secret_name() {
        let name = secret_name("https://dialpad.com/", "5551234");
        assert!(name.starts_with("dialpad-events-5551234-"), "{name}");
        assert_eq!(name, secret_name("https://dialpad.com", "5551234"));
        assert_ne!(name, secret_name("https://sandbox.dialpad.com", "5551234"));
        let odd = secret_name("http://x", "A_b/../C");
        assert!(
            odd.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{odd}"
        );
    }

    #[test]
    fn generated_secrets_are_single_line_random_and_not_shown_in_debug() {
        let (a, b) = (FeedRecord::generate(), FeedRecord::generate());
        assert_ne!(a.secret.expose_secret(), b.secret.expose_secret());
        assert_eq!(a.secret.expose_secret().len(), 43);
        assert!(!a.secret.expose_secret().contains('\n'));
        assert!(!format!("{a:?}").contains(a.secret.expose_secret()));
    }
}
