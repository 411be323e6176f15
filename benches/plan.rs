//! How fast the planner decides for a large tenant: 100,000 desired users against 100,000 Teams
//! users, with every reason mixed in. `cargo bench --bench plan` prints the figures.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use dialpad_teams_operator::microsoft::catalog;
use dialpad_teams_operator::microsoft::directory::EmailIndex;
use dialpad_teams_operator::microsoft::graph::GraphUser;
use dialpad_teams_operator::microsoft::licences::{CallingPlanLicence, LicenceState};
use dialpad_teams_operator::sync::input::PlanInput;
use dialpad_teams_operator::sync::model::*;
use dialpad_teams_operator::sync::plan::plan;

fn main() {
    let users = 100_000;
    let started = Instant::now();
    let mut desired = DesiredState::default();
    let mut teams_users = Vec::with_capacity(users);
    let mut graph_users = Vec::with_capacity(users);
    let mut numbers = Vec::new();
    for index in 0..users {
        let email = format!("user{index:06}@contoso.com");
        let number = format!("+1415{:03}{:04}", 200 + index / 10_000, index % 10_000);
        desired.owned_numbers.insert(number.clone());
        desired.users.push(DesiredUser {
            dialpad_user_id: Some(format!("{}", 5_000_000_000_000_000u64 + index as u64)),
            email: (index % 50 != 0).then(|| email.clone()),
            phone_number: Some(if index % 97 == 0 {
                "555-0100".into()
            } else {
                number.clone()
            }),
            display_name: None,
            office: Default::default(),
        });
        let id = format!("00000000-0000-4000-a000-{index:012}");
        let licence = match index % 40 {
            0 => LicenceState::default(),
            1 => LicenceState {
                phone_system: Some("MCOEV"),
                calling_plans: vec!["MCOPSTN1"],
                calling_plan_licences: vec![CallingPlanLicence {
                    plan: "MCOPSTN1",
                    sku: catalog::sku_by_part_number("MCOTEAMS_ESSENTIALS"),
                    unknown_sku_id: None,
                }],
            },
            _ => LicenceState {
                phone_system: Some("MCOEV"),
                ..LicenceState::default()
            },
        };
        teams_users.push(TeamsUser {
            id: id.clone(),
            user_principal_name: email.clone(),
            mail: Some(email.clone()),
            enabled: index % 60 != 0,
            licence,
        });
        graph_users.push(GraphUser {
            id: id.clone(),
            user_principal_name: Some(email.clone()),
            mail: Some(email),
            ..Default::default()
        });
        if index % 3 != 0 {
            numbers.push(HeldNumber {
                number,
                holder: id,
                pending: false,
            });
        }
    }
    let teams = TeamsState {
        users: teams_users,
        index: EmailIndex::new(&graph_users),
        numbers,
        policies: Default::default(),
    };
    println!(
        "built {users} desired and {users} Teams users in {:.2?}",
        started.elapsed()
    );
    let policy = Policy::default();
    let checks = TenantChecks::ok();
    let (previous, retries) = (HashMap::new(), HashMap::new());
    let owned = Default::default();
    let input = PlanInput {
        scope: None,
        policy: &policy,
        desired: &desired,
        teams: &teams,
        checks: &checks,
        previous: &previous,
        retries: &retries,
        owned: &owned,
        now: k8s_openapi::jiff::Timestamp::now(),
    };
    let mut best = Duration::MAX;
    let mut result = Plan::default();
    for _ in 0..5 {
        let started = Instant::now();
        result = plan(&input);
        best = best.min(started.elapsed());
    }
    println!(
        "planned {} outcomes and {} actions in {best:.2?} (best of 5)",
        result.outcomes.len(),
        result.actions.len()
    );
    for (reason, count) in result.counts() {
        println!("  {reason:<28} {count:>6}");
    }
}
