//! Tests of `batch.rs`.
use super::*;

fn request(id: &str, depends_on: &[&str]) -> InnerRequest {
    InnerRequest {
        id: id.into(),
        method: "GET".into(),
        url: "/me".into(),
        headers: None,
        body: None,
        depends_on: depends_on.iter().map(|d| (*d).to_owned()).collect(),
    }
}

#[test]
fn dependencies_resolve_to_indices_ignoring_case() {
    let deps = validate(&[request("a", &[]), request("b", &["A"])]).unwrap();
    assert_eq!(deps, [vec![], vec![0]]);
}

#[test]
fn malformed_batches_are_refused() {
    assert!(
        validate(&[request("a", &[]), request("A", &[])]).is_err(),
        "duplicate ids"
    );
    assert!(validate(&[request("a", &["z"])]).is_err(), "unknown dependency");
    assert!(validate(&[request("a", &["a"])]).is_err(), "self dependency");
    assert!(
        validate(&[request("a", &["b"]), request("b", &["a"])]).is_err(),
        "cycle"
    );
    let many: Vec<InnerRequest> = (0..21).map(|i| request(&i.to_string(), &[])).collect();
    assert!(validate(&many).is_err(), "too many");
}

#[test]
fn inner_urls_may_hold_spaces() {
    assert_eq!(
        encode_loosely("/users?$filter=mail eq 'a@b.c'"),
        "/users?$filter=mail%20eq%20'a@b.c'"
    );
    assert_eq!(encode_loosely("/users?$filter=x%20y"), "/users?$filter=x%20y");
}

#[test]
fn header_names_are_title_cased() {
    assert_eq!(title_case("content-type"), "Content-Type");
    assert_eq!(title_case("retry-after"), "Retry-After");
    assert_eq!(title_case("location"), "Location");
}
