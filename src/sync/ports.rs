//! The small traits the core talks through, so it can be tested without HTTP: where desired state
//! comes from, and the Teams tenant it reads and writes.

use std::future::Future;

use super::model::{DesiredState, DesiredUser, TeamsState, TenantChecks};
use super::ownership::OwnershipRecord;
use crate::api::Reason;
use std::collections::HashMap;
use std::time::Duration;

use crate::microsoft::graph::{GraphError, OperationOutcome, Submitted};

/// Why the desired state could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFailure {
    /// The tenant reason (`SourceCredentialsInvalid`, `TransientError`, `UnknownError`).
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
}

/// Changes numbers in Teams.
pub trait TeamsWriter: Sync {
    /// Assigns `number` to `user_id` and waits for Teams' verdict.
    fn assign(
        &self,
        number: &str,
        user_id: &str,
        number_type: &str,
        location_id: Option<&str>,
    ) -> impl Future<Output = Result<OperationOutcome, GraphError>> + Send;

    /// Unassigns `number` and waits for Teams' verdict.
    fn unassign(
        &self,
        number: &str,
        number_type: &str,
    ) -> impl Future<Output = Result<OperationOutcome, GraphError>> + Send;

    /// Sends an assignment without waiting for Teams' verdict.
    fn submit_assign(
        &self,
        number: &str,
        user_id: &str,
        number_type: &str,
        location_id: Option<&str>,
    ) -> impl Future<Output = Result<Submitted, GraphError>> + Send;

    /// Sends an unassignment without waiting for Teams' verdict.
    fn submit_unassign(
        &self,
        number: &str,
        number_type: &str,
    ) -> impl Future<Output = Result<Submitted, GraphError>> + Send;

    /// One look at a submitted operation: its verdict, or `None` while it runs.
    fn operation_outcome(
        &self,
        url: &str,
    ) -> impl Future<Output = Result<Option<OperationOutcome>, GraphError>> + Send;

    /// Who holds each number now (`None`: unassigned), in one paged read: confirms many
    /// operations at the cost of one listing.
    fn holders(&self) -> impl Future<Output = Result<HashMap<String, Option<String>>, GraphError>> + Send;

    /// The request budget the writer keeps to (requests per second), if it is limited.
    fn requests_per_second(&self) -> Option<u32>;

    /// How long to wait for Teams' verdicts before reporting them as still running.
    fn operation_timeout(&self) -> Duration;
}

/// The Teams tenant: its checks, its state, and changes to it.
pub trait TeamsTenant: TeamsWriter {
    /// Signs in and checks the admin (account name, roles or app permissions).
    fn check(&self) -> impl Future<Output = TenantChecks> + Send;

    /// Reads users, licences and assigned numbers.
    fn read(&self) -> impl Future<Output = Result<TeamsState, GraphError>> + Send;
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
