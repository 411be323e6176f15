use super::*;
use crate::api::Reason;
use crate::sync::change::Refusal;

fn departed() -> UserOutcome {
    UserOutcome {
        key: UserKey::Departed {
            teams_user_id: "t9".into(),
            number: "+14155550120".into(),
        },
        email: Some("dennis@contoso.com".into()),
        phone_number: Some("+14155550120".into()),
        dialpad_user_id: None,
        teams_user_id: None,
        reason: Reason::RemovalPending,
        message: String::new(),
        desired: false,
    }
}

#[test]
fn a_departed_user_is_named_by_its_teams_user_even_without_a_match() {
    let subject = Subject::of(&departed());
    assert_eq!(
        subject,
        Subject {
            user: "departed:t9".into(),
            email: "dennis@contoso.com".into(),
            teams_user_id: "t9".into(),
        }
    );
    assert_eq!(subject.label(), "dennis@contoso.com");
}

#[test]
fn a_user_without_an_email_is_labelled_by_its_key() {
    let user = DesiredUser {
        dialpad_user_id: Some("42".into()),
        ..DesiredUser::default()
    };
    let subject = Subject::of_desired(&user, "t1");
    assert_eq!(subject.label(), "dialpad:42");
    assert_eq!(Subject::holder("t2").label(), "departed:t2");
}

#[test]
fn each_verdict_has_its_name_and_teams_words() {
    let refused = Ok(ChangeOutcome::Refused(Refusal::Conflict("held by bob".into())));
    assert_eq!(verdict_of(&refused), ("refused", "held by bob".to_owned()));
    let failed = Err(WriteError {
        message: "Microsoft Graph POST .../assignNumber: HTTP 503".into(),
        transient: true,
    });
    assert_eq!(verdict_of(&failed).0, "failed");
    assert!(verdict_of(&failed).1.contains("HTTP 503"));
    assert_eq!(
        verdict_of(&Ok(ChangeOutcome::Succeeded)),
        ("succeeded", String::new())
    );
    assert_eq!(verdict_of(&Ok(ChangeOutcome::StillRunning)).0, "still_running");
}

#[test]
fn only_an_operation_teams_runs_is_named() {
    let running = Ok(Submission::Running {
        url: Some("https://graph.microsoft.com/operations/1".into()),
        retry_after: None,
    });
    assert_eq!(
        operation_of(&running),
        Some("https://graph.microsoft.com/operations/1")
    );
    assert_eq!(
        operation_of(&Ok(Submission::Done(ChangeOutcome::Succeeded))),
        None
    );
}

#[test]
fn only_a_replacement_names_numbers_it_takes_off() {
    let drift = Cause::DriftCorrected {
        replaced: vec!["+14155550199".into()],
    };
    assert_eq!(
        (drift.as_str(), drift.replaced()),
        ("drift_corrected", &["+14155550199".to_owned()][..])
    );
    assert!(Cause::DepartedAfterGrace.replaced().is_empty());
}
