//! `POST /_sandbox/dialpad/changes`: change the Dialpad company as an admin would, append the
//! change-log entry and deliver it to the company's subscribers.
//!
//! The entry has the fields of Dialpad's change-log payload (developers.dialpad.com/docs/change-log-events):
//! `date` (unix ms), `action`, `note`, `additional_data`, `target` `{type, id}` and `changed_by`
//! `{name, id, type}`. Action codes (developers.dialpad.com/docs/change-log-action-types, "Table
//! last updated March 7th, 2023"): `add_team_members` (a user added; its additional data maps
//! `"0"` to the email, as the table's example does) is on that table; the table's other rows
//! could not be read in full, so `user_number_changed`, `user_deleted` and `user_office_changed`
//! are UNCONFIRMED names. Their `additional_data` is `{"from", "to"}`, the shape the table's
//! rows for changed settings use. `changed_by` is a fixed sandbox admin.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::registry::Company;
use crate::SandboxState;
use crate::dialpad::int64;
use crate::fixture::IdEncoding;
use crate::world::{DialpadChange, DialpadChangeOutcome};

/// The id `changed_by` names: the sandbox's admin, not a user of the company's list.
const ADMIN_ID: &str = "5100000000000001";
/// Its name.
const ADMIN_NAME: &str = "Sandbox Admin";

/// The change-log entry for `change`, which did `outcome`, at `date_ms`.
pub fn change_log_entry(
    change: &DialpadChange,
    outcome: &DialpadChangeOutcome,
    encoding: IdEncoding,
    date_ms: i64,
) -> Value {
    let from_to = || json!({"from": outcome.from, "to": outcome.to});
    let (action, note, additional_data) = match change {
        DialpadChange::AddUser { email, .. } => (
            "add_team_members",
            format!("Added team member {email}"),
            json!({"0": email}),
        ),
        DialpadChange::ChangeNumber { email, .. } => (
            "user_number_changed",
            format!("Changed the primary number of {email}"),
            from_to(),
        ),
        DialpadChange::RemoveUser { email } => (
            "user_deleted",
            format!("Deleted user {email}"),
            json!({"email": email, "released_number": outcome.from}),
        ),
        DialpadChange::MoveOffice { email, .. } => (
            "user_office_changed",
            format!("Moved {email} to another office"),
            from_to(),
        ),
    };
    json!({
        "date": date_ms,
        "action": action,
        "note": note,
        "additional_data": additional_data,
        "target": {"type": "User", "id": int64(encoding, &outcome.user_id)},
        "changed_by": {"name": ADMIN_NAME, "id": int64(encoding, ADMIN_ID), "type": "User"},
    })
}

fn plain(status: StatusCode, message: String) -> Response {
    (status, message).into_response()
}

/// Applies the change, then publishes its entry: `{"userId", "number"?, "events"}`.
pub async fn change(State(state): State<Arc<SandboxState>>, body: Bytes) -> Response {
    let change: DialpadChange = match serde_json::from_slice(&body) {
        Ok(change) => change,
        Err(error) => return plain(StatusCode::BAD_REQUEST, format!("not a Dialpad change: {error}")),
    };
    let (outcome, entry) = {
        let mut world = state.world();
        let outcome = match world.apply_dialpad_change(&change) {
            Ok(outcome) => outcome,
            Err(error) if error.is_not_found() => return plain(StatusCode::NOT_FOUND, error.to_string()),
            Err(error) => return plain(StatusCode::BAD_REQUEST, error.to_string()),
        };
        let date = jiff::Timestamp::now().as_millisecond();
        let entry = change_log_entry(&change, &outcome, world.dialpad.id_encoding, date);
        (outcome, entry)
    };
    let events = state.events.publish_change(Company::Org, entry);
    let mut body = json!({"userId": outcome.user_id, "events": events});
    if let Some(number) = outcome.number {
        body["number"] = number.into();
    }
    (StatusCode::OK, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_added_user_is_logged_as_add_team_members_targeting_the_user() {
        let change = DialpadChange::AddUser {
            email: "new@contoso.com".into(),
            first_name: None,
            last_name: None,
            number: None,
            office: None,
        };
        let outcome = DialpadChangeOutcome {
            user_id: "5835806903417999".into(),
            number: Some("+14155550199".into()),
            from: None,
            to: Some("+14155550199".into()),
        };
        let entry = change_log_entry(&change, &outcome, IdEncoding::Number, 1_700_000_000_123);
        assert_eq!(entry["action"], "add_team_members");
        assert_eq!(entry["date"], 1_700_000_000_123_i64);
        assert_eq!(
            entry["target"],
            json!({"type": "User", "id": 5835806903417999_i64})
        );
        assert_eq!(entry["additional_data"], json!({"0": "new@contoso.com"}));
        assert_eq!(entry["changed_by"]["type"], "User");
    }

    #[test]
    fn a_number_change_carries_the_old_and_new_numbers() {
        let change = DialpadChange::ChangeNumber {
            email: "ada@contoso.com".into(),
            number: None,
        };
        let outcome = DialpadChangeOutcome {
            user_id: "1".into(),
            number: Some("+2".into()),
            from: Some("+1".into()),
            to: Some("+2".into()),
        };
        let entry = change_log_entry(&change, &outcome, IdEncoding::String, 0);
        assert_eq!(entry["action"], "user_number_changed");
        assert_eq!(entry["additional_data"], json!({"from": "+1", "to": "+2"}));
        assert_eq!(entry["target"]["id"], "1");
    }
}
