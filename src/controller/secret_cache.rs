//! What the operator holds of a scope's Secrets: the name and resourceVersion of every Secret (a
//! metadata-only watch, stripped to those two, so that a change re-syncs the resources that use
//! it), and the data of the Secrets resources reference, read by GET the first time a sync needs a
//! resourceVersion it does not hold. An unchanged Secret is never read twice, a rotated one once;
//! data is dropped when its Secret changes or goes, or when no resource references it any more.
//! Unrelated Secrets cost the operator a name and a version each, whatever their size.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use k8s_openapi::api::core::v1::Secret;
use kube::api::{ObjectMeta, PartialObjectMeta};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Api, Client, ResourceExt};

use super::error::ReconcileError;
use super::ready::store_ready;
use super::secrets::{KubeSecrets, SecretData, referenced_secrets};
use crate::api::TeamsTenantSync;

/// How long a reconcile waits for the scope's Secret watch to hold its first complete list.
pub const LISTED_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// A Secret as the metadata watch lists it.
pub type ListedSecret = PartialObjectMeta<Secret>;

/// `(namespace, name)` of a Secret.
type Key = (String, String);

/// The data of one Secret, at the resourceVersion it was read at.
struct Held {
    resource_version: String,
    data: Arc<SecretData>,
}

/// The Secrets of one watched scope (see the module documentation). Clones share the same data.
#[derive(Clone)]
pub struct SecretCache {
    listed: Store<ListedSecret>,
    held: Arc<Mutex<HashMap<Key, Held>>>,
}

/// What a sync does for one referenced Secret.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The watch does not list it: it does not exist (or the operator may not see it).
    Missing,
    /// The data held is that of the listed resourceVersion.
    Held,
    /// It exists and the data held (if any) is of another version: read it.
    Read,
}

/// Decides [`Lookup`] from the listed resourceVersion and the one whose data is held.
pub fn lookup(listed: Option<&str>, held: Option<&str>) -> Lookup {
    match (listed, held) {
        (None, _) => Lookup::Missing,
        (Some(listed), Some(held)) if listed == held => Lookup::Held,
        (Some(_), _) => Lookup::Read,
    }
}

/// Whether a watch event makes data held at `held` stale: the Secret went, or changed.
pub fn evicts(event: &watcher::Event<ListedSecret>, held: &str) -> bool {
    match event {
        watcher::Event::Delete(_) => true,
        watcher::Event::Apply(secret) | watcher::Event::InitApply(secret) => {
            secret.metadata.resource_version.as_deref() != Some(held)
        }
        watcher::Event::Init | watcher::Event::InitDone => false,
    }
}

/// Keeps of a listed Secret only what the cache and the re-sync mapper use: name, namespace and
/// resourceVersion. Annotations especially go: client-side `kubectl apply` writes the whole applied
/// configuration, a Secret's data included, to `kubectl.kubernetes.io/last-applied-configuration`
/// (<https://kubernetes.io/docs/tasks/manage-kubernetes-objects/declarative-config/>).
pub fn strip(secret: &mut ListedSecret) {
    let meta = std::mem::take(&mut secret.metadata);
    secret.metadata = ObjectMeta {
        name: meta.name,
        namespace: meta.namespace,
        resource_version: meta.resource_version,
        ..Default::default()
    };
    secret.types = None;
}

/// `(namespace, name)` of every Secret one of `resources` references.
pub fn in_use(resources: &[Arc<TeamsTenantSync>]) -> BTreeSet<Key> {
    resources
        .iter()
        .flat_map(|resource| {
            let namespace = resource.namespace().unwrap_or_default();
            referenced_secrets(&resource.spec)
                .into_iter()
                .map(move |name| (namespace.clone(), name))
        })
        .collect()
}

impl SecretCache {
    /// A cache over `listed`, the store the scope's metadata watch fills.
    pub fn new(listed: Store<ListedSecret>) -> Self {
        Self {
            listed,
            held: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The store of listed Secrets (ready once the watch's first list is complete).
    pub fn listed(&self) -> &Store<ListedSecret> {
        &self.listed
    }

    /// Drops the data a watch event makes stale; call it for every event of the metadata watch.
    pub fn observe(&self, event: &watcher::Event<ListedSecret>) {
        let secret = match event {
            watcher::Event::Apply(s) | watcher::Event::InitApply(s) | watcher::Event::Delete(s) => s,
            watcher::Event::Init | watcher::Event::InitDone => return,
        };
        let key = (secret.namespace().unwrap_or_default(), secret.name_any());
        let mut held = self.held.lock().expect("secret cache lock");
        if held.get(&key).is_some_and(|h| evicts(event, &h.resource_version)) {
            held.remove(&key);
        }
    }

    /// Drops the data of every Secret that `in_use` (see [`in_use`]) does not name.
    pub fn retain(&self, in_use: &BTreeSet<Key>) {
        self.held
            .lock()
            .expect("secret cache lock")
            .retain(|key, _| in_use.contains(key));
    }

    /// `names` of `namespace`, as a sync reads them: a Secret the watch does not list is missing
    /// (the sync reports it as `SecretInvalid`), one whose listed version is held comes from
    /// memory, any other is read once. The watch must have listed (see [`Self::listed`]), or every
    /// Secret looks missing.
    pub async fn read(
        &self,
        client: &Client,
        namespace: &str,
        names: &[String],
    ) -> Result<KubeSecrets, kube::Error> {
        let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
        let mut found = BTreeMap::new();
        for name in names {
            let key = (namespace.to_owned(), name.clone());
            let listed = self.listed.get(&ObjectRef::new(name).within(namespace));
            let listed = listed
                .as_ref()
                .and_then(|s| s.metadata.resource_version.as_deref());
            let held = self.held_version(&key);
            match lookup(listed, held.as_ref().map(|(version, _)| version.as_str())) {
                Lookup::Missing => self.forget(&key),
                Lookup::Held => {
                    if let Some(held) = held {
                        found.insert(name.clone(), held);
                    }
                }
                Lookup::Read => match api.get_opt(name).await? {
                    Some(secret) => {
                        let version = secret.metadata.resource_version.clone().unwrap_or_default();
                        let data = Arc::new(data_of(secret));
                        self.hold(key, &version, data.clone());
                        found.insert(name.clone(), (version, data));
                    }
                    None => self.forget(&key),
                },
            }
        }
        Ok(KubeSecrets::new(namespace, names, found))
    }

    /// The Secrets `resource` references, once the scope's Secret watch has listed (waiting at
    /// most [`LISTED_WAIT`]; until then every Secret would look missing).
    pub async fn referenced_by(
        &self,
        client: &Client,
        namespace: &str,
        resource: &TeamsTenantSync,
    ) -> Result<KubeSecrets, ReconcileError> {
        match tokio::time::timeout(LISTED_WAIT, store_ready(&self.listed)).await {
            Ok(true) => {
                let names = referenced_secrets(&resource.spec);
                Ok(self.read(client, namespace, &names).await?)
            }
            _ => Err(ReconcileError::SecretCacheNotSynced {
                namespace: namespace.to_owned(),
            }),
        }
    }

    fn held_version(&self, key: &Key) -> Option<(String, Arc<SecretData>)> {
        let held = self.held.lock().expect("secret cache lock");
        held.get(key)
            .map(|h| (h.resource_version.clone(), h.data.clone()))
    }

    fn hold(&self, key: Key, version: &str, data: Arc<SecretData>) {
        let held = Held {
            resource_version: version.to_owned(),
            data,
        };
        self.held.lock().expect("secret cache lock").insert(key, held);
    }

    fn forget(&self, key: &Key) {
        self.held.lock().expect("secret cache lock").remove(key);
    }
}

/// A Secret's keys and values (`stringData` folded in, as the apiserver would).
fn data_of(secret: Secret) -> SecretData {
    let mut data: SecretData = secret
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect();
    for (key, value) in secret.string_data.unwrap_or_default() {
        data.insert(key, value.into_bytes());
    }
    data
}

#[cfg(test)]
#[path = "secret_cache_tests.rs"]
mod tests;
