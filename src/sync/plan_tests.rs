//! Planner tests over plain data: every reason in exactly the situation it names, every policy.

use std::collections::HashMap;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;

use super::plan;
use crate::api::{Reason, RemovalPolicy, SyncMode};
use crate::microsoft::catalog;
use crate::microsoft::licences::LicenceState;
use crate::sync::input::PlanInput;
use crate::sync::model::*;
use crate::sync::ownership::OwnershipRecord;
use crate::sync::testing::{licensed, teams_state};

struct Case {
    policy: Policy,
    desired: DesiredState,
    teams_users: Vec<TeamsUser>,
    numbers: Vec<HeldNumber>,
    checks: TenantChecks,
    previous: HashMap<UserKey, PreviousOutcome>,
    retries: HashMap<UserKey, RetryState>,
    record: OwnershipRecord,
    now: Timestamp,
}

fn now() -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap()
}

impl Case {
    fn new() -> Self {
        Self {
            policy: Policy::default(),
            desired: DesiredState::default(),
            teams_users: Vec::new(),
            numbers: Vec::new(),
            checks: TenantChecks::ok(),
            previous: HashMap::new(),
            retries: HashMap::new(),
            record: OwnershipRecord::default(),
            now: now(),
        }
    }

    fn dialpad(mut self, id: &str, email: Option<&str>, number: Option<&str>) -> Self {
        self.desired.users.push(DesiredUser {
            dialpad_user_id: Some(id.into()),
            email: email.map(str::to_owned),
            phone_number: number.map(str::to_owned),
            display_name: None,
            office: Default::default(),
        });
        if let Some(normalised) = number.and_then(crate::sync::numbers::normalise) {
            self.desired.owned_numbers.insert(normalised.clone());
            self.desired.number_owners.insert(normalised, id.into());
        }
        self
    }

    fn owned(mut self, number: &str) -> Self {
        self.desired.owned_numbers.insert(number.into());
        self
    }

    fn teams(mut self, id: &str, email: &str, licence: &str, enabled: bool) -> Self {
        let licence = match licence {
            "E5" => licensed(&[catalog::MCOEV], &["SPE_E5"]),
            "E3" => LicenceState::default(),
            "E5+calling" => licensed(&[catalog::MCOEV, catalog::MCOPSTN8], &["SPE_E5_CALLINGMINUTES"]),
            "E5+add-on" => licensed(&[catalog::MCOEV, catalog::MCOPSTN1], &["SPE_E5", "MCOPSTN1"]),
            other => panic!("unknown licence {other}"),
        };
        self.teams_users.push(TeamsUser {
            id: id.into(),
            user_principal_name: email.into(),
            mail: Some(email.into()),
            enabled,
            licence,
        });
        self
    }

    fn holds(mut self, holder: &str, number: &str, pending: bool) -> Self {
        self.numbers.push(HeldNumber {
            number: number.into(),
            holder: holder.into(),
            pending,
        });
        self
    }

    /// Ada (Dialpad user 1, a@c.com) desired with +14155550100, and her Teams account t1 with
    /// `licence`.
    fn with_ada(self, licence: &str, enabled: bool) -> Self {
        self.dialpad("1", Some("a@c.com"), Some("+14155550100"))
            .teams("t1", "a@c.com", licence, enabled)
    }

    /// Dennis (t9), gone from the source, still holding +14155550120, a number the source owns.
    fn with_dennis(self) -> Self {
        self.owned("+14155550120")
            .teams("t9", "dennis@c.com", "E5", true)
            .holds("t9", "+14155550120", false)
    }

    /// Records `number` as assigned to `holder` by this resource.
    fn recorded(mut self, number: &str, holder: &str) -> Self {
        let entries = self.record.entries().map(|(n, h)| (n.to_owned(), h.to_owned()));
        self.record = OwnershipRecord::from_entries(entries.chain([(number.into(), holder.into())]));
        self
    }

    fn run(&self) -> Plan {
        self.run_within(None)
    }

    /// The plan of a targeted re-sync deciding only `scope` (`None`: a full plan).
    fn run_within(&self, scope: Option<&crate::sync::targets::PlanScope>) -> Plan {
        let teams = teams_state(self.teams_users.clone(), self.numbers.clone());
        plan(&PlanInput {
            scope,
            policy: &self.policy,
            desired: &self.desired,
            teams: &teams,
            checks: &self.checks,
            previous: &self.previous,
            retries: &self.retries,
            owned: &self.record,
            now: self.now,
        })
    }
}

/// A case with only Ada in it (see [`Case::with_ada`]).
fn ada(licence: &str, enabled: bool) -> Case {
    Case::new().with_ada(licence, enabled)
}

/// Assigning `number` to `user_id`, for the outcome at `outcome`.
fn assign(outcome: usize, number: &str, user_id: &str) -> Action {
    Action {
        outcome,
        kind: ActionKind::Assign {
            number: number.into(),
            user_id: user_id.into(),
            location_id: None,
        },
        cause: Cause::NewUser,
    }
}

/// Unassigning `number`, for the outcome at `outcome`.
fn unassign(outcome: usize, number: &str) -> Action {
    Action {
        outcome,
        kind: ActionKind::Unassign {
            number: number.into(),
        },
        cause: Cause::DepartedAfterGrace,
    }
}

/// A user's retry after Graph answered 503 `attempts` times, next due at `next_attempt`.
fn graph_503(attempts: u32, next_attempt: Timestamp) -> RetryState {
    RetryState {
        attempts,
        next_attempt: Some(next_attempt),
        reason: Reason::TransientError,
        message: "Microsoft Graph answered 503".into(),
    }
}

fn only(plan: &Plan) -> &UserOutcome {
    assert_eq!(plan.outcomes.len(), 1, "{:#?}", plan.outcomes);
    &plan.outcomes[0]
}

/// Asserts that the only user's message contains `text`.
fn says(plan: &Plan, text: &str) {
    let message = &only(plan).message;
    assert!(message.contains(text), "{text:?} missing: {message}");
}

#[test]
fn user_without_email_reports_email_missing() {
    let plan = Case::new().dialpad("1", None, Some("+14155550100")).run();
    assert_eq!(only(&plan).reason, Reason::EmailMissing);
    assert!(only(&plan).message.contains("add the user's work email"));
    assert!(plan.actions.is_empty());
}

#[test]
fn user_without_number_reports_phone_number_missing() {
    let plan = Case::new()
        .dialpad("1", Some("a@c.com"), None)
        .teams("t1", "a@c.com", "E5", true)
        .run();
    assert_eq!(only(&plan).reason, Reason::PhoneNumberMissing);
}

#[test]
fn a_number_that_does_not_normalise_reports_invalid_phone_number() {
    let plan = Case::new()
        .dialpad("1", Some("a@c.com"), Some("555-0113"))
        .teams("t1", "a@c.com", "E5", true)
        .run();
    assert_eq!(only(&plan).reason, Reason::InvalidPhoneNumber);
    assert!(only(&plan).message.contains("'555-0113'"));
}

#[test]
fn two_source_users_with_one_email_both_report_duplicate_email() {
    let plan = Case::new()
        .dialpad("1", Some("desk@c.com"), Some("+14155550100"))
        .dialpad("2", Some("Desk@C.com"), Some("+14155550101"))
        .teams("t1", "desk@c.com", "E5", true)
        .run();
    assert!(plan.outcomes.iter().all(|o| o.reason == Reason::DuplicateEmail));
    assert!(plan.actions.is_empty());
}

#[test]
fn an_email_no_teams_user_answers_to_reports_teams_user_not_found() {
    let plan = Case::new()
        .dialpad("1", Some("ghost@c.com"), Some("+14155550100"))
        .run();
    assert_eq!(only(&plan).reason, Reason::TeamsUserNotFound);
}

#[test]
fn an_email_two_teams_users_answer_to_is_not_guessed() {
    let plan = ada("E5", true).teams("t2", "a@c.com", "E5", true).run();
    assert_eq!(only(&plan).reason, Reason::TeamsUserAmbiguous);
    let message = &only(&plan).message;
    assert!(message.contains("matches 2 Teams users"), "{message}");
    assert!(
        message.contains("(a@c.com, a@c.com)"),
        "both UPNs named: {message}"
    );
}

#[test]
fn a_disabled_teams_account_reports_teams_user_disabled() {
    let plan = ada("E5", false).run();
    assert_eq!(only(&plan).reason, Reason::TeamsUserDisabled);
}

#[test]
fn a_calling_plan_reports_calling_plan_assigned_naming_it() {
    let plan = ada("E5+calling", true).run();
    assert_eq!(only(&plan).reason, Reason::CallingPlanAssigned);
    assert!(only(&plan).message.contains("MCOPSTN8"));
}

#[test]
fn a_calling_plan_inside_a_bundle_says_to_turn_the_plan_off_not_to_remove_the_licence() {
    let plan = ada("E5+calling", true).run();
    let message = &only(&plan).message;
    assert!(
        message.contains("comes with Microsoft 365 E5 with Calling Minutes (SPE_E5_CALLINGMINUTES), which also carries Phone System, so do not remove that licence: turn off its service plan MCOPSTN8"),
        "{message}"
    );
}

#[test]
fn a_calling_plan_add_on_says_to_remove_that_licence() {
    let plan = ada("E5+add-on", true).run();
    let message = &only(&plan).message;
    assert_eq!(only(&plan).reason, Reason::CallingPlanAssigned);
    assert!(
        message.contains("the Calling Plan MCOPSTN1 comes with the add-on licence Skype for Business PSTN Domestic Calling (MCOPSTN1): remove that licence"),
        "{message}"
    );
    assert!(
        !message.contains("SPE_E5"),
        "E5 is not the licence to touch: {message}"
    );
}

#[test]
fn no_phone_system_reports_phone_system_license_missing() {
    let plan = ada("E3", true).run();
    assert_eq!(only(&plan).reason, Reason::PhoneSystemLicenseMissing);
}

#[test]
fn a_number_held_by_someone_else_reports_number_conflict() {
    let plan = ada("E5", true)
        .teams("t2", "reception@c.com", "E5", true)
        .holds("t2", "+14155550100", false)
        .run();
    assert_eq!(plan.outcomes[0].reason, Reason::NumberConflict);
    assert!(plan.outcomes[0].message.contains("reception@c.com"));
    assert!(plan.actions.is_empty());
}

#[test]
fn a_foreign_number_on_the_user_reports_number_conflict_unless_overwrite_is_allowed() {
    let case = ada("E5", true).holds("t1", "+12125550150", false);
    let plan = case.run();
    assert_eq!(only(&plan).reason, Reason::NumberConflict);
    assert!(only(&plan).message.contains("+12125550150"));
    let mut case = case;
    case.policy.overwrite_foreign_numbers = true;
    let plan = case.run();
    assert_eq!(plan.actions.len(), 1);
}

/// Ada is desired with +14155550100 but holds +14155550199, another number the source owns,
/// which this resource never assigned to her.
fn drifted() -> Case {
    ada("E5", true)
        .owned("+14155550199")
        .holds("t1", "+14155550199", false)
}

#[test]
fn a_source_number_this_resource_never_assigned_is_not_replaced() {
    let plan = drifted().run();
    assert_eq!(only(&plan).reason, Reason::NumberConflict);
    assert!(plan.actions.is_empty());
    assert_eq!(plan.drift_corrections, 0);
    let message = &only(&plan).message;
    for named in [
        "a@c.com holds +14155550199",
        "+14155550100",
        "spec.removal.adoptExisting",
    ] {
        assert!(message.contains(named), "{named} missing: {message}");
    }
    let moved = drifted().recorded("+14155550199", "t2").run();
    assert_eq!(
        only(&moved).reason,
        Reason::NumberConflict,
        "recorded for another user: this resource never assigned it to Ada"
    );
}

#[test]
fn a_recorded_number_changed_by_hand_is_drift_and_gets_corrected() {
    let plan = drifted().recorded("+14155550199", "t1").run();
    assert_eq!(plan.drift_corrections, 1);
    assert_eq!(
        plan.actions[0].kind,
        ActionKind::Assign {
            number: "+14155550100".into(),
            user_id: "t1".into(),
            location_id: None,
        }
    );
    let message = &only(&plan).message;
    assert!(
        message.contains("drift corrected; approved by the ownership record"),
        "{message}"
    );
    assert!(
        plan.adoptions.is_empty(),
        "recorded already: {:?}",
        plan.adoptions
    );
}

#[test]
fn a_recorded_number_the_source_no_longer_owns_is_replaced_only_with_overwrite() {
    // The Dialpad key now reads another company: Ada's number is ours, but not its.
    let mut case = ada("E5", true)
        .holds("t1", "+12125550150", false)
        .recorded("+12125550150", "t1");
    let plan = case.run();
    assert_eq!(only(&plan).reason, Reason::NumberConflict);
    says(&plan, "a number the source does not own");
    case.policy.overwrite_foreign_numbers = true;
    assert_eq!(case.run().actions.len(), 1);
}

#[test]
fn adoption_approves_replacing_a_source_number_and_adopts_it_first() {
    let mut case = drifted();
    case.policy.adopt_existing = true;
    let plan = case.run();
    assert_eq!(plan.actions.len(), 1);
    says(&plan, "approved by spec.removal.adoptExisting");
    assert_eq!(plan.adoptions, [("+14155550199".to_owned(), "t1".to_owned())]);
    let mut foreign = ada("E5", true).holds("t1", "+12125550150", false);
    foreign.policy.adopt_existing = true;
    assert_eq!(
        only(&foreign.run()).reason,
        Reason::NumberConflict,
        "adoption takes over only numbers the source owns"
    );
}

#[test]
fn overwrite_approves_replacing_any_number_without_adopting_it() {
    let mut case = drifted();
    case.policy.overwrite_foreign_numbers = true;
    let plan = case.run();
    assert_eq!(plan.actions.len(), 1);
    says(&plan, "approved by spec.safety.overwriteForeignNumbers");
    assert!(plan.adoptions.is_empty());
}

#[test]
fn every_number_the_user_holds_needs_approval_before_a_replacement() {
    let plan = drifted()
        .recorded("+14155550199", "t1")
        .holds("t1", "+12125550150", false)
        .run();
    assert_eq!(only(&plan).reason, Reason::NumberConflict);
    says(
        &plan,
        "a@c.com holds +12125550150, a number the source does not own",
    );
    assert!(plan.actions.is_empty());
}

#[test]
fn an_assigned_number_is_in_sync_and_an_activating_one_is_pending() {
    let base = Case::new()
        .dialpad("1", Some("a@c.com"), Some("(415) 555-0100"))
        .teams("t1", "a@c.com", "E5", true);
    let plan = Case {
        numbers: vec![HeldNumber {
            number: "+14155550100".into(),
            holder: "t1".into(),
            pending: false,
        }],
        ..base
    };
    let outcome = only(&plan.run()).clone();
    assert_eq!(outcome.reason, Reason::InSync);
    assert_eq!(outcome.phone_number.as_deref(), Some("+14155550100"));
    let plan = ada("E5", true).holds("t1", "+14155550100", true).run();
    assert_eq!(only(&plan).reason, Reason::AssignmentPending);
    assert!(plan.actions.is_empty());
}

#[test]
fn a_licensed_user_without_the_number_gets_an_assignment() {
    let plan = ada("E5", true).run();
    assert_eq!(plan.actions, [assign(0, "+14155550100", "t1")]);
    assert_eq!(only(&plan).reason, Reason::AssignmentPending);
}

#[test]
fn a_sign_in_failure_cascades_to_every_user_with_the_tenant_reason() {
    let mut case = Case::new()
        .dialpad("1", Some("a@c.com"), Some("+14155550100"))
        .dialpad("2", None, None);
    case.checks.connected = Err((Reason::MfaRequired, "AADSTS50076: exclude it from MFA".into()));
    let plan = case.run();
    assert!(
        plan.outcomes
            .iter()
            .all(|o| o.reason == Reason::AdminNotConnected)
    );
    assert!(
        plan.outcomes[0].message.contains("MfaRequired") && plan.outcomes[0].message.contains("AADSTS50076")
    );
    assert!(plan.actions.is_empty());
}

#[test]
fn missing_roles_cascade_as_admin_roles_missing() {
    let mut case = Case::new().dialpad("1", Some("a@c.com"), Some("+14155550100"));
    case.checks.authorized = Err((Reason::RolesMissing, "lacks Teams Administrator".into()));
    assert_eq!(only(&case.run()).reason, Reason::AdminRolesMissing);
}

fn departed() -> Case {
    Case::new().with_dennis().recorded("+14155550120", "t9")
}

fn departed_key() -> UserKey {
    UserKey::Departed {
        teams_user_id: "t9".into(),
        number: "+14155550120".into(),
    }
}

#[test]
fn a_departed_user_is_removal_pending_during_the_grace_period() {
    let plan = departed().run();
    assert_eq!(only(&plan).reason, Reason::RemovalPending);
    assert!(!only(&plan).desired);
    assert!(plan.actions.is_empty());
}

#[test]
fn a_departed_users_number_is_unassigned_once_the_grace_period_has_passed() {
    let mut case = departed();
    let since = now() - Duration::from_secs(73 * 3600);
    case.previous.insert(
        departed_key(),
        PreviousOutcome {
            reason: Reason::RemovalPending,
            since,
        },
    );
    let plan = case.run();
    assert_eq!(plan.actions, [unassign(0, "+14155550120")]);
}

#[test]
fn a_zero_grace_period_unassigns_at_once_and_retain_never_does() {
    let mut case = departed();
    case.policy.grace_period = Duration::ZERO;
    assert_eq!(case.run().actions.len(), 1);
    case.policy.removal = RemovalPolicy::Retain;
    let plan = case.run();
    assert!(plan.actions.is_empty() && plan.outcomes.is_empty());
}

#[test]
fn a_grace_period_beyond_the_calendar_keeps_the_number_instead_of_panicking() {
    // Found by the planner fuzz target: the schema admits any Go duration, and the deadline of one
    // this long did not fit in a timestamp.
    let mut case = departed();
    case.policy.grace_period = parse_duration("99999999999h").expect("a duration the schema admits");
    let plan = case.run();
    assert_eq!(only(&plan).reason, Reason::RemovalPending);
    assert!(plan.actions.is_empty());
}

#[test]
fn protected_and_foreign_numbers_are_never_unassigned() {
    let mut case = departed();
    case.policy.grace_period = Duration::ZERO;
    case.desired.protected_numbers.insert("+14155550120".into());
    assert!(case.run().actions.is_empty());
    let foreign = Case::new()
        .teams("t9", "x@c.com", "E5", true)
        .holds("t9", "+12125550150", false);
    assert!(foreign.run().outcomes.is_empty());
}

#[test]
fn too_many_unassignments_block_all_of_them_but_not_assignments() {
    let mut case = ada("E5", true);
    case.policy.grace_period = Duration::ZERO;
    case.policy.max_unassignments = 2;
    for index in 0..3 {
        let number = format!("+1415555020{index}");
        case = case
            .owned(&number)
            .teams(&format!("d{index}"), &format!("d{index}@c.com"), "E5", true)
            .holds(&format!("d{index}"), &number, false)
            .recorded(&number, &format!("d{index}"));
    }
    let plan = case.run();
    let blocked = plan
        .outcomes
        .iter()
        .filter(|o| o.reason == Reason::BlockedBySafetyLimit)
        .count();
    assert_eq!(blocked, 3);
    assert_eq!(plan.actions.len(), 1, "the assignment still goes ahead");
    assert!(matches!(plan.actions[0].kind, ActionKind::Assign { .. }));
    assert!(plan.outcomes[1].message.contains("maxUnassignmentsPerSync is 2"));
}

#[test]
fn dry_run_reports_every_would_be_action_and_plans_none() {
    let mut case = departed().with_ada("E5", true);
    case.policy.mode = SyncMode::DryRun;
    case.policy.grace_period = Duration::ZERO;
    let plan = case.run();
    assert!(plan.actions.is_empty());
    let dry: Vec<_> = plan
        .outcomes
        .iter()
        .filter(|o| o.reason == Reason::DryRun)
        .collect();
    assert_eq!(dry.len(), 2);
    assert!(
        dry.iter()
            .any(|o| o.message.contains("would be assigned: +14155550100")),
        "{dry:?}"
    );
    assert!(
        dry.iter()
            .any(|o| o.message.contains("would be unassigned: +14155550120")),
        "{dry:?}"
    );
}

#[test]
fn a_user_whose_retry_is_not_due_waits_without_holding_up_others() {
    let mut case = Case::new()
        .dialpad("1", Some("a@c.com"), Some("+14155550100"))
        .dialpad("2", Some("b@c.com"), Some("+14155550101"))
        .teams("t1", "a@c.com", "E5", true)
        .teams("t2", "b@c.com", "E5", true);
    let later = now() + Duration::from_secs(600);
    let retry = graph_503(3, later);
    case.retries.insert(UserKey::Dialpad("1".into()), retry);
    let plan = case.run();
    assert_eq!(plan.outcomes[0].reason, Reason::TransientError);
    assert!(
        plan.outcomes[0].message.contains("503 (attempt 3; next retry at"),
        "{}",
        plan.outcomes[0].message
    );
    assert_eq!(plan.actions.len(), 1);
    assert_eq!(plan.actions[0].outcome, 1);
}

#[test]
fn the_same_input_gives_the_same_plan() {
    let case = departed()
        .dialpad("1", Some("a@c.com"), Some("+14155550100"))
        .dialpad("2", Some("b@c.com"), Some("+14155550101"))
        .teams("t1", "a@c.com", "E5", true);
    assert_eq!(case.run(), case.run());
}

#[test]
fn a_departed_user_whose_unassignment_failed_keeps_its_passed_grace_period() {
    let mut case = departed();
    let retry = graph_503(1, now() - Duration::from_secs(1));
    case.retries.insert(departed_key(), retry.clone());
    let plan = case.run();
    assert_eq!(plan.actions, [unassign(0, "+14155550120")]);
    case.retries.insert(
        departed_key(),
        RetryState {
            next_attempt: Some(now() + Duration::from_secs(60)),
            ..retry
        },
    );
    let plan = case.run();
    assert!(plan.actions.is_empty());
    assert_eq!(
        only(&plan).reason,
        Reason::TransientError,
        "waiting for its retry, not a new grace period"
    );
}

#[test]
fn a_departed_users_number_this_resource_never_assigned_is_left_alone() {
    let mut case = Case::new().with_dennis();
    case.policy.grace_period = Duration::ZERO;
    let plan = case.run();
    assert!(plan.actions.is_empty() && plan.outcomes.is_empty(), "{plan:#?}");
    let moved = departed().recorded("+14155550120", "t8");
    assert!(
        moved.run().outcomes.is_empty(),
        "recorded for another user: someone moved it by hand, so it is not ours any more"
    );
}

#[test]
fn an_in_sync_user_says_whether_this_resource_owns_the_number() {
    let case = Case::new()
        .dialpad("1", Some("ada@c.com"), Some("+14155550100"))
        .teams("t1", "ada@c.com", "E5", true)
        .holds("t1", "+14155550100", false);
    let before = case.run();
    assert_eq!(only(&before).reason, Reason::InSync);
    assert!(
        only(&before).message.contains("assigned before this resource"),
        "{}",
        only(&before).message
    );
    let owned = case.recorded("+14155550100", "t1").run();
    assert!(
        only(&owned).message.ends_with("(owned by this resource)"),
        "{}",
        only(&owned).message
    );
}

/// A departed user whose number is due now, and Ada, whose recorded number drifted: two numbers
/// to take off users, plus Bob, who only needs his number.
fn two_removals_and_an_assignment() -> Case {
    let mut case = drifted()
        .recorded("+14155550199", "t1")
        .dialpad("2", Some("b@c.com"), Some("+14155550101"))
        .teams("t2", "b@c.com", "E5", true)
        .with_dennis()
        .recorded("+14155550120", "t9");
    case.policy.grace_period = Duration::ZERO;
    case
}

#[test]
fn a_replacement_counts_toward_the_safety_limit() {
    let mut case = two_removals_and_an_assignment();
    case.policy.max_unassignments = 2;
    let plan = case.run();
    assert_eq!(plan.actions.len(), 3, "within the limit: {:#?}", plan.actions);
    assert_eq!(plan.drift_corrections, 1);
    case.policy.max_unassignments = 1;
    let plan = case.run();
    assert_eq!(
        plan.actions,
        [assign(1, "+14155550101", "t2")],
        "Bob's plain assignment still goes ahead"
    );
    assert_eq!(plan.drift_corrections, 0);
    let blocked: Vec<&UserOutcome> = plan
        .outcomes
        .iter()
        .filter(|o| o.reason == Reason::BlockedBySafetyLimit)
        .collect();
    assert_eq!(blocked.len(), 2, "{:#?}", plan.outcomes);
    for outcome in &blocked {
        assert!(
            outcome.message.contains(
                "2 numbers are due to be taken off users in this sync (1 by unassignment, 1 by replacement) but spec.safety.maxUnassignmentsPerSync is 1"
            ),
            "{}",
            outcome.message
        );
    }
    assert!(
        blocked[0]
            .message
            .starts_with("+14155550199 stays on a@c.com instead of +14155550100: "),
        "{}",
        blocked[0].message
    );
    assert!(
        blocked[1]
            .message
            .starts_with("+14155550120 stays on dennis@c.com: "),
        "{}",
        blocked[1].message
    );
}

#[test]
fn a_blocked_replacement_adopts_nothing() {
    let mut case = drifted();
    case.policy.adopt_existing = true;
    case.policy.max_unassignments = 0;
    let plan = case.run();
    assert_eq!(only(&plan).reason, Reason::BlockedBySafetyLimit);
    assert!(plan.actions.is_empty() && plan.adoptions.is_empty(), "{plan:#?}");
}

#[test]
fn a_replacement_waiting_for_its_retry_is_not_counted() {
    let mut case = two_removals_and_an_assignment();
    case.policy.max_unassignments = 1;
    case.retries.insert(
        UserKey::Dialpad("1".into()),
        graph_503(1, now() + Duration::from_secs(60)),
    );
    let plan = case.run();
    assert_eq!(plan.outcomes[0].reason, Reason::TransientError);
    assert!(
        plan.actions.iter().any(|a| a.kind
            == ActionKind::Unassign {
                number: "+14155550120".into()
            }),
        "only the unassignment is due this sync, within the limit: {:#?}",
        plan.actions
    );
}

#[test]
fn dry_run_reports_a_replacement_it_would_make() {
    let mut case = drifted().recorded("+14155550199", "t1");
    case.policy.mode = SyncMode::DryRun;
    let plan = case.run();
    assert!(plan.actions.is_empty());
    assert_eq!(plan.drift_corrections, 0);
    assert_eq!(only(&plan).reason, Reason::DryRun);
    assert!(
        only(&plan)
            .message
            .starts_with("would be replaced: +14155550199 with +14155550100 on a@c.com"),
        "{}",
        only(&plan).message
    );
}

#[path = "plan_scope_tests.rs"]
mod scope;
