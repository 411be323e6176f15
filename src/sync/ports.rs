//! The small traits the core talks through, so it can be tested without HTTP: where desired state
//! comes from, and the Teams tenant it reads and writes.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::time::Duration;

use super::change::{ChangeOutcome, Submission, WriteError};
use super::model::{DesiredState, DesiredUser, TeamsState, TenantChecks};
use super::ownership::OwnershipRecord;
use super::policies::PolicyChange;
use super::targets::{Around, SourceUser};
use crate::api::Reason;

/// Why the desired state could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFailure {
    /// The tenant reason (`SourceCredentialsInvalid`, `SourceWrongCompany`, `TransientError`,
    /// `UnknownError`).
    pub reason: Reason,
    /// What happened and what to do.
    pub message: String,
}

/// Where a source hands its users over page by page while it is still being read.
pub type SourcePages = tokio::sync::mpsc::UnboundedSender<Vec<DesiredUser>>;

/// Where desired assignments come from (Dialpad, or the static list).
pub trait DesiredSource: Sync {
    /// Reads the whole desired state, also sending each page of desired users to `pages` as it
    /// arrives. Pages are a head start, not the state: only the state returned is complete, and
    /// a partial read is an error, never a smaller desired state.
    fn read_by_page(
        &self,
        pages: SourcePages,
    ) -> impl Future<Output = Result<DesiredState, SourceFailure>> + Send;

    /// Reads the whole desired state.
    fn read(&self) -> impl Future<Output = Result<DesiredState, SourceFailure>> + Send {
        let (pages, _) = tokio::sync::mpsc::unbounded_channel();
        self.read_by_page(pages)
    }

    /// Reads the users `ids` again, one by one, for a targeted re-sync: each found user (an id
    /// left out is gone). `None` when this source cannot read single users; the re-sync is
    /// then a full one.
    fn read_users(
        &self,
        ids: &BTreeSet<String>,
    ) -> impl Future<Output = Option<Result<Vec<SourceUser>, SourceFailure>>> + Send {
        let _ = ids;
        std::future::ready(None)
    }
}

/// Sends changes to Teams without waiting for their verdict: what executing a plan needs.
pub trait ChangeSender: Sync {
    /// Sends an assignment of `number` to `user_id`.
    fn submit_assign(
        &self,
        number: &str,
        user_id: &str,
        number_type: &str,
        location_id: Option<&str>,
    ) -> impl Future<Output = Result<Submission, WriteError>> + Send;

    /// Sends an unassignment of `number`.
    fn submit_unassign(
        &self,
        number: &str,
        number_type: &str,
    ) -> impl Future<Output = Result<Submission, WriteError>> + Send;

    /// Sends one request of Teams policy changes (all assignments or all unassignments; see
    /// [`requests`](super::policies::requests)). Teams takes them whole or not at all.
    fn submit_policy_changes(
        &self,
        changes: &[PolicyChange],
    ) -> impl Future<Output = Result<(), WriteError>> + Send;

    /// The most policy changes one request carries.
    fn policy_changes_per_request(&self) -> usize {
        DEFAULT_POLICY_CHANGES_PER_REQUEST
    }

    /// The request budget the sender keeps to (requests per second), if it is limited.
    fn requests_per_second(&self) -> Option<u32>;
}

/// How many policy changes one assign or unassign request carries unless the sender says
/// otherwise. Microsoft documents no maximum for the list (UNCONFIRMED); 20 matches the most
/// requests Graph's JSON batching takes at once, a conservative bound until one is documented.
pub const DEFAULT_POLICY_CHANGES_PER_REQUEST: usize = 20;

/// Reads Teams' verdicts on changes that were sent: what confirming them needs.
pub trait ChangeConfirmer: Sync {
    /// One look at a submitted change: its verdict, or `None` while it runs.
    fn outcome(&self, url: &str) -> impl Future<Output = Result<Option<ChangeOutcome>, WriteError>> + Send;

    /// Who holds each number now (`None`: unassigned), in one paged read: confirms many changes
    /// at the cost of one listing.
    fn holders(&self) -> impl Future<Output = Result<HashMap<String, Option<String>>, WriteError>> + Send;

    /// How long to wait for Teams' verdicts before reporting them as still running.
    fn operation_timeout(&self) -> Duration;
}

/// Why the Teams tenant could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantFailure {
    /// The tenant reason (`TransientError`, `RolesMissing`, `UnknownError`, a sign-in reason).
    pub reason: Reason,
    /// What happened and what to do.
    pub message: String,
}

/// The Teams tenant: its checks, its state, and changes to it.
pub trait TeamsTenant: ChangeSender + ChangeConfirmer {
    /// Signs in and checks the admin (account name, roles or app permissions).
    fn check(&self) -> impl Future<Output = TenantChecks> + Send;

    /// Reads users, licences and assigned numbers.
    fn read(&self) -> impl Future<Output = Result<TeamsState, TenantFailure>> + Send;

    /// Reads the users with the object ids `ids` (their numbers are not read): whom Teams-side
    /// changes name. The default reads everything, which holds them.
    fn read_users_by_id(
        &self,
        ids: &[String],
    ) -> impl Future<Output = Result<TeamsState, TenantFailure>> + Send {
        let _ = ids;
        self.read()
    }

    /// Reads what a targeted re-sync needs (see [`Around`]): the users answering to its
    /// addresses and every number each of them holds, and the holders of its numbers. The
    /// default reads everything, which holds all of that.
    fn read_around(&self, around: &Around) -> impl Future<Output = Result<TeamsState, TenantFailure>> + Send {
        let _ = around;
        self.read()
    }

    /// Who holds each of `numbers` now (`None`: unassigned): confirms a targeted re-sync's
    /// changes without listing every number. The default filters the full listing.
    fn holders_of(
        &self,
        numbers: &[String],
    ) -> impl Future<Output = Result<HashMap<String, Option<String>>, WriteError>> + Send {
        async move {
            let all = self.holders().await?;
            Ok(numbers
                .iter()
                .map(|number| (number.clone(), all.get(number).cloned().flatten()))
                .collect())
        }
    }
}

/// The ownership record could not be read or written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the ownership record {0}")]
pub struct OwnershipStoreError(pub String);

/// Where a resource's [`OwnershipRecord`] is kept between syncs (and across restarts).
pub trait OwnershipStore: Sync {
    /// The record as last saved (empty when there is none yet).
    fn load(&self) -> impl Future<Output = Result<OwnershipRecord, OwnershipStoreError>> + Send;

    /// Replaces the record.
    fn save(&self, record: &OwnershipRecord) -> impl Future<Output = Result<(), OwnershipStoreError>> + Send;
}

/// A record kept in memory: for one-shot commands, which have nowhere else to keep it.
#[derive(Debug, Default)]
pub struct MemoryOwnership(pub std::sync::Mutex<OwnershipRecord>);

impl OwnershipStore for MemoryOwnership {
    async fn load(&self) -> Result<OwnershipRecord, OwnershipStoreError> {
        Ok(self.0.lock().expect("record lock").clone())
    }

    async fn save(&self, record: &OwnershipRecord) -> Result<(), OwnershipStoreError> {
        *self.0.lock().expect("record lock") = record.clone();
        Ok(())
    }
}

/// The users report could not be read or written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the users report {0}")]
pub struct UsersReportStoreError(pub String);

/// One stored shard of the users report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredShard {
    /// Its name.
    pub name: String,
    /// Its `resourceVersion`.
    pub resource_version: String,
    /// The compressed document (empty when the object holds none).
    pub payload: Vec<u8>,
}

/// Where a resource's users report is kept (see [`crate::sync::users_report`]): output only, so
/// nothing it holds ever feeds a sync decision.
pub trait UsersReportStore: Sync {
    /// The name of shard `index`.
    fn shard_name(&self, index: usize) -> String;

    /// Every stored shard with its content: read once, when the operator has no memory of what
    /// it wrote (after a restart).
    fn read_all(&self) -> impl Future<Output = Result<Vec<StoredShard>, UsersReportStoreError>> + Send;

    /// The `resourceVersion` of every stored shard, by name (metadata only).
    fn versions(
        &self,
    ) -> impl Future<Output = Result<std::collections::BTreeMap<String, String>, UsersReportStoreError>> + Send;

    /// Writes shard `name` with `payload`; returns its new `resourceVersion` and the bytes of the
    /// request sent.
    fn write(
        &self,
        name: &str,
        payload: &[u8],
    ) -> impl Future<Output = Result<(String, usize), UsersReportStoreError>> + Send;

    /// Deletes shard `name` (gone already is fine).
    fn delete(&self, name: &str) -> impl Future<Output = Result<(), UsersReportStoreError>> + Send;
}
