//! One owner per Microsoft tenant. A resource that changes Teams first claims its tenant: a Lease
//! in the operator's namespace named after the tenant's GUID (whatever spelling the resource uses:
//! see [`TenantIds`]), whose holder is the resource (`namespace/name`, its uid in an annotation)
//! and which names the operator replica that writes for it. A second resource for the same tenant
//! is refused and names the holder; it takes over once the holder is gone (deleted, replaced by a
//! new object of the same name, or moved to another tenant), which each refused reconcile checks.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{DeleteParams, ListParams, ObjectMeta, PostParams};
use kube::{Api, Client, ResourceExt};

use crate::api::{DEFAULT_LOGIN_URL, TeamsTenantSync, TeamsTenantSyncSpec};
use crate::connect::ConnectOptions;
use crate::connect::setup::endpoint_refusal;
use crate::microsoft::aadsts::SignInFailure;
use crate::microsoft::tenant_id::{is_guid, tenant_guid};
use crate::upstream::allowed::EndpointField;

/// The annotation holding the uid of the claiming resource.
pub const HOLDER_UID_ANNOTATION: &str = "teamssync.io/holder-uid";
/// The annotation naming the operator replica that writes for the holder.
pub const OPERATOR_ANNOTATION: &str = "teamssync.io/operator";
/// The annotation holding the tenant as the holder's spec names it.
pub const TENANT_ANNOTATION: &str = "teamssync.io/tenant";

/// How long a domain's tenant GUID is remembered before it is looked up again.
const TENANT_ID_LIFETIME: Duration = Duration::from_secs(3600);

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

/// Tenant GUIDs by sign-in endpoint and domain, looked up in the tenant's OpenID configuration
/// (see [`crate::microsoft::tenant_id`]) and remembered for an hour.
#[derive(Default)]
pub struct TenantIds {
    known: Mutex<HashMap<(String, String), (String, Instant)>>,
}

impl TenantIds {
    /// The GUID of the tenant `spec` names.
    pub async fn resolve(
        &self,
        spec: &TeamsTenantSyncSpec,
        options: &ConnectOptions,
    ) -> Result<String, SignInFailure> {
        let tenant = spec.tenant.tenant_id.trim();
        if is_guid(tenant) {
            return Ok(tenant.to_ascii_lowercase());
        }
        let login = spec
            .endpoints
            .as_ref()
            .map(|e| e.login.trim())
            .filter(|login| !login.is_empty())
            .unwrap_or(DEFAULT_LOGIN_URL)
            .trim_end_matches('/')
            .to_owned();
        let key = (login.clone(), tenant.to_ascii_lowercase());
        let now = Instant::now();
        if let Some((guid, _)) = self
            .known
            .lock()
            .expect("tenant ids lock")
            .get(&key)
            .filter(|(_, at)| now.duration_since(*at) < TENANT_ID_LIFETIME)
        {
            return Ok(guid.clone());
        }
        if let Some((reason, message)) =
            endpoint_refusal(EndpointField::Login, &login, &options.allowed_endpoints)
        {
            return Err(SignInFailure {
                reason,
                message,
                code: None,
                transient: false,
            });
        }
        let upstream = options.upstream(crate::upstream::Service::Entra, None);
        let guid = tenant_guid(&upstream, &login, tenant).await?;
        self.known
            .lock()
            .expect("tenant ids lock")
            .insert(key, (guid.clone(), now));
        Ok(guid)
    }
}

/// The Lease name for the tenant `guid`: `tts-tenant-` and the GUID in lower case.
pub fn lease_name(guid: &str) -> String {
    let id: String = guid
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

/// What a claim says, besides its name.
pub struct Claimant<'a> {
    /// The resource.
    pub resource: &'a TeamsTenantSync,
    /// The operator replica that writes for it (its leader-election identity).
    pub operator: &'a str,
}

impl Claimant<'_> {
    fn claim_of(&self, mut lease: Lease) -> Lease {
        let annotations = lease.annotations_mut();
        annotations.insert(
            HOLDER_UID_ANNOTATION.into(),
            self.resource.uid().unwrap_or_default(),
        );
        annotations.insert(OPERATOR_ANNOTATION.into(), self.operator.to_owned());
        annotations.insert(
            TENANT_ANNOTATION.into(),
            self.resource.spec.tenant.tenant_id.clone(),
        );
        let spec = lease.spec.get_or_insert_with(Default::default);
        spec.holder_identity = Some(identity(self.resource));
        spec.acquire_time = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime(
            k8s_openapi::jiff::Timestamp::now(),
        ));
        lease
    }
}

/// Whether the resource a claim names still exists as the same object (same uid) and still
/// syncs the claimed tenant, by whatever name its spec gives it now.
async fn holder_alive(
    client: &Client,
    lease: &Lease,
    ids: &TenantIds,
    options: &ConnectOptions,
) -> Result<bool, kube::Error> {
    let holder = lease
        .spec
        .as_ref()
        .and_then(|s| s.holder_identity.clone())
        .unwrap_or_default();
    let Some((namespace, name)) = holder.split_once('/') else {
        return Ok(false);
    };
    let api: Api<TeamsTenantSync> = Api::namespaced(client.clone(), namespace);
    let current = match api.get_opt(name).await {
        Ok(current) => current,
        // A namespace this operator may not read (it watches only some): the claim stands.
        Err(kube::Error::Api(status)) if status.is_forbidden() => return Ok(true),
        Err(error) => return Err(error),
    };
    let Some(current) = current.filter(|r| r.uid().as_deref() == holder_uid(lease)) else {
        return Ok(false);
    };
    // Still on this tenant? Its tenantId may have been edited since, to another spelling of it or
    // to another tenant; a tenant that cannot be looked up now leaves the claim standing.
    let written = lease.annotations().get(TENANT_ANNOTATION);
    if written == Some(&current.spec.tenant.tenant_id) {
        return Ok(true);
    }
    match ids.resolve(&current.spec, options).await {
        Ok(guid) => Ok(Some(lease_name(&guid)) == lease.metadata.name),
        Err(_) => Ok(true),
    }
}

/// Claims the tenant `guid` for `claimant`, or says who holds it. A claim whose holder no longer
/// exists is taken over; two resources racing for a free claim are settled by the apiserver's
/// optimistic concurrency (create, or replace at the version read). A held claim that names
/// another operator replica (a new leader) is updated to name this one.
pub async fn claim(
    client: &Client,
    namespace: &str,
    claimant: &Claimant<'_>,
    guid: &str,
    ids: &TenantIds,
    options: &ConnectOptions,
) -> Result<Claim, kube::Error> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), namespace);
    let name = lease_name(guid);
    let uid = claimant.resource.uid().unwrap_or_default();
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
                    .create(&PostParams::default(), &claimant.claim_of(lease))
                    .await
            }
            Some(lease) if holder_uid(&lease) == Some(uid.as_str()) => {
                let current = lease.annotations().get(OPERATOR_ANNOTATION).map(String::as_str);
                let written = lease.annotations().get(TENANT_ANNOTATION);
                if current == Some(claimant.operator)
                    && written == Some(&claimant.resource.spec.tenant.tenant_id)
                {
                    return Ok(Claim::Held);
                }
                leases
                    .replace(&name, &PostParams::default(), &claimant.claim_of(lease))
                    .await
            }
            Some(lease) => {
                if holder_alive(client, &lease, ids, options).await? {
                    let holder = lease.spec.and_then(|s| s.holder_identity).unwrap_or_default();
                    return Ok(Claim::Refused { holder });
                }
                tracing::info!(tenant = %guid, claim = %name, "the resource that claimed this tenant is gone; taking over");
                leases
                    .replace(&name, &PostParams::default(), &claimant.claim_of(lease))
                    .await
            }
        };
        match result {
            Ok(_) => {
                release_others(&leases, &uid, &name).await?;
                return Ok(Claim::Held);
            }
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

/// The claims `uid` holds in the operator's namespace (one, unless its tenant changed).
pub async fn held_claims(leases: &Api<Lease>, uid: &str) -> Result<Vec<Lease>, kube::Error> {
    let all = leases.list(&ListParams::default()).await?;
    Ok(all
        .items
        .into_iter()
        .filter(|lease| holder_uid(lease) == Some(uid))
        .collect())
}

/// Deletes the claims `uid` holds besides `keep` (a tenant it no longer syncs).
async fn release_others(leases: &Api<Lease>, uid: &str, keep: &str) -> Result<(), kube::Error> {
    for lease in held_claims(leases, uid).await? {
        if lease.metadata.name.as_deref() != Some(keep) {
            delete_claim(leases, &lease).await?;
        }
    }
    Ok(())
}

async fn delete_claim(leases: &Api<Lease>, lease: &Lease) -> Result<(), kube::Error> {
    let params = DeleteParams {
        preconditions: Some(kube::api::Preconditions {
            uid: lease.uid(),
            resource_version: lease.resource_version(),
        }),
        ..Default::default()
    };
    match leases.delete(&lease.name_any(), &params).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.is_not_found() || status.code == 409 => Ok(()),
        Err(error) => Err(error),
    }
}

/// Releases every claim `resource` holds (a refused resource's delete never frees another's
/// claim).
pub async fn release(
    client: &Client,
    namespace: &str,
    resource: &TeamsTenantSync,
) -> Result<(), kube::Error> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), namespace);
    let uid = resource.uid().unwrap_or_default();
    for lease in held_claims(&leases, &uid).await? {
        delete_claim(&leases, &lease).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_guid_becomes_a_valid_lease_name() {
        assert_eq!(
            lease_name("9B5E2C1A-0000-4000-8000-000000000001"),
            "tts-tenant-9b5e2c1a-0000-4000-8000-000000000001"
        );
        assert_eq!(lease_name(" odd_id "), "tts-tenant-odd-id");
    }
}
