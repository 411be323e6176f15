//! The short list of users not in sync in `.status.users`, in listing order and within the
//! status's size budget.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, HashMap};
use std::io;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use serde::Serialize;

use crate::api::conditions::{ConditionUpdate, SYNCED, find_condition, set_condition};
use crate::api::{Severity, TeamsTenantSyncStatus, UserSyncStatus};
use crate::sync::model::{UserKey, UserOutcome};

use super::tally::saturate;
use super::{LISTED_USERS, ReportInput, entry_key};

/// Listing order: departed users first (their entry carries the start of their grace period, so
/// it must never be omitted), then failures, then pending, then in sync; within each, by email
/// (none last), then by key.
pub fn listing_order(a: &UserOutcome, b: &UserOutcome) -> Ordering {
    a.desired
        .cmp(&b.desired)
        .then_with(|| Reverse(a.reason.severity()).cmp(&Reverse(b.reason.severity())))
        .then_with(|| a.email.is_none().cmp(&b.email.is_none()))
        .then_with(|| a.email.cmp(&b.email))
        .then_with(|| a.key.cmp(&b.key))
}

/// Bytes `,"users":[` and `]` add to a status without users.
const USERS_FIELD_BYTES: usize = r#","users":[]"#.len();
/// Bytes `,"usersOmitted":` adds, before the digits.
const OMITTED_FIELD_BYTES: usize = r#","usersOmitted":"#.len();

/// Bytes the `usersOmitted` field takes for `omitted` users (none when zero).
fn omitted_bytes(omitted: usize) -> usize {
    match saturate(omitted) {
        0 => 0,
        count => OMITTED_FIELD_BYTES + count.to_string().len(),
    }
}

/// Fills `status.users` and `status.usersOmitted` from the outcomes, in listing order, while the
/// serialized status stays within the budget. Each entry is serialized once, to count its bytes.
pub(super) fn list_users(status: &mut TeamsTenantSyncStatus, input: &ReportInput) {
    let not_in_sync: Vec<&UserOutcome> = input
        .outcomes
        .iter()
        .filter(|o| o.reason.severity() != Severity::Healthy)
        .collect();
    let total = not_in_sync.len();
    let mut order = shortlist(&not_in_sync);
    order.sort_by(|a, b| listing_order(a, b));
    let mut earlier: HashMap<UserKey, &Condition> = HashMap::new();
    for user in input.previous.map_or(&[][..], |previous| &previous.users) {
        if let Some(condition) = find_condition(&user.conditions, SYNCED) {
            earlier
                .entry(entry_key(user, &condition.reason))
                .or_insert(condition);
        }
    }
    let fixed = serialized_len(&*status);
    let mut users: Vec<UserSyncStatus> = Vec::new();
    let mut entries_bytes = 0usize;
    for outcome in order {
        let entry = user_entry(outcome, earlier.get(&outcome.key).copied(), input);
        let separator = usize::from(!users.is_empty());
        let with_entry = entries_bytes
            .saturating_add(serialized_len(&entry))
            .saturating_add(separator);
        let size = fixed
            .saturating_add(USERS_FIELD_BYTES)
            .saturating_add(with_entry)
            .saturating_add(omitted_bytes(total - users.len() - 1));
        if size > input.budget_bytes {
            break;
        }
        users.push(entry);
        entries_bytes = with_entry;
    }
    status.users_omitted = saturate(total - users.len());
    status.users = users;
}

/// Every departed user, and up to [`LISTED_USERS`] desired ones taken in turn from each reason
/// (the most severe reasons first), so that a hundred users failing for one reason do not hide the
/// one failing for another.
fn shortlist<'a>(not_in_sync: &[&'a UserOutcome]) -> Vec<&'a UserOutcome> {
    let mut chosen: Vec<&UserOutcome> = not_in_sync.iter().copied().filter(|o| !o.desired).collect();
    let mut by_reason: BTreeMap<(Reverse<Severity>, &str), Vec<&UserOutcome>> = BTreeMap::new();
    for outcome in not_in_sync.iter().copied().filter(|o| o.desired) {
        by_reason
            .entry((Reverse(outcome.reason.severity()), outcome.reason.as_str()))
            .or_default()
            .push(outcome);
    }
    for group in by_reason.values_mut() {
        group.sort_by(|a, b| listing_order(a, b));
    }
    let mut taken = 0;
    for round in 0.. {
        let mut any = false;
        for group in by_reason.values() {
            if taken == LISTED_USERS {
                return chosen;
            }
            if let Some(outcome) = group.get(round) {
                chosen.push(outcome);
                taken += 1;
                any = true;
            }
        }
        if !any {
            break;
        }
    }
    chosen
}

/// One user's entry, keyed as the module docs describe.
fn user_entry(outcome: &UserOutcome, earlier: Option<&Condition>, input: &ReportInput) -> UserSyncStatus {
    let mut entry = UserSyncStatus {
        email: outcome.email.clone(),
        phone_number: outcome.phone_number.clone(),
        dialpad_user_id: outcome.dialpad_user_id.clone(),
        teams_user_id: outcome.teams_user_id.clone(),
        conditions: Vec::new(),
    };
    match &outcome.key {
        UserKey::Dialpad(id) => entry.dialpad_user_id = Some(id.clone()),
        UserKey::Static(email) => {
            entry.dialpad_user_id = None;
            let matches = entry.email.as_deref().unwrap_or_default().to_lowercase() == *email;
            if !matches {
                entry.email = (!email.is_empty()).then(|| email.clone());
            }
        }
        UserKey::Departed {
            teams_user_id,
            number,
        } => {
            entry.teams_user_id = Some(teams_user_id.clone());
            entry.phone_number = Some(number.clone());
        }
    }
    entry.conditions.extend(earlier.cloned());
    let update = ConditionUpdate::new(SYNCED, outcome.reason, outcome.message.clone())
        .with_generation(input.generation);
    set_condition(&mut entry.conditions, update, &input.now);
    entry
}

/// Counts bytes written.
struct ByteCounter(usize);

impl io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The length of `value` as compact JSON (`serde_json::to_vec(value).len()`), without the buffer.
pub(super) fn serialized_len<T: Serialize + ?Sized>(value: &T) -> usize {
    let mut counter = ByteCounter(0);
    match serde_json::to_writer(&mut counter, value) {
        Ok(()) => counter.0,
        // The status types always serialize; count a failure as over any budget.
        Err(_) => usize::MAX,
    }
}
