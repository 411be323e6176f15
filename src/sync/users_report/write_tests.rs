use std::sync::Mutex;

use super::*;
use crate::api::Reason;
use crate::sync::model::UserKey;
use crate::sync::ports::StoredShard;

/// Shards in memory, counting the requests that write.
#[derive(Default)]
struct FakeStore {
    shards: Mutex<BTreeMap<String, (u64, Vec<u8>)>>,
    version: Mutex<u64>,
    writes: Mutex<usize>,
    full_reads: Mutex<usize>,
    refuse_writes: bool,
}

impl FakeStore {
    fn writes(&self) -> usize {
        *self.writes.lock().unwrap()
    }

    fn tamper(&self, name: &str) {
        let mut version = self.version.lock().unwrap();
        *version += 1;
        self.shards
            .lock()
            .unwrap()
            .insert(name.to_owned(), (*version, b"edited".to_vec()));
    }
}

impl UsersReportStore for FakeStore {
    fn shard_name(&self, index: usize) -> String {
        format!("report-{index}")
    }

    async fn read_all(&self) -> Result<Vec<StoredShard>, UsersReportStoreError> {
        *self.full_reads.lock().unwrap() += 1;
        Ok(self
            .shards
            .lock()
            .unwrap()
            .iter()
            .map(|(name, (version, payload))| StoredShard {
                name: name.clone(),
                resource_version: version.to_string(),
                payload: payload.clone(),
            })
            .collect())
    }

    async fn versions(&self) -> Result<BTreeMap<String, String>, UsersReportStoreError> {
        Ok(self
            .shards
            .lock()
            .unwrap()
            .iter()
            .map(|(name, (version, _))| (name.clone(), version.to_string()))
            .collect())
    }

    async fn write(&self, name: &str, payload: &[u8]) -> Result<(String, usize), UsersReportStoreError> {
        if self.refuse_writes {
            return Err(UsersReportStoreError("cannot be written: forbidden".into()));
        }
        *self.writes.lock().unwrap() += 1;
        let mut version = self.version.lock().unwrap();
        *version += 1;
        self.shards
            .lock()
            .unwrap()
            .insert(name.to_owned(), (*version, payload.to_vec()));
        Ok((version.to_string(), payload.len()))
    }

    async fn delete(&self, name: &str) -> Result<(), UsersReportStoreError> {
        *self.writes.lock().unwrap() += 1;
        self.shards.lock().unwrap().remove(name);
        Ok(())
    }
}

fn outcomes(count: usize, failing: usize) -> Vec<UserOutcome> {
    (0..count)
        .map(|i| {
            let reason = if i < failing {
                Reason::TeamsUserNotFound
            } else {
                Reason::InSync
            };
            UserOutcome {
                key: UserKey::Dialpad(format!("{i}")),
                email: Some(format!("user{i}@example.com")),
                phone_number: Some(format!("+1415{i:07}")),
                dialpad_user_id: Some(format!("{i}")),
                teams_user_id: None,
                reason,
                message: format!("{reason}"),
                desired: true,
            }
        })
        .collect()
}

fn now(day: u8) -> Timestamp {
    format!("2026-12-{day:02}T00:00:00Z").parse().unwrap()
}

#[tokio::test]
async fn a_sync_whose_report_is_unchanged_writes_nothing() {
    let store = FakeStore::default();
    let mut memory = None;
    let first = publish(&store, &mut memory, &outcomes(5_000, 300), now(1)).await;
    let size = first.result.unwrap();
    assert_eq!((size.users, size.shards, size.omitted), (5_000, 4, 0));
    assert_eq!(store.writes(), 4);
    assert!(first.bytes_written > 0);
    let second = publish(&store, &mut memory, &outcomes(5_000, 300), now(2)).await;
    second.result.unwrap();
    assert_eq!((store.writes(), second.bytes_written, second.requests), (4, 0, 0));
}

#[tokio::test]
async fn after_a_restart_the_report_is_read_back_once_and_not_rewritten() {
    let store = FakeStore::default();
    publish(&store, &mut None, &outcomes(3_000, 10), now(1))
        .await
        .result
        .unwrap();
    let writes = store.writes();
    let mut memory = None;
    let again = publish(&store, &mut memory, &outcomes(3_000, 10), now(5)).await;
    again.result.unwrap();
    publish(&store, &mut memory, &outcomes(3_000, 10), now(6))
        .await
        .result
        .unwrap();
    assert_eq!(store.writes(), writes, "nothing changed, so nothing is written");
    assert_eq!(*store.full_reads.lock().unwrap(), 2, "one read back per restart");
    let since = &memory.unwrap().since["dialpad/1"];
    assert_eq!(since.1, now(1), "since is carried across the restart");
}

#[tokio::test]
async fn a_tampered_shard_is_simply_rewritten() {
    let store = FakeStore::default();
    let mut memory = None;
    publish(&store, &mut memory, &outcomes(10, 2), now(1))
        .await
        .result
        .unwrap();
    store.tamper("report-0");
    let next = publish(&store, &mut memory, &outcomes(10, 2), now(2)).await;
    next.result.unwrap();
    assert_eq!(next.requests, 1);
    let (_, payload) = store.shards.lock().unwrap()["report-0"].clone();
    assert_eq!(decode(&payload).unwrap().0.users.len(), 10);
}

#[tokio::test]
async fn a_shrinking_report_deletes_the_shards_it_no_longer_needs() {
    let store = FakeStore::default();
    let mut memory = None;
    publish(&store, &mut memory, &outcomes(5_000, 0), now(1))
        .await
        .result
        .unwrap();
    publish(&store, &mut memory, &outcomes(5, 0), now(2))
        .await
        .result
        .unwrap();
    let names: Vec<String> = store.shards.lock().unwrap().keys().cloned().collect();
    assert_eq!(names, ["report-0"]);
}

#[tokio::test]
async fn a_refused_write_is_an_error_that_the_next_sync_retries() {
    let store = FakeStore {
        refuse_writes: true,
        ..FakeStore::default()
    };
    let mut memory = None;
    let failed = publish(&store, &mut memory, &outcomes(10, 2), now(1)).await;
    let error = failed.result.unwrap_err().to_string();
    assert!(error.contains("forbidden"), "{error}");
    assert!(
        memory.as_ref().unwrap().written.is_empty(),
        "nothing is remembered as written"
    );
}
