//! Tests of the effective-policy precedence.
use super::*;

fn policy(policy_type: &str, name: &str) -> TeamsPolicy {
    TeamsPolicy {
        policy_type: policy_type.to_owned(),
        name: name.to_owned(),
        id: derived_policy_id(policy_type, name),
    }
}

fn group(id: &str, members: &[&str], policy_type: &str, name: &str, rank: u32) -> PolicyGroup {
    PolicyGroup {
        id: id.to_owned(),
        display_name: id.to_owned(),
        member_ids: members.iter().map(|m| (*m).to_owned()).collect(),
        assignments: vec![(policy_type.to_owned(), derived_policy_id(policy_type, name), rank)],
    }
}

fn tenant() -> TeamsPolicies {
    let plan = "TenantDialPlan";
    TeamsPolicies {
        accepted_types: vec![plan.to_owned(), "TeamsCallingPolicy".to_owned()],
        policies: vec![
            policy(plan, GLOBAL_POLICY),
            policy(plan, "Berlin"),
            policy(plan, "Munich"),
            policy(plan, "Paris"),
        ],
        groups: vec![
            group("g-munich", &["u1", "u2"], plan, "Munich", 2),
            group("g-paris", &["u1", "u3"], plan, "Paris", 1),
        ],
        ..TeamsPolicies::default()
    }
}

#[test]
fn among_groups_the_smallest_rank_wins() {
    let teams = tenant();
    let effective = teams.effective("u1");
    assert_eq!(effective.len(), 1);
    assert_eq!(effective[0].policy.name, "Paris");
    assert_eq!(effective[0].source, AssignmentSource::Group("g-paris"));
    assert_eq!(teams.effective("u2")[0].policy.name, "Munich");
}

#[test]
fn a_direct_assignment_wins_over_every_group() {
    let mut teams = tenant();
    teams.direct.insert(
        ("u1".to_owned(), "TenantDialPlan".to_owned()),
        derived_policy_id("TenantDialPlan", "Berlin"),
    );
    let effective = teams.effective("u1");
    assert_eq!(effective[0].policy.name, "Berlin");
    assert_eq!(effective[0].source, AssignmentSource::Direct);
}

#[test]
fn a_user_in_no_group_without_a_direct_assignment_has_global_so_nothing_is_listed() {
    assert!(tenant().effective("u9").is_empty());
}

#[test]
fn types_and_names_are_found_ignoring_case_and_ids_are_stable() {
    let teams = tenant();
    assert_eq!(teams.accepted_type("tenantdialplan"), Some("TenantDialPlan"));
    assert_eq!(teams.accepted_type("OnlineVoiceRoutingPolicy"), None);
    let berlin = teams.find("TENANTDIALPLAN", "berlin").expect("Berlin exists");
    assert_eq!(berlin.name, "Berlin");
    assert_eq!(berlin.id, derived_policy_id("tenantDialPlan", "BERLIN"));
    assert_eq!(berlin.id.len(), 43);
}
