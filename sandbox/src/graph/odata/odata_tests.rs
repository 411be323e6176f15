//! Tests of `odata.rs`.
use super::*;

const USERS: FilterSchema = FilterSchema {
    resource: "user",
    properties: &[
        ("mail", Kind::StringIgnoreCase),
        ("userPrincipalName", Kind::StringIgnoreCase),
        ("displayName", Kind::String),
        ("accountEnabled", Kind::Bool),
        ("proxyAddresses", Kind::StringsIgnoreCase),
        ("otherMails", Kind::Strings),
    ],
};

struct User {
    mail: Option<&'static str>,
    upn: &'static str,
    display_name: &'static str,
    enabled: bool,
    proxies: Vec<&'static str>,
    other_mails: Vec<&'static str>,
}

impl FilterSubject for User {
    fn value(&self, property: &str) -> PropertyValue<'_> {
        match property {
            "mail" => self
                .mail
                .map(PropertyValue::String)
                .unwrap_or(PropertyValue::Null),
            "userPrincipalName" => PropertyValue::String(self.upn),
            "displayName" => PropertyValue::String(self.display_name),
            "accountEnabled" => PropertyValue::Bool(self.enabled),
            "proxyAddresses" => PropertyValue::Strings(self.proxies.clone()),
            "otherMails" => PropertyValue::Strings(self.other_mails.clone()),
            _ => PropertyValue::Null,
        }
    }
}

fn ann() -> User {
    User {
        mail: Some("Ann@Contoso.com"),
        upn: "ann@contoso.onmicrosoft.com",
        display_name: "Ann O'Neil",
        enabled: true,
        proxies: vec!["SMTP:ann@contoso.com", "smtp:a.smith@sales.contoso.com"],
        other_mails: vec!["ann@gmail.com"],
    }
}

fn matches(filter: &str, user: &User) -> bool {
    Filter::parse(filter, &USERS)
        .unwrap_or_else(|e| panic!("{filter}: {e}"))
        .matches(user)
}

fn error(filter: &str) -> QueryError {
    Filter::parse(filter, &USERS).expect_err(filter)
}

#[test]
fn eq_on_mail_and_upn_ignores_case() {
    assert!(matches("mail eq 'ann@contoso.com'", &ann()));
    assert!(matches(
        "userPrincipalName eq 'ANN@contoso.onmicrosoft.com'",
        &ann()
    ));
    assert!(!matches("mail eq 'bob@contoso.com'", &ann()));
}

#[test]
fn eq_on_a_case_sensitive_string_is_exact() {
    assert!(matches("displayName eq 'Ann O''Neil'", &ann()));
    assert!(!matches("displayName eq 'ann o''neil'", &ann()));
}

#[test]
fn a_null_property_matches_nothing() {
    let user = User { mail: None, ..ann() };
    assert!(!matches("mail eq 'ann@contoso.com'", &user));
    assert!(!matches("mail in ('ann@contoso.com')", &user));
}

#[test]
fn booleans_compare_with_true_and_false() {
    assert!(matches("accountEnabled eq true", &ann()));
    assert!(!matches("accountEnabled eq false", &ann()));
    assert!(matches(
        "accountEnabled eq FALSE",
        &User {
            enabled: false,
            ..ann()
        }
    ));
}

#[test]
fn any_matches_an_element_of_a_collection() {
    assert!(matches(
        "proxyAddresses/any(p:p eq 'smtp:ann@contoso.com')",
        &ann()
    ));
    assert!(matches(
        "proxyAddresses/any(x: x eq 'SMTP:A.SMITH@sales.contoso.com')",
        &ann()
    ));
    assert!(!matches(
        "proxyAddresses/any(p:p eq 'smtp:bob@contoso.com')",
        &ann()
    ));
    assert!(matches("otherMails/any(o:o eq 'ann@gmail.com')", &ann()));
    assert!(
        !matches("otherMails/any(o:o eq 'ANN@gmail.com')", &ann()),
        "otherMails is exact here"
    );
    assert!(matches(
        "otherMails/any(o:o in ('x@y.com', 'ann@gmail.com'))",
        &ann()
    ));
    assert!(matches("proxyAddresses/any(p:startsWith(p, 'smtp:a.'))", &ann()));
    assert!(matches(
        "proxyAddresses/any(p:p eq 'x' or p eq 'smtp:ann@contoso.com')",
        &ann()
    ));
}

#[test]
fn in_matches_any_listed_value() {
    assert!(matches("mail in ('bob@contoso.com','ann@contoso.com')", &ann()));
    assert!(!matches("mail in ('bob@contoso.com')", &ann()));
}

#[test]
fn and_binds_tighter_than_or_and_parentheses_group() {
    // false and true or true -> (false and true) or true -> true
    assert!(matches(
        "mail eq 'x' and accountEnabled eq true or userPrincipalName eq 'ann@contoso.onmicrosoft.com'",
        &ann()
    ));
    // false and (true or true) -> false
    assert!(!matches(
        "mail eq 'x' and (accountEnabled eq true or userPrincipalName eq 'ann@contoso.onmicrosoft.com')",
        &ann()
    ));
    assert!(matches("((mail eq 'ann@contoso.com'))", &ann()));
}

#[test]
fn keywords_and_property_names_ignore_case() {
    assert!(matches(
        "MAIL EQ 'ann@contoso.com' AND accountenabled Eq true",
        &ann()
    ));
}

#[test]
fn doubled_quotes_escape_a_quote() {
    let filter = Filter::parse("displayName eq 'O''Neil'''", &USERS).unwrap();
    assert!(filter.matches_with(|p| match p {
        "displayName" => PropertyValue::String("O'Neil'"),
        _ => PropertyValue::Null,
    }));
}

#[test]
fn unknown_properties_are_unsupported_queries() {
    let e = error("jobTitle eq 'x'");
    assert_eq!(e.code, "Request_UnsupportedQuery");
    assert_eq!(
        e.message,
        "Unsupported or invalid query filter clause specified for property 'jobTitle' of resource 'user'."
    );
    assert_eq!(
        error("assignedPlans/any(a:a/servicePlanId eq 'x')").code,
        "Request_UnsupportedQuery"
    );
}

#[test]
fn advanced_operators_are_unsupported_queries() {
    for filter in [
        "mail ne 'x'",
        "not(mail eq 'x')",
        "endsWith(mail,'@contoso.com')",
        "proxyAddresses/all(p:p eq 'x')",
        "accountEnabled eq 'true'",
        "mail eq true",
        "mail eq null",
        "mail eq 42",
        "proxyAddresses eq 'x'",
        "mail/any(m:m eq 'x')",
        "proxyAddresses/any(p:mail eq 'x')",
        "startsWith(accountEnabled,'t')",
    ] {
        assert_eq!(error(filter).code, "Request_UnsupportedQuery", "{filter}");
    }
}

#[test]
fn syntax_errors_are_bad_requests_with_a_position() {
    for filter in [
        "",
        "mail eq",
        "mail eq 'x",
        "(mail eq 'x'",
        "mail eq 'x')",
        "mail eq 'x' and",
        "mail 'x'",
        "mail eq 'x' # 1",
    ] {
        assert_eq!(error(filter).code, "Request_BadRequest", "{filter:?}");
    }
    assert_eq!(
        error("mail eq").message,
        "Invalid filter clause: Syntax error at position 7 in 'mail eq'."
    );
}

#[test]
fn properties_lists_what_the_filter_reads() {
    let f = Filter::parse(
        "mail eq 'a' or proxyAddresses/any(p:p eq 'b') or mail eq 'c'",
        &USERS,
    )
    .unwrap();
    assert_eq!(f.properties(), ["mail", "proxyAddresses"]);
}

#[test]
fn query_options_are_decoded_and_looked_up_ignoring_case() {
    let q = QueryOptions::parse(Some(
        "%24select=id,mail&$TOP=5&$filter=mail+eq+%27a%2Bb%40c.com%27",
    ))
    .unwrap();
    assert_eq!(q.get("$select"), Some("id,mail"));
    assert_eq!(q.get("$top"), Some("5"));
    assert_eq!(q.get("$filter"), Some("mail eq 'a+b@c.com'"));
    assert_eq!(q.unsupported_system_options(&["$select", "$top"]), ["$filter"]);
    assert_eq!(
        QueryOptions::parse(Some("$top=1&$Top=2")).unwrap_err().code,
        "Request_BadRequest"
    );
}

#[test]
fn top_must_be_within_bounds() {
    assert_eq!(parse_top(None, 100, 999), Ok(100));
    assert_eq!(parse_top(Some("1"), 100, 999), Ok(1));
    assert_eq!(parse_top(Some("999"), 100, 999), Ok(999));
    let e = parse_top(Some("1000"), 100, 999).unwrap_err();
    assert_eq!(
        e.message,
        "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."
    );
    assert!(parse_top(Some("0"), 100, 999).is_err());
    assert!(parse_top(Some("-1"), 100, 999).is_err());
    assert!(parse_top(Some("ten"), 100, 999).is_err());
}

#[test]
fn skip_count_and_select_parse() {
    assert_eq!(parse_skip(None), Ok(0));
    assert_eq!(parse_skip(Some("20")), Ok(20));
    assert!(parse_skip(Some("-1")).is_err());
    assert_eq!(parse_count(Some("TRUE")), Ok(true));
    assert_eq!(parse_count(None), Ok(false));
    assert!(parse_count(Some("yes")).is_err());
    assert_eq!(parse_select(" id , mail").unwrap(), ["id", "mail"]);
    assert!(parse_select("id,,mail").is_err());
}

#[test]
fn a_filter_too_deep_or_too_long_is_a_bad_request_not_a_stack_overflow() {
    // Found by running long inputs through the odata_parser fuzz target: each of these overflowed
    // the stack, which aborts the whole sandbox.
    let deep = format!("{}mail eq 'a'{}", "(".repeat(50_000), ")".repeat(50_000));
    let long = vec!["mail eq 'a'"; 100_000].join(" or ");
    let unclosed = "(".repeat(50_000);
    for filter in [deep, long, unclosed] {
        let refused = Filter::parse(&filter, &USERS).expect_err("refused");
        assert_eq!(refused.code, "Request_BadRequest");
        assert!(
            refused.message.contains("clauses or nests deeper"),
            "{}",
            refused.message
        );
    }
    let nested = format!(
        "{}mail eq 'ann@contoso.com'{}",
        "(".repeat(parser::MAX_DEPTH),
        ")".repeat(parser::MAX_DEPTH)
    );
    assert!(matches(&nested, &ann()));
    let clauses = vec!["mail eq 'x'"; parser::MAX_CLAUSES - 1].join(" or ") + " or mail eq 'ann@contoso.com'";
    assert!(matches(&clauses, &ann()));
}

#[test]
fn skiptokens_round_trip_per_listing_and_garbage_is_refused() {
    let token = paging::encode_skiptoken("users", "0a1b");
    assert_eq!(paging::decode_skiptoken("users", &token).unwrap(), "0a1b");
    assert!(paging::decode_skiptoken("userConfigurations", &token).is_err());
    assert!(paging::decode_skiptoken("users", "garbage!").is_err());
}

#[test]
fn query_values_are_percent_encoded_except_safe_characters() {
    assert_eq!(
        paging::encode_query_value("mail eq 'a+b@c.com'"),
        "mail%20eq%20'a%2Bb%40c.com'"
    );
    assert_eq!(paging::encode_query_value("id,mail"), "id,mail");
}
