//! Publishing a report through a [`UsersReportStore`]: read back once when nothing is
//! remembered, then write only the shards [`plan_writes`] picks and delete the ones no longer
//! needed, remembering what was written.

use std::collections::BTreeMap;

use k8s_openapi::jiff::Timestamp;

use super::shards::{self, ShardError, WrittenShard, decode, digest, encode, plan_writes, split};
use super::{MAX_USERS, SinceIndex, build, since_index};
use crate::sync::model::UserOutcome;
use crate::sync::ports::{UsersReportStore, UsersReportStoreError};

/// What the operator remembers of a resource's report between syncs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportMemory {
    /// Each shard as last written (or read back), by name.
    pub written: BTreeMap<String, WrittenShard>,
    /// Since when each user has had their reason.
    pub since: SinceIndex,
}

/// Why a report was not (completely) published.
#[derive(Debug, thiserror::Error)]
pub enum UsersReportError {
    /// Reading or writing the store failed.
    #[error(transparent)]
    Store(#[from] UsersReportStoreError),
    /// A shard could not be made.
    #[error(transparent)]
    Shard(#[from] ShardError),
}

/// The size of a published report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReportSize {
    /// Shards it takes.
    pub shards: usize,
    /// Users it lists.
    pub users: usize,
    /// Users left out past its bound.
    pub omitted: usize,
}

/// What publishing did.
#[derive(Debug)]
pub struct Publication {
    /// Bytes of the write requests sent (also when a later one failed).
    pub bytes_written: usize,
    /// Shards written and deleted.
    pub requests: usize,
    /// The report's size, or why it is not all published (retried next sync).
    pub result: Result<ReportSize, UsersReportError>,
}

/// Publishes the report of `outcomes` at `now` to `store`. `memory` is what was last written
/// (`None` after a restart: the stored shards are read back first, once); it is updated with
/// every write that succeeded, so a failure part-way is finished by the next sync.
pub async fn publish<S: UsersReportStore>(
    store: &S,
    memory: &mut Option<ReportMemory>,
    outcomes: &[UserOutcome],
    now: Timestamp,
) -> Publication {
    let mut publication = Publication {
        bytes_written: 0,
        requests: 0,
        result: Ok(ReportSize::default()),
    };
    publication.result = publish_counting(store, memory, outcomes, now, &mut publication).await;
    publication
}

async fn publish_counting<S: UsersReportStore>(
    store: &S,
    memory: &mut Option<ReportMemory>,
    outcomes: &[UserOutcome],
    now: Timestamp,
    counts: &mut Publication,
) -> Result<ReportSize, UsersReportError> {
    let stored = match memory {
        Some(_) => store.versions().await?,
        None => {
            let (remembered, stored) = read_back(store).await?;
            *memory = Some(remembered);
            stored
        }
    };
    let memory = memory.get_or_insert_with(ReportMemory::default);
    let report = build(outcomes, &memory.since, now, MAX_USERS);
    let size = ReportSize {
        shards: shards::shard_count(report.entries.len()),
        users: report.entries.len(),
        omitted: report.omitted,
    };
    memory.since = since_index(&report.entries);
    let documents = split(report);
    let wanted = documents
        .iter()
        .map(|document| Ok((store.shard_name(document.shard), digest(document)?)))
        .collect::<Result<Vec<_>, ShardError>>()?;
    let writes = plan_writes(&wanted, &memory.written, &stored);
    for index in writes.write {
        let (name, digest) = &wanted[index];
        let encoded = encode(&documents[index])?;
        let (resource_version, bytes) = store.write(name, &encoded.payload).await?;
        counts.bytes_written += bytes;
        counts.requests += 1;
        memory.written.insert(
            name.clone(),
            WrittenShard {
                digest: *digest,
                resource_version,
            },
        );
    }
    for name in writes.delete {
        store.delete(&name).await?;
        counts.requests += 1;
        memory.written.remove(&name);
    }
    Ok(size)
}

/// What the stored shards say was written, and their versions. A shard that does not decode
/// (edited by hand) is not remembered, so it is written again.
async fn read_back<S: UsersReportStore>(
    store: &S,
) -> Result<(ReportMemory, BTreeMap<String, String>), UsersReportStoreError> {
    let mut memory = ReportMemory::default();
    let mut stored = BTreeMap::new();
    for shard in store.read_all().await? {
        if let Ok((document, digest)) = decode(&shard.payload) {
            memory.since.extend(since_index(&document.users));
            memory.written.insert(
                shard.name.clone(),
                WrittenShard {
                    digest,
                    resource_version: shard.resource_version.clone(),
                },
            );
        }
        stored.insert(shard.name, shard.resource_version);
    }
    Ok((memory, stored))
}

#[cfg(test)]
#[path = "write_tests.rs"]
mod tests;
