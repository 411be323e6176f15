use super::*;
use crate::api::Reason;
use crate::sync::model::{Plan, TenantChecks, UserKey};
use crate::sync::sent::ExecutionSummary;

fn outcome(id: &str, reason: Reason) -> UserOutcome {
    UserOutcome {
        key: UserKey::Dialpad(id.into()),
        email: Some(format!("user{id}@contoso.com")),
        phone_number: Some(format!("+1415555010{id}")),
        dialpad_user_id: Some(id.into()),
        teams_user_id: Some(format!("teams-{id}")),
        reason,
        message: format!("message of {id}"),
        desired: true,
    }
}

fn run(outcomes: Vec<UserOutcome>) -> SyncRun {
    SyncRun {
        status: Default::default(),
        plan: Plan {
            outcomes,
            ..Plan::default()
        },
        execution: ExecutionSummary::default(),
        checks: TenantChecks::ok(),
        source: SourceState::Read,
    }
}

#[test]
fn a_sync_that_changed_nothing_with_every_user_in_sync_is_in_sync() {
    let run = run(vec![outcome("1", Reason::InSync), outcome("2", Reason::InSync)]);
    assert_eq!(finding(&run), Finding::InSync);
}

#[test]
fn a_tenant_without_users_whose_checks_pass_is_in_sync() {
    assert_eq!(finding(&run(Vec::new())), Finding::InSync);
}

#[test]
fn a_change_planned_in_dry_run_counts_as_a_change() {
    let run = run(vec![outcome("1", Reason::InSync), outcome("2", Reason::DryRun)]);
    assert_eq!(finding(&run), Finding::Changes);
}

#[test]
fn an_assignment_made_counts_as_a_change() {
    let mut run = run(vec![outcome("1", Reason::AssignmentPending)]);
    run.execution.assigned = 1;
    assert_eq!(finding(&run), Finding::Changes);
}

#[test]
fn a_change_made_counts_even_when_every_user_already_reads_in_sync() {
    let mut run = run(vec![outcome("1", Reason::InSync)]);
    run.execution.unassigned = 1;
    assert_eq!(finding(&run), Finding::Changes);
    let mut undone = self::run(vec![outcome("1", Reason::InSync)]);
    undone.execution.undone = 1;
    assert_eq!(finding(&undone), Finding::Changes);
}

#[test]
fn a_change_teams_refused_counts_as_a_change() {
    let mut run = run(vec![outcome("1", Reason::UnknownError)]);
    run.execution.failed = 1;
    assert_eq!(finding(&run), Finding::Changes);
}

#[test]
fn a_failing_user_counts_as_a_change() {
    let run = run(vec![
        outcome("1", Reason::InSync),
        outcome("2", Reason::PhoneSystemLicenseMissing),
    ]);
    assert_eq!(finding(&run), Finding::Changes);
}

#[test]
fn a_departed_users_removal_waiting_for_its_grace_period_counts_as_a_change() {
    let run = run(vec![outcome("1", Reason::RemovalPending)]);
    assert_eq!(finding(&run), Finding::Changes);
}

#[test]
fn a_failed_sign_in_counts_as_a_failure_even_without_users() {
    let mut run = run(Vec::new());
    run.checks.connected = Err((Reason::CredentialsInvalid, "rejected".into()));
    run.source = SourceState::Skipped;
    assert_eq!(finding(&run), Finding::Changes);
}

#[test]
fn missing_admin_roles_count_as_a_failure() {
    let mut run = run(Vec::new());
    run.checks.authorized = Err((Reason::AdminRolesMissing, "no role".into()));
    assert_eq!(finding(&run), Finding::Changes);
}

#[test]
fn a_source_that_could_not_be_read_counts_as_a_failure() {
    let mut run = run(Vec::new());
    run.source = SourceState::Failed {
        reason: Reason::TransientError,
        message: "timed out".into(),
    };
    assert_eq!(finding(&run), Finding::Changes);
}

#[test]
fn without_detailed_exitcode_every_finding_exits_zero() {
    assert_eq!(exit_status(false, Finding::InSync), 0);
    assert_eq!(exit_status(false, Finding::Changes), 0);
}

#[test]
fn with_detailed_exitcode_in_sync_exits_zero_and_changes_exit_two() {
    assert_eq!(exit_status(true, Finding::InSync), 0);
    assert_eq!(exit_status(true, Finding::Changes), 2);
}

fn resource() -> TeamsTenantSync {
    let mut resource = crate::commands::demo::demo_resource();
    resource.metadata.name = Some("contoso".into());
    resource.metadata.namespace = Some("telephony".into());
    resource
}

#[test]
fn the_document_lists_every_user_in_the_text_outputs_order_with_key_state_and_reason() {
    let mut departed = outcome("9", Reason::RemovalPending);
    departed.key = UserKey::Departed {
        teams_user_id: "teams-9".into(),
        number: "+14155550109".into(),
    };
    departed.desired = false;
    let mut run = run(vec![
        outcome("1", Reason::InSync),
        outcome("2", Reason::EmailMissing),
        departed,
    ]);
    run.execution.assigned = 3;
    run.execution.drift_corrected = 1;
    run.execution.unassigned = 2;
    run.execution.failed = 1;
    let document = document(&resource(), SyncMode::Enforce, &run);
    assert_eq!(document.name.as_deref(), Some("contoso"));
    assert_eq!(document.namespace.as_deref(), Some("telephony"));
    assert_eq!(
        document.changes,
        Changes {
            assigned: 3,
            drift_corrected: 1,
            unassigned: 2,
            failed: 1
        }
    );
    let lines: Vec<(&str, &str, &str)> = document
        .users
        .iter()
        .map(|u| (u.key.as_str(), u.state, u.reason))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("departed/teams-9/+14155550109", "Pending", "RemovalPending"),
            ("dialpad/2", "Failed", "EmailMissing"),
            ("dialpad/1", "InSync", "InSync"),
        ]
    );
    let first = &document.users[1];
    assert_eq!(first.email.as_deref(), Some("user2@contoso.com"));
    assert_eq!(first.number.as_deref(), Some("+14155550102"));
    assert_eq!(first.teams_user_id.as_deref(), Some("teams-2"));
    assert_eq!(first.message, "message of 2");
}

#[test]
fn the_document_serialises_with_the_fields_named_in_camel_case() {
    let mut static_user = outcome("1", Reason::InSync);
    static_user.key = UserKey::Static("ada@contoso.com".into());
    let document = document(&resource(), SyncMode::DryRun, &run(vec![static_user]));
    let value = serde_json::to_value(&document).expect("the document serialises");
    assert_eq!(value["mode"], "DryRun");
    assert_eq!(value["changes"]["driftCorrected"], 0);
    assert_eq!(value["users"][0]["key"], "static/ada@contoso.com");
    assert_eq!(value["users"][0]["teamsUserId"], "teams-1");
}
