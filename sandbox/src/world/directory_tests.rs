//! Tests of directory change tracking and the admin's changes.
use super::*;
use crate::OrgFixture;

const FIXTURE: &str = r#"
seed: 5
tenant:
  id: 9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b34
  domains: [contoso.com]
  admins:
  - {userPrincipalName: admin@contoso.com, password: p, roles: [TeamsAdministrator]}
  users:
  - {userPrincipalName: ann@contoso.com, usageLocation: US, licenses: [SPE_E5], phoneNumber: "+14155550100"}
  - {userPrincipalName: bob@contoso.com, usageLocation: US, licenses: [SPE_E3]}
"#;

fn world() -> World {
    let fixture = OrgFixture::from_yaml(FIXTURE, "test").expect("the fixture is valid");
    World::from_fixture(&fixture, Instant::now())
}

fn upn(name: &str) -> String {
    name.to_owned()
}

fn change(world: &mut World, change: DirectoryChange) -> Result<String, DirectoryChangeError> {
    world.apply_directory_change(&change)
}

/// Applies the change `kind` (`disableUser`, ...) to `upn`, as the admin endpoint's JSON names it.
fn apply(world: &mut World, kind: &str, upn: &str) -> Result<String, DirectoryChangeError> {
    let change = serde_json::json!({"change": kind, "userPrincipalName": upn});
    world.apply_directory_change(&serde_json::from_value(change).expect("a change"))
}

#[test]
fn each_change_bumps_the_sequence_and_stamps_only_the_properties_it_changed() {
    let mut world = world();
    assert_eq!(world.directory_sequence(), 0);
    let ann = apply(&mut world, "disableUser", "ann@contoso.com").unwrap();
    apply(&mut world, "removeLicence", "ANN@contoso.com").unwrap();
    assert_eq!(world.directory_sequence(), 2);
    let stamps = &world.user(&ann).unwrap().changes;
    assert!(stamps.changed_between(Some(&["accountEnabled"]), 0, 2));
    assert!(!stamps.changed_between(Some(&["accountEnabled"]), 1, 2));
    assert!(stamps.changed_between(Some(&["assignedPlans"]), 1, 2));
    assert!(stamps.changed_between(Some(&["assignedLicenses"]), 1, 2));
    assert!(!stamps.changed_between(Some(&["mail"]), 0, 2));
    assert!(!stamps.changed_between(None, 0, 0));
    assert!(stamps.changed_between(None, 1, 2));
    assert_eq!(stamps.last(), 2);
}

#[test]
fn removing_the_licence_turns_phone_system_off_and_keeps_the_licence() {
    let mut world = world();
    let ann = apply(&mut world, "removeLicence", "ann@contoso.com").unwrap();
    let user = world.user(&ann).unwrap();
    assert!(!user.has_enabled_plan(crate::licensing::Plan::is_phone_system));
    assert_eq!(user.assigned_licenses.len(), 1);
    let mcoev = licensing().plan_by_name("MCOEV").unwrap();
    assert!(user.assigned_licenses[0].1.contains(&mcoev.id));
    assert!(
        user.has_enabled_plan(|p| p.name == "TEAMS1"),
        "other plans stay enabled"
    );
    assert_eq!(
        apply(&mut world, "removeLicence", "ann@contoso.com"),
        Err(DirectoryChangeError::NoPhoneSystem(upn("ann@contoso.com")))
    );
    assert_eq!(world.directory_sequence(), 1, "a refused change is no change");
}

#[test]
fn an_added_user_is_enabled_licensed_for_phone_system_and_found_by_id_and_upn() {
    let mut world = world();
    let id = change(
        &mut world,
        DirectoryChange::AddUser {
            user_principal_name: upn("new.hire@contoso.com"),
            mail: None,
            display_name: None,
        },
    )
    .unwrap();
    let user = world.user(&id).expect("indexed by id");
    assert_eq!(user.display_name, "New Hire");
    assert_eq!(user.mail.as_deref(), Some("new.hire@contoso.com"));
    assert!(user.account_enabled);
    assert_eq!(user.usage_location.as_deref(), Some(NEW_USER_USAGE_LOCATION));
    assert!(user.has_enabled_plan(crate::licensing::Plan::is_phone_system));
    assert_eq!(user.changes.created, 1);
    assert!(
        world.users.windows(2).all(|w| w[0].id < w[1].id),
        "users stay sorted by id"
    );
    for other in &world.users {
        assert_eq!(world.user(&other.id).map(|u| &u.id), Some(&other.id));
    }
    assert_eq!(
        change(
            &mut world,
            DirectoryChange::AddUser {
                user_principal_name: upn("New.Hire@contoso.com"),
                mail: None,
                display_name: None
            }
        ),
        Err(DirectoryChangeError::UserExists(upn("New.Hire@contoso.com")))
    );
    assert_eq!(
        change(
            &mut world,
            DirectoryChange::AddUser {
                user_principal_name: upn("x@fabrikam.com"),
                mail: None,
                display_name: None
            }
        ),
        Err(DirectoryChangeError::UnverifiedDomain(upn("x@fabrikam.com")))
    );
}

#[test]
fn a_deleted_user_leaves_a_tombstone_and_releases_its_numbers() {
    let mut world = world();
    apply(&mut world, "disableUser", "bob@contoso.com").unwrap();
    let ann = apply(&mut world, "deleteUser", "ann@contoso.com").unwrap();
    assert!(world.user(&ann).is_none());
    assert!(world.user_by_upn("ann@contoso.com").is_none());
    assert!(
        world
            .user_by_upn("bob@contoso.com")
            .is_some_and(|b| world.user(&b.id).is_some())
    );
    for other in &world.users {
        assert_eq!(
            world.user(&other.id).map(|u| &u.id),
            Some(&other.id),
            "the index follows the removal"
        );
    }
    assert!(world.numbers_of(&ann).is_empty());
    assert_eq!(world.numbers["+14155550100"].assignment_status(), "unassigned");
    let tombstones: Vec<&Tombstone> = world.tombstones_between(1, 2).collect();
    assert_eq!(
        tombstones,
        [&Tombstone {
            id: ann.clone(),
            sequence: 2
        }]
    );
    assert_eq!(world.tombstones_between(2, 2).count(), 0);
}

#[test]
fn refused_changes_say_why() {
    let mut world = world();
    let missing = apply(&mut world, "disableUser", "zed@contoso.com").unwrap_err();
    assert!(missing.is_not_found());
    apply(&mut world, "disableUser", "bob@contoso.com").unwrap();
    let again = apply(&mut world, "disableUser", "bob@contoso.com");
    assert_eq!(
        again,
        Err(DirectoryChangeError::AlreadyDisabled(upn("bob@contoso.com")))
    );
    let admin = apply(&mut world, "deleteUser", "admin@contoso.com");
    assert_eq!(
        admin,
        Err(DirectoryChangeError::AdminAccount(upn("admin@contoso.com")))
    );
    assert!(!admin.unwrap_err().is_not_found());
}

#[test]
fn changes_parse_from_the_admin_endpoints_json() {
    let add: DirectoryChange =
        serde_json::from_str(r#"{"change":"addUser","userPrincipalName":"a@contoso.com","displayName":"A"}"#)
            .unwrap();
    assert_eq!(
        add,
        DirectoryChange::AddUser {
            user_principal_name: upn("a@contoso.com"),
            mail: None,
            display_name: Some(upn("A"))
        }
    );
    let delete: DirectoryChange =
        serde_json::from_str(r#"{"change":"deleteUser","userPrincipalName":"a@contoso.com"}"#).unwrap();
    assert_eq!(
        delete,
        DirectoryChange::DeleteUser {
            user_principal_name: upn("a@contoso.com")
        }
    );
    assert!(
        serde_json::from_str::<DirectoryChange>(r#"{"change":"renameUser","userPrincipalName":"a"}"#)
            .is_err()
    );
    assert!(serde_json::from_str::<DirectoryChange>(r#"{"change":"disableUser","upn":"a"}"#).is_err());
}
