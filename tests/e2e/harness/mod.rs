//! What every e2e scenario shares: the cluster and its namespaces ([`cluster`]), the operator as a
//! child process under a ServiceAccount ([`process`], [`rbac`]), orgs and resources ([`fixtures`]),
//! and [`Env`], which reads and changes the test's namespace as `kubectl` would.

pub mod cluster;
pub mod fixtures;
pub mod logs;
pub mod process;
pub mod rbac;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dialpad_teams_operator::api::conditions::find_condition;
use dialpad_teams_operator::api::{TeamsTenantSync, TeamsTenantSyncStatus};
use dialpad_teams_operator::controller::context::{FINALIZER, SYNC_NOW_ANNOTATION};
use dialpad_teams_operator::upstream::allowed::AllowedEndpoints;
use dialpad_teams_sandbox::Sandbox;
use dialpad_teams_sandbox::fixture::OrgFixture;
use dialpad_teams_sandbox::generator::GeneratedOrg;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event;
use kube::api::{ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::{Api, Client, ResourceExt};
use serde_json::json;

/// The longest any single wait lasts.
pub const WAIT: Duration = Duration::from_secs(120);
/// How often waits poll.
pub const POLL: Duration = Duration::from_millis(250);
/// The field manager of the test's own writes.
pub const MANAGER: &str = "e2e";

/// What a test body gets: a cluster-admin client and its own namespace.
#[derive(Clone)]
pub struct Env {
    /// Cluster-admin client.
    pub client: Client,
    /// The test's namespace.
    pub namespace: String,
    /// The cluster-admin kubeconfig.
    pub kubeconfig: PathBuf,
    /// Set when an in-process operator ends early; waits fail fast with it.
    pub operator_exit: Arc<Mutex<Option<String>>>,
    /// Where the scenario's sandboxes listen.
    pub sandboxes: Arc<fixtures::SandboxSlots>,
}

impl Env {
    /// The same cluster, another of the test's namespaces.
    pub fn in_namespace(&self, namespace: &str) -> Env {
        Env {
            namespace: namespace.to_owned(),
            ..self.clone()
        }
    }

    /// Serves `org` on the next of the scenario's sandbox addresses.
    pub async fn start_sandbox(&self, org: &GeneratedOrg) -> Sandbox {
        self.sandboxes.start(&org.fixture).await
    }

    /// Serves `fixture` on the next of the scenario's sandbox addresses.
    pub async fn start_sandbox_with(&self, fixture: &OrgFixture) -> Sandbox {
        self.sandboxes.start(fixture).await
    }

    /// The operator's arguments that allow the scenario's sandboxes, as a platform admin allows a
    /// local sandbox.
    pub fn allowed_sandbox_args(&self) -> Vec<String> {
        vec!["--allowed-endpoint".into(), self.sandboxes.urls().join(",")]
    }

    /// The same, for an operator in this process.
    pub fn allowed_sandboxes(&self) -> AllowedEndpoints {
        AllowedEndpoints::parse(&self.sandboxes.urls()).expect("loopback URLs")
    }

    pub fn resources(&self) -> Api<TeamsTenantSync> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    pub fn secrets(&self) -> Api<Secret> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    pub fn check_operator(&self, what: &str) {
        if let Some(exit) = self.operator_exit.lock().expect("exit lock").as_ref() {
            panic!("the operator stopped ({exit}) while waiting for {what}");
        }
    }

    /// Creates an Opaque Secret.
    pub async fn put_secret(&self, name: &str, data: &[(&str, &str)]) {
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            type_: Some("Opaque".into()),
            string_data: Some(
                data.iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            ),
            ..Default::default()
        };
        self.secrets()
            .create(&PostParams::default(), &secret)
            .await
            .unwrap_or_else(|e| panic!("cannot create Secret {name}: {e}"));
    }

    /// The two Secrets of [`fixtures::resource`]: the admin account's and Dialpad's API key.
    pub async fn put_credentials(&self, password: &str, api_key: &str) {
        let admin = dialpad_teams_sandbox::generator::ADMIN_UPN;
        self.put_secret("teams-admin", &[("username", admin), ("password", password)])
            .await;
        self.put_secret("dialpad", &[("apiKey", api_key)]).await;
    }

    /// Waits for what the first sync leaves: the finalizer and a status counting `desired` users.
    pub async fn wait_first_status(&self, name: &str, desired: i32) -> TeamsTenantSync {
        let what = format!("the finalizer and a status with summary.desired == {desired}");
        self.wait(name, &what, |r| {
            r.is_some_and(|r| {
                r.finalizers().iter().any(|f| f == FINALIZER)
                    && r.status
                        .as_ref()
                        .and_then(|s| s.summary.as_ref())
                        .is_some_and(|s| s.desired == desired)
            })
        })
        .await
        .expect("exists")
    }

    /// Rotates one key of a Secret, as `kubectl patch --type merge -p '{"stringData":...}'` would.
    pub async fn rotate(&self, name: &str, key: &str, value: &str) {
        let patch = Patch::Merge(json!({"stringData": {key: value}}));
        self.secrets()
            .patch(name, &PatchParams::default(), &patch)
            .await
            .unwrap_or_else(|e| panic!("cannot rotate {key} of Secret {name}: {e}"));
    }

    /// Applies `resource` by server-side apply, as `kubectl apply --server-side` would.
    pub async fn apply(&self, resource: &TeamsTenantSync) -> Result<TeamsTenantSync, kube::Error> {
        self.resources()
            .patch(
                &resource.name_any(),
                &PatchParams::apply(MANAGER),
                &Patch::Apply(resource),
            )
            .await
    }

    /// Asks for a sync now, as `kubectl annotate --overwrite tts NAME teamssync.io/sync-now=...`;
    /// returns the value, which the status echoes once the sync ran.
    pub async fn sync_now(&self, name: &str) -> String {
        let value = format!("{:x}", rand::random::<u64>());
        let patch = Patch::Merge(json!({"metadata": {"annotations": {SYNC_NOW_ANNOTATION: value}}}));
        self.resources()
            .patch(name, &PatchParams::default(), &patch)
            .await
            .unwrap_or_else(|e| panic!("cannot annotate {name} with {SYNC_NOW_ANNOTATION}: {e}"));
        value
    }

    /// Merge-patches the spec, as `kubectl patch tts NAME --type merge -p '{"spec": ...}'`.
    pub async fn patch_spec(&self, name: &str, spec: serde_json::Value) {
        self.resources()
            .patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({ "spec": spec })),
            )
            .await
            .unwrap_or_else(|e| panic!("cannot patch the spec of {name}: {e}"));
    }

    /// Deletes the resource, as `kubectl delete tts NAME` would, and waits until its finalizer
    /// has run and it is gone.
    pub async fn delete_and_wait_gone(&self, name: &str) {
        self.resources()
            .delete(name, &kube::api::DeleteParams::default())
            .await
            .unwrap_or_else(|e| panic!("cannot delete {name}: {e}"));
        self.wait(name, "the resource to be gone (finalizer removed)", |r| {
            r.is_none()
        })
        .await;
    }

    /// Waits until the status says the sync asked for with `value` ran.
    pub async fn wait_handled(&self, name: &str, value: &str) -> TeamsTenantSync {
        self.wait(name, &format!("status.lastHandledSyncNow == {value}"), |r| {
            r.and_then(|r| r.status.as_ref()?.last_handled_sync_now.as_deref()) == Some(value)
        })
        .await
        .expect("exists")
    }

    /// Polls the resource until `done` holds (`None`: it does not exist), for at most [`WAIT`].
    pub async fn wait(
        &self,
        name: &str,
        what: &str,
        done: impl Fn(Option<&TeamsTenantSync>) -> bool,
    ) -> Option<TeamsTenantSync> {
        let started = Instant::now();
        loop {
            self.check_operator(what);
            let seen = match self.resources().get_opt(name).await {
                Ok(resource) if done(resource.as_ref()) => return resource,
                Ok(Some(resource)) => describe(&resource),
                Ok(None) => "the resource does not exist".to_owned(),
                Err(e) => format!("error reading the resource: {e}"),
            };
            if started.elapsed() >= WAIT {
                panic!(
                    "timed out after {WAIT:?} waiting for {what} on {}/{name}; last seen:\n{seen}",
                    self.namespace
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The Events of the namespace (`events.k8s.io/v1`).
    pub async fn events(&self) -> Result<Vec<Event>, kube::Error> {
        let events: Api<Event> = Api::namespaced(self.client.clone(), &self.namespace);
        Ok(events.list(&ListParams::default()).await?.items)
    }

    /// Polls until an Event about `name` has this type and reason, for at most [`WAIT`].
    pub async fn wait_event(&self, name: &str, type_: &str, reason: &str) -> Event {
        let started = Instant::now();
        loop {
            let (about, error) = match self.events().await {
                Ok(events) => (events.into_iter().filter(|e| regards(e, name)).collect(), None),
                Err(e) => (Vec::new(), Some(e)),
            };
            if let Some(event) = about
                .iter()
                .find(|e| e.type_.as_deref() == Some(type_) && e.reason.as_deref() == Some(reason))
            {
                return event.clone();
            }
            if started.elapsed() >= WAIT {
                let seen: Vec<String> = about
                    .iter()
                    .map(|e| format!("{:?} {:?}: {:?}", e.type_, e.reason, e.note))
                    .collect();
                panic!(
                    "timed out after {WAIT:?} waiting for a {type_} Event {reason} about {name}; Events about it: {seen:#?}; last list error: {error:?}"
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

pub fn regards(event: &Event, name: &str) -> bool {
    event
        .regarding
        .as_ref()
        .is_some_and(|r| r.name.as_deref() == Some(name) && r.kind.as_deref() == Some("TeamsTenantSync"))
}

pub fn describe(resource: &TeamsTenantSync) -> String {
    format!(
        "generation {:?}, finalizers {:?}, deletionTimestamp {:?}, annotations {:?}\nstatus: {}",
        resource.metadata.generation,
        resource.finalizers(),
        resource.metadata.deletion_timestamp,
        resource.annotations(),
        serde_yaml::to_string(&resource.status).unwrap_or_default()
    )
}

/// `(status, reason)` of a tenant condition, or empty strings when absent.
pub fn condition(resource: &TeamsTenantSync, type_: &str) -> (String, String) {
    resource
        .status
        .as_ref()
        .and_then(|s| find_condition(&s.conditions, type_))
        .map(|c| (c.status.clone(), c.reason.clone()))
        .unwrap_or_default()
}

/// The reason and message of the condition `type_`.
pub fn reason_and_message(resource: &TeamsTenantSync, type_: &str) -> (String, String) {
    resource
        .status
        .as_ref()
        .and_then(|s| find_condition(&s.conditions, type_))
        .map(|c| (c.reason.clone(), c.message.clone()))
        .unwrap_or_default()
}

pub fn status(resource: &TeamsTenantSync) -> &TeamsTenantSyncStatus {
    resource.status.as_ref().expect("the resource has a status")
}

pub fn by_reason(resource: &TeamsTenantSync) -> BTreeMap<String, i32> {
    resource
        .status
        .as_ref()
        .and_then(|s| s.summary.as_ref())
        .map(|s| s.by_reason.clone())
        .unwrap_or_default()
}

/// Whether the last written status describes the current spec.
pub fn observed(resource: &TeamsTenantSync) -> bool {
    resource.status.as_ref().is_some_and(|s| {
        s.observed_generation.is_some() && s.observed_generation == resource.metadata.generation
    })
}
