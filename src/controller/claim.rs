//! One owner per Microsoft tenant. A resource that changes Teams first claims its tenant: a Lease
//! in the operator's namespace, named after the tenant, whose holder is the resource
//! (`namespace/name`, and its uid in an annotation). A second resource for the same tenant is
//! refused and names the holder; it takes over once the holder is gone (deleted, or replaced by a
//! new object of the same name), which each refused reconcile checks.

use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{DeleteParams, ObjectMeta, PostParams};
use kube::{Api, Client, ResourceExt};

use crate::api::TeamsTenantSync;

/// The annotation holding the uid of the claiming resource.
pub const HOLDER_UID_ANNOTATION: &str = "teamssync.io/holder-uid";

/// The result of claiming a tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// This resource owns the tenant.
    Held,
    /// Another resource owns it.
    Refused {
        /// The owner, as `namespace/name`.
        holder: String,
    },
}

/// The Lease name for `tenant_id`: `tts-tenant-` and the id in lower case, with anything a name
/// cannot hold replaced by `-`.
pub fn lease_name(tenant_id: &str) -> String {
    let id: String = tenant_id
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(200)
        .collect();
    format!("tts-tenant-{}", id.trim_matches(['-', '.']))
}

fn identity(resource: &TeamsTenantSync) -> String {
    format!(
        "{}/{}",
        resource.namespace().unwrap_or_default(),
        resource.name_any()
    )
}

fn holder_uid(lease: &Lease) -> Option<&str> {
    lease.annotations().get(HOLDER_UID_ANNOTATION).map(String::as_str)
}

fn claim_of(resource: &TeamsTenantSync, mut lease: Lease) -> Lease {
    lease
        .annotations_mut()
        .insert(HOLDER_UID_ANNOTATION.into(), resource.uid().unwrap_or_default());
    let spec = lease.spec.get_or_insert_with(Default::default);
    spec.holder_identity = Some(identity(resource));
    spec.acquire_time = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime(
        k8s_openapi::jiff::Timestamp::now(),
    ));
    lease
}

/// Whether the resource a claim names still exists as the same object (same uid) and still
/// syncs the claimed tenant.
async fn holder_alive(client: &Client, lease: &Lease) -> Result<bool, kube::Error> {
    let holder = lease
        .spec
        .as_ref()
        .and_then(|s| s.holder_identity.clone())
        .unwrap_or_default();
    let Some((namespace, name)) = holder.split_once('/') else {
        return Ok(false);
    };
    let api: Api<TeamsTenantSync> = Api::namespaced(client.clone(), namespace);
    match api.get_opt(name).await {
        // The same object, still on this tenant (its tenantId may have been edited since).
        Ok(current) => Ok(current.is_some_and(|r| {
            r.uid().as_deref() == holder_uid(lease)
                && Some(lease_name(&r.spec.tenant.tenant_id)) == lease.metadata.name
        })),
        // A namespace this operator may not read (it watches only some): the claim stands.
        Err(kube::Error::Api(status)) if status.is_forbidden() => Ok(true),
        Err(error) => Err(error),
    }
}

/// Claims the tenant of `resource`, or says who holds it. A claim whose holder no longer exists
/// is taken over; two resources racing for a free claim are settled by the apiserver's
/// optimistic concurrency (create, or replace at the version read).
pub async fn claim(
    client: &Client,
    namespace: &str,
    resource: &TeamsTenantSync,
) -> Result<Claim, kube::Error> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), namespace);
    let name = lease_name(&resource.spec.tenant.tenant_id);
    let uid = resource.uid().unwrap_or_default();
    for _ in 0..3 {
        let result = match leases.get_opt(&name).await? {
            None => {
                let lease = Lease {
                    metadata: ObjectMeta {
                        name: Some(name.clone()),
                        ..Default::default()
                    },
                    ..Default::default()
                };
                leases
                    .create(&PostParams::default(), &claim_of(resource, lease))
                    .await
            }
            Some(lease) if holder_uid(&lease) == Some(uid.as_str()) => return Ok(Claim::Held),
            Some(lease) => {
                if holder_alive(client, &lease).await? {
                    let holder = lease.spec.and_then(|s| s.holder_identity).unwrap_or_default();
                    return Ok(Claim::Refused { holder });
                }
                tracing::info!(tenant = %resource.spec.tenant.tenant_id, claim = %name, "the resource that claimed this tenant is gone; taking over");
                leases
                    .replace(&name, &PostParams::default(), &claim_of(resource, lease))
                    .await
            }
        };
        match result {
            Ok(_) => return Ok(Claim::Held),
            // Someone else created or changed it meanwhile: read again.
            Err(kube::Error::Api(status)) if status.code == 409 => continue,
            Err(error) => return Err(error),
        }
    }
    Err(kube::Error::Api(
        kube::core::Status::failure(
            &format!("the claim {namespace}/{name} kept changing while it was being taken"),
            "Conflict",
        )
        .with_code(409)
        .boxed(),
    ))
}

/// Releases the claim of `resource` on its tenant, if it holds it (a refused resource's delete
/// never frees another's claim).
pub async fn release(
    client: &Client,
    namespace: &str,
    resource: &TeamsTenantSync,
) -> Result<(), kube::Error> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), namespace);
    let name = lease_name(&resource.spec.tenant.tenant_id);
    let Some(lease) = leases.get_opt(&name).await? else {
        return Ok(());
    };
    if holder_uid(&lease) != resource.uid().as_deref() {
        return Ok(());
    }
    let params = DeleteParams {
        preconditions: Some(kube::api::Preconditions {
            uid: lease.uid(),
            resource_version: lease.resource_version(),
        }),
        ..Default::default()
    };
    match leases.delete(&name, &params).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.is_not_found() => Ok(()),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_id_or_domain_becomes_a_valid_lease_name() {
        assert_eq!(
            lease_name("9B5E2C1A-0000-4000-8000-000000000001"),
            "tts-tenant-9b5e2c1a-0000-4000-8000-000000000001"
        );
        assert_eq!(
            lease_name("Contoso.onmicrosoft.com"),
            "tts-tenant-contoso.onmicrosoft.com"
        );
        assert_eq!(lease_name(" odd_id "), "tts-tenant-odd-id");
    }
}
