//! What the ConfigMaps the operator keeps (the ownership record's shards, the users report's)
//! share.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::DeleteParams;

/// What the apiserver said (its `Status` message alone, without the object dump kube's `Display`
/// adds), or the error for one that got no answer.
pub fn said(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => format!("{} ({})", status.message, status.reason),
        other => other.to_string(),
    }
}

/// Deletes ConfigMap `name`; one already gone is fine.
pub async fn delete_if_present(api: &Api<ConfigMap>, name: &str) -> Result<(), kube::Error> {
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.is_not_found() => Ok(()),
        Err(error) => Err(error),
    }
}
