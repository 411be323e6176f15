//! A Dialpad change-log event and what it asks the operator to read again.
//!
//! Dialpad's "Change Log Events" page (https://developers.dialpad.com/docs/change-log-events)
//! gives the payload: `date` (unix ms UTC), `action` (a short code such as `updated_ivr`), `note`
//! and `additional_data` ("not currently standardized and may be subject to change"), `target`
//! (the subject of the change: its type and id) and `changed_by`. The subscription covers every
//! change log of the company, most of which (IVRs, call recording, rooms) do not touch numbers.
//!
//! An event is a hint, never the data: it names what to read again, and the sync reads it from
//! Dialpad's API as always. Which target types matter is UNCONFIRMED (the page's sample targets an
//! `Office`; the action-types table lists no target types), so the lists below are the one place
//! to change it.

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::dialpad::model::id;

/// Target types naming one user: the user is read again.
pub const USER_TARGET_TYPES: &[&str] = &["user"];

/// Target types whose change can move numbers, offices or licences of users the event does not
/// name: every user of the company is read again.
pub const COMPANY_WIDE_TARGET_TYPES: &[&str] = &["office", "company", "number", "license", "licence"];

/// The fields of a change-log event the operator reads.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct ChangeLogEvent {
    /// When the change was logged (unix milliseconds).
    #[serde(default)]
    pub date: Option<i64>,
    /// Dialpad's action code.
    #[serde(default)]
    pub action: Option<String>,
    /// What changed.
    #[serde(default)]
    pub target: Option<ChangeTarget>,
}

/// The subject of a change.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct ChangeTarget {
    /// Its type, e.g. `User` or `Office`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Its id, as text whatever its JSON type.
    #[serde(default, deserialize_with = "id")]
    pub id: Option<String>,
}

/// What an event asks to read again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeHint {
    /// These Dialpad users (by id).
    Users(BTreeSet<String>),
    /// Every user of the company.
    Everyone,
    /// Nothing the sync reads changed.
    Nothing,
}

/// What `event` asks to read again: its user when it targets one, everyone when it targets
/// something that can move many users' numbers, and nothing otherwise. A user target without an
/// id (or with one that is not a Dialpad id) asks for everyone, since it cannot be narrowed down.
pub fn hint_of(event: &ChangeLogEvent) -> ChangeHint {
    let Some(target) = &event.target else {
        return ChangeHint::Nothing;
    };
    let kind = target
        .kind
        .as_deref()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if USER_TARGET_TYPES.contains(&kind.as_str()) {
        // Dialpad's user ids are int64s (`schemas.user.UserProto.id` in
        // vendor/dialpad-openapi.json); anything else cannot be read back by id, so it cannot be
        // narrowed down either.
        let digits = |id: &&str| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
        return match target.id.as_deref().map(str::trim).filter(digits) {
            Some(id) => ChangeHint::Users(BTreeSet::from([id.to_owned()])),
            None => ChangeHint::Everyone,
        };
    }
    if COMPANY_WIDE_TARGET_TYPES.contains(&kind.as_str()) {
        return ChangeHint::Everyone;
    }
    ChangeHint::Nothing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: serde_json::Value) -> ChangeLogEvent {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn an_event_targeting_a_user_asks_for_that_user_only() {
        let added = event(serde_json::json!({
            "action": "added_user", "date": 1_620_328_863_056_i64,
            "target": {"type": "User", "id": 5_550_001},
            "changed_by": {"name": "Jo", "id": 1, "type": "User"},
            "note": "free text", "additional_data": {"anything": [1, 2]}
        }));
        assert_eq!(
            hint_of(&added),
            ChangeHint::Users(BTreeSet::from(["5550001".to_owned()]))
        );
        let text_id = event(serde_json::json!({"target": {"type": "user", "id": "77"}}));
        assert_eq!(
            hint_of(&text_id),
            ChangeHint::Users(BTreeSet::from(["77".to_owned()]))
        );
    }

    #[test]
    fn an_event_targeting_an_office_or_number_asks_for_everyone() {
        for kind in ["Office", "Company", "Number", "License"] {
            let changed = event(serde_json::json!({"target": {"type": kind, "id": 1}}));
            assert_eq!(hint_of(&changed), ChangeHint::Everyone, "{kind}");
        }
        let no_id = event(serde_json::json!({"target": {"type": "User"}}));
        assert_eq!(hint_of(&no_id), ChangeHint::Everyone);
    }

    #[test]
    fn an_event_about_something_the_sync_does_not_read_asks_for_nothing() {
        let ivr =
            event(serde_json::json!({"action": "updated_ivr", "target": {"type": "CallCenter", "id": 3}}));
        assert_eq!(hint_of(&ivr), ChangeHint::Nothing);
        assert_eq!(
            hint_of(&event(serde_json::json!({"action": "x"}))),
            ChangeHint::Nothing
        );
    }
}
