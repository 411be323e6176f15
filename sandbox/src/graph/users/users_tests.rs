//! Tests of the users module.
use super::*;

const TEAMS_ADMINISTRATOR: &str = "69091246-20e8-4a56-aa4d-066075b2a7a8";

#[test]
fn the_default_projection_is_graphs_default_set_with_id_first() {
    let projection = Projection::users(None).unwrap();
    let names: Vec<&str> = projection.fields.iter().map(|(n, _)| *n).collect();
    assert_eq!(names[0], "id");
    assert_eq!(names.len(), DEFAULT_USER_PROPERTIES.len());
    assert!(projection.context.is_empty());
}

#[test]
fn select_is_case_insensitive_adds_id_and_drops_navigation_properties() {
    let projection = Projection::users(Some("MAIL,manager,birthday")).unwrap();
    let names: Vec<&str> = projection.fields.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["id", "mail"]);
    assert_eq!(projection.context, "(mail,manager,birthday)");
    assert_eq!(
        Projection::users(Some("nope")).unwrap_err().code,
        "Request_BadRequest"
    );
}

#[test]
fn role_instance_ids_are_stable_guids_per_tenant_and_template() {
    let a = role_instance_id("t1", TEAMS_ADMINISTRATOR);
    assert_eq!(a, role_instance_id("t1", TEAMS_ADMINISTRATOR));
    assert_ne!(a, role_instance_id("t2", TEAMS_ADMINISTRATOR));
    assert_eq!(a.len(), 36);
}
