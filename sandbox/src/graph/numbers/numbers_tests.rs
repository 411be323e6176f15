//! Tests of the numbers module.
use super::*;
use crate::world::OperationKind;

#[test]
fn action_bodies_are_validated() {
    let ok = parse_action_body(
        Action::Assign,
        br#"{"telephoneNumber":"12061234567","assignmentTargetId":"u","numberType":"directRouting"}"#,
    )
    .unwrap();
    assert!(
        matches!(ok, OperationKind::Assign { ref telephone_number, ref category, .. }
        if telephone_number == "+12061234567" && category == "primary")
    );
    let errors = [
        (
            Action::Assign,
            r#"{"assignmentTargetId":"u","numberType":"directRouting"}"#,
            "telephoneNumber",
        ),
        (
            Action::Assign,
            r#"{"telephoneNumber":"+1206","numberType":"directRouting"}"#,
            "assignmentTargetId",
        ),
        (
            Action::Assign,
            r#"{"telephoneNumber":"+1206","assignmentTargetId":"u"}"#,
            "numberType",
        ),
        (
            Action::Assign,
            r#"{"telephoneNumber":"+1206","assignmentTargetId":"u","numberType":"DirectRouting"}"#,
            "numberType",
        ),
        (
            Action::Assign,
            r#"{"telephoneNumber":"+1 206","assignmentTargetId":"u","numberType":"directRouting"}"#,
            "telephoneNumber",
        ),
        (
            Action::Unassign,
            r#"{"telephoneNumber":"+1206","extra":1}"#,
            "extra",
        ),
        (
            Action::Unassign,
            r#"{"numberType":"directRouting"}"#,
            "telephoneNumber",
        ),
    ];
    for (action, body, named) in errors {
        let message = parse_action_body(action, body.as_bytes()).expect_err(body);
        assert!(message.contains(named), "{body}: {message}");
    }
}
