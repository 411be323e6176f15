//! Generates large orgs for tests and benchmarks: N Dialpad users, each planted with one case
//! (in sync, needs a number, or one of the failure reasons), and the truth of what was planted.

use std::collections::BTreeMap;

use serde::Serialize;

use super::fixture::{
    AdminFixture, ApplicationFixture, DialpadFixture, DialpadNumberFixture, DialpadUserFixture, OrgFixture,
    PublicClientFixture, TeamsPolicyFixture, TeamsUserFixture, TenantFixture,
};

/// What the generator planted for one Dialpad user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Case {
    /// Teams already holds the user's number.
    InSync,
    /// Licensed Teams user without a number: a sync assigns it.
    NeedsAssignment,
    /// A Dialpad number the user does not own was put on them in Teams by hand. The operator did
    /// not assign it, so it reports `NumberConflict` rather than replace it (unless the resource
    /// adopts existing numbers or overwrites foreign ones).
    Drift,
    /// No email in Dialpad.
    EmailMissing,
    /// No number in Dialpad.
    PhoneNumberMissing,
    /// No Teams user with that email.
    TeamsUserNotFound,
    /// Teams user without Phone System.
    PhoneSystemLicenseMissing,
    /// Teams user with a Calling Plan.
    CallingPlanAssigned,
    /// Dialpad number that is not a phone number.
    InvalidPhoneNumber,
    /// Two Dialpad users share the email (both are planted with this case).
    DuplicateEmail,
    /// Another Teams user (not in Dialpad) holds the user's number.
    NumberConflict,
    /// The Teams account is disabled.
    TeamsUserDisabled,
    /// The Dialpad user was deleted but Teams still holds their number.
    RemovalPending,
}

impl Case {
    /// Every case, in a stable order.
    pub const ALL: [Case; 13] = [
        Case::InSync,
        Case::NeedsAssignment,
        Case::Drift,
        Case::EmailMissing,
        Case::PhoneNumberMissing,
        Case::TeamsUserNotFound,
        Case::PhoneSystemLicenseMissing,
        Case::CallingPlanAssigned,
        Case::InvalidPhoneNumber,
        Case::DuplicateEmail,
        Case::NumberConflict,
        Case::TeamsUserDisabled,
        Case::RemovalPending,
    ];
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct GeneratorSpec {
    /// Dialpad users to create.
    pub users: usize,
    /// Seed for the org (ids, faults).
    pub seed: u64,
    /// Relative weights per case; cases not listed get none. Counts are exact: each case gets
    /// `users * weight / total` users (rounded down) and the remainder goes to `InSync`.
    pub mix: Vec<(Case, u32)>,
}

impl GeneratorSpec {
    /// `users` users with every case present: 70% in sync, 10% needing a number, and 20% spread
    /// over drift and the failure reasons.
    pub fn with_every_case(users: usize, seed: u64) -> Self {
        let mut mix = vec![(Case::InSync, 700), (Case::NeedsAssignment, 100)];
        mix.extend(Case::ALL[2..].iter().map(|&case| (case, 20)));
        Self { users, seed, mix }
    }
}

/// A generated org and what was planted in it.
#[derive(Clone, Debug)]
pub struct GeneratedOrg {
    /// The org.
    pub fixture: OrgFixture,
    /// Dialpad user id -> planted case.
    pub truth: BTreeMap<String, Case>,
}

impl GeneratedOrg {
    /// How many users were planted with each case.
    pub fn case_counts(&self) -> BTreeMap<Case, usize> {
        let mut counts = BTreeMap::new();
        for case in self.truth.values() {
            *counts.entry(*case).or_default() += 1;
        }
        counts
    }

    /// The org with one more Teams policy instance, `name` of `policy_type` (e.g. an
    /// `OnlineVoiceRoutingPolicy` a benchmark's resource assigns), its id derived as for any
    /// fixture policy. Generated orgs have only each type's `Global` until asked for more, so
    /// orgs that do not ask are unchanged.
    pub fn with_teams_policy(mut self, policy_type: &str, name: &str) -> Self {
        self.fixture.tenant.teams.policies.push(TeamsPolicyFixture {
            policy_type: policy_type.into(),
            name: name.into(),
            id: None,
        });
        self
    }
}

/// The tenant every generated org uses.
pub const TENANT_ID: &str = "9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b34";
/// Its domain.
pub const DOMAIN: &str = "contoso.com";
/// Its public client for password sign-in.
pub const PUBLIC_CLIENT_ID: &str = "0d1f8a7e-3c2b-4e5f-8a9b-1c2d3e4f5a6b";
/// Its app registration for client credentials.
pub const APPLICATION_CLIENT_ID: &str = "7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f";
/// The admin account.
pub const ADMIN_UPN: &str = "dialpad-msteams-admin@contoso.com";

/// Generates the org `spec` describes. Credentials are the given test values.
pub fn generate(
    spec: &GeneratorSpec,
    admin_password: &str,
    client_secret: &str,
    api_key: &str,
) -> GeneratedOrg {
    let cases = plan_cases(spec);
    let mut tenant_users = Vec::new();
    let mut dialpad_users = Vec::new();
    let mut other_numbers = Vec::new();
    let mut truth = BTreeMap::new();
    let mut index = 0usize;
    while index < cases.len() {
        let case = cases[index];
        let id = format!("{}", 5_000_000_000_000_000u64 + index as u64);
        let email = format!("user{index:06}@{DOMAIN}");
        let number = us_number(415, index);
        let mut dialpad = DialpadUserFixture {
            id: Some(id.clone()),
            emails: vec![email.clone()],
            phone_numbers: vec![number.clone()],
            state: "active".into(),
            first_name: Some("User".into()),
            last_name: Some(format!("{index:06}")),
            ..Default::default()
        };
        let mut teams = Some(teams_user(&email, &["SPE_E5"]));
        match case {
            Case::InSync => teams.as_mut().expect("set").phone_number = Some(number.clone()),
            Case::NeedsAssignment => {}
            Case::Drift => {
                let stray = us_number(650, index);
                other_numbers.push(DialpadNumberFixture {
                    number: stray.clone(),
                    status: "available".into(),
                });
                teams.as_mut().expect("set").phone_number = Some(stray);
            }
            Case::EmailMissing => {
                dialpad.emails.clear();
                teams = None;
            }
            Case::PhoneNumberMissing => dialpad.phone_numbers.clear(),
            Case::TeamsUserNotFound => teams = None,
            Case::PhoneSystemLicenseMissing => teams = Some(teams_user(&email, &["SPE_E3"])),
            Case::CallingPlanAssigned => teams = Some(teams_user(&email, &["SPE_E5_CALLINGMINUTES"])),
            Case::InvalidPhoneNumber => dialpad.phone_numbers = vec![format!("555-{index}")],
            Case::DuplicateEmail => {
                // The next user shares the email; both are planted DuplicateEmail.
                let twin_index = index + 1;
                let twin = DialpadUserFixture {
                    id: Some(format!("{}", 5_000_000_000_000_000u64 + twin_index as u64)),
                    phone_numbers: vec![us_number(415, twin_index)],
                    last_name: Some(format!("{twin_index:06}")),
                    ..dialpad.clone()
                };
                truth.insert(twin.id.clone().expect("set"), Case::DuplicateEmail);
                dialpad_users.push(twin);
                index += 1;
            }
            Case::NumberConflict => {
                let mut holder = teams_user(&format!("holder{index:06}@{DOMAIN}"), &["SPE_E5"]);
                holder.phone_number = Some(number.clone());
                tenant_users.push(holder);
            }
            Case::TeamsUserDisabled => teams.as_mut().expect("set").account_enabled = false,
            Case::RemovalPending => {
                dialpad.state = "deleted".into();
                teams.as_mut().expect("set").phone_number = Some(number.clone());
            }
        }
        if let Some(teams) = teams {
            tenant_users.push(teams);
        }
        truth.insert(id, case);
        dialpad_users.push(dialpad);
        index += 1;
    }
    let fixture = OrgFixture {
        seed: spec.seed,
        tenant: TenantFixture {
            id: TENANT_ID.into(),
            domains: vec![DOMAIN.into(), "contoso.onmicrosoft.com".into()],
            public_clients: vec![PublicClientFixture {
                client_id: PUBLIC_CLIENT_ID.into(),
                consented: true,
            }],
            applications: vec![ApplicationFixture {
                client_id: APPLICATION_CLIENT_ID.into(),
                client_secret: client_secret.into(),
                secret_expired: false,
                certificates: Vec::new(),
                federated_credentials: Vec::new(),
                permissions: ["User.Read.All", "TeamsTelephoneNumber.ReadWrite.All"]
                    .map(str::to_owned)
                    .to_vec(),
            }],
            admins: vec![AdminFixture {
                user_principal_name: ADMIN_UPN.into(),
                password: admin_password.into(),
                roles: vec![
                    "TeamsAdministrator".into(),
                    "SkypeForBusinessAdministrator".into(),
                ],
                ..Default::default()
            }],
            users: tenant_users,
            groups: Vec::new(),
            teams: Default::default(),
        },
        dialpad: DialpadFixture {
            api_key: api_key.into(),
            users: dialpad_users,
            other_numbers,
            ..Default::default()
        },
        behaviour: Default::default(),
    };
    GeneratedOrg { fixture, truth }
}

/// A valid North American number in `area` for `index` (exchanges 200-999, so libphonenumber
/// accepts it; 8 million numbers per area code).
fn us_number(area: u32, index: usize) -> String {
    let exchange = 200 + (index / 10_000) % 800;
    format!("+1{area}{exchange}{:04}", index % 10_000)
}

fn teams_user(email: &str, licenses: &[&str]) -> TeamsUserFixture {
    TeamsUserFixture {
        user_principal_name: email.into(),
        mail: Some(email.into()),
        proxy_addresses: vec![format!("SMTP:{email}")],
        account_enabled: true,
        usage_location: Some("US".into()),
        licenses: licenses.iter().map(|l| (*l).to_owned()).collect(),
        ..Default::default()
    }
}

/// Exact case counts from the weights, interleaved so every region of the org has every case.
fn plan_cases(spec: &GeneratorSpec) -> Vec<Case> {
    let total: u64 = spec.mix.iter().map(|(_, w)| u64::from(*w)).sum();
    let mut remaining: Vec<(Case, usize)> = spec
        .mix
        .iter()
        .filter(|(case, _)| *case != Case::InSync)
        .map(|&(case, weight)| {
            let count = (spec.users as u64 * u64::from(weight))
                .checked_div(total)
                .unwrap_or(0) as usize;
            // A duplicate takes two users; keep the count even so twins never split.
            (
                case,
                if case == Case::DuplicateEmail {
                    count & !1
                } else {
                    count
                },
            )
        })
        .collect();
    let planted: usize = remaining.iter().map(|(_, n)| n).sum();
    let mut cases = Vec::with_capacity(spec.users);
    let mut in_sync = spec.users.saturating_sub(planted);
    while cases.len() < spec.users {
        let mut placed = false;
        for (case, left) in remaining.iter_mut() {
            let room = spec.users - cases.len();
            let needed = if *case == Case::DuplicateEmail { 2 } else { 1 };
            if *left > 0 && room >= needed {
                cases.push(*case);
                if *case == Case::DuplicateEmail {
                    cases.push(*case);
                    *left -= 1;
                }
                *left -= 1;
                placed = true;
            }
        }
        if in_sync > 0 && cases.len() < spec.users {
            cases.push(Case::InSync);
            in_sync -= 1;
            placed = true;
        }
        if !placed {
            break;
        }
    }
    cases.truncate(spec.users);
    cases
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_exact_and_every_case_is_present() {
        let org = generate(&GeneratorSpec::with_every_case(10_000, 1), "pw", "secret", "key");
        let counts = org.case_counts();
        assert_eq!(org.truth.len(), 10_000);
        assert_eq!(org.fixture.dialpad.users.len(), 10_000);
        for case in Case::ALL {
            assert!(counts.get(&case).copied().unwrap_or(0) > 0, "{case:?} missing");
        }
        assert_eq!(counts[&Case::TeamsUserDisabled], 10_000 * 20 / 1_020);
        assert_eq!(counts[&Case::DuplicateEmail] % 2, 0);
    }

    #[test]
    fn generated_orgs_pass_the_fixture_checks() {
        let org = generate(&GeneratorSpec::with_every_case(500, 2), "pw", "secret", "key");
        org.fixture.check().unwrap();
    }

    #[test]
    fn the_same_spec_generates_the_same_org() {
        let spec = GeneratorSpec::with_every_case(300, 3);
        assert_eq!(
            generate(&spec, "a", "b", "c").fixture,
            generate(&spec, "a", "b", "c").fixture
        );
    }

    #[test]
    fn a_generated_org_has_no_teams_policy_until_one_is_asked_for() {
        let spec = GeneratorSpec {
            users: 20,
            seed: 4,
            mix: vec![(Case::NeedsAssignment, 1)],
        };
        let plain = generate(&spec, "a", "b", "c");
        assert!(plain.fixture.tenant.teams.policies.is_empty());
        let with_policy = plain
            .clone()
            .with_teams_policy("OnlineVoiceRoutingPolicy", "Bench-Routes");
        let policies = &with_policy.fixture.tenant.teams.policies;
        assert_eq!(policies.len(), 1);
        assert_eq!(policies[0].policy_type, "OnlineVoiceRoutingPolicy");
        assert_eq!(policies[0].name, "Bench-Routes");
        with_policy.fixture.check().unwrap();
        // Nothing else about the org moves.
        let mut without = with_policy.fixture.clone();
        without.tenant.teams.policies.clear();
        assert_eq!(without, plain.fixture);
    }

    #[test]
    fn duplicate_email_twins_share_one_address() {
        let spec = GeneratorSpec {
            users: 10,
            seed: 0,
            mix: vec![(Case::DuplicateEmail, 1)],
        };
        let org = generate(&spec, "a", "b", "c");
        let emails: Vec<_> = org
            .fixture
            .dialpad
            .users
            .iter()
            .map(|u| u.emails[0].clone())
            .collect();
        assert_eq!(emails[0], emails[1]);
        assert_eq!(org.case_counts()[&Case::DuplicateEmail], 10);
    }
}
