//! Teams policies through the operator's Graph client and tenant adapter, against the sandbox over
//! HTTP: names resolved to ids (and a missing name or an unsupported type told apart), every
//! user's effective policy with where it comes from, assignments and unassignments in lists, and
//! the app permissions asked for only when a policy is named.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use dialpad_teams_operator::connect::adapters::GraphTenant;
use dialpad_teams_operator::connect::adapters::policies::{PolicyTypes, entries, read_policies};
use dialpad_teams_operator::microsoft::graph::GraphClient;
use dialpad_teams_operator::microsoft::token::{Credentials, TokenClient};
use dialpad_teams_operator::sync::policies::{PolicyChange, PolicyKind, PolicySource, Unresolved};
use dialpad_teams_operator::sync::ports::{ChangeSender, TeamsTenant};
use dialpad_teams_operator::upstream::{RetryPolicy, Service, UpstreamClient, http_client};
use dialpad_teams_sandbox::{OrgFixture, Sandbox, SandboxOptions};
use secrecy::SecretString;

const TENANT: &str = "3c1f5a9e-2b7d-4e8a-9c6f-1d2e3f4a5b6c";
const ASSIGNER: &str = "4d5e6f70-8192-4a3b-8c4d-5e6f708192a3";
const NUMBERS_APP: &str = "5e6f7081-92a3-4b4c-9d5e-6f708192a3b4";
const SECRET: &str = "policy-test-secret";
const GRACE: &str = "a1000000-0000-4000-8000-000000000001";
const HEDY: &str = "a1000000-0000-4000-8000-000000000002";
const ALAN: &str = "a1000000-0000-4000-8000-000000000003";

/// Grace has Berlin-Routes directly, Hedy gets Munich-Routes from the Munich team group, Alan is on
/// the Global policy; the assigner app may assign policies, the numbers app may not.
fn org() -> OrgFixture {
    let yaml = format!(
        r#"
tenant:
  id: {TENANT}
  domains: [fabrikam.com]
  applications:
  - clientId: {ASSIGNER}
    clientSecret: {SECRET}
    permissions: [User.Read.All, TeamsTelephoneNumber.ReadWrite.All, TeamsPolicyUserAssign.ReadWrite.All, TeamsUserConfiguration.Read.All]
  - clientId: {NUMBERS_APP}
    clientSecret: {SECRET}
    permissions: [User.Read.All, TeamsTelephoneNumber.ReadWrite.All]
  users:
  - id: {GRACE}
    userPrincipalName: grace@fabrikam.com
    licenses: [SPE_E5]
    policies: [{{policyType: OnlineVoiceRoutingPolicy, name: Berlin-Routes}}]
  - {{id: {HEDY}, userPrincipalName: hedy@fabrikam.com, licenses: [SPE_E5]}}
  - {{id: {ALAN}, userPrincipalName: alan@fabrikam.com, licenses: [SPE_E5]}}
  teams:
    policies:
    - {{policyType: OnlineVoiceRoutingPolicy, name: Berlin-Routes}}
    - {{policyType: OnlineVoiceRoutingPolicy, name: Munich-Routes}}
    groups:
    - displayName: Munich team
      members: [hedy@fabrikam.com]
      policies: [{{policyType: OnlineVoiceRoutingPolicy, name: Munich-Routes, rank: 1}}]
behaviour: {{operationDelayMs: 0, activationDelayMs: 0}}
"#
    );
    OrgFixture::from_yaml(&yaml, "policies").unwrap()
}

fn graph(sandbox: &Sandbox, client_id: &str) -> GraphClient {
    let http = http_client(&[]).unwrap();
    let retries = RetryPolicy {
        base: Duration::from_millis(5),
        cap: Duration::from_millis(50),
        ..Default::default()
    };
    let entra = UpstreamClient::new(Service::Entra, http.clone(), None, retries.clone());
    let credentials = Credentials::ClientSecret {
        client_id: client_id.into(),
        secret: SecretString::from(SECRET.to_owned()),
    };
    let tokens = Arc::new(TokenClient::new(
        entra,
        sandbox.base_url(),
        TENANT,
        sandbox.base_url(),
        credentials,
    ));
    GraphClient::new(
        UpstreamClient::new(Service::Graph, http, None, retries),
        sandbox.base_url(),
        tokens,
    )
}

fn routing(names: &[&str]) -> BTreeMap<PolicyKind, BTreeSet<String>> {
    if names.is_empty() {
        return BTreeMap::new();
    }
    BTreeMap::from([(
        PolicyKind::VoiceRouting,
        names.iter().map(|name| (*name).to_owned()).collect(),
    )])
}

fn tenant(sandbox: &Sandbox, client_id: &str, names: &[&str]) -> GraphTenant {
    GraphTenant {
        graph: graph(sandbox, client_id),
        domain: "fabrikam.com".into(),
        policy_types: PolicyTypes::default(),
        policy_names: routing(names),
    }
}

async fn start() -> Sandbox {
    Sandbox::start(&org(), SandboxOptions::default()).await.unwrap()
}

#[tokio::test]
async fn names_resolve_to_ids_and_a_missing_name_or_unsupported_type_is_told_apart() {
    let sandbox = start().await;
    let client = graph(&sandbox, ASSIGNER);
    let names = routing(&["Berlin-Routes", "berlin-routes", "Paris-Routes"]);
    let state = read_policies(&client, &PolicyTypes::default(), &names)
        .await
        .unwrap();
    let id_of = |name: &str| state.ids[&(PolicyKind::VoiceRouting, name.to_owned())].clone();
    let berlin = id_of("Berlin-Routes").unwrap();
    assert_eq!(
        id_of("berlin-routes"),
        Ok(berlin),
        "names match ignoring letter case"
    );
    assert_eq!(id_of("Paris-Routes"), Err(Unresolved::NotFound));

    let odd_type = PolicyTypes::with_overrides(&["voiceRoutingPolicy=TeamsMeetingRoomPolicy"]).unwrap();
    let state = read_policies(&client, &odd_type, &routing(&["Berlin-Routes"]))
        .await
        .unwrap();
    assert_eq!(
        state.ids[&(PolicyKind::VoiceRouting, "Berlin-Routes".to_owned())],
        Err(Unresolved::TypeUnsupported)
    );
}

#[tokio::test]
async fn every_users_effective_policy_is_read_with_where_it_comes_from() {
    let sandbox = start().await;
    let client = graph(&sandbox, ASSIGNER);
    let names = routing(&["Berlin-Routes", "Munich-Routes"]);
    let state = read_policies(&client, &PolicyTypes::default(), &names)
        .await
        .unwrap();
    let id_of = |name: &str| {
        state.ids[&(PolicyKind::VoiceRouting, name.to_owned())]
            .clone()
            .unwrap()
    };
    let grace = state.effective(GRACE, PolicyKind::VoiceRouting).unwrap();
    assert_eq!(
        (grace.policy_id.as_str(), &grace.source),
        (id_of("Berlin-Routes").as_str(), &PolicySource::Direct)
    );
    let hedy = state.effective(HEDY, PolicyKind::VoiceRouting).unwrap();
    assert_eq!(hedy.policy_id, id_of("Munich-Routes"));
    assert!(
        matches!(&hedy.source, PolicySource::Group { group_id: Some(_) }),
        "{hedy:?}"
    );
    assert_eq!(
        state.effective(ALAN, PolicyKind::VoiceRouting),
        None,
        "on the Global policy"
    );
}

#[tokio::test]
async fn assignments_and_unassignments_go_in_lists_and_teams_shows_them() {
    let sandbox = start().await;
    let tenant = tenant(&sandbox, ASSIGNER, &["Berlin-Routes", "Munich-Routes"]);
    let before = tenant.read().await.unwrap().policies;
    let berlin = before.ids[&(PolicyKind::VoiceRouting, "Berlin-Routes".to_owned())]
        .clone()
        .unwrap();
    let assign = |user: &str| PolicyChange::Assign {
        user_id: user.into(),
        kind: PolicyKind::VoiceRouting,
        policy_id: berlin.clone(),
    };
    tenant
        .submit_policy_changes(&[assign(HEDY), assign(ALAN)])
        .await
        .unwrap();
    let after = tenant.read().await.unwrap().policies;
    for user in [HEDY, ALAN] {
        let effective = after.effective(user, PolicyKind::VoiceRouting).unwrap();
        assert_eq!(
            (effective.policy_id.as_str(), &effective.source),
            (berlin.as_str(), &PolicySource::Direct)
        );
    }
    let unassign = PolicyChange::Unassign {
        user_id: HEDY.into(),
        kind: PolicyKind::VoiceRouting,
    };
    tenant.submit_policy_changes(&[unassign]).await.unwrap();
    let back = tenant.read().await.unwrap().policies;
    let hedy = back.effective(HEDY, PolicyKind::VoiceRouting).unwrap();
    assert!(
        matches!(hedy.source, PolicySource::Group { .. }),
        "back to her group's: {hedy:?}"
    );
}

#[tokio::test]
async fn the_list_entries_carry_graphs_policy_type_and_only_an_assignment_its_policy() {
    let types = PolicyTypes::with_overrides(&["dialPlan=tenantDialPlan"]).unwrap();
    let changes = [
        PolicyChange::Assign {
            user_id: HEDY.into(),
            kind: PolicyKind::DialPlan,
            policy_id: "p1".into(),
        },
        PolicyChange::Unassign {
            user_id: ALAN.into(),
            kind: PolicyKind::VoiceRouting,
        },
    ];
    let listed = entries(&types, &changes);
    assert_eq!(
        (listed[0].policy_type, listed[0].policy_id),
        ("tenantDialPlan", Some("p1"))
    );
    assert_eq!(
        (listed[1].policy_type, listed[1].policy_id),
        ("OnlineVoiceRoutingPolicy", None)
    );
}

#[tokio::test]
async fn an_app_without_the_policy_permissions_is_told_which_only_when_a_policy_is_named() {
    let sandbox = start().await;
    let named = tenant(&sandbox, NUMBERS_APP, &["Berlin-Routes"]).check().await;
    let (_, message) = named.authorized.unwrap_err();
    assert!(
        message.contains("TeamsPolicyUserAssign.ReadWrite.All, TeamsUserConfiguration.Read.All"),
        "{message}"
    );
    let unnamed = tenant(&sandbox, NUMBERS_APP, &[]).check().await;
    assert_eq!(
        unnamed.authorized,
        Ok(()),
        "numbers alone need no policy permission"
    );
}
