//! Why a reconcile failed. The controller retries it with backoff ([`super::reconcile::error_policy`]);
//! the kind labels the `dialpad_teams_reconcile_errors_total` metric. Each phase's error keeps
//! its cause: a Kubernetes error, the ownership store's, or why deletion cannot unassign yet.

use std::fmt;
use std::time::Duration;

use kube::runtime::finalizer;

use crate::api::Reason;
use crate::connect::setup::SetupFailure;
use crate::sync::change::{Refusal, WriteError};
use crate::sync::ports::{OwnershipStoreError, TenantFailure};

/// Why a reconcile failed (it is retried with backoff).
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The Kubernetes API failed.
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// The finalizer could not be added or removed.
    #[error("finalizer: {0}")]
    Finalizer(#[source] Box<finalizer::Error<ReconcileError>>),
    /// The resource has no namespace (the CRD is namespaced, so this is a bug upstream of us).
    #[error("the resource has no namespace")]
    NoNamespace,
    /// Deleting the resource would unassign numbers, and that cannot be done now.
    #[error(
        "cannot apply the removal policy on delete: {blocked}{}",
        retry_note(*.timeout)
    )]
    Cleanup {
        /// What stops it.
        #[source]
        blocked: CleanupBlocked,
        /// How long after the deletion request deletion waits before it gives up.
        timeout: Duration,
    },
    /// The ownership record could not be read, or written before a change (nothing was changed).
    #[error("{0}; nothing was changed, retrying")]
    Ownership(#[from] OwnershipStoreError),
    /// The Secret cache of the namespace has no complete list yet (the operator cannot list or
    /// watch Secrets there: its log says why).
    #[error(
        "the Secrets of namespace {namespace} are not readable yet: the operator needs list and watch on secrets there (see its log)"
    )]
    SecretCacheNotSynced {
        /// The namespace whose Secrets are not cached.
        namespace: String,
    },
}

impl ReconcileError {
    /// A short label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            ReconcileError::Kube(_) => "KubernetesApi",
            ReconcileError::Finalizer(_) => "Finalizer",
            ReconcileError::NoNamespace => "NoNamespace",
            ReconcileError::Cleanup { .. } => "Cleanup",
            ReconcileError::Ownership(_) => "OwnershipRecord",
            ReconcileError::SecretCacheNotSynced { .. } => "SecretCacheNotSynced",
        }
    }

    /// Whether the apiserver refused a request for want of a permission.
    pub fn is_forbidden(&self) -> bool {
        matches!(self, ReconcileError::Kube(kube::Error::Api(status)) if status.is_forbidden())
    }
}

/// What a deletion that cannot finish yet will do: retry, then leave the numbers.
pub fn retry_note(timeout: Duration) -> String {
    format!(
        "; retrying until {timeout:?} after the deletion request, then the numbers are left assigned; to delete without unassigning now, set spec.removal.policy to Retain"
    )
}

/// Why deleting a resource cannot unassign the numbers it owns now (deletion waits, then gives
/// up and leaves them).
#[derive(Debug, thiserror::Error)]
pub enum CleanupBlocked {
    /// The ownership record cannot be read.
    #[error(transparent)]
    Record(#[from] OwnershipStoreError),
    /// The resource's Secrets cannot be read.
    #[error(transparent)]
    Secrets(Box<ReconcileError>),
    /// Signing in cannot be set up, and there is no earlier sign-in to use.
    #[error("{}; and no earlier sign-in is at hand (the operator restarted since the last sync)", .0.message)]
    SignIn(SetupFailure),
    /// Signing in, or the admin's roles or permissions, failed.
    #[error("{reason}: {message}")]
    Check {
        /// The tenant reason.
        reason: Reason,
        /// What happened and what to do.
        message: String,
    },
    /// Teams could not be read.
    #[error("{}", .0.message)]
    Read(TenantFailure),
    /// Unassigning would pass the safety limit.
    #[error(
        "deleting would unassign {count} numbers and Teams policies, more than spec.safety.maxUnassignmentsPerSync ({limit})"
    )]
    OverLimit {
        /// Numbers and policies to unassign.
        count: usize,
        /// `spec.safety.maxUnassignmentsPerSync`.
        limit: usize,
    },
    /// Some numbers were not unassigned.
    #[error("{} of {attempted} numbers could not be unassigned ({})", failed.len(), join(failed))]
    Unassign {
        /// Each number that stays assigned, and why.
        failed: Vec<NotUnassigned>,
        /// How many were tried.
        attempted: usize,
    },
    /// Teams policies this resource assigned could not be unassigned.
    #[error("{failed} of {attempted} Teams policies this resource assigned could not be unassigned: {error}")]
    PolicyUnassign {
        /// How many stay assigned.
        failed: usize,
        /// How many were tried.
        attempted: usize,
        /// Why (the first failed request's error).
        error: WriteError,
    },
}

/// One number deletion could not unassign.
#[derive(Debug)]
pub struct NotUnassigned {
    /// The number.
    pub number: String,
    /// Teams refused, or the change could not be sent or confirmed.
    pub why: Result<Refusal, WriteError>,
}

impl fmt::Display for NotUnassigned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.why {
            Ok(refusal) => write!(f, "{}: {}", self.number, refusal.detail()),
            Err(error) => write!(f, "{}: {error}", self.number),
        }
    }
}

fn join(failed: &[NotUnassigned]) -> String {
    failed
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blocked_deletion_names_each_number_left_and_how_it_will_end() {
        let blocked = CleanupBlocked::Unassign {
            failed: vec![
                NotUnassigned {
                    number: "+15550100".into(),
                    why: Ok(Refusal::Conflict("held by another user".into())),
                },
                NotUnassigned {
                    number: "+15550101".into(),
                    why: Err(WriteError {
                        message: "Graph answered 503".into(),
                        transient: true,
                    }),
                },
            ],
            attempted: 3,
        };
        let error = ReconcileError::Cleanup {
            blocked,
            timeout: Duration::from_secs(3600),
        };
        assert_eq!(
            error.to_string(),
            "cannot apply the removal policy on delete: 2 of 3 numbers could not be unassigned \
             (+15550100: held by another user; +15550101: Graph answered 503); retrying until 3600s \
             after the deletion request, then the numbers are left assigned; to delete without \
             unassigning now, set spec.removal.policy to Retain"
        );
        assert_eq!(error.kind(), "Cleanup");
    }

    #[test]
    fn an_ownership_store_failure_keeps_its_cause() {
        let error = ReconcileError::from(OwnershipStoreError("cannot be read: forbidden".into()));
        let source = std::error::Error::source(&error).map(ToString::to_string);
        assert_eq!(
            source.as_deref(),
            Some("the ownership record cannot be read: forbidden")
        );
    }
}
