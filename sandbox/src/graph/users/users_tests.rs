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
fn skiptokens_round_trip_and_garbage_is_refused() {
    let token = encode_skiptoken("0a1b");
    assert_eq!(decode_skiptoken(&token).unwrap(), "0a1b");
    assert!(decode_skiptoken("garbage!").is_err());
}

#[test]
fn query_values_are_percent_encoded_except_safe_characters() {
    assert_eq!(
        encode_query_value("mail eq 'a+b@c.com'"),
        "mail%20eq%20'a%2Bb%40c.com'"
    );
    assert_eq!(encode_query_value("id,mail"), "id,mail");
}

#[test]
fn role_instance_ids_are_stable_guids_per_tenant_and_template() {
    let a = role_instance_id("t1", TEAMS_ADMINISTRATOR);
    assert_eq!(a, role_instance_id("t1", TEAMS_ADMINISTRATOR));
    assert_ne!(a, role_instance_id("t2", TEAMS_ADMINISTRATOR));
    assert_eq!(a.len(), 36);
}
