//! The planner: desired x observed -> actions and one outcome per user. Pure and deterministic:
//! the same input gives the same plan in the same order. Every number a plan takes off a user
//! (a departed user's unassignment, or a replacement) needs the ownership record's approval (see
//! `removals`) and counts toward one safety limit.

use std::collections::HashSet;

use super::input::PlanInput;
use super::lookup::{Lookup, retry_gate};
use super::model::{Action, ActionKind, Cause, DesiredUser, Plan, TeamsUser, UserOutcome};
use super::numbers::normalise;
use super::offices::user_assignment;
use super::policy_plan::plan_policies;
use super::removals::{TakenOff, hold_to_limit, plan_removals};
use crate::api::{Reason, SyncMode};

/// Plans one sync.
pub fn plan(input: &PlanInput) -> Plan {
    if let Err((reason, message)) = &input.checks.connected {
        return cascade(input, Reason::AdminNotConnected, *reason, message);
    }
    if let Err((reason, message)) = &input.checks.authorized {
        return cascade(input, Reason::AdminRolesMissing, *reason, message);
    }
    let teams = Lookup::new(input);
    let mut plan = Plan::default();
    let duplicates = duplicate_emails(&input.desired.users);
    let mut matched: HashSet<&str> = HashSet::new();
    let mut taken = Vec::new();
    for user in &input.desired.users {
        let planned = input.scope.is_none_or(|scope| scope.users.contains(&user.key()));
        // Outside a targeted plan's scope a user is only matched, and only one a Teams user that
        // was read answers to can be: the rest are skipped unread.
        if !planned && !answered(input, user) {
            continue;
        }
        let decision = decide(input, &teams, user, &duplicates);
        if let Some(id) = decision.teams_user.map(|u| u.id.as_str()) {
            matched.insert(id);
        }
        if planned {
            taken.extend(push(&mut plan, input, decision));
        }
    }
    // Policies are planned by desired user index, which only a complete plan keeps; a targeted
    // re-sync runs only for resources whose spec names no policies (see `targeted`).
    if input.scope.is_none() {
        taken.extend(plan_policies(input, &mut plan));
    }
    taken.extend(plan_removals(input, &teams, &matched, &mut plan));
    hold_to_limit(&mut plan, input.policy.max_unassignments, taken);
    if input.policy.mode == SyncMode::DryRun {
        dry_run(&mut plan);
    }
    plan
}

/// Every desired user gets the tenant failure.
fn cascade(input: &PlanInput, user_reason: Reason, tenant_reason: Reason, message: &str) -> Plan {
    let outcomes = input
        .desired
        .users
        .iter()
        .filter(|user| input.scope.is_none_or(|scope| scope.users.contains(&user.key())))
        .map(|user| UserOutcome {
            key: user.key(),
            email: user.email.clone(),
            phone_number: user
                .phone_number
                .as_deref()
                .map(|n| normalise(n).unwrap_or_else(|| n.to_owned())),
            dialpad_user_id: user.dialpad_user_id.clone(),
            teams_user_id: None,
            reason: user_reason,
            message: format!("not synced, the tenant check failed with {tenant_reason}: {message}"),
            desired: true,
        })
        .collect();
    Plan {
        outcomes,
        ..Plan::default()
    }
}

/// Whether a user of the Teams state answers to `user`'s email.
fn answered(input: &PlanInput, user: &DesiredUser) -> bool {
    user.email
        .as_deref()
        .is_some_and(|email| !input.teams.index.find(email).is_empty())
}

fn duplicate_emails(users: &[DesiredUser]) -> HashSet<String> {
    let mut seen = HashSet::new();
    let mut duplicates = HashSet::new();
    for email in users.iter().filter_map(|u| u.email.as_deref()) {
        let key = email.trim().to_lowercase();
        if !seen.insert(key.clone()) {
            duplicates.insert(key);
        }
    }
    duplicates
}

/// One desired user's verdict before retry gating and dry-run.
pub(super) struct Decision<'a> {
    user: &'a DesiredUser,
    number: Option<String>,
    teams_user: Option<&'a TeamsUser>,
    reason: Reason,
    message: String,
    pub(super) action: Option<ActionKind>,
    /// What the action takes off the user, when it replaces a number.
    pub(super) replacing: Option<Replacing>,
}

/// The numbers a replacement takes off its user, each approved.
pub(super) struct Replacing {
    /// Every number Teams shows on the user. A user may hold more than one (Graph's
    /// `numberAssignment.assignmentCategory` is `primary`, `private` or `alternate`:
    /// <https://learn.microsoft.com/en-us/graph/api/resources/teamsAdministration-numberAssignment>),
    /// and which of them assigning the new primary number takes off is not modelled, so each
    /// needs approval and counts toward the safety limit.
    numbers: Vec<String>,
    /// Those approved by adoption alone, to record before the change.
    adopted: Vec<String>,
}

/// What approves taking a number off a synced user, strongest first: as for a departed user's
/// unassignment, a number the source owns that the ownership record holds for the user (or that
/// adoption takes over); any other number only with `spec.safety.overwriteForeignNumbers`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Approval {
    /// The source owns it and the ownership record holds it for this user: this resource
    /// assigned or adopted it.
    Recorded,
    /// The source owns it and `spec.removal.adoptExisting` takes it over.
    Adopted,
    /// `spec.safety.overwriteForeignNumbers` allows replacing any number.
    Overwrite,
}

impl Approval {
    fn of(input: &PlanInput, number: &str, holder: &str) -> Option<Self> {
        let source_owns = input.desired.owned_numbers.contains(number);
        if source_owns && input.owned.owns(number, holder) {
            Some(Self::Recorded)
        } else if source_owns && input.policy.adopt_existing {
            Some(Self::Adopted)
        } else if input.policy.overwrite_foreign_numbers {
            Some(Self::Overwrite)
        } else {
            None
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Recorded => "the ownership record",
            Self::Adopted => "spec.removal.adoptExisting",
            Self::Overwrite => "spec.safety.overwriteForeignNumbers",
        }
    }
}

fn name_of(user: &DesiredUser) -> String {
    let name = user
        .display_name
        .clone()
        .or_else(|| user.email.clone())
        .unwrap_or_else(|| "(no name)".into());
    match &user.dialpad_user_id {
        Some(id) => format!("{name} (Dialpad user {id})"),
        None => name,
    }
}

pub(super) fn decide<'a>(
    input: &PlanInput<'a>,
    teams: &Lookup<'a>,
    user: &'a DesiredUser,
    duplicates: &HashSet<String>,
) -> Decision<'a> {
    let mut decision = Decision {
        user,
        number: user.phone_number.clone(),
        teams_user: None,
        reason: Reason::InSync,
        message: String::new(),
        action: None,
        replacing: None,
    };
    let fail = |mut d: Decision<'a>, reason: Reason, message: String| {
        d.reason = reason;
        d.message = message;
        d
    };
    let Some(email) = user.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) else {
        let message = format!(
            "{} has no email address in Dialpad, so no Teams user can be matched; add the user's work email in Dialpad",
            name_of(user)
        );
        return fail(decision, Reason::EmailMissing, message);
    };
    if duplicates.contains(&email.to_lowercase()) {
        let message = format!(
            "{email} belongs to more than one source user, so none of them is synced; give each user a unique email"
        );
        return fail(decision, Reason::DuplicateEmail, message);
    }
    let Some(raw) = user
        .phone_number
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    else {
        let message = format!(
            "{} has no phone number in Dialpad; assign a Dialpad number to the user",
            name_of(user)
        );
        return fail(decision, Reason::PhoneNumberMissing, message);
    };
    let Some(number) = normalise(raw) else {
        let message = format!(
            "'{raw}' is not a valid phone number; correct it in the source to E.164 form, e.g. +14155550100"
        );
        return fail(decision, Reason::InvalidPhoneNumber, message);
    };
    decision.number = Some(number.clone());
    let candidates = input.teams.index.find(email);
    let teams_user = match candidates {
        [] => {
            let message = format!(
                "no Teams user has {email} as mail, user principal name or proxy address; create the user in Microsoft 365 or correct the email in Dialpad"
            );
            return fail(decision, Reason::TeamsUserNotFound, message);
        }
        [only] => &input.teams.users[*only],
        several => {
            let upns: Vec<String> = several
                .iter()
                .map(|i| input.teams.users[*i].user_principal_name.clone())
                .collect();
            let message = format!(
                "{email} matches {} Teams users ({}), so none is chosen; keep the address on one of them only",
                several.len(),
                upns.join(", ")
            );
            return fail(decision, Reason::TeamsUserAmbiguous, message);
        }
    };
    decision.teams_user = Some(teams_user);
    let upn = &teams_user.user_principal_name;
    if !teams_user.enabled {
        let message = format!(
            "the Teams account {upn} is disabled; enable it in Microsoft Entra ID or remove the user from the source"
        );
        return fail(decision, Reason::TeamsUserDisabled, message);
    }
    if !teams_user.licence.calling_plans.is_empty() {
        let fixes: Vec<String> = teams_user
            .licence
            .calling_plan_licences
            .iter()
            .map(|licence| licence.fix())
            .collect();
        let message = format!(
            "{upn} has a Microsoft Calling Plan, which Dialpad's Direct Routing does not allow: {}",
            fixes.join("; ")
        );
        return fail(decision, Reason::CallingPlanAssigned, message);
    }
    if teams_user.licence.phone_system.is_none() {
        let message = format!(
            "{upn} has no Teams Phone (Phone System) licence; assign one (e.g. Microsoft 365 E5, or E3 with Teams Phone) in Microsoft 365"
        );
        return fail(decision, Reason::PhoneSystemLicenseMissing, message);
    }
    if let Some(held) = teams
        .holder_of
        .get(number.as_str())
        .filter(|h| h.holder != teams_user.id)
    {
        let message = format!(
            "{number} is assigned in Teams to {}; unassign it there first (the next sync then assigns it to {upn})",
            teams.upn(&held.holder)
        );
        return fail(decision, Reason::NumberConflict, message);
    }
    let held_by_user = teams
        .numbers_of
        .get(teams_user.id.as_str())
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if let Some(held) = held_by_user.iter().find(|h| h.number == number) {
        if held.pending {
            let message = format!(
                "{number} is assigned to {upn}; Teams is still activating it, which can take minutes to hours"
            );
            return fail(decision, Reason::AssignmentPending, message);
        }
        let ownership = if input.owned.owns(&number, &teams_user.id) {
            "owned by this resource"
        } else if input.policy.adopt_existing && input.policy.mode == SyncMode::Enforce {
            "adopted by this resource (spec.removal.adoptExisting)"
        } else {
            "assigned before this resource, which never unassigns it; set spec.removal.adoptExisting to take it over"
        };
        let message = format!("{number} is assigned to {upn} ({ownership})");
        return fail(decision, Reason::InSync, message);
    }
    if held_by_user.is_empty() {
        decision.message = format!("assigning {number} to {upn}");
    } else {
        let mut approvals = Vec::new();
        let mut adopted = Vec::new();
        for held in held_by_user {
            let Some(approval) = Approval::of(input, &held.number, &teams_user.id) else {
                let message = conflict_on_user(input, &held.number, &number, upn);
                return fail(decision, Reason::NumberConflict, message);
            };
            if approval == Approval::Adopted {
                adopted.push(held.number.clone());
            }
            approvals.push(approval);
        }
        approvals.sort();
        approvals.dedup();
        let approved_by: Vec<&str> = approvals.into_iter().map(Approval::name).collect();
        let numbers: Vec<String> = held_by_user.iter().map(|h| h.number.clone()).collect();
        // "drift corrected" is what execution counts replacements by.
        decision.message = format!(
            "replacing {} with {number} on {upn} (drift corrected; approved by {})",
            numbers.join(" and "),
            approved_by.join(" and ")
        );
        decision.replacing = Some(Replacing { numbers, adopted });
    }
    decision.reason = Reason::AssignmentPending;
    decision.action = Some(ActionKind::Assign {
        number,
        user_id: teams_user.id.clone(),
        location_id: user_assignment(&input.policy.assignment, &user.office).emergency_location_id,
    });
    decision
}

/// Why `held`, a number on the synced user `upn`, is not replaced with `number`, and which
/// setting would approve it.
fn conflict_on_user(input: &PlanInput, held: &str, number: &str, upn: &str) -> String {
    if input.desired.owned_numbers.contains(held) {
        format!(
            "{upn} holds {held}, a number the source owns that this resource did not assign to the user (its ownership record does not hold it for them), so it is not replaced with {number}; unassign it in Teams, or set spec.removal.adoptExisting to take it over (spec.safety.overwriteForeignNumbers also replaces it)"
        )
    } else {
        format!(
            "{upn} holds {held}, a number the source does not own, so it is not replaced with {number}; unassign it in Teams, or set spec.safety.overwriteForeignNumbers to replace it"
        )
    }
}

/// Adds the decision's outcome and action to `plan`; a replacement's action is returned too, to be
/// held to the safety limit.
fn push(plan: &mut Plan, input: &PlanInput, decision: Decision) -> Option<TakenOff> {
    let key = decision.user.key();
    let mut taken = None;
    let mut outcome = UserOutcome {
        key: key.clone(),
        email: decision.user.email.clone(),
        phone_number: decision.number,
        dialpad_user_id: decision.user.dialpad_user_id.clone(),
        teams_user_id: decision.teams_user.map(|u| u.id.clone()),
        reason: decision.reason,
        message: decision.message,
        desired: true,
    };
    if let Some(kind) = decision.action {
        let cause = match &decision.replacing {
            Some(replacing) => Cause::DriftCorrected {
                replaced: replacing.numbers.clone(),
            },
            None => Cause::NewUser,
        };
        if let Some((reason, waiting)) = retry_gate(input, &key) {
            outcome.reason = reason;
            outcome.message = waiting;
        } else {
            if let (Some(replacing), Some(user), ActionKind::Assign { number, .. }) =
                (decision.replacing, decision.teams_user, &kind)
            {
                taken = Some(TakenOff::replacement(
                    plan.outcomes.len(),
                    replacing.numbers,
                    &user.user_principal_name,
                    number,
                    replacing
                        .adopted
                        .into_iter()
                        .map(|n| (n, user.id.clone()))
                        .collect(),
                ));
            }
            plan.actions.push(Action {
                outcome: plan.outcomes.len(),
                kind,
                cause,
            });
        }
    }
    plan.outcomes.push(outcome);
    taken
}

fn dry_run(plan: &mut Plan) {
    for action in plan.actions.drain(..) {
        let outcome = &mut plan.outcomes[action.outcome];
        outcome.reason = Reason::DryRun;
        outcome.message = format!(
            "would be {}; spec.mode is DryRun, so nothing was changed",
            strip_ing(&outcome.message)
        );
    }
    // What would be assigned is said by the policy notes (see `policy_execute::settle_notes`).
    plan.policy_changes.clear();
    plan.drift_corrections = 0;
    plan.adoptions.clear();
}

/// "assigning X to Y" -> "assigned: X to Y", for dry-run wording.
fn strip_ing(message: &str) -> String {
    for (doing, done) in [
        ("assigning ", "assigned: "),
        ("replacing ", "replaced: "),
        ("unassigning ", "unassigned: "),
    ] {
        if let Some(rest) = message.strip_prefix(doing) {
            return format!("{done}{rest}");
        }
    }
    message.to_owned()
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
