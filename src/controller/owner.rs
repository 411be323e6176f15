//! The tenant-owner step of a reconcile: a resource that changes Teams must own its Microsoft
//! tenant, known by its GUID whatever spelling the resource uses (see [`super::claim`]).

use super::claim::{Claim, Claimant, claim};
use super::context::Context;
use crate::api::{SyncMode, TeamsTenantSync};
use crate::microsoft::aadsts::SignInFailure;

/// Whether a resource may change its tenant.
#[derive(Debug)]
pub enum TenantOwner {
    /// It may change the tenant: it holds the claim, or it changes nothing (DryRun).
    Held,
    /// Another resource owns the tenant.
    Refused {
        /// The owner, as `namespace/name`.
        holder: String,
        /// The tenant's GUID.
        tenant: String,
    },
    /// The tenant's GUID could not be learnt, so it cannot be claimed; nothing may change.
    Unknown(SignInFailure),
}

/// Claims the tenant of `resource` if it changes Teams.
pub async fn own_tenant(ctx: &Context, resource: &TeamsTenantSync) -> Result<TenantOwner, kube::Error> {
    if resource.spec.mode != SyncMode::Enforce {
        return Ok(TenantOwner::Held);
    }
    let tenant = match ctx.tenant_ids.resolve(&resource.spec, &ctx.connect).await {
        Ok(tenant) => tenant,
        Err(failure) => return Ok(TenantOwner::Unknown(failure)),
    };
    let claimant = Claimant {
        resource,
        operator: &ctx.settings.identity,
    };
    let namespace = &ctx.settings.operator_namespace;
    match claim(
        &ctx.client,
        namespace,
        &claimant,
        &tenant,
        &ctx.tenant_ids,
        &ctx.connect,
    )
    .await?
    {
        Claim::Held => Ok(TenantOwner::Held),
        Claim::Refused { holder } => Ok(TenantOwner::Refused { holder, tenant }),
    }
}
