//! Why a reconcile failed. The controller retries it with backoff ([`super::reconcile::error_policy`]);
//! the kind labels the `dialpad_teams_reconcile_errors_total` metric.

/// Why a reconcile failed (it is retried with backoff).
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The Kubernetes API failed.
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// The finalizer could not be handled.
    #[error("finalizer: {0}")]
    Finalizer(String),
    /// The resource has no namespace (the CRD is namespaced, so this is a bug upstream of us).
    #[error("the resource has no namespace")]
    NoNamespace,
    /// Deleting the resource would unassign numbers, and that cannot be done now.
    #[error("cannot apply the removal policy on delete: {0}")]
    Cleanup(String),
    /// The ownership record could not be read, or written before a change (nothing was changed).
    #[error("{0}; nothing was changed, retrying")]
    Ownership(String),
    /// The Secret cache of the namespace has no complete list yet (the operator cannot list or
    /// watch Secrets there: its log says why).
    #[error(
        "the Secrets of namespace {0} are not readable yet: the operator needs list and watch on secrets there (see its log)"
    )]
    SecretCacheNotSynced(String),
}

impl ReconcileError {
    /// A short label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            ReconcileError::Kube(_) => "KubernetesApi",
            ReconcileError::Finalizer(_) => "Finalizer",
            ReconcileError::NoNamespace => "NoNamespace",
            ReconcileError::Cleanup(_) => "Cleanup",
            ReconcileError::Ownership(_) => "OwnershipRecord",
            ReconcileError::SecretCacheNotSynced(_) => "SecretCacheNotSynced",
        }
    }

    /// Whether the apiserver refused a request for want of a permission.
    pub fn is_forbidden(&self) -> bool {
        matches!(self, ReconcileError::Kube(kube::Error::Api(status)) if status.is_forbidden())
    }
}
