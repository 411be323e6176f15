//! Tests of the `getPolicyId` argument parser.
use super::*;

#[test]
fn arguments_are_read_in_either_order_with_quotes_doubled() {
    assert_eq!(
        parse_arguments("(type='TenantDialPlan',name='Berlin')").unwrap(),
        ("TenantDialPlan".to_owned(), "Berlin".to_owned())
    );
    assert_eq!(
        parse_arguments("( name = 'O''Hare' , type = 'TeamsCallingPolicy' )").unwrap(),
        ("TeamsCallingPolicy".to_owned(), "O'Hare".to_owned())
    );
}

#[test]
fn missing_repeated_unknown_or_unquoted_arguments_are_refused() {
    assert!(
        parse_arguments("(type='TenantDialPlan')")
            .unwrap_err()
            .contains("'name'")
    );
    assert!(parse_arguments("(name='Berlin')").unwrap_err().contains("'type'"));
    assert!(
        parse_arguments("(type='a',type='b',name='c')")
            .unwrap_err()
            .contains("twice")
    );
    assert!(
        parse_arguments("(type='a',name='b',rank='1')")
            .unwrap_err()
            .contains("'rank'")
    );
    assert!(
        parse_arguments("(type=@t,name='b')")
            .unwrap_err()
            .contains("quoted")
    );
    assert!(parse_arguments("(type='a',name='b").is_err());
    assert!(parse_arguments("").is_err());
}
