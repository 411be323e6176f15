//! Where a resource's ownership record lives: ConfigMaps in the operator's own namespace, named
//! after the resource's uid. They outlive the resource's namespace (a namespace deletion cannot
//! take the record with it before cleanup has read it), people who may edit TeamsTenantSyncs
//! cannot edit them, and they hold 100,000 numbers and more: the record is split into shards of
//! at most [`SHARD_CAPACITY`] numbers, each far below the 1 MiB object limit, and only shards
//! whose text changed are written.

use std::collections::HashMap;
use std::sync::Mutex;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{ListParams, Patch, PatchParams};
use kube::{Api, Client, ResourceExt};

use super::config_maps::delete_if_present;
use super::context::MANAGER;
use crate::api::TeamsTenantSync;
use crate::sync::ownership::OwnershipRecord;
use crate::sync::ports::{OwnershipStore, OwnershipStoreError};

/// Numbers per ConfigMap: about 50 bytes each, so a full shard is about 500 KB.
pub const SHARD_CAPACITY: usize = 10_000;
/// The label that ties a shard to its resource.
pub const OWNER_UID_LABEL: &str = "teamssync.io/owner-uid";
/// The annotation naming the resource (`namespace/name`) a shard belongs to.
pub const RESOURCE_ANNOTATION: &str = "teamssync.io/resource";
/// The annotation naming the Microsoft tenant.
pub const TENANT_ANNOTATION: &str = "teamssync.io/tenant";
/// The annotation set when the resource was deleted without unassigning these numbers.
pub const LEFT_ANNOTATION: &str = "teamssync.io/left-assigned";
/// The data key holding the `<number> <teams user id>` lines.
const DATA_KEY: &str = "numbers";

/// The ownership record of one resource, as ConfigMaps in the operator's namespace.
pub struct ConfigMapRecordStore {
    api: Api<ConfigMap>,
    namespace: String,
    uid: String,
    resource: String,
    tenant: String,
    /// Shard name -> text, as last read or written.
    shards: Mutex<HashMap<String, String>>,
}

impl ConfigMapRecordStore {
    /// The record of `resource`, kept in `operator_namespace`.
    pub fn new(client: Client, operator_namespace: &str, resource: &TeamsTenantSync) -> Self {
        Self {
            api: Api::namespaced(client, operator_namespace),
            namespace: operator_namespace.to_owned(),
            uid: resource.uid().unwrap_or_default(),
            resource: format!(
                "{}/{}",
                resource.namespace().unwrap_or_default(),
                resource.name_any()
            ),
            tenant: resource.spec.tenant.tenant_id.clone(),
            shards: Mutex::new(HashMap::new()),
        }
    }

    /// The namespace the record is kept in.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The names of the shards as last read or written, sorted.
    pub fn shard_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.shards.lock().expect("shards lock").keys().cloned().collect();
        names.sort();
        names
    }

    fn shard_name(&self, index: usize) -> String {
        format!("tts-owned-{}-{index}", self.uid)
    }

    fn error(&self, doing: &str, error: impl std::fmt::Display) -> OwnershipStoreError {
        OwnershipStoreError(format!(
            "of {} (ConfigMaps labelled {OWNER_UID_LABEL}={} in namespace {}) cannot be {doing}: {error}",
            self.resource, self.uid, self.namespace
        ))
    }

    /// Deletes every shard: the resource no longer owns anything.
    pub async fn delete(&self) -> Result<(), OwnershipStoreError> {
        self.load().await?;
        for name in self.shard_names() {
            delete_if_present(&self.api, &name)
                .await
                .map_err(|e| self.error("deleted", e))?;
        }
        self.shards.lock().expect("shards lock").clear();
        Ok(())
    }

    /// Marks every shard as left behind, with `note` saying why, so that the record of numbers
    /// still assigned outlives the resource.
    pub async fn mark_left(&self, note: &str) -> Result<(), OwnershipStoreError> {
        let patch = serde_json::json!({"metadata": {"annotations": {LEFT_ANNOTATION: note}}});
        for name in self.shard_names() {
            self.api
                .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map_err(|e| self.error("annotated", e))?;
        }
        Ok(())
    }
}

/// Which shard of `count` a number goes to: by its last digits, which spread evenly.
fn shard_of(number: &str, count: usize) -> usize {
    let tail: u64 = number
        .bytes()
        .rev()
        .filter(u8::is_ascii_digit)
        .take(9)
        .fold((0u64, 1u64), |(sum, scale), digit| {
            (sum + u64::from(digit - b'0') * scale, scale * 10)
        })
        .0;
    (tail % count as u64) as usize
}

/// Which shard of `count` a Teams user's policy lines go to: by the user id's last hex digits
/// (object ids are random GUIDs, so these spread evenly).
fn policy_shard_of(user_id: &str, count: usize) -> usize {
    let tail = user_id
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(16))
        .take(8)
        .fold((0u64, 1u64), |(sum, scale), digit| {
            (sum + u64::from(digit) * scale, scale * 16)
        })
        .0;
    (tail % count as u64) as usize
}

/// The record split into shards: a power of two of them, so that a growing record reshuffles
/// rarely, each with at most about [`SHARD_CAPACITY`] lines (numbers and policies); none for an
/// empty record.
pub fn split(record: &OwnershipRecord) -> Vec<String> {
    if record.is_empty() {
        return Vec::new();
    }
    let lines = record.len() + record.policy_entries().count();
    let count = lines.div_ceil(SHARD_CAPACITY).next_power_of_two();
    let mut shards = vec![String::new(); count];
    for (number, holder) in record.entries() {
        let shard = &mut shards[shard_of(number, count)];
        shard.push_str(number);
        shard.push(' ');
        shard.push_str(holder);
        shard.push('\n');
    }
    for ((user, _, _), line) in record.policy_entries().zip(record.policy_lines()) {
        shards[policy_shard_of(user, count)].push_str(&line);
    }
    shards
}

impl OwnershipStore for ConfigMapRecordStore {
    async fn load(&self) -> Result<OwnershipRecord, OwnershipStoreError> {
        let params = ListParams::default().labels(&format!("{OWNER_UID_LABEL}={}", self.uid));
        let list = self.api.list(&params).await.map_err(|e| self.error("read", e))?;
        let mut texts = HashMap::new();
        let mut record = OwnershipRecord::default();
        for map in list.items {
            let name = map.name_any();
            let text = map
                .data
                .as_ref()
                .and_then(|d| d.get(DATA_KEY))
                .cloned()
                .unwrap_or_default();
            let shard =
                OwnershipRecord::parse(&text).map_err(|e| self.error("read", format!("{name}: {e}")))?;
            record.extend(shard);
            texts.insert(name, text);
        }
        *self.shards.lock().expect("shards lock") = texts;
        Ok(record)
    }

    async fn save(&self, record: &OwnershipRecord) -> Result<(), OwnershipStoreError> {
        let shards = split(record);
        let before = self.shards.lock().expect("shards lock").clone();
        let mut after = HashMap::new();
        for (index, text) in shards.into_iter().enumerate() {
            let name = self.shard_name(index);
            if before.get(&name) != Some(&text) {
                let map = serde_json::json!({
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {
                        "name": name,
                        "labels": {
                            OWNER_UID_LABEL: self.uid,
                            "app.kubernetes.io/managed-by": MANAGER,
                        },
                        "annotations": {
                            RESOURCE_ANNOTATION: self.resource,
                            TENANT_ANNOTATION: self.tenant,
                        },
                    },
                    "data": {DATA_KEY: text},
                });
                self.api
                    .patch(&name, &PatchParams::apply(MANAGER).force(), &Patch::Apply(&map))
                    .await
                    .map_err(|e| self.error("written", e))?;
            }
            after.insert(name, text);
        }
        for name in before.keys().filter(|name| !after.contains_key(*name)) {
            delete_if_present(&self.api, name)
                .await
                .map_err(|e| self.error("written", e))?;
        }
        *self.shards.lock().expect("shards lock") = after;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(count: usize) -> OwnershipRecord {
        OwnershipRecord::from_entries((0..count).map(|i| {
            (
                format!("+1415{:07}", i * 7),
                format!("00000000-0000-0000-0000-{i:012}"),
            )
        }))
    }

    #[test]
    fn a_hundred_thousand_numbers_fit_in_shards_far_below_the_object_limit() {
        let shards = split(&record(100_000));
        assert_eq!(shards.len(), 16);
        let largest = shards.iter().map(String::len).max().unwrap();
        assert!(largest < 512 * 1024, "largest shard {largest} bytes");
        let text: String = shards.concat();
        assert_eq!(OwnershipRecord::parse(&text).unwrap(), record(100_000));
    }

    #[test]
    fn policies_are_kept_in_the_shards_beside_the_numbers_and_read_back() {
        use crate::sync::policies::{PolicyChange, PolicyKind};
        let changes: Vec<PolicyChange> = (0..30_000)
            .map(|i| PolicyChange::Assign {
                user_id: format!("00000000-0000-0000-0000-{i:012x}"),
                kind: PolicyKind::VoiceRouting,
                policy_id: "5f2e3c1a-0000-4000-8000-000000000001".into(),
            })
            .collect();
        let with_policies = record(10_000).with_policy_changes(&changes);
        let shards = split(&with_policies);
        assert_eq!(shards.len(), 4, "40,000 lines in shards of at most 10,000");
        let mut read = OwnershipRecord::default();
        for shard in &shards {
            read.extend(OwnershipRecord::parse(shard).unwrap());
        }
        assert_eq!(read, with_policies);
        assert!(
            shards
                .iter()
                .all(|shard| shard.contains("policy voiceRoutingPolicy "))
        );
    }

    #[test]
    fn an_empty_record_has_no_shards_and_a_small_one_has_one() {
        assert!(split(&OwnershipRecord::default()).is_empty());
        assert_eq!(split(&record(3)).len(), 1);
    }
}
