//! What `plan` reports about its one sync: the exit status `--detailed-exitcode` gives (decided
//! here over plain data, printed nowhere else), and the document `-o json|yaml` prints.
//!
//! The document holds what the text output shows, from the same sources: the resource's name,
//! the mode, the counts of what was done, the status conditions and summary, and every user. It is
//! built from the sync's status and outcomes only, which never carry anything read from a Secret.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use serde::Serialize;

use crate::api::{Severity, SyncMode, SyncSummary, TeamsTenantSync};
use crate::sync::model::UserOutcome;
use crate::sync::pipeline::SyncRun;
use crate::sync::report::{SourceState, listing_order};
use crate::sync::users_report::key_text;

// `terraform plan -detailed-exitcode`, per `terraform plan -help` and its documentation
// (https://developer.hashicorp.com/terraform/cli/commands/plan): 0 succeeded with an empty diff,
// 1 errored, 2 succeeded with a diff. A failing user or tenant condition is a diff here: Teams
// does not match what the source asks for.

/// Exit status of a plan that ran, with `--detailed-exitcode`, as `terraform plan` defines it.
/// An error before the sync (a file that does not parse, a missing Secret file, a setup the
/// operator refuses) exits 1 whatever the flag.
pub const EXIT_IN_SYNC: u8 = 0;
/// Exit status with `--detailed-exitcode` when anything is to change, changed or failing.
pub const EXIT_CHANGES: u8 = 2;

/// What a plan found, for its exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finding {
    /// Nothing changed or to change, and nothing failing: Teams matches the source.
    InSync,
    /// Changes were planned or made, or a user or tenant condition is failing or pending.
    Changes,
}

/// What the sync found: [`Finding::InSync`] only when it changed nothing (not even an attempt
/// that failed), the sign-in, the roles and the source read all passed, and every user it looked
/// at is in sync. A planned change (`DryRun`), an assignment Teams is still activating and a
/// departed user's number waiting for its grace period all count as changes.
pub fn finding(run: &SyncRun) -> Finding {
    let e = &run.execution;
    let acted = e.assigned + e.unassigned + e.failed + e.undone > 0;
    let tenant_failing =
        run.checks.connected.is_err() || run.checks.authorized.is_err() || run.source != SourceState::Read;
    let user_not_in_sync = run
        .plan
        .outcomes
        .iter()
        .any(|outcome| outcome.reason.severity() != Severity::Healthy);
    if acted || tenant_failing || user_not_in_sync {
        Finding::Changes
    } else {
        Finding::InSync
    }
}

/// The process's exit status for a plan that ran: always 0 without `--detailed-exitcode`, as
/// before the flag existed; with it, 0 in sync and 2 for changes or failures.
pub fn exit_status(detailed: bool, finding: Finding) -> u8 {
    match (detailed, finding) {
        (false, _) | (true, Finding::InSync) => EXIT_IN_SYNC,
        (true, Finding::Changes) => EXIT_CHANGES,
    }
}

/// The document `plan -o json|yaml` prints.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanDocument {
    /// `metadata.name` of the resource planned.
    pub name: Option<String>,
    /// `metadata.namespace` of the resource planned.
    pub namespace: Option<String>,
    /// The mode the sync ran in: `DryRun` unless `--apply` and `spec.mode: Enforce`.
    pub mode: SyncMode,
    /// What the sync did to Teams (all zero in `DryRun`).
    pub changes: Changes,
    /// The status conditions, as the operator would write them.
    pub conditions: Vec<Condition>,
    /// The status summary's counts.
    pub summary: Option<SyncSummary>,
    /// Every user, in the text output's order: departed users, then failures, then pending,
    /// then in sync.
    pub users: Vec<UserLine>,
}

/// Counts of what a sync did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Changes {
    /// Numbers assigned, replacements included.
    pub assigned: usize,
    /// Replacements among `assigned`: a user's number replaced with the source's.
    pub drift_corrected: usize,
    /// Numbers unassigned.
    pub unassigned: usize,
    /// Changes Teams refused or that failed.
    pub failed: usize,
}

/// One user of the sync.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserLine {
    /// The user's identity across syncs: `dialpad/<user id>` for a Dialpad user,
    /// `static/<email>` for one of `spec.source.static`, `departed/<Teams user id>/<number>` for a
    /// Teams user who holds a source number and is no longer in the source.
    pub key: String,
    /// The email (the source's, or the Teams user's for a departed user).
    pub email: Option<String>,
    /// The number, in E.164 when it normalised.
    pub number: Option<String>,
    /// The matched Teams user's object id.
    pub teams_user_id: Option<String>,
    /// `InSync`, `Pending` or `Failed`: the reason's severity.
    pub state: &'static str,
    /// The reason of the user's `Synced` condition.
    pub reason: &'static str,
    /// What happened or what to change, for a person.
    pub message: String,
}

/// The document of the sync `run` of `resource`, which ran in `mode`.
pub fn document(resource: &TeamsTenantSync, mode: SyncMode, run: &SyncRun) -> PlanDocument {
    let e = &run.execution;
    let mut ordered: Vec<&UserOutcome> = run.plan.outcomes.iter().collect();
    ordered.sort_by(|a, b| listing_order(a, b));
    PlanDocument {
        name: resource.metadata.name.clone(),
        namespace: resource.metadata.namespace.clone(),
        mode,
        changes: Changes {
            assigned: e.assigned,
            drift_corrected: e.drift_corrected,
            unassigned: e.unassigned,
            failed: e.failed,
        },
        conditions: run.status.conditions.clone(),
        summary: run.status.summary.clone(),
        users: ordered.into_iter().map(user_line).collect(),
    }
}

fn user_line(outcome: &UserOutcome) -> UserLine {
    UserLine {
        key: key_text(&outcome.key),
        email: outcome.email.clone(),
        number: outcome.phone_number.clone(),
        teams_user_id: outcome.teams_user_id.clone(),
        state: state(outcome.reason.severity()),
        reason: outcome.reason.as_str(),
        message: outcome.message.clone(),
    }
}

/// A severity as the document names it.
fn state(severity: Severity) -> &'static str {
    match severity {
        Severity::Healthy => "InSync",
        Severity::Pending => "Pending",
        Severity::Failed => "Failed",
    }
}

#[cfg(test)]
#[path = "plan_result_tests.rs"]
mod tests;
