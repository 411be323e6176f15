//! Statuses as the operator's own code builds them, for the tests of what GitOps tools make of
//! them (Argo CD's health.lua, Flux's health expressions).

use dialpad_teams_operator::api::{Reason, TeamsTenantSyncStatus};
use dialpad_teams_operator::sync::model::{TenantChecks, UserKey, UserOutcome};
use dialpad_teams_operator::sync::readiness::Readiness;
use dialpad_teams_operator::sync::report::{DEFAULT_STATUS_BUDGET, ReportInput, SourceState, build_status};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

/// A desired Dialpad user with `reason` as the sync's outcome.
pub fn user(id: &str, reason: Reason) -> UserOutcome {
    UserOutcome {
        key: UserKey::Dialpad(id.to_owned()),
        email: Some(format!("user{id}@contoso.com")),
        phone_number: Some(format!("+1415555{id:0>4}")),
        dialpad_user_id: Some(id.to_owned()),
        teams_user_id: Some(format!("teams-{id}")),
        reason,
        message: format!("{reason} for user {id}"),
        desired: true,
    }
}

/// The status a finished sync of `generation` writes, with the default `spec.readiness`.
pub fn report(outcomes: &[UserOutcome], checks: &TenantChecks, generation: i64) -> TeamsTenantSyncStatus {
    build_status(&ReportInput {
        outcomes,
        checks,
        source: &SourceState::Read,
        source_origin: None,
        previous: None,
        generation: Some(generation),
        now: Time(Timestamp::now()),
        budget_bytes: DEFAULT_STATUS_BUDGET,
        readiness: &Readiness::default(),
    })
}
