//! The users report's ConfigMaps (see [`crate::sync::users_report`]): in the resource's own
//! namespace, beside it, each owned by it (`controller: true`, so Kubernetes' garbage collector
//! deletes them with it) and labelled with its uid, so that `kubectl teamssync users NAME` finds
//! them with read access to that namespace alone. A completed sync that read its source publishes
//! its report; a failure to write it (for example a missing RBAC grant) fails nothing else: it is
//! logged, said in `status.usersReport.message` and a Warning Event, and retried next sync.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{ListParams, Patch, PatchParams};
use kube::{Api, Client, Resource, ResourceExt};

use super::config_maps::{delete_if_present, said};
use super::context::{Context, MANAGER, key_of};
use super::events;
use super::record_store::RESOURCE_ANNOTATION;
use crate::api::{TeamsTenantSync, TeamsTenantSyncStatus, UsersReportStatus};
use crate::sync::pipeline::SyncRun;
use crate::sync::ports::{StoredShard, UsersReportStore, UsersReportStoreError};
use crate::sync::report::{SourceState, saturate};
use crate::sync::users_report::write::{ReportMemory, publish};

/// The label that ties a report's ConfigMaps to their resource, by its uid.
pub const REPORT_OF_LABEL: &str = "teamssync.io/users-report-of";
/// The `binaryData` key of a shard's compressed document.
pub const DATA_KEY: &str = "users.json.gz";
/// The Warning Event of a report that could not be written.
pub const REPORT_FAILED: &str = "UsersReportNotWritten";

/// The label selector of the report of the resource with `uid`.
pub fn selector(uid: &str) -> String {
    format!("{REPORT_OF_LABEL}={uid}")
}

/// The name of shard `index` of the report of the resource with `uid`: the uid makes it unique
/// (a resource recreated under the same name has a report of its own) and never clashes with a
/// ConfigMap people name themselves.
pub fn shard_name(uid: &str, index: usize) -> String {
    format!("teamssync-users-{uid}-{index}")
}

/// What the operator remembers of each resource's report, by `namespace/name`, with the uid it
/// was written for.
#[derive(Debug, Default)]
pub struct ReportMemories(Mutex<HashMap<String, (String, ReportMemory)>>);

impl ReportMemories {
    /// Takes the memory of `key`'s report, if it was written for `uid`.
    fn take(&self, key: &str, uid: &str) -> Option<ReportMemory> {
        let mut memories = self.0.lock().expect("report memory lock");
        match memories.remove(key) {
            Some((of, memory)) if of == uid => Some(memory),
            _ => None,
        }
    }

    fn put(&self, key: &str, uid: &str, memory: ReportMemory) {
        self.0
            .lock()
            .expect("report memory lock")
            .insert(key.to_owned(), (uid.to_owned(), memory));
    }

    /// Forgets `key`'s report (the resource is gone).
    pub fn forget(&self, key: &str) {
        self.0.lock().expect("report memory lock").remove(key);
    }
}

/// The report of one resource, as ConfigMaps of its namespace.
pub struct ConfigMapUsersReport {
    api: Api<ConfigMap>,
    uid: String,
    resource: String,
    owner: OwnerReference,
}

impl ConfigMapUsersReport {
    /// The report of `resource`; `None` for a resource without a uid (never stored).
    pub fn new(client: Client, resource: &TeamsTenantSync) -> Option<Self> {
        let mut owner = resource.controller_owner_ref(&())?;
        // Blocking the owner's foreground deletion would need a grant on its finalizers; the
        // garbage collector deletes the report either way.
        owner.block_owner_deletion = None;
        Some(Self {
            api: Api::namespaced(client, &resource.namespace().unwrap_or_default()),
            uid: owner.uid.clone(),
            resource: key_of(resource),
            owner,
        })
    }

    fn error(&self, doing: &str, error: &kube::Error) -> UsersReportStoreError {
        UsersReportStoreError(format!(
            "of {} (ConfigMaps labelled {}) cannot be {doing}: {}",
            self.resource,
            selector(&self.uid),
            said(error)
        ))
    }

    fn list_params(&self) -> ListParams {
        ListParams::default().labels(&selector(&self.uid))
    }
}

impl UsersReportStore for ConfigMapUsersReport {
    fn shard_name(&self, index: usize) -> String {
        shard_name(&self.uid, index)
    }

    async fn read_all(&self) -> Result<Vec<StoredShard>, UsersReportStoreError> {
        let list = self
            .api
            .list(&self.list_params())
            .await
            .map_err(|e| self.error("read", &e))?;
        Ok(list
            .items
            .into_iter()
            .map(|mut map| StoredShard {
                name: map.name_any(),
                resource_version: map.resource_version().unwrap_or_default(),
                payload: map
                    .binary_data
                    .as_mut()
                    .and_then(|data| data.remove(DATA_KEY))
                    .map(|bytes| bytes.0)
                    .unwrap_or_default(),
            })
            .collect())
    }

    async fn versions(&self) -> Result<BTreeMap<String, String>, UsersReportStoreError> {
        let list = self
            .api
            .list_metadata(&self.list_params())
            .await
            .map_err(|e| self.error("read", &e))?;
        Ok(list
            .items
            .into_iter()
            .map(|map| (map.name_any(), map.resource_version().unwrap_or_default()))
            .collect())
    }

    async fn write(&self, name: &str, payload: &[u8]) -> Result<(String, usize), UsersReportStoreError> {
        let map = ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                labels: Some(BTreeMap::from([
                    (REPORT_OF_LABEL.to_owned(), self.uid.clone()),
                    ("app.kubernetes.io/managed-by".to_owned(), MANAGER.to_owned()),
                ])),
                annotations: Some(BTreeMap::from([(
                    RESOURCE_ANNOTATION.to_owned(),
                    self.resource.clone(),
                )])),
                owner_references: Some(vec![self.owner.clone()]),
                ..ObjectMeta::default()
            },
            binary_data: Some(BTreeMap::from([(
                DATA_KEY.to_owned(),
                ByteString(payload.to_vec()),
            )])),
            ..ConfigMap::default()
        };
        let bytes = serde_json::to_vec(&map)
            .map_err(|e| self.error("written", &kube::Error::SerdeError(e)))?
            .len();
        let written = self
            .api
            .patch(name, &PatchParams::apply(MANAGER).force(), &Patch::Apply(&map))
            .await
            .map_err(|e| self.error("written", &e))?;
        Ok((written.resource_version().unwrap_or_default(), bytes))
    }

    async fn delete(&self, name: &str) -> Result<(), UsersReportStoreError> {
        delete_if_present(&self.api, name)
            .await
            .map_err(|e| self.error("deleted", &e))
    }
}

/// Publishes the report of a completed sync and says in `run.status.usersReport` where it is. A
/// sync that did not read its source keeps the last report (its outcomes are not every user's).
pub async fn publish_report(
    ctx: &Context,
    resource: &TeamsTenantSync,
    run: &mut SyncRun,
    previous: Option<&TeamsTenantSyncStatus>,
) {
    let kept = previous.and_then(|status| status.users_report.clone());
    let store = match (
        &run.source,
        ConfigMapUsersReport::new(ctx.client.clone(), resource),
    ) {
        (SourceState::Read, Some(store)) => store,
        _ => {
            run.status.users_report = kept;
            return;
        }
    };
    let (key, name) = (key_of(resource), resource.name_any());
    let namespace = resource.namespace().unwrap_or_default();
    let now = run
        .status
        .last_sync_time
        .as_ref()
        .map_or_else(k8s_openapi::jiff::Timestamp::now, |time| time.0);
    let mut memory = ctx.users_reports.take(&key, &store.uid);
    let publication = publish(&store, &mut memory, &run.plan.outcomes, now).await;
    if let Some(memory) = memory {
        ctx.users_reports.put(&key, &store.uid, memory);
    }
    ctx.metrics
        .record_users_report_written(&namespace, &name, publication.bytes_written as u64);
    run.status.users_report = Some(match publication.result {
        Ok(size) => UsersReportStatus {
            selector: selector(&store.uid),
            config_maps: saturate(size.shards),
            users: saturate(size.users),
            users_omitted: saturate(size.omitted),
            message: None,
        },
        Err(error) => {
            let message = format!("{error}; the next sync tries again");
            tracing::warn!(resource = %key, "users report not written: {message}");
            let repeated = kept.as_ref().and_then(|k| k.message.as_deref()) == Some(message.as_str());
            if !repeated {
                let warning = events::held_warning(REPORT_FAILED, &message, "Sync");
                events::publish(&ctx.recorder, &resource.object_ref(&()), &[warning]).await;
            }
            UsersReportStatus {
                message: Some(message),
                ..kept.unwrap_or_else(|| UsersReportStatus {
                    selector: selector(&store.uid),
                    ..UsersReportStatus::default()
                })
            }
        }
    });
}
