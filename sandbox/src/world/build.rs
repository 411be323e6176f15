//! Building the world an org fixture describes.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::directory_roles;
use crate::fixture::{OrgFixture, SignInBehaviour};
use crate::licensing::{Plan, licensing};

use super::*;

impl World {
    /// Builds the world a fixture describes.
    pub fn from_fixture(fixture: &OrgFixture, now: Instant) -> World {
        let mut rng = StdRng::seed_from_u64(fixture.seed);
        let mut users = Vec::new();
        let mut admins = HashMap::new();
        for admin in &fixture.tenant.admins {
            let id = guid(&mut rng);
            let roles = admin
                .roles
                .iter()
                .filter_map(|key| directory_roles::role_by_key(key))
                .map(|r| r.template_id.to_owned())
                .collect();
            users.push(DirectoryUser {
                id: id.clone(),
                user_principal_name: admin.user_principal_name.clone(),
                mail: None,
                proxy_addresses: Vec::new(),
                display_name: "Dialpad Teams admin".into(),
                account_enabled: admin.sign_in != SignInBehaviour::Disabled,
                usage_location: Some("US".into()),
                assigned_licenses: Vec::new(),
                assigned_plans: Vec::new(),
                role_template_ids: roles,
                assignment_error: None,
                changes: ChangeStamps::default(),
            });
            admins.insert(
                admin.user_principal_name.to_lowercase(),
                AdminAccount {
                    fixture: admin.clone(),
                    user_id: id,
                    transient_failures_left: admin.transient_failures,
                },
            );
        }
        let mut numbers = BTreeMap::new();
        for user in &fixture.tenant.users {
            let id = user.id.clone().unwrap_or_else(|| guid(&mut rng));
            let disabled: Vec<&Plan> = user
                .disabled_plans
                .iter()
                .filter_map(|p| licensing().plan_by_name(p))
                .collect();
            let mut assigned_licenses = Vec::new();
            let mut assigned_plans: Vec<(&'static Plan, &'static str)> = Vec::new();
            for sku in user
                .licenses
                .iter()
                .filter_map(|s| licensing().sku_by_part_number(s))
            {
                let plans: Vec<&'static Plan> = licensing().plans_of(sku).collect();
                let disabled_here: Vec<String> = plans
                    .iter()
                    .filter(|p| disabled.iter().any(|d| d.id == p.id))
                    .map(|p| p.id.clone())
                    .collect();
                for plan in plans {
                    let status = if disabled_here.contains(&plan.id) {
                        "Deleted"
                    } else {
                        "Enabled"
                    };
                    assigned_plans.push((plan, status));
                }
                assigned_licenses.push((sku.id.clone(), disabled_here));
            }
            if let Some(number) = &user.phone_number {
                let number = normalise_number(number);
                numbers.insert(
                    number.clone(),
                    NumberRecord {
                        id: guid(&mut rng),
                        telephone_number: number,
                        number_type: "directRouting".into(),
                        assignment_target_id: Some(id.clone()),
                        assignment_category: "primary".into(),
                        location_id: None,
                        activates_at: None,
                    },
                );
            }
            users.push(DirectoryUser {
                id,
                user_principal_name: user.user_principal_name.clone(),
                mail: user.mail.clone(),
                proxy_addresses: user.proxy_addresses.clone(),
                display_name: user
                    .display_name
                    .clone()
                    .unwrap_or_else(|| display_name_of(&user.user_principal_name)),
                account_enabled: user.account_enabled,
                usage_location: user.usage_location.clone(),
                assigned_licenses,
                assigned_plans,
                role_template_ids: Vec::new(),
                assignment_error: user.assignment_error.clone(),
                changes: ChangeStamps::default(),
            });
        }
        users.sort_by(|a, b| a.id.cmp(&b.id));
        let user_index = users.iter().enumerate().map(|(i, u)| (u.id.clone(), i)).collect();
        let id_of_upn: HashMap<String, String> = users
            .iter()
            .map(|u| (u.user_principal_name.to_lowercase(), u.id.clone()))
            .collect();
        let groups = fixture
            .tenant
            .groups
            .iter()
            .map(|group| RoleGroup {
                id: guid(&mut rng),
                display_name: group.display_name.clone(),
                role_template_ids: group
                    .roles
                    .iter()
                    .filter_map(|key| directory_roles::role_by_key(key))
                    .map(|r| r.template_id.to_owned())
                    .collect(),
                member_ids: group
                    .members
                    .iter()
                    .filter_map(|upn| id_of_upn.get(&upn.to_lowercase()).cloned())
                    .collect(),
            })
            .collect();

        let office_id = digits(&mut rng, 16);
        let start = Timestamp::from_second(1_624_216_680).expect("a valid timestamp");
        let mut dialpad_users: Vec<DialpadUser> = fixture
            .dialpad
            .users
            .iter()
            .enumerate()
            .map(|(index, user)| DialpadUser {
                id: user.id.clone().unwrap_or_else(|| digits(&mut rng, 16)),
                emails: user.emails.clone(),
                phone_numbers: user.phone_numbers.clone(),
                state: user.state.clone(),
                office_id: user.office_id.clone().unwrap_or_else(|| office_id.clone()),
                first_name: user.first_name.clone(),
                last_name: user.last_name.clone(),
                date_added: start + Duration::from_secs(index as u64 * 3600),
            })
            .collect();
        dialpad_users.sort_by(|a, b| a.id.cmp(&b.id));
        let other_numbers = fixture
            .dialpad
            .other_numbers
            .iter()
            .map(|n| DialpadNumber {
                number: n.number.clone(),
                status: n.status.clone(),
                target_id: (n.status != "available").then(|| office_id.clone()),
                target_type: (n.status != "available").then(|| target_type_of(&n.status).to_owned()),
                office_id: office_id.clone(),
            })
            .collect();
        let _ = now;
        World {
            tenant_id: fixture.tenant.id.clone(),
            domains: fixture.tenant.domains.clone(),
            public_clients: fixture.tenant.public_clients.clone(),
            applications: fixture.tenant.applications.clone(),
            admins,
            users,
            groups,
            user_index,
            primaries: primaries_of(&numbers),
            numbers,
            operations: HashMap::new(),
            running: VecDeque::new(),
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            teams: TeamsPolicies::from_fixture(fixture, &id_of_upn),
            dialpad: DialpadCompany {
                api_key: fixture.dialpad.api_key.clone(),
                api_key_scopes: fixture.dialpad.api_key_scopes.clone(),
                company_id: fixture.dialpad.company_id.clone(),
                company_name: fixture.dialpad.company_name.clone(),
                other_company: fixture.dialpad.other_company.clone(),
                office_id,
                id_encoding: fixture.dialpad.id_encoding,
                timestamps_with_zone: fixture.dialpad.timestamps_with_zone,
                users: dialpad_users,
                other_numbers,
                offices: fixture
                    .dialpad
                    .offices
                    .iter()
                    .map(|o| DialpadOffice {
                        id: o.id.clone(),
                        name: o.name.clone(),
                        state: o.state.clone(),
                    })
                    .collect(),
            },
            directory: DirectoryLog::new(),
            behaviour: fixture.behaviour.clone(),
            rng,
        }
    }
}

pub(super) fn guid(rng: &mut StdRng) -> String {
    let bytes: [u8; 16] = rng.random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

pub(super) fn digits(rng: &mut StdRng, count: usize) -> String {
    let first = rng.random_range(1..=9u8);
    std::iter::once(char::from(b'0' + first))
        .chain((1..count).map(|_| char::from(b'0' + rng.random_range(0..=9u8))))
        .collect()
}

pub(super) fn display_name_of(upn: &str) -> String {
    let local = upn.split('@').next().unwrap_or(upn);
    local
        .split(['.', '_', '-'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) fn target_type_of(status: &str) -> &'static str {
    match status {
        "call_center" => "callcenter",
        "call_router" => "callrouter",
        "department" => "department",
        "room" => "room",
        _ => "office",
    }
}

/// The index of primary numbers by holder.
fn primaries_of(numbers: &BTreeMap<String, NumberRecord>) -> HashMap<String, Vec<String>> {
    let mut primaries: HashMap<String, Vec<String>> = HashMap::new();
    for record in numbers.values() {
        if let Some(holder) = &record.assignment_target_id
            && record.assignment_category == "primary"
        {
            primaries
                .entry(holder.clone())
                .or_default()
                .push(record.telephone_number.clone());
        }
    }
    primaries
}
