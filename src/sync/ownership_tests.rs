//! Ownership record tests over plain data.

use super::*;
use crate::sync::model::{Action, Cause, HeldNumber, UserKey, UserOutcome};

fn held(number: &str, holder: &str) -> HeldNumber {
    HeldNumber {
        number: number.into(),
        holder: holder.into(),
        pending: false,
    }
}

fn teams(numbers: &[(&str, &str)]) -> TeamsState {
    TeamsState {
        numbers: numbers.iter().map(|(n, h)| held(n, h)).collect(),
        ..Default::default()
    }
}

fn record(entries: &[(&str, &str)]) -> OwnershipRecord {
    OwnershipRecord::from_entries(entries.iter().map(|(n, h)| ((*n).into(), (*h).into())))
}

fn in_sync(number: &str, user: &str) -> UserOutcome {
    UserOutcome {
        key: UserKey::Dialpad(user.into()),
        email: Some(format!("{user}@c.com")),
        phone_number: Some(number.into()),
        dialpad_user_id: Some(user.into()),
        teams_user_id: Some(user.into()),
        reason: Reason::InSync,
        message: String::new(),
        desired: true,
    }
}

fn assigning(number: &str, user: &str) -> Plan {
    Plan {
        outcomes: vec![UserOutcome {
            reason: Reason::AssignmentPending,
            ..in_sync(number, user)
        }],
        actions: vec![Action {
            outcome: 0,
            kind: ActionKind::Assign {
                number: number.into(),
                user_id: user.into(),
                location_id: None,
            },
            cause: Cause::NewUser,
        }],
        ..Plan::default()
    }
}

#[test]
fn planned_assignments_are_recorded_before_they_are_made() {
    let next = OwnershipRecord::default().before_changes(
        &teams(&[]),
        &assigning("+14155550100", "u1"),
        SyncMode::Enforce,
        false,
    );
    assert_eq!(next, record(&[("+14155550100", "u1")]));
}

#[test]
fn numbers_teams_no_longer_shows_on_their_user_are_dropped() {
    let owned = record(&[
        ("+14155550100", "u1"),
        ("+14155550101", "u2"),
        ("+14155550102", "u3"),
    ]);
    // 0100 still on u1; 0101 moved by hand to u9; 0102 unassigned by hand.
    let observed = teams(&[("+14155550100", "u1"), ("+14155550101", "u9")]);
    let next = owned.before_changes(&observed, &Plan::default(), SyncMode::Enforce, false);
    assert_eq!(next, record(&[("+14155550100", "u1")]));
}

#[test]
fn existing_assignments_are_adopted_only_when_the_spec_says_so() {
    let observed = teams(&[("+14155550100", "ada")]);
    let plan = Plan {
        outcomes: vec![in_sync("+14155550100", "ada")],
        ..Default::default()
    };
    let empty = OwnershipRecord::default();
    assert!(
        empty
            .before_changes(&observed, &plan, SyncMode::Enforce, false)
            .is_empty()
    );
    assert_eq!(
        empty.before_changes(&observed, &plan, SyncMode::Enforce, true),
        record(&[("+14155550100", "ada")])
    );
    assert!(
        empty
            .before_changes(&observed, &plan, SyncMode::DryRun, true)
            .is_empty(),
        "DryRun changes nothing, not even the record"
    );
}

#[test]
fn a_number_a_replacement_adopts_is_recorded_before_the_change() {
    // Ada holds 0199, which the plan replaces with 0100 after adopting it.
    let observed = teams(&[("+14155550199", "ada")]);
    let plan = Plan {
        adoptions: vec![("+14155550199".into(), "ada".into())],
        ..assigning("+14155550100", "ada")
    };
    let empty = OwnershipRecord::default();
    assert_eq!(
        empty.before_changes(&observed, &plan, SyncMode::Enforce, true),
        record(&[("+14155550100", "ada"), ("+14155550199", "ada")])
    );
    assert_eq!(
        empty.before_changes(&teams(&[]), &plan, SyncMode::Enforce, true),
        record(&[("+14155550100", "ada")]),
        "a number Teams no longer shows on the user is not adopted"
    );
    assert_eq!(
        empty.before_changes(&observed, &plan, SyncMode::Enforce, false),
        record(&[("+14155550100", "ada")])
    );
}

#[test]
fn removals_on_delete_are_owned_numbers_still_on_their_recorded_user() {
    let owned = record(&[("+14155550100", "u1"), ("+14155550101", "u2")]);
    let observed = teams(&[
        ("+14155550100", "u1"),
        ("+14155550101", "u9"),
        ("+14155550199", "ada"),
    ]);
    assert_eq!(
        owned.removals(&observed),
        [Removal {
            number: "+14155550100".into(),
            holder: "u1".into()
        }]
    );
    assert_eq!(owned.without(["+14155550100"]), record(&[("+14155550101", "u2")]));
}

#[test]
fn the_text_form_reads_back_and_a_bad_line_is_named() {
    let owned = record(&[("+14155550101", "u2"), ("+14155550100", "u1")]);
    let text = owned.to_text();
    assert_eq!(text, "+14155550100 u1\n+14155550101 u2\n");
    assert_eq!(OwnershipRecord::parse(&text), Ok(owned));
    assert_eq!(
        OwnershipRecord::parse("+14155550100 u1\n\nnonsense\n"),
        Err(RecordFormatError {
            line: 3,
            content: "nonsense".into()
        })
    );
}

mod policies {
    use super::*;
    use crate::sync::policies::{EffectivePolicy, PolicyChange, PolicyKind, PolicySource};

    fn assign(user: &str, kind: PolicyKind, id: &str) -> PolicyChange {
        PolicyChange::Assign {
            user_id: user.into(),
            kind,
            policy_id: id.into(),
        }
    }

    fn applied(user: &str, kind: PolicyKind, id: &str, source: PolicySource) -> TeamsState {
        let mut state = teams(&[]);
        state.policies.kinds.insert(kind);
        state.policies.effective.entry(user.into()).or_default().insert(
            kind,
            EffectivePolicy {
                policy_id: id.into(),
                source,
            },
        );
        state
    }

    #[test]
    fn policy_lines_read_back_beside_numbers_and_a_bad_kind_is_refused() {
        let record = record(&[("+14155550100", "t1")]).with_policy_changes(&[assign(
            "t1",
            PolicyKind::VoiceRouting,
            "p-berlin",
        )]);
        let text = record.to_text();
        assert_eq!(text, "+14155550100 t1\npolicy voiceRoutingPolicy t1 p-berlin\n");
        assert_eq!(OwnershipRecord::parse(&text).unwrap(), record);
        let error = OwnershipRecord::parse("policy meetingPolicy t1 p").unwrap_err();
        assert_eq!(error.line, 1);
    }

    #[test]
    fn planned_policy_assignments_are_recorded_before_they_are_made() {
        let plan = Plan {
            policy_changes: vec![(0, assign("t1", PolicyKind::DialPlan, "p-de"))],
            ..Plan::default()
        };
        let next = OwnershipRecord::default().before_changes(&teams(&[]), &plan, SyncMode::Enforce, false);
        assert_eq!(next.policy("t1", PolicyKind::DialPlan), Some("p-de"));
        let dry = OwnershipRecord::default().before_changes(&teams(&[]), &plan, SyncMode::DryRun, false);
        assert_eq!(dry.policy("t1", PolicyKind::DialPlan), None);
    }

    #[test]
    fn a_recorded_policy_is_dropped_once_teams_no_longer_applies_it_directly() {
        let owned = OwnershipRecord::default().with_policy_changes(&[assign(
            "t1",
            PolicyKind::VoiceRouting,
            "p-berlin",
        )]);
        let keep = |state: &TeamsState| {
            owned
                .before_changes(state, &Plan::default(), SyncMode::Enforce, false)
                .policy("t1", PolicyKind::VoiceRouting)
                .map(str::to_owned)
        };
        let direct = applied("t1", PolicyKind::VoiceRouting, "p-berlin", PolicySource::Direct);
        assert_eq!(keep(&direct).as_deref(), Some("p-berlin"));
        let changed = applied("t1", PolicyKind::VoiceRouting, "p-paris", PolicySource::Direct);
        assert_eq!(keep(&changed), None, "someone assigned another policy");
        let group = applied(
            "t1",
            PolicyKind::VoiceRouting,
            "p-berlin",
            PolicySource::Group { group_id: None },
        );
        assert_eq!(keep(&group), None, "the direct assignment is gone");
        // A kind the sync did not read (no longer configured): kept as it was.
        assert_eq!(keep(&teams(&[])).as_deref(), Some("p-berlin"));
    }
}
