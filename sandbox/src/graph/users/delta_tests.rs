//! Tests of the users/delta responses' helpers.
use super::*;

#[test]
fn a_reset_sends_the_client_to_the_initial_request_with_its_options() {
    assert_eq!(
        initial_request("http://s", None, None),
        "http://s/v1.0/users/delta"
    );
    assert_eq!(
        initial_request("http://s", Some("id,mail"), Some("id eq 'a'")),
        "http://s/v1.0/users/delta?$select=id,mail&$filter=id%20eq%20'a'"
    );
}
