//! The websockets and change-log subscriptions each company has created: plain data and the
//! rules on it, no I/O.

use serde::{Deserialize, Serialize};

/// The most change-log subscriptions one company may hold. Dialpad allows 100 subscriptions of a
/// type per company, of which 10 may target the company itself
/// (developers.dialpad.com/docs/event-subscriptions); a change-log subscription always covers
/// the whole company (developers.dialpad.com/docs/change-log-events), so 10 is its limit.
pub const CHANGELOG_SUBSCRIPTION_LIMIT: usize = 10;

/// Which company's key created something.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Company {
    /// The org's company (`dialpad.apiKey`).
    Org,
    /// `dialpad.otherCompany`.
    Other,
}

/// A websocket endpoint (`schemas.websocket.WebsocketProto` without its URL).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Websocket {
    /// Its id (digits).
    pub id: String,
    /// The company that owns it.
    pub company: Company,
    /// The HS256 secret events are signed with; plain JSON events without one.
    pub secret: Option<String>,
}

/// A change-log event subscription delivering to a websocket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// Its id (digits).
    pub id: String,
    /// The company that owns it.
    pub company: Company,
    /// The websocket (`endpoint_id`) it delivers to.
    pub websocket_id: String,
    /// Whether events are delivered.
    pub enabled: bool,
}

/// Why a registry change is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// No websocket of the company has this id.
    #[error("no websocket with id {0}")]
    NoSuchWebsocket(String),
    /// No subscription of the company has this id.
    #[error("no change log event subscription with id {0}")]
    NoSuchSubscription(String),
    /// `endpoint_id` names no websocket of the company.
    #[error("endpoint_id {0} is not a websocket of this company")]
    UnknownEndpoint(String),
    /// The company already holds the most subscriptions allowed.
    #[error(
        "the company already has {CHANGELOG_SUBSCRIPTION_LIMIT} change log event subscriptions, the most allowed; delete one first"
    )]
    SubscriptionLimit,
}

/// Every company's websockets and subscriptions.
#[derive(Debug)]
pub struct Registry {
    websockets: Vec<Websocket>,
    subscriptions: Vec<Subscription>,
    next_id: u64,
}

/// The first id handed out: large, like Dialpad's, and below 2^53 so a JSON number keeps it.
const FIRST_ID: u64 = 4_000_000_000_000_001;

impl Default for Registry {
    fn default() -> Self {
        Self {
            websockets: Vec::new(),
            subscriptions: Vec::new(),
            next_id: FIRST_ID,
        }
    }
}

impl Registry {
    fn new_id(&mut self) -> String {
        let id = self.next_id;
        self.next_id += 1;
        id.to_string()
    }

    /// Creates a websocket for `company`.
    pub fn create_websocket(&mut self, company: Company, secret: Option<String>) -> Websocket {
        let websocket = Websocket {
            id: self.new_id(),
            company,
            secret,
        };
        self.websockets.push(websocket.clone());
        websocket
    }

    /// `company`'s websockets, oldest first.
    pub fn websockets_of(&self, company: Company) -> impl Iterator<Item = &Websocket> {
        self.websockets.iter().filter(move |w| w.company == company)
    }

    /// Every websocket.
    pub fn websockets(&self) -> &[Websocket] {
        &self.websockets
    }

    /// Every subscription.
    pub fn subscriptions(&self) -> &[Subscription] {
        &self.subscriptions
    }

    /// The websocket `id`, whichever company owns it.
    pub fn websocket_by_id(&self, id: &str) -> Option<&Websocket> {
        self.websockets.iter().find(|w| w.id == id)
    }

    /// `company`'s websocket `id`.
    pub fn websocket(&self, company: Company, id: &str) -> Result<&Websocket, RegistryError> {
        self.websockets_of(company)
            .find(|w| w.id == id)
            .ok_or_else(|| RegistryError::NoSuchWebsocket(id.to_owned()))
    }

    /// Replaces the secret of `company`'s websocket `id`.
    pub fn set_secret(
        &mut self,
        company: Company,
        id: &str,
        secret: Option<String>,
    ) -> Result<Websocket, RegistryError> {
        let websocket = self
            .websockets
            .iter_mut()
            .find(|w| w.company == company && w.id == id)
            .ok_or_else(|| RegistryError::NoSuchWebsocket(id.to_owned()))?;
        websocket.secret = secret;
        Ok(websocket.clone())
    }

    /// Deletes `company`'s websocket `id` and the subscriptions that deliver to it (a
    /// subscription cannot outlive its endpoint; UNCONFIRMED upstream).
    pub fn delete_websocket(
        &mut self,
        company: Company,
        id: &str,
    ) -> Result<(Websocket, Vec<Subscription>), RegistryError> {
        let index = self
            .websockets
            .iter()
            .position(|w| w.company == company && w.id == id)
            .ok_or_else(|| RegistryError::NoSuchWebsocket(id.to_owned()))?;
        let websocket = self.websockets.remove(index);
        let (gone, kept) = std::mem::take(&mut self.subscriptions)
            .into_iter()
            .partition(|s| s.websocket_id == websocket.id);
        self.subscriptions = kept;
        Ok((websocket, gone))
    }

    /// `company`'s subscriptions, oldest first.
    pub fn subscriptions_of(&self, company: Company) -> impl Iterator<Item = &Subscription> {
        self.subscriptions.iter().filter(move |s| s.company == company)
    }

    /// `company`'s subscription `id`.
    pub fn subscription(&self, company: Company, id: &str) -> Result<&Subscription, RegistryError> {
        self.subscriptions_of(company)
            .find(|s| s.id == id)
            .ok_or_else(|| RegistryError::NoSuchSubscription(id.to_owned()))
    }

    /// Subscribes `company`'s change log to its websocket `endpoint_id`.
    pub fn create_subscription(
        &mut self,
        company: Company,
        endpoint_id: &str,
        enabled: bool,
    ) -> Result<Subscription, RegistryError> {
        self.websocket(company, endpoint_id)
            .map_err(|_| RegistryError::UnknownEndpoint(endpoint_id.to_owned()))?;
        if self.subscriptions_of(company).count() >= CHANGELOG_SUBSCRIPTION_LIMIT {
            return Err(RegistryError::SubscriptionLimit);
        }
        let subscription = Subscription {
            id: self.new_id(),
            company,
            websocket_id: endpoint_id.to_owned(),
            enabled,
        };
        self.subscriptions.push(subscription.clone());
        Ok(subscription)
    }

    /// Changes `company`'s subscription `id`: `enabled` and the websocket, when given.
    pub fn update_subscription(
        &mut self,
        company: Company,
        id: &str,
        enabled: Option<bool>,
        endpoint_id: Option<&str>,
    ) -> Result<Subscription, RegistryError> {
        if let Some(endpoint) = endpoint_id {
            self.websocket(company, endpoint)
                .map_err(|_| RegistryError::UnknownEndpoint(endpoint.to_owned()))?;
        }
        let subscription = self
            .subscriptions
            .iter_mut()
            .find(|s| s.company == company && s.id == id)
            .ok_or_else(|| RegistryError::NoSuchSubscription(id.to_owned()))?;
        if let Some(enabled) = enabled {
            subscription.enabled = enabled;
        }
        if let Some(endpoint) = endpoint_id {
            subscription.websocket_id = endpoint.to_owned();
        }
        Ok(subscription.clone())
    }

    /// Deletes `company`'s subscription `id`.
    pub fn delete_subscription(&mut self, company: Company, id: &str) -> Result<Subscription, RegistryError> {
        let index = self
            .subscriptions
            .iter()
            .position(|s| s.company == company && s.id == id)
            .ok_or_else(|| RegistryError::NoSuchSubscription(id.to_owned()))?;
        Ok(self.subscriptions.remove(index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eleventh_changelog_subscription_of_a_company_is_refused() {
        let mut registry = Registry::default();
        let socket = registry.create_websocket(Company::Org, None);
        for _ in 0..CHANGELOG_SUBSCRIPTION_LIMIT {
            registry
                .create_subscription(Company::Org, &socket.id, true)
                .expect("within the limit");
        }
        assert_eq!(
            registry.create_subscription(Company::Org, &socket.id, true),
            Err(RegistryError::SubscriptionLimit)
        );
        let other = registry.create_websocket(Company::Other, None);
        assert!(
            registry
                .create_subscription(Company::Other, &other.id, true)
                .is_ok(),
            "the limit is per company"
        );
    }

    #[test]
    fn another_companys_websocket_is_neither_found_nor_subscribable() {
        let mut registry = Registry::default();
        let socket = registry.create_websocket(Company::Org, Some("s".into()));
        assert_eq!(
            registry.websocket(Company::Other, &socket.id),
            Err(RegistryError::NoSuchWebsocket(socket.id.clone()))
        );
        assert_eq!(
            registry.create_subscription(Company::Other, &socket.id, true),
            Err(RegistryError::UnknownEndpoint(socket.id.clone()))
        );
        assert!(registry.delete_websocket(Company::Other, &socket.id).is_err());
    }

    #[test]
    fn deleting_a_websocket_deletes_the_subscriptions_that_use_it() {
        let mut registry = Registry::default();
        let used = registry.create_websocket(Company::Org, None);
        let spare = registry.create_websocket(Company::Org, None);
        let gone = registry
            .create_subscription(Company::Org, &used.id, true)
            .unwrap();
        let kept = registry
            .create_subscription(Company::Org, &spare.id, true)
            .unwrap();
        let (_, deleted) = registry.delete_websocket(Company::Org, &used.id).unwrap();
        assert_eq!(deleted, vec![gone]);
        assert_eq!(registry.subscriptions(), std::slice::from_ref(&kept));
    }
}
