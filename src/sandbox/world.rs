//! The sandbox's state: directory users, licences, roles, number assignments, long-running
//! operations, issued tokens and the Dialpad company, plus the rules real tenants enforce on
//! assignments. No HTTP here: handlers lock the world, call these methods and render the result.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use k8s_openapi::jiff::Timestamp;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::fixture::{
    AdminFixture, ApplicationFixture, BehaviourFixture, IdEncoding, OrgFixture, PublicClientFixture,
    SignInBehaviour,
};
use crate::microsoft::catalog;

/// A directory user as Graph describes it.
#[derive(Clone, Debug)]
pub struct DirectoryUser {
    /// Object id (GUID).
    pub id: String,
    /// Sign-in name.
    pub user_principal_name: String,
    /// Primary SMTP address.
    pub mail: Option<String>,
    /// `SMTP:`/`smtp:` addresses.
    pub proxy_addresses: Vec<String>,
    /// Display name.
    pub display_name: String,
    /// Whether sign-in is allowed.
    pub account_enabled: bool,
    /// Two-letter usage location.
    pub usage_location: Option<String>,
    /// `(skuId, disabledPlans ids)` per licence.
    pub assigned_licenses: Vec<(String, Vec<String>)>,
    /// Service plans with their `capabilityStatus` (`Enabled`, or `Deleted` when disabled).
    pub assigned_plans: Vec<(&'static catalog::ServicePlan, &'static str)>,
    /// Directory role template ids held directly.
    pub role_template_ids: Vec<String>,
    /// A `statusDetail` every assignment to this user fails with (fixture fault).
    pub assignment_error: Option<String>,
}

impl DirectoryUser {
    /// Whether a plan with one of `plans`' ids is enabled for the user.
    pub fn has_enabled_plan(&self, plans: &[catalog::ServicePlan]) -> bool {
        self.assigned_plans
            .iter()
            .any(|(plan, status)| *status == "Enabled" && plans.iter().any(|p| p.id == plan.id))
    }

    /// The Teams `featureTypes` that follow from the user's licences.
    pub fn feature_types(&self) -> Vec<&'static str> {
        let mut features = Vec::new();
        if self
            .assigned_plans
            .iter()
            .any(|(p, s)| *s == "Enabled" && p.name == "TEAMS1")
        {
            features.push("Teams");
        }
        if self.has_enabled_plan(catalog::PHONE_SYSTEM_PLANS) {
            features.push("PhoneSystem");
        }
        if self.has_enabled_plan(catalog::CALLING_PLANS) {
            features.push("CallingPlan");
        }
        features
    }

    /// Whether `email` is this user's mail, UPN or an SMTP proxy address (ignoring case).
    pub fn answers_to(&self, email: &str) -> bool {
        self.mail
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case(email))
            || self.user_principal_name.eq_ignore_ascii_case(email)
            || self.proxy_addresses.iter().any(|p| {
                p.split_once(':').is_some_and(|(kind, a)| {
                    kind.eq_ignore_ascii_case("smtp") && a.eq_ignore_ascii_case(email)
                })
            })
    }
}

/// A telephone number known to Teams.
#[derive(Clone, Debug)]
pub struct NumberRecord {
    /// Stable id of the numberAssignment entity.
    pub id: String,
    /// `+` and digits, with `;ext=` if any.
    pub telephone_number: String,
    /// `directRouting`, `callingPlan` or `operatorConnect`.
    pub number_type: String,
    /// The user holding it, if any.
    pub assignment_target_id: Option<String>,
    /// `primary`, `private` or `alternate`.
    pub assignment_category: String,
    /// Emergency location id.
    pub location_id: Option<String>,
    /// When `assignmentPending` turns into `activated`.
    pub activates_at: Option<Instant>,
}

impl NumberRecord {
    /// `assignmentStatus` as Graph spells it.
    pub fn assignment_status(&self) -> &'static str {
        if self.assignment_target_id.is_some() {
            "userAssigned"
        } else {
            "unassigned"
        }
    }

    /// `activationState` at `now`.
    pub fn activation_state(&self, now: Instant) -> &'static str {
        match self.activates_at {
            Some(at) if self.assignment_target_id.is_some() && now < at => "assignmentPending",
            _ => "activated",
        }
    }
}

/// What a long-running operation does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperationKind {
    /// `assignNumber`.
    Assign {
        /// The number.
        telephone_number: String,
        /// The user.
        target_id: String,
        /// The number type.
        number_type: String,
        /// The category.
        category: String,
        /// Emergency location.
        location_id: Option<String>,
    },
    /// `unassignNumber`.
    Unassign {
        /// The number.
        telephone_number: String,
    },
}

/// A telephone-number long-running operation.
#[derive(Clone, Debug)]
pub struct Operation {
    /// Its id.
    pub id: String,
    /// When it was created.
    pub created: Timestamp,
    /// What it does.
    pub kind: OperationKind,
    /// When it completes.
    pub completes_at: Instant,
    /// `None` while running; then `Ok(number record id)` or `Err(statusDetail)`.
    pub outcome: Option<Result<String, String>>,
}

/// Who a token was issued to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// A user signed in with a password (delegated token).
    User {
        /// Object id.
        user_id: String,
        /// Public client used.
        client_id: String,
    },
    /// An app with client credentials (app-only token).
    Application {
        /// The app's client id.
        client_id: String,
        /// Granted application permissions.
        roles: Vec<String>,
    },
}

/// An issued access or refresh token.
#[derive(Clone, Debug)]
pub struct Grant {
    /// Who it is for.
    pub principal: Principal,
    /// When it stops working.
    pub expires_at: Instant,
}

/// A Dialpad user as stored.
#[derive(Clone, Debug)]
pub struct DialpadUser {
    /// Digits.
    pub id: String,
    /// Emails, primary first.
    pub emails: Vec<String>,
    /// Numbers, primary first.
    pub phone_numbers: Vec<String>,
    /// State.
    pub state: String,
    /// Office id.
    pub office_id: String,
    /// Names.
    pub first_name: Option<String>,
    /// Names.
    pub last_name: Option<String>,
    /// When the user was added.
    pub date_added: Timestamp,
}

/// A number in Dialpad's company inventory.
#[derive(Clone, Debug)]
pub struct DialpadNumber {
    /// E.164.
    pub number: String,
    /// `user`, `office`, ...
    pub status: String,
    /// The owner (user id for `user`).
    pub target_id: Option<String>,
    /// `user`, `office`, ...
    pub target_type: Option<String>,
    /// The office.
    pub office_id: String,
}

/// The Dialpad company.
#[derive(Clone, Debug)]
pub struct DialpadCompany {
    /// Bearer key.
    pub api_key: String,
    /// Company id.
    pub company_id: String,
    /// Main office id.
    pub office_id: String,
    /// How ids are written.
    pub id_encoding: IdEncoding,
    /// Whether timestamps carry `Z`.
    pub timestamps_with_zone: bool,
    /// Users sorted by id.
    pub users: Vec<DialpadUser>,
    /// Non-user numbers.
    pub other_numbers: Vec<DialpadNumber>,
}

impl DialpadCompany {
    /// The inventory: every user number (`status: user`) and every other number, sorted. A
    /// deleted user's number stays listed: Dialpad holds it for 72 hours (whether the API still
    /// lists it is UNCONFIRMED; listing it lets a sync recognise it as Dialpad's).
    pub fn inventory(&self) -> Vec<DialpadNumber> {
        let mut numbers: Vec<DialpadNumber> = self
            .users
            .iter()
            .flat_map(|u| {
                u.phone_numbers.iter().map(|n| DialpadNumber {
                    number: n.clone(),
                    status: "user".into(),
                    target_id: Some(u.id.clone()),
                    target_type: Some("user".into()),
                    office_id: u.office_id.clone(),
                })
            })
            .chain(self.other_numbers.iter().cloned())
            .collect();
        numbers.sort_by(|a, b| a.number.cmp(&b.number));
        numbers
    }
}

/// An admin account's password sign-in settings.
#[derive(Clone, Debug)]
pub struct AdminAccount {
    /// The fixture entry.
    pub fixture: AdminFixture,
    /// Object id of its directory user.
    pub user_id: String,
    /// Transient failures still to serve.
    pub transient_failures_left: u32,
}

/// The whole simulated organisation.
#[derive(Debug)]
pub struct World {
    /// Tenant id.
    pub tenant_id: String,
    /// Verified domains.
    pub domains: Vec<String>,
    /// Public clients.
    pub public_clients: Vec<PublicClientFixture>,
    /// Confidential apps.
    pub applications: Vec<ApplicationFixture>,
    /// Admin accounts by lower-case UPN.
    pub admins: HashMap<String, AdminAccount>,
    /// Directory users sorted by id.
    pub users: Vec<DirectoryUser>,
    user_index: HashMap<String, usize>,
    /// Teams numbers by number.
    pub numbers: BTreeMap<String, NumberRecord>,
    /// Operations by id.
    pub operations: HashMap<String, Operation>,
    running: VecDeque<String>,
    /// Access tokens.
    pub access_tokens: HashMap<String, Grant>,
    /// Refresh tokens.
    pub refresh_tokens: HashMap<String, Grant>,
    /// Dialpad.
    pub dialpad: DialpadCompany,
    /// Timings and limits.
    pub behaviour: BehaviourFixture,
    rng: StdRng,
}

/// Failure reasons of an assignment, as Teams words them (the PowerShell messages of
/// `docs/microsoft-graph-teams.md` section 5.8; Graph's exact `statusDetail` text is UNCONFIRMED).
pub mod detail {
    /// The user lacks Phone System.
    pub fn lacks_license(user_id: &str, number_type: &str) -> String {
        let kind = match number_type {
            "callingPlan" => "CallingPlan",
            "operatorConnect" => "OperatorConnect",
            _ => "DirectRouting",
        };
        format!("User '{user_id}' lacks appropriate licenses to assign a '{kind}' number.")
    }
    /// The number belongs to someone else.
    pub fn already_assigned(number: &str) -> String {
        format!("Telephone Number '{number}' has already been assigned to another user")
    }
    /// The user does not exist.
    pub fn user_not_found(user_id: &str) -> String {
        format!(
            "The server responded with a Request Error, Status: NotFound. Management object not found for identity '{user_id}'."
        )
    }
    /// The account is disabled.
    pub fn user_disabled(user_id: &str) -> String {
        format!("User '{user_id}' is disabled and cannot be assigned a telephone number.")
    }
    /// Nothing to unassign.
    pub fn not_assigned(number: &str) -> String {
        format!("Telephone Number '{number}' is not assigned to any user.")
    }
}

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
                .filter_map(|key| catalog::role_by_key(key))
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
            let disabled: Vec<&catalog::ServicePlan> = user
                .disabled_plans
                .iter()
                .filter_map(|p| catalog::plan_by_name(p))
                .collect();
            let mut assigned_licenses = Vec::new();
            let mut assigned_plans: Vec<(&'static catalog::ServicePlan, &'static str)> = Vec::new();
            for sku in user
                .licenses
                .iter()
                .filter_map(|s| catalog::sku_by_part_number(s))
            {
                let plans: Vec<&'static catalog::ServicePlan> = sku
                    .plans
                    .iter()
                    .filter_map(|p| catalog::plan_by_name(p))
                    .collect();
                let disabled_here: Vec<String> = plans
                    .iter()
                    .filter(|p| disabled.iter().any(|d| d.id == p.id))
                    .map(|p| p.id.to_owned())
                    .collect();
                for plan in plans {
                    let status = if disabled_here.iter().any(|d| d == plan.id) {
                        "Deleted"
                    } else {
                        "Enabled"
                    };
                    assigned_plans.push((plan, status));
                }
                assigned_licenses.push((sku.id.to_owned(), disabled_here));
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
            });
        }
        users.sort_by(|a, b| a.id.cmp(&b.id));
        let user_index = users.iter().enumerate().map(|(i, u)| (u.id.clone(), i)).collect();

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
            user_index,
            numbers,
            operations: HashMap::new(),
            running: VecDeque::new(),
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            dialpad: DialpadCompany {
                api_key: fixture.dialpad.api_key.clone(),
                company_id: fixture.dialpad.company_id.clone(),
                office_id,
                id_encoding: fixture.dialpad.id_encoding,
                timestamps_with_zone: fixture.dialpad.timestamps_with_zone,
                users: dialpad_users,
                other_numbers,
            },
            behaviour: fixture.behaviour.clone(),
            rng,
        }
    }

    /// Whether `tenant` (from a sign-in URL) names this tenant: its id or a verified domain.
    pub fn is_tenant(&self, tenant: &str) -> bool {
        self.tenant_id.eq_ignore_ascii_case(tenant)
            || self.domains.iter().any(|d| d.eq_ignore_ascii_case(tenant))
    }

    /// The directory user with object id `id`.
    pub fn user(&self, id: &str) -> Option<&DirectoryUser> {
        self.user_index.get(id).map(|&i| &self.users[i])
    }

    /// The directory user whose UPN is `upn` (ignoring case).
    pub fn user_by_upn(&self, upn: &str) -> Option<&DirectoryUser> {
        self.users
            .iter()
            .find(|u| u.user_principal_name.eq_ignore_ascii_case(upn))
    }

    /// Numbers held by `user_id`, sorted.
    pub fn numbers_of(&self, user_id: &str) -> Vec<&NumberRecord> {
        self.numbers
            .values()
            .filter(|n| n.assignment_target_id.as_deref() == Some(user_id))
            .collect()
    }

    /// A fresh random GUID (deterministic for a seed).
    pub fn new_guid(&mut self) -> String {
        guid(&mut self.rng)
    }

    /// A random opaque token string.
    pub fn new_opaque(&mut self, bytes: usize) -> String {
        let raw: Vec<u8> = (0..bytes).map(|_| self.rng.random()).collect();
        base64_url(&raw)
    }

    /// A number in `0..1` from the seeded generator.
    pub fn random_unit(&mut self) -> f64 {
        self.rng.random()
    }

    /// Records `grant` as an access token and returns the token text (a JWT-shaped string whose
    /// payload carries the claims clients may read: `tid`, `oid`/`upn`+`scp` or `roles`, `exp`).
    pub fn issue_access_token(&mut self, principal: Principal, lifetime: Duration, now: Instant) -> String {
        let exp = Timestamp::now().as_second() + lifetime.as_secs() as i64;
        let mut claims = serde_json::json!({
            "aud": "https://graph.microsoft.com",
            "iss": format!("https://sts.windows.net/{}/", self.tenant_id),
            "tid": self.tenant_id,
            "iat": Timestamp::now().as_second(),
            "nbf": Timestamp::now().as_second(),
            "exp": exp,
            "ver": "1.0",
        });
        match &principal {
            Principal::User { user_id, client_id } => {
                claims["oid"] = user_id.clone().into();
                claims["appid"] = client_id.clone().into();
                claims["scp"] = "User.Read User.Read.All TeamsTelephoneNumber.ReadWrite.All TeamsUserConfiguration.Read.All".into();
                if let Some(user) = self.user(user_id) {
                    claims["upn"] = user.user_principal_name.clone().into();
                }
            }
            Principal::Application { client_id, roles } => {
                claims["appid"] = client_id.clone().into();
                claims["idtyp"] = "app".into();
                claims["roles"] = roles.clone().into();
            }
        }
        let header = base64_url(br#"{"typ":"JWT","alg":"RS256","kid":"sandbox"}"#);
        let payload = base64_url(claims.to_string().as_bytes());
        let signature = self.new_opaque(32);
        let token = format!("{header}.{payload}.{signature}");
        self.access_tokens.insert(
            token.clone(),
            Grant {
                principal,
                expires_at: now + lifetime,
            },
        );
        token
    }

    /// Records a refresh token for `principal` (valid 90 days, as Entra's default).
    pub fn issue_refresh_token(&mut self, principal: Principal, now: Instant) -> String {
        let token = format!("0.sandbox.{}", self.new_opaque(48));
        let expires_at = now + Duration::from_secs(90 * 24 * 3600);
        self.refresh_tokens.insert(
            token.clone(),
            Grant {
                principal,
                expires_at,
            },
        );
        token
    }

    /// The grant behind an access token, if it exists and has not expired.
    pub fn access_grant(&self, token: &str, now: Instant) -> Result<&Grant, TokenProblem> {
        match self.access_tokens.get(token) {
            None => Err(TokenProblem::Unknown),
            Some(grant) if grant.expires_at <= now => Err(TokenProblem::Expired),
            Some(grant) => Ok(grant),
        }
    }

    /// Starts `assignNumber`; returns the operation id. Business rules are applied when the
    /// operation completes, as a real tenant does asynchronously.
    pub fn start_operation(&mut self, kind: OperationKind, now: Instant) -> String {
        self.complete_due_operations(now);
        let id = self.new_guid();
        let delay = Duration::from_millis(self.behaviour.operation_delay_ms);
        self.operations.insert(
            id.clone(),
            Operation {
                id: id.clone(),
                created: Timestamp::now(),
                kind,
                completes_at: now + delay,
                outcome: None,
            },
        );
        self.running.push_back(id.clone());
        id
    }

    /// Completes every operation due by `now`, in creation order.
    pub fn complete_due_operations(&mut self, now: Instant) {
        while let Some(id) = self.running.front().cloned() {
            let due = self.operations.get(&id).is_some_and(|op| op.completes_at <= now);
            if !due {
                break;
            }
            self.running.pop_front();
            let kind = self.operations[&id].kind.clone();
            let outcome = self.apply(&kind, now);
            if let Some(op) = self.operations.get_mut(&id) {
                op.outcome = Some(outcome);
            }
        }
    }

    fn apply(&mut self, kind: &OperationKind, now: Instant) -> Result<String, String> {
        match kind {
            OperationKind::Assign {
                telephone_number,
                target_id,
                number_type,
                category,
                location_id,
            } => {
                let user = self
                    .user(target_id)
                    .ok_or_else(|| detail::user_not_found(target_id))?;
                if !user.account_enabled {
                    return Err(detail::user_disabled(target_id));
                }
                if !user.has_enabled_plan(catalog::PHONE_SYSTEM_PLANS) {
                    return Err(detail::lacks_license(target_id, number_type));
                }
                if let Some(error) = &user.assignment_error {
                    return Err(error.clone());
                }
                if let Some(existing) = self.numbers.get(telephone_number) {
                    match existing.assignment_target_id.as_deref() {
                        Some(holder) if holder == target_id => return Ok(existing.id.clone()),
                        Some(_) => return Err(detail::already_assigned(telephone_number)),
                        None => {}
                    }
                }
                // A new primary number replaces the user's previous primary number, as
                // Set-CsPhoneNumberAssignment does (Graph behaviour UNCONFIRMED).
                if category == "primary" {
                    for record in self.numbers.values_mut() {
                        if record.assignment_target_id.as_deref() == Some(target_id.as_str())
                            && record.assignment_category == "primary"
                        {
                            record.assignment_target_id = None;
                            record.activates_at = None;
                        }
                    }
                }
                let activates_at = Some(now + Duration::from_millis(self.behaviour.activation_delay_ms));
                let id = match self.numbers.get(telephone_number) {
                    Some(record) => record.id.clone(),
                    None => self.new_guid(),
                };
                self.numbers.insert(
                    telephone_number.clone(),
                    NumberRecord {
                        id: id.clone(),
                        telephone_number: telephone_number.clone(),
                        number_type: number_type.clone(),
                        assignment_target_id: Some(target_id.clone()),
                        assignment_category: category.clone(),
                        location_id: location_id.clone(),
                        activates_at,
                    },
                );
                Ok(id)
            }
            OperationKind::Unassign { telephone_number } => {
                let record = self
                    .numbers
                    .get_mut(telephone_number)
                    .filter(|r| r.assignment_target_id.is_some())
                    .ok_or_else(|| detail::not_assigned(telephone_number))?;
                record.assignment_target_id = None;
                record.activates_at = None;
                record.location_id = None;
                Ok(record.id.clone())
            }
        }
    }
}

/// Why an access token is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenProblem {
    /// Never issued here.
    Unknown,
    /// Past its lifetime.
    Expired,
}

/// Normalises a number as Teams stores it: a leading `+`, extension kept.
pub fn normalise_number(number: &str) -> String {
    let trimmed = number.trim().trim_start_matches("tel:");
    if trimmed.starts_with('+') {
        trimmed.to_owned()
    } else {
        format!("+{trimmed}")
    }
}

fn guid(rng: &mut StdRng) -> String {
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

fn digits(rng: &mut StdRng, count: usize) -> String {
    let first = rng.random_range(1..=9u8);
    std::iter::once(char::from(b'0' + first))
        .chain((1..count).map(|_| char::from(b'0' + rng.random_range(0..=9u8))))
        .collect()
}

fn display_name_of(upn: &str) -> String {
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

fn target_type_of(status: &str) -> &'static str {
    match status {
        "call_center" => "callcenter",
        "call_router" => "callrouter",
        "department" => "department",
        "room" => "room",
        _ => "office",
    }
}

/// Base64url without padding, as JWTs use.
pub fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
