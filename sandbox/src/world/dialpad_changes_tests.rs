//! Tests of the admin changes to the Dialpad company.
use std::time::Instant;

use super::*;
use crate::fixture::OrgFixture;

fn world() -> World {
    let yaml = r#"
tenant: {id: 9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b34, domains: [contoso.com]}
dialpad:
  offices: [{id: "5012637248020481", name: Berlin}]
  users:
  - {id: "5835806903417901", emails: [ada@contoso.com], phoneNumbers: ["+14155551001"]}
  otherNumbers:
  - {number: "+14155550000", status: office}
  - {number: "+14155559002", status: available}
  - {number: "+14155559001", status: available}
"#;
    let fixture = OrgFixture::from_yaml(yaml, "dialpad changes test").expect("valid");
    World::from_fixture(&fixture, Instant::now())
}

fn add(email: &str, number: Option<&str>) -> DialpadChange {
    DialpadChange::AddUser {
        email: email.into(),
        first_name: None,
        last_name: None,
        number: number.map(str::to_owned),
        office: None,
    }
}

#[test]
fn a_new_user_takes_the_lowest_free_number_and_keeps_the_users_sorted() {
    let mut world = world();
    let outcome = world.apply_dialpad_change(&add("new@contoso.com", None)).unwrap();
    assert_eq!(outcome.number.as_deref(), Some("+14155559001"));
    let ids: Vec<&str> = world.dialpad.users.iter().map(|u| u.id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    assert!(
        world
            .dialpad
            .other_numbers
            .iter()
            .all(|n| n.number != "+14155559001"),
        "the number left the free pool"
    );
}

#[test]
fn a_number_held_by_a_user_or_an_office_is_not_given_again() {
    let mut world = world();
    for taken in ["+14155551001", "+1 4155550000"] {
        assert!(matches!(
            world.apply_dialpad_change(&add("new@contoso.com", Some(taken))),
            Err(DialpadChangeError::NumberTaken(_))
        ));
    }
    assert_eq!(
        world.apply_dialpad_change(&add("ADA@contoso.com", None)),
        Err(DialpadChangeError::EmailTaken("ADA@contoso.com".into()))
    );
}

#[test]
fn a_number_change_frees_the_old_number_and_a_removal_frees_them_all() {
    let mut world = world();
    let change = DialpadChange::ChangeNumber {
        email: "ada@contoso.com".into(),
        number: Some("+14155559002".into()),
    };
    let outcome = world.apply_dialpad_change(&change).unwrap();
    assert_eq!(outcome.from.as_deref(), Some("+14155551001"));
    assert_eq!(world.dialpad.users[0].phone_numbers, ["+14155559002"]);
    let removal = DialpadChange::RemoveUser {
        email: "ada@contoso.com".into(),
    };
    world.apply_dialpad_change(&removal).unwrap();
    assert_eq!(world.dialpad.users[0].state, "deleted");
    assert!(world.dialpad.users[0].phone_numbers.is_empty());
    let free: Vec<&str> = world
        .dialpad
        .other_numbers
        .iter()
        .filter(|n| n.status == "available")
        .map(|n| n.number.as_str())
        .collect();
    assert!(
        free.contains(&"+14155551001") && free.contains(&"+14155559002"),
        "{free:?}"
    );
    assert!(world.apply_dialpad_change(&removal).unwrap_err().is_not_found());
}

#[test]
fn a_user_moves_to_an_office_named_by_name_or_id_and_an_unknown_office_is_not_found() {
    let mut world = world();
    let to = |office: &str| DialpadChange::MoveOffice {
        email: "ada@contoso.com".into(),
        office: office.into(),
    };
    let outcome = world.apply_dialpad_change(&to("berlin")).unwrap();
    assert_eq!(outcome.to.as_deref(), Some("5012637248020481"));
    let main = world.dialpad.office_id.clone();
    assert_eq!(world.apply_dialpad_change(&to(&main)).unwrap().to, Some(main));
    assert!(
        world
            .apply_dialpad_change(&to("Atlantis"))
            .unwrap_err()
            .is_not_found()
    );
}
