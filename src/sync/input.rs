//! What the planner looks at: the policies, both states, the tenant checks, earlier outcomes,
//! retry state and the ownership record of one sync ([`PlanInput`]).

use std::collections::HashMap;

use k8s_openapi::jiff::Timestamp;

use super::model::{DesiredState, Policy, PreviousOutcome, RetryState, TeamsState, TenantChecks, UserKey};
use super::ownership::OwnershipRecord;
use super::targets::PlanScope;

/// Everything the planner looks at.
#[derive(Clone, Debug)]
pub struct PlanInput<'a> {
    /// Policies.
    pub policy: &'a Policy,
    /// Desired state.
    pub desired: &'a DesiredState,
    /// Observed state.
    pub teams: &'a TeamsState,
    /// Tenant checks.
    pub checks: &'a TenantChecks,
    /// Earlier outcomes by key.
    pub previous: &'a HashMap<UserKey, PreviousOutcome>,
    /// Retry state by key.
    pub retries: &'a HashMap<UserKey, RetryState>,
    /// The numbers this resource assigned or adopted: only these are ever unassigned.
    pub owned: &'a OwnershipRecord,
    /// Now.
    pub now: Timestamp,
    /// Whom a targeted re-sync decides (see [`PlanScope`]); `None`: everyone, from complete reads.
    pub scope: Option<&'a PlanScope>,
}
