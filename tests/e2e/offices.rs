//! A resource with two offices, run by the binary under the chart's RBAC: every user ends with
//! their number, their office's emergency location and their office's voice routing policy (or
//! the resource's); a user whose wanted policy someone else assigned keeps it as it is; deleting
//! the resource unassigns only what it assigned, numbers and policies alike.

use dialpad_teams_sandbox::fixture::{
    DialpadOfficeFixture, EmergencyLocationFixture, PolicyReferenceFixture, TeamsPolicyFixture,
};
use dialpad_teams_sandbox::generator::Case;

use crate::harness::cluster::with_namespaces;
use crate::harness::fixtures::*;
use crate::harness::process::OperatorProcess;
use crate::harness::rbac::operator_identity;

const ROUTING: &str = "OnlineVoiceRoutingPolicy";
const BERLIN_OFFICE: &str = "5012637248020001";
const MUNICH_OFFICE: &str = "5012637248020002";
const BERLIN_LOCATION: &str = "2a7c9e41-3b5d-4f60-8a1b-2c3d4e5f6a70";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_offices_get_their_location_and_policy_and_deleting_takes_back_only_what_was_assigned() {
    with_namespaces("offices", 1, |env, names| async move {
        let (password, api_key) = (secret_value(), secret_value());
        let mut org = org(6, 41, vec![(Case::NeedsAssignment, 1)], &password, &api_key);
        let fixture = &mut org.fixture;
        for name in ["Berlin-Routes", "Munich-Routes", "Global-Routes"] {
            fixture.tenant.teams.policies.push(TeamsPolicyFixture {
                policy_type: ROUTING.into(),
                name: name.into(),
                ..Default::default()
            });
        }
        fixture
            .tenant
            .teams
            .emergency_locations
            .push(EmergencyLocationFixture {
                id: BERLIN_LOCATION.into(),
                description: "Berlin office".into(),
            });
        for (id, name) in [(BERLIN_OFFICE, "Berlin"), (MUNICH_OFFICE, "Munich")] {
            fixture.dialpad.offices.push(DialpadOfficeFixture {
                id: id.into(),
                name: name.into(),
                ..Default::default()
            });
        }
        // Users 0-1 work in Berlin, 2-3 in Munich, 4-5 in the main office; user 5 was given the
        // resource-wide policy by someone else before this resource existed.
        for (index, user) in fixture.dialpad.users.iter_mut().enumerate() {
            user.office_id = match index {
                0 | 1 => Some(BERLIN_OFFICE.into()),
                2 | 3 => Some(MUNICH_OFFICE.into()),
                _ => None,
            };
        }
        let by_hand = fixture.dialpad.users[5].emails[0].clone();
        let teams_user = fixture
            .tenant
            .users
            .iter_mut()
            .find(|u| u.user_principal_name.eq_ignore_ascii_case(&by_hand))
            .expect("user 5 is in Teams");
        teams_user.policies.push(PolicyReferenceFixture {
            policy_type: ROUTING.into(),
            name: "Global-Routes".into(),
        });
        let sandbox = env.start_sandbox(&org).await;
        env.put_credentials(&password, &api_key).await;
        let kubeconfig = operator_identity(&env, &names, None).await;
        let mut operator = OperatorProcess::start_for(&env, &kubeconfig, &names, &[]);
        operator.wait_ready().await;
        let name = "contoso";
        let mut resource = resource(&env, name, sandbox.base_url(), "Unassign");
        resource.spec.assignment = serde_yaml::from_str(&format!(
            r#"
voiceRoutingPolicy: Global-Routes
offices:
  - {{office: Berlin, voiceRoutingPolicy: Berlin-Routes, emergencyLocationId: {BERLIN_LOCATION}}}
  - {{office: "{MUNICH_OFFICE}", voiceRoutingPolicy: Munich-Routes}}
"#
        ))
        .expect("the assignment parses");
        env.apply(&resource).await.expect("the resource is accepted");
        env.wait(name, "all six users in sync", |r| {
            r.and_then(|r| r.status.as_ref()?.summary.clone())
                .is_some_and(|s| s.desired == 6 && s.in_sync == 6)
        })
        .await
        .expect("exists");

        let wanted = |index: usize| match index {
            0 | 1 => "Berlin-Routes",
            2 | 3 => "Munich-Routes",
            _ => "Global-Routes",
        };
        let emails: Vec<String> = org
            .fixture
            .dialpad
            .users
            .iter()
            .map(|u| u.emails[0].to_lowercase())
            .collect();
        let policies = sandbox.policy_assignments();
        for (index, email) in emails.iter().enumerate() {
            let held = policies
                .iter()
                .find(|p| p.user_principal_name.as_deref().map(str::to_lowercase).as_ref() == Some(email))
                .unwrap_or_else(|| panic!("{email} has no direct policy: {policies:?}"));
            assert_eq!(held.policy_name.as_deref(), Some(wanted(index)), "{email}");
        }
        let locations: Vec<(String, Option<String>)> = sandbox.with_world(|world| {
            emails
                .iter()
                .map(|email| {
                    let user = world
                        .users
                        .iter()
                        .find(|u| u.user_principal_name.eq_ignore_ascii_case(email))
                        .expect("in Teams");
                    let number = world
                        .numbers
                        .values()
                        .find(|n| n.assignment_target_id.as_deref() == Some(user.id.as_str()))
                        .expect("a number");
                    (email.clone(), number.location_id.clone())
                })
                .collect()
        });
        for (index, (email, location)) in locations.iter().enumerate() {
            let expected = (index < 2).then(|| BERLIN_LOCATION.to_owned());
            assert_eq!(location, &expected, "{email}'s emergency location");
        }

        env.delete_and_wait_gone(name).await;
        let left = sandbox.policy_assignments();
        assert_eq!(
            left.len(),
            1,
            "only the policy someone else assigned stays: {left:?}"
        );
        assert_eq!(
            left[0].user_principal_name.as_deref().map(str::to_lowercase),
            Some(emails[5].clone())
        );
        let numbers = sandbox.assignments();
        assert!(
            numbers
                .iter()
                .all(|n| n.user_principal_name.as_deref() != Some(emails[0].as_str())),
            "the numbers this resource assigned are unassigned: {numbers:?}"
        );
        env.check_operator("after the deletion");
        let secrets = secrets_of(&sandbox, &[&password, &api_key]);
        assert_no_secret_anywhere(&env, &[&operator], &secrets).await;
        drop(sandbox);
    })
    .await;
}
