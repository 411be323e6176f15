//! The small traits the core talks through, so it can be tested without HTTP: where desired state
//! comes from, and the Teams tenant it reads and writes.

use std::future::Future;

use super::model::{DesiredState, TeamsState, TenantChecks};
use crate::api::Reason;
use crate::microsoft::graph::{GraphError, OperationOutcome};

/// Why the desired state could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFailure {
    /// The tenant reason (`SourceCredentialsInvalid`, `TransientError`, `UnknownError`).
    pub reason: Reason,
    /// What happened and what to do.
    pub message: String,
}

/// Where desired assignments come from (Dialpad, or the static list).
pub trait DesiredSource {
    /// Reads the whole desired state; a partial read is an error, never a smaller desired state.
    fn read(&self) -> impl Future<Output = Result<DesiredState, SourceFailure>> + Send;
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
}

/// The Teams tenant: its checks, its state, and changes to it.
pub trait TeamsTenant: TeamsWriter {
    /// Signs in and checks the admin (account name, roles or app permissions).
    fn check(&self) -> impl Future<Output = TenantChecks> + Send;

    /// Reads users, licences and assigned numbers.
    fn read(&self) -> impl Future<Output = Result<TeamsState, GraphError>> + Send;
}
