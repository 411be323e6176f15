//! The full per-user report: one entry per user of a sync's outcomes (email, ids, number, reason,
//! message, and since when the user has had that reason), kept beside the resource by the
//! operator so that an admin can list every user at any size (`kubectl teamssync users NAME`),
//! where `.status.users` lists only the first few.
//!
//! Pure: [`build`] turns outcomes into entries, carrying each user's `since` from the previous
//! report while their reason stays the same (never a per-sync timestamp, so a sync that changes
//! nothing produces the same report); [`shards`] splits the entries into compressed shards and
//! decides which to write and delete; [`write`] drives a [`UsersReportStore`] with that decision.
//! The report is output only: no sync decision ever reads it.
//!
//! [`UsersReportStore`]: crate::sync::ports::UsersReportStore

use std::collections::HashMap;

use k8s_openapi::jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::model::{UserKey, UserOutcome, display_time};
use super::report::listing_order;
use crate::api::Reason;

pub mod shards;
pub mod write;

/// The most users a report holds: [`shards::MAX_SHARDS`] shards of at most about
/// [`shards::USERS_PER_SHARD`] users. Past it, the users in sync and then the latest in listing
/// order are left out and counted (`omitted`).
pub const MAX_USERS: usize = shards::MAX_SHARDS * shards::USERS_PER_SHARD;

/// One user's line of the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportEntry {
    /// The user's identity across syncs (`dialpad/<id>`, `static/<email>`,
    /// `departed/<teams user id>/<number>`), as `plan -o json` names it.
    pub key: String,
    /// Email, as the source has it (a departed user's: the Teams user's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The number, in E.164 when it normalised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// The Dialpad user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialpad_user_id: Option<String>,
    /// The matched Teams (Entra) user's object id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams_user_id: Option<String>,
    /// The reason of the user's `Synced` condition.
    pub reason: String,
    /// What happened and what to do, as on the condition.
    pub message: String,
    /// Since when the user has had this reason (UTC, to the second): the sync that first saw it.
    pub since: String,
}

/// Since when each user has had their reason, by [`ReportEntry::key`]: what the next report
/// carries over.
pub type SinceIndex = HashMap<String, (Reason, Timestamp)>;

/// The entries of one report, and how many users did not fit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UsersReport {
    /// The users reported, in listing order (failures first).
    pub entries: Vec<ReportEntry>,
    /// Users left out past [`MAX_USERS`].
    pub omitted: usize,
}

/// A user key in the report's and `plan -o json`'s words: unique per user, departed users by
/// holder and number.
pub fn key_text(key: &UserKey) -> String {
    match key {
        UserKey::Dialpad(id) => format!("dialpad/{id}"),
        UserKey::Static(email) => format!("static/{email}"),
        UserKey::Departed {
            teams_user_id,
            number,
        } => format!("departed/{teams_user_id}/{number}"),
    }
}

/// The report of `outcomes` at `now`: every user in listing order (departed, failing, pending,
/// in sync), at most `max_users` of them; each user's `since` is the previous one's while their
/// reason is unchanged, else `now`.
pub fn build(
    outcomes: &[UserOutcome],
    previous: &SinceIndex,
    now: Timestamp,
    max_users: usize,
) -> UsersReport {
    let mut order: Vec<&UserOutcome> = outcomes.iter().collect();
    order.sort_by(|a, b| listing_order(a, b));
    let omitted = order.len().saturating_sub(max_users);
    let entries = order
        .into_iter()
        .take(max_users)
        .map(|outcome| {
            let key = key_text(&outcome.key);
            let since = match previous.get(&key) {
                Some((reason, at)) if *reason == outcome.reason => *at,
                _ => now,
            };
            ReportEntry {
                key,
                email: outcome.email.clone(),
                phone_number: outcome.phone_number.clone(),
                dialpad_user_id: outcome.dialpad_user_id.clone(),
                teams_user_id: outcome.teams_user_id.clone(),
                reason: outcome.reason.as_str().to_owned(),
                message: outcome.message.clone(),
                since: display_time(since),
            }
        })
        .collect();
    UsersReport { entries, omitted }
}

/// The [`SinceIndex`] of written entries (an entry whose reason or time does not parse, e.g. a
/// tampered one, is left out: its user starts afresh).
pub fn since_index<'a>(entries: impl IntoIterator<Item = &'a ReportEntry>) -> SinceIndex {
    entries
        .into_iter()
        .filter_map(|entry| {
            let reason = Reason::parse(&entry.reason)?;
            let at = entry.since.parse::<Timestamp>().ok()?;
            Some((entry.key.clone(), (reason, at)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(id: &str, reason: Reason) -> UserOutcome {
        UserOutcome {
            key: UserKey::Dialpad(id.into()),
            email: Some(format!("{id}@example.com")),
            phone_number: Some("+14155550100".into()),
            dialpad_user_id: Some(id.into()),
            teams_user_id: None,
            reason,
            message: format!("{reason} message"),
            desired: true,
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_user_keeps_its_since_while_its_reason_is_unchanged() {
        let first = build(
            &[outcome("1", Reason::TeamsUserNotFound)],
            &SinceIndex::new(),
            at("2026-01-01T00:00:00Z"),
            10,
        );
        assert_eq!(first.entries[0].since, "2026-01-01T00:00:00Z");
        let index = since_index(&first.entries);
        let second = build(
            &[outcome("1", Reason::TeamsUserNotFound)],
            &index,
            at("2026-01-02T00:00:00Z"),
            10,
        );
        assert_eq!(second, first, "nothing changed, so the report is the same");
        let third = build(
            &[outcome("1", Reason::InSync)],
            &index,
            at("2026-01-03T00:00:00Z"),
            10,
        );
        assert_eq!(third.entries[0].since, "2026-01-03T00:00:00Z");
    }

    #[test]
    fn failing_users_come_first_and_users_past_the_bound_are_counted_not_listed() {
        let outcomes = [
            outcome("a", Reason::InSync),
            outcome("b", Reason::TeamsUserNotFound),
            outcome("c", Reason::InSync),
        ];
        let report = build(&outcomes, &SinceIndex::new(), at("2026-01-01T00:00:00Z"), 2);
        let keys: Vec<&str> = report.entries.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["dialpad/b", "dialpad/a"]);
        assert_eq!(report.omitted, 1);
    }

    #[test]
    fn departed_users_are_keyed_by_holder_and_number() {
        let key = UserKey::Departed {
            teams_user_id: "t1".into(),
            number: "+14155550100".into(),
        };
        assert_eq!(key_text(&key), "departed/t1/+14155550100");
    }

    #[test]
    fn a_tampered_entry_is_left_out_of_the_since_index() {
        let mut entry = build(
            &[outcome("1", Reason::TeamsUserNotFound)],
            &SinceIndex::new(),
            at("2026-01-01T00:00:00Z"),
            10,
        )
        .entries
        .remove(0);
        entry.since = "yesterday".into();
        assert!(since_index([&entry]).is_empty());
    }
}
