//! Tests of `report.rs` and its `tally` and `listing`.
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use k8s_openapi::jiff::Timestamp;

use super::*;
use crate::api::conditions::{
    ADMIN_AUTHORIZED, ADMIN_CONNECTED, READY, RECONCILING, SOURCE_CONNECTED, STALLED, SYNCED,
    TENANT_CONDITION_TYPES,
};
use crate::sync::readiness::Readiness;

fn at(seconds: i64) -> Time {
    Time(Timestamp::from_second(seconds).unwrap())
}

fn dialpad(id: &str, email: Option<&str>, reason: Reason) -> UserOutcome {
    UserOutcome {
        key: UserKey::Dialpad(id.to_owned()),
        email: email.map(str::to_owned),
        phone_number: Some(format!("+1415555{:04}", id.len())),
        dialpad_user_id: Some(id.to_owned()),
        teams_user_id: Some(format!("teams-{id}")),
        reason,
        message: format!("{reason} for {id}"),
        desired: true,
    }
}

fn departed(teams_user_id: &str, number: &str, reason: Reason) -> UserOutcome {
    UserOutcome {
        key: UserKey::Departed {
            teams_user_id: teams_user_id.to_owned(),
            number: number.to_owned(),
        },
        email: Some(format!("{teams_user_id}@contoso.com")),
        phone_number: Some(number.to_owned()),
        // As the planner writes it: the owner is named in the message only.
        dialpad_user_id: None,
        teams_user_id: Some(teams_user_id.to_owned()),
        reason,
        message: format!("{reason} for {teams_user_id}"),
        desired: false,
    }
}

fn report(
    outcomes: &[UserOutcome],
    previous: Option<&TeamsTenantSyncStatus>,
    now: Time,
    budget_bytes: usize,
) -> TeamsTenantSyncStatus {
    build_status(&ReportInput {
        outcomes,
        checks: &TenantChecks::ok(),
        source: &SourceState::Read,
        source_origin: None,
        previous,
        generation: Some(7),
        now,
        budget_bytes,
        readiness: &Readiness::default(),
    })
}

/// The status of a first sync at 100 s in which every user was read, within the default budget.
fn first_sync(outcomes: &[UserOutcome]) -> TeamsTenantSyncStatus {
    report(outcomes, None, at(100), DEFAULT_STATUS_BUDGET)
}

/// The status of a sync at `now` after `previous`, within the default budget.
fn later_sync(
    outcomes: &[UserOutcome],
    previous: &TeamsTenantSyncStatus,
    now: Time,
) -> TeamsTenantSyncStatus {
    report(outcomes, Some(previous), now, DEFAULT_STATUS_BUDGET)
}

/// The status of a sync that planned no user: the tenant checks or the source failed.
fn without_users(
    checks: &TenantChecks,
    source: &SourceState,
    previous: Option<&TeamsTenantSyncStatus>,
    generation: i64,
    now: Time,
) -> TeamsTenantSyncStatus {
    build_status(&ReportInput {
        outcomes: &[],
        checks,
        source,
        source_origin: None,
        previous,
        generation: Some(generation),
        now,
        budget_bytes: DEFAULT_STATUS_BUDGET,
        readiness: &Readiness::default(),
    })
}

fn condition<'a>(status: &'a TeamsTenantSyncStatus, type_: &str) -> &'a Condition {
    find_condition(&status.conditions, type_).unwrap()
}

fn synced(user: &UserSyncStatus) -> &Condition {
    find_condition(&user.conditions, SYNCED).unwrap()
}

/// A condition's status and reason, to compare as a pair.
fn state(condition: &Condition) -> (&str, &str) {
    (condition.status.as_str(), condition.reason.as_str())
}

fn size(status: &TeamsTenantSyncStatus) -> usize {
    serde_json::to_vec(status).unwrap().len()
}

/// `count` users: every 50th fails, every other 40th is pending, the rest in sync.
fn tenant(count: usize) -> Vec<UserOutcome> {
    (0..count)
        .map(|i| {
            let reason = if i % 50 == 0 {
                if i % 100 == 0 {
                    Reason::CallingPlanAssigned
                } else {
                    Reason::TeamsUserNotFound
                }
            } else if i % 40 == 0 {
                Reason::AssignmentPending
            } else {
                Reason::InSync
            };
            dialpad(
                &format!("{i:07}"),
                Some(&format!("user{i:07}@contoso.com")),
                reason,
            )
        })
        .collect()
}

#[test]
fn counts_are_exact_even_when_users_are_omitted() {
    let mut outcomes = tenant(2000);
    outcomes.push(departed("gone", "+14155550199", Reason::RemovalPending));
    let status = report(&outcomes, None, at(100), 16 * 1024);
    let summary = status.summary.as_ref().unwrap();
    assert!(status.users_omitted > 0);
    assert_eq!(
        status.users.len() + status.users_omitted as usize,
        81,
        "the users not in sync are listed or counted as omitted; those in sync are only counted"
    );
    assert_eq!(summary.desired, 2000);
    assert_eq!(summary.failed, 40);
    assert_eq!(summary.pending, 40);
    assert_eq!(summary.in_sync, 2000 - 40 - 40);
    assert_eq!(summary.departed, 1, "the departed user is counted apart");
    assert_eq!(
        summary.in_sync + summary.pending + summary.failed,
        summary.desired,
        "the counts add up"
    );
    assert_eq!(summary.by_reason["CallingPlanAssigned"], 20);
    assert_eq!(summary.by_reason["TeamsUserNotFound"], 20);
    assert_eq!(summary.by_reason["AssignmentPending"], 40);
    assert_eq!(summary.by_reason["RemovalPending"], 1);
    assert_eq!(summary.by_reason["InSync"], 1920);
    assert!(size(&status) <= 16 * 1024);
}

#[test]
fn departed_users_come_first_then_failures_then_pending_and_users_in_sync_are_not_listed() {
    let outcomes = vec![
        dialpad("1", Some("b@contoso.com"), Reason::InSync),
        dialpad("2", Some("z@contoso.com"), Reason::AssignmentPending),
        dialpad("3", None, Reason::EmailMissing),
        dialpad("4", Some("c@contoso.com"), Reason::CallingPlanAssigned),
        dialpad("5", Some("a@contoso.com"), Reason::InSync),
        departed("t", "+14155550100", Reason::RemovalPending),
        dialpad("6", Some("a@contoso.com"), Reason::TransientError),
    ];
    let status = first_sync(&outcomes);
    let order: Vec<(&str, Option<&str>)> = status
        .users
        .iter()
        .map(|u| (synced(u).reason.as_str(), u.email.as_deref()))
        .collect();
    assert_eq!(
        order,
        [
            ("RemovalPending", Some("t@contoso.com")),
            ("TransientError", Some("a@contoso.com")),
            ("CallingPlanAssigned", Some("c@contoso.com")),
            ("EmailMissing", None),
            ("AssignmentPending", Some("z@contoso.com")),
        ]
    );
    assert_eq!(status.users_omitted, 0, "users in sync are counted, not omitted");
    assert_eq!(status.summary.as_ref().unwrap().in_sync, 2);
}

/// `count` departed users (each listed: their entry carries their grace period).
fn leavers(count: usize) -> Vec<UserOutcome> {
    (0..count)
        .map(|i| {
            departed(
                &format!("gone-{i:06}"),
                &format!("+1415{i:07}"),
                Reason::RemovalPending,
            )
        })
        .collect()
}

#[test]
fn describe_stays_a_few_hundred_lines_at_10000_users_with_1_percent_failing() {
    // 9,900 in sync; 100 failing across four reasons, one of them rare.
    let outcomes: Vec<UserOutcome> = (0..10_000)
        .map(|i| {
            let reason = match i {
                _ if i % 100 != 0 => Reason::InSync,
                _ if i == 0 => Reason::TeamsUserDisabled,
                _ if i % 300 == 0 => Reason::CallingPlanAssigned,
                _ if i % 200 == 0 => Reason::PhoneSystemLicenseMissing,
                _ => Reason::TeamsUserNotFound,
            };
            dialpad(
                &format!("{i:07}"),
                Some(&format!("user{i:07}@contoso.com")),
                reason,
            )
        })
        .collect();
    let status = first_sync(&outcomes);
    assert_eq!(status.users.len(), LISTED_USERS);
    assert_eq!(status.users_omitted, 100 - LISTED_USERS as i32);
    let listed: std::collections::BTreeSet<&str> =
        status.users.iter().map(|u| synced(u).reason.as_str()).collect();
    assert_eq!(
        listed.into_iter().collect::<Vec<_>>(),
        [
            "CallingPlanAssigned",
            "PhoneSystemLicenseMissing",
            "TeamsUserDisabled",
            "TeamsUserNotFound"
        ],
        "every reason shows examples, the rare one too"
    );
    // `kubectl describe` prints the status as nested YAML: about one line per field.
    let lines = serde_yaml::to_string(&status).unwrap().lines().count();
    assert!(lines < 400, "{lines} lines");
    assert_eq!(
        status.summary.as_ref().unwrap().in_sync,
        9_900,
        "in sync: counted"
    );
}

#[test]
fn status_stays_under_the_budget_at_100000_users_and_20000_leavers() {
    let mut outcomes = tenant(100_000);
    outcomes.extend(leavers(20_000));
    let status = first_sync(&outcomes);
    let summary = status.summary.as_ref().unwrap();
    let written = size(&status);
    assert!(written <= DEFAULT_STATUS_BUDGET, "{written} bytes");
    // Filled, not just bounded: one more entry would not have fitted.
    let entry = serialized_len(&status.users[0]);
    assert!(written + entry + 1 > DEFAULT_STATUS_BUDGET, "{written} bytes");
    assert_eq!(summary.desired, 100_000);
    assert_eq!(summary.failed, 2000);
    assert_eq!(summary.pending, 2000);
    assert_eq!(summary.in_sync, 96_000);
    assert_eq!(summary.departed, 20_000);
    assert_eq!(status.users_omitted as usize, 24_000 - status.users.len());
    // Departed users come first and alone fill the budget, by email.
    assert!(status.users.len() > 500, "{} listed", status.users.len());
    assert!(status.users.iter().all(|u| synced(u).reason == "RemovalPending"));
    assert!(status.users.windows(2).all(|w| w[0].email < w[1].email));
}

#[test]
fn size_accounting_is_exact_to_the_byte() {
    let outcomes = leavers(300);
    let roomy = report(&outcomes, None, at(100), 20_000);
    let exact = size(&roomy);
    let same = report(&outcomes, None, at(100), exact);
    assert_eq!(same.users.len(), roomy.users.len());
    assert_eq!(size(&same), exact);
    let tighter = report(&outcomes, None, at(100), exact - 1);
    assert_eq!(tighter.users.len(), roomy.users.len() - 1);
    assert!(size(&tighter) < exact);
    // Nothing fits: no users, all omitted, the fixed part still written.
    let none = report(&outcomes, None, at(100), 10);
    assert!(none.users.is_empty());
    assert_eq!(none.users_omitted, 300);
    // Everything fits: no usersOmitted field at all.
    let all = report(&outcomes, None, at(100), usize::MAX);
    assert_eq!(all.users.len(), 300);
    assert_eq!(all.users_omitted, 0);
    assert_eq!(report(&outcomes, None, at(100), size(&all)).users.len(), 300);
}

#[test]
fn last_transition_time_is_kept_when_the_status_does_not_flip() {
    let first = first_sync(&[dialpad("1", Some("a@contoso.com"), Reason::CallingPlanAssigned)]);
    let second = later_sync(
        &[dialpad(
            "1",
            Some("a@contoso.com"),
            Reason::PhoneSystemLicenseMissing,
        )],
        &first,
        at(200),
    );
    let user = synced(&second.users[0]);
    assert_eq!(user.reason, "PhoneSystemLicenseMissing");
    assert_eq!(user.last_transition_time, at(100));
    assert_eq!(condition(&second, READY).last_transition_time, at(100));
    assert_eq!(condition(&second, ADMIN_CONNECTED).last_transition_time, at(100));
    assert_eq!(second.last_sync_time, Some(at(200)));
}

#[test]
fn users_synced_flips_when_the_last_user_gets_in_sync_and_users_in_sync_leave_the_list() {
    let first = first_sync(&[
        dialpad("1", Some("a@contoso.com"), Reason::AssignmentPending),
        dialpad("2", Some("b@contoso.com"), Reason::InSync),
    ]);
    let second = later_sync(
        &[
            dialpad("1", Some("a@contoso.com"), Reason::InSync),
            dialpad("2", Some("b@contoso.com"), Reason::InSync),
        ],
        &first,
        at(200),
    );
    let pending = &first.users[0];
    assert_eq!(
        (
            pending.email.as_deref(),
            synced(pending).last_transition_time.clone()
        ),
        (Some("a@contoso.com"), at(100))
    );
    assert!(
        second.users.is_empty(),
        "both in sync: counted, not listed ({:?})",
        second.users
    );
    assert_eq!(condition(&second, USERS_SYNCED).status, "True");
    assert_eq!(condition(&second, USERS_SYNCED).last_transition_time, at(200));
    // An activation in time is progress, not a failure: Ready stays True while Reconciling
    // says Teams is converging (kstatus: in progress), and Reconciling goes once it is done.
    assert_eq!(state(condition(&first, READY)), ("True", "Synced"));
    assert_eq!(condition(&first, RECONCILING).status, "True");
    assert_eq!(condition(&second, READY).status, "True");
    assert_eq!(condition(&second, READY).last_transition_time, at(100));
    assert!(find_condition(&second.conditions, RECONCILING).is_none());
}

#[test]
fn a_failed_source_keeps_the_previous_users() {
    let outcomes = tenant(120);
    let first = first_sync(&outcomes);
    let second = without_users(
        &TenantChecks::ok(),
        &SourceState::Failed {
            reason: Reason::SourceCredentialsInvalid,
            message: "Dialpad answered 401".into(),
        },
        Some(&first),
        8,
        at(200),
    );
    assert_eq!(second.users, first.users);
    assert_eq!(second.summary, first.summary);
    assert_eq!(second.users_omitted, first.users_omitted);
    assert_eq!(condition(&second, USERS_SYNCED), condition(&first, USERS_SYNCED));
    let source = condition(&second, SOURCE_CONNECTED);
    assert_eq!(state(source), ("False", "SourceCredentialsInvalid"));
    assert_eq!(source.observed_generation, Some(8));
    let ready = condition(&second, READY);
    assert_eq!(ready.reason, "SourceCredentialsInvalid");
    assert_eq!(ready.message, "Dialpad answered 401");
    assert_eq!(second.observed_generation, Some(8));
}

#[test]
fn a_failed_source_without_history_says_users_were_not_checked() {
    let status = without_users(
        &TenantChecks::ok(),
        &SourceState::Failed {
            reason: Reason::TransientError,
            message: "timeout".into(),
        },
        None,
        1,
        at(100),
    );
    let users = condition(&status, USERS_SYNCED);
    assert_eq!(state(users), ("False", "TransientError"));
    assert!(users.message.starts_with("not checked"));
    assert_eq!(condition(&status, READY).reason, "TransientError");
}

#[test]
fn ready_is_true_while_teams_activates_and_false_with_more_failures_than_tolerated() {
    let pending = first_sync(&[
        dialpad("1", Some("a@contoso.com"), Reason::InSync),
        dialpad("2", Some("b@contoso.com"), Reason::AssignmentPending),
        departed("t", "+14155550100", Reason::RemovalPending),
    ]);
    let ready = condition(&pending, READY);
    assert_eq!(state(ready), ("True", "Synced"));
    assert_eq!(
        ready.message,
        "Teams is activating 1 assignment(s): 1 of 2 users in sync; 1 pending; 1 departed (RemovalPending: 1)"
    );
    assert_eq!(condition(&pending, RECONCILING).status, "True");
    assert!(find_condition(&pending.conditions, STALLED).is_none());
    assert_eq!(condition(&pending, USERS_SYNCED).reason, "UsersNotInSync");

    let failing = first_sync(&[
        dialpad("1", Some("a@contoso.com"), Reason::InSync),
        dialpad("2", Some("b@contoso.com"), Reason::CallingPlanAssigned),
        dialpad("3", Some("c@contoso.com"), Reason::CallingPlanAssigned),
        dialpad("4", Some("d@contoso.com"), Reason::EmailMissing),
        dialpad("5", Some("e@contoso.com"), Reason::AssignmentPending),
    ]);
    let ready = condition(&failing, READY);
    assert_eq!(state(ready), ("False", "UsersNotInSync"));
    assert_eq!(
        ready.message,
        "3 users need attention, more than spec.readiness.maxFailedUsers tolerates (5%, 0 of 5 desired users): 1 of 5 users in sync; 3 failed (CallingPlanAssigned: 2, EmailMissing: 1); 1 pending"
    );
    assert_eq!(condition(&failing, STALLED).reason, "UsersNotInSync");
    assert!(find_condition(&failing.conditions, RECONCILING).is_none());

    let all = report(
        &[dialpad("1", Some("a@contoso.com"), Reason::InSync)],
        None,
        at(1),
        1 << 20,
    );
    let users = condition(&all, USERS_SYNCED);
    assert_eq!(state(users), ("True", "AllUsersInSync"));
    assert_eq!(users.message, "1 of 1 users in sync");
    assert_eq!(condition(&all, READY).status, "True");
}

#[test]
fn a_departed_user_blocked_by_the_safety_limit_makes_ready_false() {
    let status = first_sync(&[
        dialpad("1", Some("a@contoso.com"), Reason::InSync),
        departed("t", "+14155550100", Reason::BlockedBySafetyLimit),
    ]);
    assert_eq!(condition(&status, USERS_SYNCED).reason, "UsersNotInSync");
    let ready = condition(&status, READY);
    assert_eq!(state(ready), ("False", "UsersNotInSync"));
    assert!(
        ready.message.contains("BlockedBySafetyLimit: 1"),
        "{}",
        ready.message
    );
}

#[test]
fn tenant_failure_reason_shows_on_ready() {
    let checks = TenantChecks {
        connected: Err((Reason::MfaRequired, "AADSTS50076: MFA is required".into())),
        authorized: Ok(()),
    };
    let status = without_users(&checks, &SourceState::Skipped, None, 2, at(100));
    let types: Vec<&str> = status.conditions.iter().map(|c| c.type_.as_str()).collect();
    assert_eq!(types[..5], TENANT_CONDITION_TYPES);
    assert_eq!(
        types[5..],
        ["Stalled"],
        "MFA needs a person: kstatus reads Stalled"
    );
    assert!(status.conditions.iter().all(|c| c.observed_generation == Some(2)));
    let ready = condition(&status, READY);
    assert_eq!(state(ready), ("False", "MfaRequired"));
    assert_eq!(ready.message, "AADSTS50076: MFA is required");
    let authorized = condition(&status, ADMIN_AUTHORIZED);
    assert_eq!(state(authorized), ("False", "MfaRequired"));
    assert_eq!(authorized.message, "not checked: AADSTS50076: MFA is required");
    let source = condition(&status, SOURCE_CONNECTED);
    assert_eq!(source.reason, "MfaRequired");
    assert_eq!(source.message, "not read: the tenant checks failed");

    let checks = TenantChecks {
        connected: Ok(()),
        authorized: Err((Reason::RolesMissing, "missing Teams Administrator".into())),
    };
    let status = without_users(&checks, &SourceState::Skipped, None, 2, at(100));
    assert_eq!(condition(&status, ADMIN_CONNECTED).status, "True");
    assert_eq!(condition(&status, ADMIN_AUTHORIZED).reason, "RolesMissing");
    assert_eq!(condition(&status, SOURCE_CONNECTED).reason, "RolesMissing");
    assert_eq!(condition(&status, READY).reason, "RolesMissing");
    assert_eq!(condition(&status, READY).message, "missing Teams Administrator");
}

#[test]
fn only_timestamps_changed_is_not_a_change() {
    let outcomes = tenant(200);
    let first = first_sync(&outcomes);
    let second = report(&outcomes, None, at(500), DEFAULT_STATUS_BUDGET);
    assert_ne!(first, second);
    assert!(!status_changed(&first, &second));

    let mut message = second.clone();
    message.users[3].conditions[0].message.push('!');
    assert!(status_changed(&first, &message));
    let mut tenant = second.clone();
    tenant.conditions[0].message.push('!');
    assert!(status_changed(&first, &tenant));
    let mut generation = second.clone();
    generation.observed_generation = Some(8);
    assert!(status_changed(&first, &generation));
    let mut summary = second;
    summary.summary.as_mut().unwrap().failed += 1;
    assert!(status_changed(&first, &summary));
}

#[test]
fn previous_outcomes_round_trip_every_key_kind() {
    let mut static_user = dialpad("x", Some("Ann.Lee@Contoso.com"), Reason::TeamsUserNotFound);
    static_user.key = UserKey::Static("ann.lee@contoso.com".into());
    static_user.dialpad_user_id = None;
    let mut no_email = dialpad("y", None, Reason::EmailMissing);
    no_email.key = UserKey::Static(String::new());
    no_email.dialpad_user_id = None;
    let outcomes = vec![
        dialpad(
            "5835806903417907",
            Some("bo@contoso.com"),
            Reason::AssignmentPending,
        ),
        static_user,
        no_email,
        departed("t-1", "+14155550100", Reason::RemovalPending),
        departed("t-2", "+14155550101", Reason::BlockedBySafetyLimit),
        // A departed number owned by a Dialpad user who is also listed, under their own key.
        departed("t-3", "+14155550102", Reason::RemovalPending),
        dialpad("owner-1", Some("owner@contoso.com"), Reason::NumberConflict),
        // A desired user whose replacement the safety limit held back keeps their own key.
        dialpad("held-1", Some("held@contoso.com"), Reason::BlockedBySafetyLimit),
    ];
    let status = first_sync(&outcomes);
    let previous = previous_outcomes(&status);
    assert_eq!(previous.len(), outcomes.len());
    for outcome in &outcomes {
        let found = previous
            .get(&outcome.key)
            .unwrap_or_else(|| panic!("{:?} lost", outcome.key));
        assert_eq!(found.reason, outcome.reason);
        assert_eq!(found.since, at(100).0);
    }
}

#[test]
fn previous_outcomes_skip_unknown_reasons_and_take_since_from_the_transition() {
    let first = first_sync(&[
        departed("t-1", "+14155550100", Reason::RemovalPending),
        dialpad("1", Some("a@contoso.com"), Reason::InSync),
    ]);
    let mut second = later_sync(
        &[
            departed("t-1", "+14155550100", Reason::BlockedBySafetyLimit),
            dialpad("1", Some("a@contoso.com"), Reason::InSync),
        ],
        &first,
        at(900),
    );
    let previous = previous_outcomes(&second);
    let key = UserKey::Departed {
        teams_user_id: "t-1".into(),
        number: "+14155550100".into(),
    };
    assert_eq!(previous[&key].reason, Reason::BlockedBySafetyLimit);
    assert_eq!(previous[&key].since, at(100).0);
    for user in &mut second.users {
        user.conditions[0].reason = "NoSuchReason".into();
    }
    assert!(previous_outcomes(&second).is_empty());
}

#[test]
fn a_departed_user_held_by_the_safety_limit_keeps_users_synced_false() {
    let status = first_sync(&[
        dialpad("1", Some("a@contoso.com"), Reason::InSync),
        departed("t", "+14155550100", Reason::BlockedBySafetyLimit),
    ]);
    let summary = status.summary.as_ref().unwrap();
    assert_eq!(
        (
            summary.desired,
            summary.in_sync,
            summary.pending,
            summary.failed,
            summary.departed
        ),
        (1, 1, 0, 0, 1)
    );
    let users_synced = condition(&status, USERS_SYNCED);
    assert_eq!(
        (users_synced.reason.as_str(), users_synced.message.as_str()),
        (
            "UsersNotInSync",
            "1 of 1 users in sync; 1 departed (BlockedBySafetyLimit: 1)"
        )
    );
    assert_eq!(condition(&status, READY).status, "False");
}

#[test]
fn a_dry_run_with_changes_is_ready_and_says_how_many() {
    let status = first_sync(&[
        dialpad("1", Some("a@contoso.com"), Reason::InSync),
        dialpad("2", Some("b@contoso.com"), Reason::DryRun),
        dialpad("3", Some("c@contoso.com"), Reason::DryRun),
    ]);
    let ready = condition(&status, READY);
    assert_eq!(
        state(ready),
        ("True", "DryRun"),
        "a dry run is as healthy as its plan"
    );
    assert!(
        ready
            .message
            .starts_with("DryRun: 2 change(s) would be made and nothing was changed")
            && ready.message.ends_with("set spec.mode to Enforce to apply them"),
        "{}",
        ready.message
    );
}

#[test]
fn users_failing_only_transiently_are_not_stalled() {
    let status = first_sync(&[
        dialpad("1", Some("a@contoso.com"), Reason::InSync),
        dialpad("2", Some("b@contoso.com"), Reason::TransientError),
    ]);
    assert_eq!(condition(&status, READY).status, "False");
    assert!(
        find_condition(&status.conditions, STALLED).is_none(),
        "a retry will fix it: not stalled"
    );
}

/// A tenant of `count` desired users of whom `failing` lack a Teams Phone licence.
fn with_failures(count: usize, failing: usize) -> Vec<UserOutcome> {
    (0..count)
        .map(|i| {
            let reason = if i < failing {
                Reason::PhoneSystemLicenseMissing
            } else {
                Reason::InSync
            };
            dialpad(&format!("u{i}"), Some(&format!("u{i}@contoso.com")), reason)
        })
        .collect()
}

#[test]
fn failed_users_within_max_failed_users_leave_ready_true_and_users_synced_exact() {
    let status = first_sync(&with_failures(1000, 50));
    let ready = condition(&status, READY);
    assert_eq!(state(ready), ("True", "Synced"));
    assert!(
        ready
            .message
            .ends_with("50 user(s) needing attention are within spec.readiness.maxFailedUsers (5%); UsersSynced lists them"),
        "{}",
        ready.message
    );
    assert_eq!(
        state(condition(&status, USERS_SYNCED)),
        ("False", "UsersNotInSync")
    );

    assert!(
        find_condition(&status.conditions, STALLED).is_none(),
        "tolerated failures stall nothing (kstatus would call the tenant Failed)"
    );

    let one_more = first_sync(&with_failures(1000, 51));
    assert_eq!(state(condition(&one_more, READY)), ("False", "UsersNotInSync"));
    assert_eq!(state(condition(&one_more, STALLED)), ("True", "UsersNotInSync"));
}

#[test]
fn a_count_of_max_failed_users_holds_at_any_size() {
    let readiness = Readiness {
        max_failed_users: crate::sync::readiness::FailureTolerance::Count(2),
        ..Readiness::default()
    };
    let ready_with = |failing: usize| {
        let outcomes = with_failures(10, failing);
        let status = build_status(&ReportInput {
            outcomes: &outcomes,
            checks: &TenantChecks::ok(),
            source: &SourceState::Read,
            source_origin: None,
            previous: None,
            generation: Some(1),
            now: at(100),
            budget_bytes: DEFAULT_STATUS_BUDGET,
            readiness: &readiness,
        });
        condition(&status, READY).status.clone()
    };
    assert_eq!((ready_with(2), ready_with(3)), ("True".into(), "False".into()));
}

#[test]
fn an_activation_longer_than_max_activation_time_makes_ready_false() {
    let activating = [
        dialpad("1", Some("a@contoso.com"), Reason::InSync),
        dialpad("2", Some("b@contoso.com"), Reason::AssignmentPending),
    ];
    let first = first_sync(&activating);
    let within = later_sync(&activating, &first, at(100 + 23 * 3600));
    assert_eq!(state(condition(&within, READY)), ("True", "Synced"));
    let overdue = later_sync(&activating, &within, at(100 + 25 * 3600));
    let ready = condition(&overdue, READY);
    assert_eq!(state(ready), ("False", "AssignmentPending"));
    // A person must look: Stalled says so and Reconciling goes, and it stays so while Teams
    // still has not activated it, until it has.
    assert_eq!(state(condition(&overdue, STALLED)), ("True", "AssignmentPending"));
    assert!(find_condition(&overdue.conditions, RECONCILING).is_none());
    let still = later_sync(&activating, &overdue, at(100 + 26 * 3600));
    assert_eq!(state(condition(&still, READY)), ("False", "AssignmentPending"));
    let done = [
        dialpad("1", Some("a@contoso.com"), Reason::InSync),
        dialpad("2", Some("b@contoso.com"), Reason::InSync),
    ];
    let activated = later_sync(&done, &still, at(100 + 27 * 3600));
    assert_eq!(state(condition(&activated, READY)), ("True", "Synced"));
    assert!(find_condition(&activated.conditions, STALLED).is_none());
    assert!(
        ready.message.starts_with(
            "Teams has been activating assignments for longer than spec.readiness.maxActivationTime (24h)"
        ),
        "{}",
        ready.message
    );
}

#[test]
fn a_dry_run_with_more_failures_than_tolerated_is_not_ready() {
    let mut outcomes = with_failures(10, 3);
    outcomes.push(dialpad("d", Some("d@contoso.com"), Reason::DryRun));
    let status = first_sync(&outcomes);
    assert_eq!(state(condition(&status, READY)), ("False", "UsersNotInSync"));
}
