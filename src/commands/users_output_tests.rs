use super::*;

fn entry(key: &str, email: Option<&str>, reason: &str) -> ReportEntry {
    ReportEntry {
        key: key.into(),
        email: email.map(String::from),
        phone_number: Some("+14155550100".into()),
        dialpad_user_id: None,
        teams_user_id: None,
        reason: reason.into(),
        message: "Check \"this\", then that".into(),
        since: "2026-12-01T00:00:00Z".into(),
    }
}

fn document(shard: usize, shards: usize, users: Vec<ReportEntry>) -> ShardDocument {
    ShardDocument {
        shard,
        shards,
        omitted: 0,
        users,
    }
}

#[test]
fn shards_are_put_together_failures_first_then_by_email() {
    let documents = vec![
        document(1, 2, vec![entry("dialpad/1", Some("b@x.com"), "InSync")]),
        document(
            0,
            2,
            vec![
                entry("dialpad/2", Some("c@x.com"), "TeamsUserNotFound"),
                entry("dialpad/3", Some("a@x.com"), "InSync"),
                entry("departed/t/+1", None, "RemovalPending"),
            ],
        ),
    ];
    let (entries, omitted) = assemble(documents).unwrap();
    let keys: Vec<&str> = entries.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["departed/t/+1", "dialpad/2", "dialpad/3", "dialpad/1"]);
    assert_eq!(omitted, 0);
}

#[test]
fn a_missing_or_mixed_shard_is_reported_as_a_rewrite_in_progress() {
    let missing = vec![document(0, 2, vec![])];
    assert!(matches!(
        assemble(missing),
        Err(ReportReadError::Incomplete { .. })
    ));
    let mixed = vec![document(0, 2, vec![]), document(1, 4, vec![])];
    assert!(matches!(assemble(mixed), Err(ReportReadError::Incomplete { .. })));
    let twice = vec![document(0, 2, vec![]), document(0, 2, vec![])];
    assert!(matches!(assemble(twice), Err(ReportReadError::Incomplete { .. })));
}

#[test]
fn reasons_may_be_repeated_or_comma_separated() {
    let reasons = parse_reasons(&["TeamsUserNotFound,CallingPlanAssigned".into(), "InSync".into()]).unwrap();
    assert_eq!(
        reasons,
        BTreeSet::from([
            Reason::TeamsUserNotFound,
            Reason::CallingPlanAssigned,
            Reason::InSync
        ])
    );
}

#[test]
fn an_unknown_or_tenant_reason_is_an_error_naming_the_valid_ones() {
    for given in ["Nonsense", "CredentialsInvalid"] {
        let error = parse_reasons(&[given.into()]).unwrap_err().to_string();
        assert!(error.contains(given), "{error}");
        assert!(error.contains("TeamsUserNotFound"), "{error}");
        assert!(error.contains("RemovalPending"), "{error}");
        assert!(!error.contains("CredentialsInvalid,"), "{error}");
    }
}

#[test]
fn the_filter_keeps_only_the_reasons_asked_for() {
    let entries = vec![
        entry("dialpad/1", Some("a@x.com"), "InSync"),
        entry("dialpad/2", Some("b@x.com"), "TeamsUserNotFound"),
    ];
    let kept = filter(entries.clone(), &BTreeSet::from([Reason::TeamsUserNotFound]));
    assert_eq!(kept, [entries[1].clone()]);
    assert_eq!(filter(entries.clone(), &BTreeSet::new()), entries);
}

#[test]
fn csv_has_a_header_and_quotes_fields_as_rfc_4180_says() {
    let mut out = Vec::new();
    write_csv(&[entry("dialpad/1", None, "InSync")], &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        text,
        "email,phoneNumber,dialpadUserId,teamsUserId,reason,since,message,key\r\n\
         ,+14155550100,,,InSync,2026-12-01T00:00:00Z,\"Check \"\"this\"\", then that\",dialpad/1\r\n"
    );
}

#[test]
fn json_is_an_array_of_the_entries() {
    let entries = vec![entry("dialpad/1", Some("a@x.com"), "InSync")];
    let mut out = Vec::new();
    write_json(&entries, &mut out).unwrap();
    let read: Vec<ReportEntry> = serde_json::from_slice(&out).unwrap();
    assert_eq!(read, entries);
}

#[test]
fn the_table_shows_a_dash_for_what_a_user_lacks() {
    let text = table(&[entry("dialpad/1", None, "EmailMissing")]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("EMAIL"), "{text}");
    assert!(lines[1].starts_with("- "), "{text}");
}
