use std::collections::{BTreeSet, HashSet};

use super::*;
use crate::api::Reason;
use crate::sync::model::TeamsUser;
use crate::sync::testing::teams_state;

fn user(id: &str, email: &str, number: &str) -> DesiredUser {
    DesiredUser {
        dialpad_user_id: Some(id.into()),
        email: Some(email.into()),
        phone_number: Some(number.into()),
        ..DesiredUser::default()
    }
}

fn outcome(key: UserKey, reason: Reason) -> UserOutcome {
    UserOutcome {
        key,
        email: None,
        phone_number: None,
        dialpad_user_id: None,
        teams_user_id: None,
        reason,
        message: String::new(),
        desired: true,
    }
}

fn ids(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|id| (*id).to_owned()).collect()
}

#[test]
fn patching_replaces_a_changed_user_drops_a_gone_one_and_keeps_the_rest() {
    let mut state = DesiredState {
        users: vec![
            user("1", "a@x.com", "+1"),
            user("2", "b@x.com", "+2"),
            user("3", "c@x.com", "+3"),
        ],
        ..DesiredState::default()
    };
    for (number, owner) in [("+1", "1"), ("+2", "2"), ("+3", "3")] {
        state.owned_numbers.insert(number.into());
        state.number_owners.insert(number.into(), owner.into());
    }
    state.protected_numbers.insert("+2".into());
    let found = vec![SourceUser {
        id: "1".into(),
        desired: Some(user("1", "a@x.com", "+9")),
        numbers: vec!["+9".into()],
        protected: false,
    }];
    // 1 changed number, 2 is gone, 4 was never anyone's (an id no event should name twice).
    patch_desired(&mut state, &ids(&["1", "2", "4"]), found);
    let numbers: Vec<_> = state
        .users
        .iter()
        .map(|u| u.phone_number.clone().unwrap())
        .collect();
    assert_eq!(numbers, ["+3", "+9"]);
    assert_eq!(state.number_owners.get("+9").map(String::as_str), Some("1"));
    assert!(!state.number_owners.contains_key("+1") && !state.number_owners.contains_key("+2"));
    assert!(state.protected_numbers.is_empty(), "a gone user protects nothing");
    assert!(
        state.owned_numbers.contains("+1"),
        "the company's inventory is not the user's"
    );
}

#[test]
fn a_user_read_again_outside_the_ids_asked_for_is_ignored() {
    let mut state = DesiredState::default();
    let stray = SourceUser {
        id: "7".into(),
        desired: Some(user("7", "g@x.com", "+7")),
        numbers: vec!["+7".into()],
        protected: false,
    };
    patch_desired(&mut state, &ids(&["1"]), vec![stray]);
    assert!(state.users.is_empty() && state.number_owners.is_empty());
}

#[test]
fn merging_replaces_what_the_scope_decides_and_keeps_everyone_else() {
    let departed = |holder: &str, number: &str| UserKey::Departed {
        teams_user_id: holder.into(),
        number: number.into(),
    };
    let previous = vec![
        outcome(UserKey::Dialpad("1".into()), Reason::InSync),
        outcome(UserKey::Dialpad("2".into()), Reason::InSync),
        outcome(departed("t9", "+9"), Reason::RemovalPending),
        outcome(departed("t8", "+8"), Reason::RemovalPending),
    ];
    let scope = PlanScope {
        users: HashSet::from([UserKey::Dialpad("2".into())]),
        holders: HashSet::from(["t9".to_owned()]),
    };
    let fresh = vec![outcome(
        UserKey::Dialpad("2".into()),
        Reason::PhoneSystemLicenseMissing,
    )];
    let merged = merge_outcomes(&previous, &scope, fresh);
    let keys: Vec<(&UserKey, Reason)> = merged.iter().map(|o| (&o.key, o.reason)).collect();
    assert_eq!(
        keys,
        [
            (&UserKey::Dialpad("1".into()), Reason::InSync),
            (&departed("t8", "+8"), Reason::RemovalPending),
            (&UserKey::Dialpad("2".into()), Reason::PhoneSystemLicenseMissing),
        ],
        "t9 no longer holds +9 (it was read and not planned again), 2 is replaced"
    );
}

#[test]
fn a_changed_teams_user_brings_in_the_desired_users_it_answers_to() {
    let desired = DesiredState {
        users: vec![user("1", "Ada@x.com", "+1"), user("2", "bob@x.com", "+2")],
        ..DesiredState::default()
    };
    let ada = TeamsUser {
        id: "t1".into(),
        user_principal_name: "ada.l@x.com".into(),
        mail: Some("ada@x.com".into()),
        enabled: true,
        licence: Default::default(),
    };
    let teams = teams_state(vec![ada], Vec::new());
    assert_eq!(
        answering(&desired, &teams),
        HashSet::from([UserKey::Dialpad("1".into())])
    );
    let keys = HashSet::from([UserKey::Dialpad("1".into()), UserKey::Dialpad("3".into())]);
    assert_eq!(
        emails_of(&desired, &keys),
        BTreeSet::from(["ada@x.com".to_owned()])
    );
}

#[test]
fn only_batches_small_against_the_org_are_targeted() {
    let named = |n: usize| Targets {
        dialpad_users: (0..n).map(|i| i.to_string()).collect(),
        teams_users: BTreeSet::new(),
    };
    assert!(worth_targeting(&named(16), 100), "small batches always");
    assert!(!worth_targeting(&named(17), 100));
    assert!(worth_targeting(&named(156), 10_000));
    assert!(!worth_targeting(&named(157), 10_000));
    assert!(worth_targeting(&named(1_000), 100_000));
}

#[test]
fn users_activating_or_waiting_to_retry_are_the_ones_to_look_at_again() {
    let departed = UserKey::Departed {
        teams_user_id: "t9".into(),
        number: "+9".into(),
    };
    let outcomes = vec![
        outcome(UserKey::Dialpad("1".into()), Reason::AssignmentPending),
        outcome(UserKey::Dialpad("2".into()), Reason::InSync),
        outcome(UserKey::Dialpad("3".into()), Reason::TransientError),
        outcome(departed.clone(), Reason::TransientError),
        outcome(
            UserKey::Departed {
                teams_user_id: "t8".into(),
                number: "+8".into(),
            },
            Reason::RemovalPending,
        ),
    ];
    let retry = RetryState {
        attempts: 1,
        next_attempt: None,
        reason: Reason::TransientError,
        message: String::new(),
    };
    let retries = [(UserKey::Dialpad("3".into()), retry.clone()), (departed, retry)].into();
    let waiting = waiting_users(&outcomes, &retries);
    assert_eq!(waiting.dialpad_users, ids(&["1", "3"]));
    assert_eq!(waiting.teams_users, ids(&["t9"]));
}
