//! A targeted re-sync: a batch of changes names a few users, and only they are read again, planned
//! and changed, with the same planner, ownership record, safety limit and grace period as a full
//! sync (see [`targets`](super::targets) for the scope). It starts from the last full sync's
//! [`Snapshot`] and needs, per changed user, one source read, one Teams user read and one number
//! read, besides the changes themselves.
//!
//! When it cannot be exact it does not run, and the caller syncs in full: without a snapshot,
//! after failed tenant checks, for a spec naming Teams policies (read per policy, not per user),
//! for a source that cannot read single users, and when a read fails.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use super::change::{ChangeOutcome, Submission, WriteError};
use super::execute::execute;
use super::input::PlanInput;
use super::model::{ActionKind, Policy, TenantChecks, UserKey};
use super::numbers::normalise;
use super::pipeline::{SyncMemory, SyncRun, settle_record};
use super::plan::plan;
use super::policies::PolicyChange;
use super::ports::{
    ChangeConfirmer, ChangeSender, DesiredSource, OwnershipStore, OwnershipStoreError, TeamsTenant,
};
use super::report::{self, DEFAULT_STATUS_BUDGET, ReportInput, SourceState};
use super::sent::SentEarly;
use super::targets::{
    Around, PlanScope, Targets, answering, emails_of, merge_outcomes, patch_desired, waiting_users,
    worth_targeting,
};

/// Re-syncs the users `targets` names. `Ok(None)`: it could not be done exactly (see the
/// module's docs), so nothing was changed in Teams and the caller syncs in full.
#[allow(clippy::too_many_arguments)]
pub async fn sync_targets<S: DesiredSource, T: TeamsTenant, O: OwnershipStore>(
    source: &S,
    tenant: &T,
    store: &O,
    policy: &Policy,
    memory: &mut SyncMemory,
    generation: Option<i64>,
    targets: &Targets,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Option<SyncRun>, OwnershipStoreError> {
    let usable = memory.snapshot.as_ref().is_some_and(|snapshot| {
        !snapshot.policies
            && snapshot.checks == TenantChecks::ok()
            && worth_targeting(targets, snapshot.desired.users.len())
    });
    if !usable || targets.is_empty() {
        return Ok(None);
    }
    let ids = &targets.dialpad_users;
    let found = if ids.is_empty() {
        Vec::new()
    } else {
        match source.read_users(ids).await {
            Some(Ok(found)) => found,
            Some(Err(failure)) => return Ok(give_up("the changed source users", &failure.message)),
            None => return Ok(None),
        }
    };
    let snapshot = memory.snapshot.as_mut().expect("checked above");
    // Looked up under their emails before the change too: one who left, or changed email, may
    // still hold a number on the Teams user of the old one.
    let mut users: HashSet<UserKey> = ids.iter().map(|id| UserKey::Dialpad(id.clone())).collect();
    let mut addresses = emails_of(&snapshot.desired, &users);
    patch_desired(&mut snapshot.desired, ids, found);
    if !targets.teams_users.is_empty() {
        let ids: Vec<String> = targets.teams_users.iter().cloned().collect();
        match tenant.read_users_by_id(&ids).await {
            Ok(changed) => {
                users.extend(answering(&snapshot.desired, &changed));
                // Looked up again by their own names, so that their numbers are read too, even
                // when no desired user answers to them any more.
                addresses.extend(changed.users.iter().flat_map(|user| {
                    let names = [Some(&user.user_principal_name), user.mail.as_ref()];
                    names.into_iter().flatten().map(|name| name.trim().to_lowercase())
                }));
            }
            Err(failure) => return Ok(give_up("the changed Teams users", &failure.message)),
        }
    }
    addresses.extend(emails_of(&snapshot.desired, &users));
    let numbers: BTreeSet<String> = snapshot
        .desired
        .users
        .iter()
        .filter(|user| users.contains(&user.key()))
        .filter_map(|user| normalise(user.phone_number.as_deref()?))
        .collect();
    let around = Around {
        addresses: addresses.into_iter().collect(),
        numbers: numbers.iter().cloned().collect(),
    };
    let teams = match tenant.read_around(&around).await {
        Ok(teams) => teams,
        Err(failure) => return Ok(give_up("the Teams users and numbers involved", &failure.message)),
    };
    let scope = PlanScope {
        users,
        holders: teams.users.iter().map(|user| user.id.clone()).collect(),
    };
    let owned = store.load().await?;
    let now = Timestamp::now();
    let previous = memory
        .status
        .as_ref()
        .map(report::previous_outcomes)
        .unwrap_or_default();
    let mut plan = plan(&PlanInput {
        policy,
        desired: &snapshot.desired,
        teams: &teams,
        checks: &snapshot.checks,
        previous: &previous,
        retries: &memory.retries,
        owned: &owned,
        now,
        scope: Some(&scope),
    });
    // Only entries whose number or holder was read are brought up to date; the rest stay.
    let (within, rest) =
        owned.split(|number, holder| scope.holders.contains(holder) || numbers.contains(number));
    let intent = within
        .before_changes(&teams, &plan, policy.mode, policy.adopt_existing)
        .joined(&rest);
    if intent != owned {
        store.save(&intent).await?;
    }
    let involved: Vec<String> = plan
        .actions
        .iter()
        .map(|action| match &action.kind {
            ActionKind::Assign { number, .. } | ActionKind::Unassign { number } => number.clone(),
        })
        .collect();
    let narrowed = Narrowed {
        tenant,
        numbers: involved,
    };
    let early = SentEarly::default();
    let execution = execute(
        &narrowed,
        &mut plan,
        policy,
        &mut memory.retries,
        now,
        progress,
        early,
    )
    .await;
    // Users left waiting by earlier syncs stay so, unless this one decided them again.
    let mut revisit = std::mem::take(&mut memory.revisit);
    revisit
        .dialpad_users
        .retain(|id| !scope.users.contains(&UserKey::Dialpad(id.clone())));
    revisit.teams_users.retain(|id| !scope.holders.contains(id));
    let waiting = waiting_users(&plan.outcomes, &memory.retries);
    revisit.dialpad_users.extend(waiting.dialpad_users);
    revisit.teams_users.extend(waiting.teams_users);
    memory.revisit = revisit;
    let merged = merge_outcomes(&snapshot.outcomes, &scope, std::mem::take(&mut plan.outcomes));
    let mut status = report::build_status(&ReportInput {
        outcomes: &merged,
        checks: &snapshot.checks,
        source: &SourceState::Read,
        source_origin: snapshot.desired.origin.as_deref(),
        previous: memory.status.as_ref(),
        generation,
        now: Time(now),
        budget_bytes: DEFAULT_STATUS_BUDGET,
        readiness: &policy.readiness,
    });
    settle_record(store, &intent, &execution, &mut status).await;
    snapshot.outcomes.clone_from(&merged);
    plan.outcomes = merged;
    memory.status = Some(status.clone());
    Ok(Some(SyncRun {
        status,
        plan,
        execution,
        checks: snapshot.checks.clone(),
        source: SourceState::Read,
    }))
}

/// Logs why a targeted re-sync stopped before changing anything; the caller syncs in full.
fn give_up(what: &str, why: &str) -> Option<SyncRun> {
    tracing::info!(
        what,
        why,
        "a targeted re-sync could not read what it needs; syncing in full"
    );
    None
}

/// The tenant, confirming changes by the holders of the numbers involved instead of a listing
/// of every number.
struct Narrowed<'a, T> {
    tenant: &'a T,
    numbers: Vec<String>,
}

impl<T: TeamsTenant> ChangeSender for Narrowed<'_, T> {
    async fn submit_assign(
        &self,
        number: &str,
        user_id: &str,
        number_type: &str,
        location_id: Option<&str>,
    ) -> Result<Submission, WriteError> {
        self.tenant
            .submit_assign(number, user_id, number_type, location_id)
            .await
    }

    async fn submit_unassign(&self, number: &str, number_type: &str) -> Result<Submission, WriteError> {
        self.tenant.submit_unassign(number, number_type).await
    }

    async fn submit_policy_changes(&self, changes: &[PolicyChange]) -> Result<(), WriteError> {
        self.tenant.submit_policy_changes(changes).await
    }

    fn policy_changes_per_request(&self) -> usize {
        self.tenant.policy_changes_per_request()
    }

    fn requests_per_second(&self) -> Option<u32> {
        self.tenant.requests_per_second()
    }
}

impl<T: TeamsTenant> ChangeConfirmer for Narrowed<'_, T> {
    async fn outcome(&self, url: &str) -> Result<Option<ChangeOutcome>, WriteError> {
        self.tenant.outcome(url).await
    }

    async fn holders(&self) -> Result<HashMap<String, Option<String>>, WriteError> {
        self.tenant.holders_of(&self.numbers).await
    }

    fn operation_timeout(&self) -> Duration {
        self.tenant.operation_timeout()
    }
}
