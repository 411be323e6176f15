//! One sync, end to end: check the tenant, read the source and Teams, plan, apply, report. The
//! same pipeline serves `run`, `plan` and `demo`; they differ only in where the ports point and
//! where the status goes.

use std::collections::{HashMap, HashSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use super::early::{EarlyAssigner, match_sent, send_early};
use super::execute::execute;
use super::input::PlanInput;
use super::model::{ActionKind, DesiredState, Plan, Policy, RetryState, TeamsState, TenantChecks, UserKey};
use super::ownership::OwnershipRecord;
use super::plan::plan;
use super::ports::{DesiredSource, MemoryOwnership, OwnershipStore, OwnershipStoreError, TeamsTenant};
use super::report::{self, DEFAULT_STATUS_BUDGET, ReportInput, SourceState};
use super::sent::ExecutionSummary;
use super::targets::{Snapshot, Targets, waiting_users};
use crate::api::TeamsTenantSyncStatus;

/// What one sync did and found.
#[derive(Clone, Debug)]
pub struct SyncRun {
    /// The new status.
    pub status: TeamsTenantSyncStatus,
    /// The plan, with outcomes after execution (actions already applied, so empty).
    pub plan: Plan,
    /// Changes made.
    pub execution: ExecutionSummary,
    /// Tenant checks.
    pub checks: TenantChecks,
    /// Source read result.
    pub source: SourceState,
}

/// Inputs that persist between syncs of one resource.
#[derive(Clone, Debug, Default)]
pub struct SyncMemory {
    /// The last status written.
    pub status: Option<TeamsTenantSyncStatus>,
    /// Per-user retry state.
    pub retries: HashMap<UserKey, RetryState>,
    /// The ownership record of [`sync_once`], which keeps it in memory.
    pub owned: OwnershipRecord,
    /// Users whose early assignment the complete plan did not make (see
    /// [`early`](super::early)): they wait for the complete plan from now on, so a repeated
    /// email costs one assignment and its undoing once, not on every sync.
    pub not_early: HashSet<UserKey>,
    /// Whether complete syncs keep a [`Snapshot`] for targeted re-syncs (change events are on).
    pub keeps_snapshot: bool,
    /// The last complete sync's state, patched by targeted re-syncs since (see
    /// [`targeted`](super::targeted)).
    pub snapshot: Option<Snapshot>,
    /// The users the last sync left waiting (activating in Teams, or to retry), for a targeted
    /// look again instead of a full sync; only while a snapshot is kept.
    pub revisit: Targets,
}

/// After the changes of a sync: drops from the record (`intent`, saved before them) what was
/// unassigned or refused, and says in `status` how many numbers the resource owns. A refused
/// assignment is not held; one whose result is unknown stays recorded until a sync sees whether
/// Teams holds it.
pub(super) async fn settle_record<O: OwnershipStore>(
    store: &O,
    intent: &OwnershipRecord,
    execution: &ExecutionSummary,
    status: &mut TeamsTenantSyncStatus,
) {
    let done = execution
        .unassigned_numbers
        .iter()
        .chain(&execution.refused_numbers);
    let policies_done = execution
        .unassigned_policies
        .iter()
        .chain(&execution.refused_policies);
    let kept = intent
        .without(done.map(String::as_str))
        .without_policies(policies_done);
    if &kept != intent
        && let Err(error) = store.save(&kept).await
    {
        // Harmless: the next sync drops numbers Teams no longer shows on their user.
        tracing::warn!(%error, "could not drop unassigned numbers from the ownership record");
    }
    if let Some(summary) = status.summary.as_mut() {
        summary.owned = i32::try_from(kept.len()).unwrap_or(i32::MAX);
    }
}

/// Runs one sync, keeping the ownership record in `memory`. Never panics on upstream data; every
/// failure ends up in the status.
pub async fn sync_once<S: DesiredSource, T: TeamsTenant>(
    source: &S,
    tenant: &T,
    policy: &Policy,
    memory: &mut SyncMemory,
    generation: Option<i64>,
) -> SyncRun {
    let store = MemoryOwnership(std::sync::Mutex::new(std::mem::take(&mut memory.owned)));
    let run = sync_once_reporting(source, tenant, &store, policy, memory, generation, &|_, _| {}).await;
    memory.owned = store.0.into_inner().expect("record lock");
    run.expect("a record in memory is always readable and writable")
}

/// One sync with the ownership record in `store`, calling `progress(done, total)` as the planned
/// changes are applied. The record is read first and, when the plan assigns or adopts numbers,
/// written before any change is made: if either fails, nothing is changed and the error returns.
pub async fn sync_once_reporting<S: DesiredSource, T: TeamsTenant, O: OwnershipStore>(
    source: &S,
    tenant: &T,
    store: &O,
    policy: &Policy,
    memory: &mut SyncMemory,
    generation: Option<i64>,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<SyncRun, OwnershipStoreError> {
    let owned = store.load().await?;
    // A full sync replaces the snapshot in any case (with nothing when it cannot be complete):
    // dropped now, it is not held beside the new read.
    memory.snapshot = None;
    let now = Timestamp::now();
    // The source and the tenant are read at the same time: each has its own request budget,
    // so neither waits for the other. The source is read even when the tenant checks fail, so
    // the failure can be reported on every user it blocks. Once Teams is read, assignments that
    // no later source page can change are sent while the source is still being read.
    let (pages_sender, pages) = tokio::sync::mpsc::unbounded_channel();
    let mut recorded = owned.clone();
    let tenant_side = async {
        let checks = tenant.check().await;
        if checks.connected.is_err() || checks.authorized.is_err() {
            return (checks, None, Vec::new());
        }
        let read = tenant.read().await;
        let sent = match &read {
            Ok(teams) => {
                let nobody = DesiredState::default();
                let no_history = HashMap::new();
                let input = PlanInput {
                    scope: None,
                    policy,
                    desired: &nobody,
                    teams,
                    checks: &checks,
                    previous: &no_history,
                    retries: &memory.retries,
                    owned: &owned,
                    now,
                };
                let assigner = EarlyAssigner::new(&input, &memory.not_early);
                send_early(tenant, assigner, pages, store, &mut recorded, progress).await
            }
            Err(_) => Vec::new(),
        };
        (checks, Some(read), sent)
    };
    let (source_read, (mut checks, tenant_read, sent)) =
        futures::join!(source.read_by_page(pages_sender), tenant_side);
    let sent_numbers: Vec<(String, String)> = sent
        .iter()
        .filter_map(|(_, change)| match &change.action.kind {
            ActionKind::Assign { number, user_id, .. } => Some((number.clone(), user_id.clone())),
            ActionKind::Unassign { .. } => None,
        })
        .collect();
    let (desired, source_state) = match source_read {
        Ok(state) => (state, SourceState::Read),
        Err(failure) => (
            DesiredState::default(),
            SourceState::Failed {
                reason: failure.reason,
                message: failure.message,
            },
        ),
    };
    let mut teams = TeamsState::default();
    let mut teams_read = false;
    // Without a complete source nothing is planned, and the Teams read is not used.
    if source_state == SourceState::Read {
        match tenant_read {
            Some(Ok(state)) => {
                teams = state;
                teams_read = true;
            }
            Some(Err(failure)) => checks.connected = Err((failure.reason, failure.message)),
            None => {}
        }
    }
    let previous = memory
        .status
        .as_ref()
        .map(report::previous_outcomes)
        .unwrap_or_default();
    // Nothing is planned without a complete source: a partial read must never cause removals.
    let mut plan = if source_state == SourceState::Read {
        plan(&PlanInput {
            scope: None,
            policy,
            desired: &desired,
            teams: &teams,
            checks: &checks,
            previous: &previous,
            retries: &memory.retries,
            owned: &owned,
            now,
        })
    } else {
        Plan::default()
    };
    // Only a complete read of Teams may drop entries from the record; what was sent early stays.
    let early = match_sent(&mut plan, sent);
    let late: Vec<UserKey> = early
        .unplanned
        .iter()
        .filter_map(|(user, _)| user.map(|index| plan.outcomes[index].key.clone()))
        .collect();
    // Users who left the source are forgotten; without a complete read nobody is.
    if source_state == SourceState::Read && !memory.not_early.is_empty() {
        let present: HashSet<&UserKey> = plan.outcomes.iter().map(|o| &o.key).collect();
        memory.not_early.retain(|key| present.contains(key));
    }
    memory.not_early.extend(late);
    let intent = if teams_read {
        owned.before_changes(&teams, &plan, policy.mode, policy.adopt_existing)
    } else {
        owned.clone()
    }
    .with(sent_numbers.iter().map(|(n, u)| (n.as_str(), u.as_str())));
    if intent != recorded {
        store.save(&intent).await?;
    }
    let execution = execute(
        tenant,
        &mut plan,
        policy,
        &mut memory.retries,
        now,
        progress,
        early,
    )
    .await;
    let status = report::build_status(&ReportInput {
        outcomes: &plan.outcomes,
        checks: &checks,
        source: &source_state,
        source_origin: desired.origin.as_deref(),
        previous: memory.status.as_ref(),
        generation,
        now: Time(now),
        budget_bytes: DEFAULT_STATUS_BUDGET,
        readiness: &policy.readiness,
    });
    let mut status = status;
    settle_record(store, &intent, &execution, &mut status).await;
    memory.status = Some(status.clone());
    // Only a complete read of both sides, with passing checks, is a state to start targeted
    // re-syncs from.
    let complete = teams_read && checks == TenantChecks::ok();
    // With a snapshot, the users left waiting are looked at again by targeted re-syncs.
    memory.revisit = if memory.keeps_snapshot && complete {
        waiting_users(&plan.outcomes, &memory.retries)
    } else {
        Targets::default()
    };
    memory.snapshot = (memory.keeps_snapshot && complete).then(|| Snapshot {
        desired,
        outcomes: plan.outcomes.clone(),
        checks: checks.clone(),
        policies: !teams.policies.kinds.is_empty(),
    });
    Ok(SyncRun {
        status,
        plan,
        execution,
        checks,
        source: source_state,
    })
}
