//! An org fixture with mistakes (`sandbox --org FILE`, `demo --org FILE`): every error names the
//! file and the field by its path, such as `tenant.users[1].licenses[0]`, and says what to write
//! instead; nothing panics. (An unknown SKU and a misspelled top-level field are in
//! `server.rs`, a group member outside the tenant in `graph_users.rs`.)

use dialpad_teams_sandbox::OrgFixture;

/// A valid org with two Teams users and two Dialpad users; `tenant_users` and `dialpad_users`
/// replace the lists (as YAML flow sequences) when given.
fn org(tenant_users: Option<&str>, dialpad_users: Option<&str>, extra: &str) -> String {
    let tenant_users = tenant_users.unwrap_or(
        "[{userPrincipalName: ada@contoso.com, licenses: [SPE_E5]}, {userPrincipalName: alan@contoso.com, licenses: [SPE_E5]}]",
    );
    let dialpad_users = dialpad_users.unwrap_or(
        "[{emails: [ada@contoso.com], phoneNumbers: [\"+14155550100\"]}, {emails: [alan@contoso.com], phoneNumbers: [\"+14155550101\"]}]",
    );
    format!(
        "tenant:\n  id: 9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b34\n  domains: [contoso.com]\n  admins:\n  - {{userPrincipalName: dialpad-msteams-admin@contoso.com, password: pw, roles: [TeamsAdministrator]}}\n  users: {tenant_users}\n{extra}dialpad:\n  users: {dialpad_users}\n"
    )
}

#[track_caller]
fn error_of(yaml: &str) -> String {
    OrgFixture::from_yaml(yaml, "org.yaml")
        .expect_err("the fixture has a mistake")
        .to_string()
}

#[track_caller]
fn assert_says(error: &str, parts: &[&str]) {
    for part in parts {
        assert!(error.contains(part), "expected {part:?} in: {error}");
    }
    assert!(
        error.starts_with("org fixture org.yaml"),
        "names the file: {error}"
    );
}

#[test]
fn the_base_org_is_valid() {
    OrgFixture::from_yaml(&org(None, None, ""), "org.yaml").unwrap();
}

#[test]
fn an_unknown_field_deep_in_the_org_is_named_by_its_path_with_the_fields_there_are() {
    let users =
        "[{userPrincipalName: ada@contoso.com}, {userPrincipalName: alan@contoso.com, licences: [SPE_E5]}]";
    let error = error_of(&org(Some(users), None, ""));
    assert_says(
        &error,
        &[
            "tenant.users[1]",
            "unknown field `licences`",
            "`licenses`",
            "line 6",
        ],
    );
}

#[test]
fn a_wrong_type_is_named_by_its_path_with_the_type_expected() {
    let users = "[{userPrincipalName: ada@contoso.com, accountEnabled: maybe}]";
    let error = error_of(&org(Some(users), None, ""));
    assert_says(&error, &["tenant.users[0].accountEnabled", "expected a boolean"]);
    let dialpad = "[{emails: ada@contoso.com}]";
    let error = error_of(&org(None, Some(dialpad), ""));
    assert_says(&error, &["dialpad.users[0].emails", "expected a sequence"]);
}

#[test]
fn a_missing_required_field_is_named_with_its_parent() {
    let users = "[{userPrincipalName: ada@contoso.com}, {mail: alan@contoso.com}]";
    let error = error_of(&org(Some(users), None, ""));
    assert_says(&error, &["tenant.users[1]", "missing field `userPrincipalName`"]);
}

#[test]
fn a_licence_that_does_not_exist_is_named_by_its_index_with_where_licences_are_listed() {
    let users = "[{userPrincipalName: ada@contoso.com, licenses: [SPE_E5, TEAMS_PHONE_PLUS]}]";
    let error = error_of(&org(Some(users), None, ""));
    assert_says(
        &error,
        &[
            "tenant.users[0].licenses[1]: unknown SKU TEAMS_PHONE_PLUS",
            "vendor/microsoft-licensing-service-plans.csv",
        ],
    );
    let users = "[{userPrincipalName: ada@contoso.com, licenses: [SPE_E5], disabledPlans: [MCOEV, PHONE]}]";
    let error = error_of(&org(Some(users), None, ""));
    assert_says(
        &error,
        &["tenant.users[0].disabledPlans[1]: unknown service plan PHONE"],
    );
}

#[test]
fn duplicate_ids_and_names_name_both_places() {
    let users =
        "[{id: 1111, userPrincipalName: ada@contoso.com}, {id: 1111, userPrincipalName: alan@contoso.com}]";
    let error = error_of(&org(Some(users), None, ""));
    assert_says(
        &error,
        &["tenant.users[1].id: 1111 is also tenant.users[0]'s", "its own id"],
    );
    let users = "[{userPrincipalName: Dialpad-MSTeams-Admin@contoso.com}]";
    let error = error_of(&org(Some(users), None, ""));
    assert_says(
        &error,
        &["tenant.users[0].userPrincipalName", "also tenant.admins[0]'s"],
    );
    let dialpad = "[{id: \"42\", emails: [ada@contoso.com]}, {id: \"42\", emails: [alan@contoso.com]}]";
    let error = error_of(&org(None, Some(dialpad), ""));
    assert_says(&error, &["dialpad.users[1].id: 42 is also dialpad.users[0]'s"]);
}

#[test]
fn a_teams_number_that_is_not_e164_or_held_twice_is_named() {
    let users = "[{userPrincipalName: ada@contoso.com, phoneNumber: \"555-0100\"}]";
    let error = error_of(&org(Some(users), None, ""));
    assert_says(
        &error,
        &[
            "tenant.users[0].phoneNumber: \"555-0100\" is not an E.164 number",
            "+14155550100",
        ],
    );
    let users = "[{userPrincipalName: ada@contoso.com, phoneNumber: \"+14155550100\"}, {userPrincipalName: alan@contoso.com, phoneNumber: \"14155550100\"}]";
    let error = error_of(&org(Some(users), None, ""));
    assert_says(
        &error,
        &["tenant.users[1].phoneNumber: +14155550100 is already tenant.users[0]'s"],
    );
    let extra = "";
    let dialpad_org = org(None, None, extra).replace(
        "dialpad:\n",
        "dialpad:\n  otherNumbers: [{number: \"+1 (415) 555-0199\"}]\n",
    );
    let error = error_of(&dialpad_org);
    assert_says(&error, &["dialpad.otherNumbers[0].number", "not an E.164 number"]);
}

#[test]
fn a_dialpad_users_malformed_number_stays_allowed_to_test_invalid_phone_number() {
    let dialpad = "[{emails: [ada@contoso.com], phoneNumbers: [\"555-0113\", \"\", \"call me\"]}]";
    OrgFixture::from_yaml(&org(None, Some(dialpad), ""), "org.yaml").unwrap();
}

#[test]
fn a_dialpad_state_that_dialpad_does_not_document_is_named_with_the_states_there_are() {
    let dialpad = "[{emails: [ada@contoso.com], state: actve}]";
    let error = error_of(&org(None, Some(dialpad), ""));
    assert_says(
        &error,
        &[
            "dialpad.users[0].state: \"actve\"",
            "active, pending, suspended, deleted, cancelled",
        ],
    );
}

#[test]
fn an_unknown_role_is_named_by_its_index_with_the_roles_there_are() {
    let extra = "  groups: [{displayName: Telephony, roles: [TeamsAdministrator, TeamsAdmin], members: [ada@contoso.com]}]\n";
    let error = error_of(&org(None, None, extra));
    assert_says(
        &error,
        &[
            "tenant.groups[0].roles[1]: unknown role TeamsAdmin",
            "TeamsTelephonyAdministrator",
        ],
    );
    let yaml = org(None, None, "").replace("roles: [TeamsAdministrator]", "roles: [Teams]");
    let error = error_of(&yaml);
    assert_says(&error, &["tenant.admins[0].roles[0]: unknown role Teams"]);
}

#[test]
fn a_file_that_is_not_yaml_at_all_is_an_error_naming_the_file() {
    for text in [
        "",
        "\u{0}\u{1}binary",
        "tenant: [unclosed",
        "- a list\n- not an org\n",
    ] {
        let error = OrgFixture::from_yaml(text, "org.yaml").unwrap_err().to_string();
        assert!(error.starts_with("org fixture org.yaml"), "{error}");
    }
}

#[test]
fn another_company_with_the_orgs_own_key_is_refused_naming_the_field() {
    let yaml = org(None, None, "").replace(
        "dialpad:\n",
        "dialpad:\n  apiKey: one-key\n  otherCompany: {apiKey: one-key}\n",
    );
    assert_says(
        &error_of(&yaml),
        &["dialpad.otherCompany.apiKey", "a key of its own"],
    );
}

#[test]
fn teams_policies_groups_and_locations_are_checked_by_path() {
    let with_teams = |teams: &str| org(None, None, &format!("  teams:\n{teams}"));
    OrgFixture::from_yaml(
        &with_teams("    policies: [{policyType: TenantDialPlan, name: Berlin}]\n    groups: [{displayName: Berlin, members: [ada@contoso.com], policies: [{policyType: tenantdialplan, name: berlin, rank: 1}]}]\n"),
        "org.yaml",
    )
    .expect("a valid policy setup");
    let cases = [
        (
            "    policies: [{policyType: TeamsShiftsPolicy, name: Early}]\n",
            &[
                "tenant.teams.policies[0].policyType",
                "TeamsShiftsPolicy",
                "acceptedPolicyTypes",
            ][..],
        ),
        (
            "    policies: [{policyType: TenantDialPlan, name: Global}]\n",
            &["tenant.teams.policies[0].name", "Global"][..],
        ),
        (
            "    groups: [{displayName: G, members: [nobody@contoso.com]}]\n",
            &["tenant.teams.groups[0].members[0]", "nobody@contoso.com"][..],
        ),
        (
            "    groups: [{displayName: G, policies: [{policyType: TenantDialPlan, name: Paris, rank: 1}]}]\n",
            &["tenant.teams.groups[0].policies[0].name", "Paris"][..],
        ),
        (
            "    groups:\n    - {displayName: A, policies: [{policyType: TenantDialPlan, name: Global, rank: 1}]}\n    - {displayName: B, policies: [{policyType: TenantDialPlan, name: Global, rank: 1}]}\n",
            &["tenant.teams.groups[1].policies[0].rank", "own rank"][..],
        ),
        (
            "    emergencyLocations: [{id: loc-1}, {id: LOC-1}]\n",
            &["tenant.teams.emergencyLocations[1].id", "LOC-1"][..],
        ),
    ];
    for (teams, parts) in cases {
        assert_says(&error_of(&with_teams(teams)), parts);
    }
    let users = "[{userPrincipalName: ada@contoso.com, policies: [{policyType: TenantDialPlan, name: Berlin}]}, {userPrincipalName: alan@contoso.com}]";
    assert_says(
        &error_of(&org(Some(users), None, "")),
        &[
            "tenant.users[0].policies[0].name",
            "no TenantDialPlan policy named Berlin",
        ],
    );
}

#[test]
fn dialpad_offices_need_digit_ids_of_their_own_and_a_documented_state() {
    let with_offices = |offices: &str| {
        org(None, None, "").replace("dialpad:\n", &format!("dialpad:\n  offices: {offices}\n"))
    };
    OrgFixture::from_yaml(&with_offices("[{id: \"501\", name: Berlin}]"), "org.yaml").expect("valid");
    assert_says(
        &error_of(&with_offices("[{id: berlin, name: Berlin}]")),
        &["dialpad.offices[0].id", "digits"],
    );
    assert_says(
        &error_of(&with_offices("[{id: \"501\", name: A}, {id: \"501\", name: B}]")),
        &["dialpad.offices[1].id", "dialpad.offices[0]"],
    );
    assert_says(
        &error_of(&with_offices("[{id: \"501\", name: A, state: closed}]")),
        &["dialpad.offices[0].state", "closed"],
    );
}

#[test]
fn the_readmes_teams_policy_example_is_a_valid_part_of_an_org() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).expect("README.md");
    let section = readme
        .split_once("Teams policy assignment is simulated too")
        .expect("the README describes the Teams policy fixture")
        .1;
    let block = section
        .split_once("```yaml\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .expect("a YAML example")
        .0;
    let mut example: serde_yaml::Value = serde_yaml::from_str(block).expect("the example is YAML");
    example["tenant"]["id"] = "9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b34".into();
    example["tenant"]["domains"] = serde_yaml::from_str("[contoso.com]").unwrap();
    let yaml = serde_yaml::to_string(&example).expect("serialises");
    let org = OrgFixture::from_yaml(&yaml, "README.md").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(org.tenant.teams.groups[0].policies[0].rank, 1);
    assert_eq!(org.dialpad.offices[0].name, "Berlin");
}
