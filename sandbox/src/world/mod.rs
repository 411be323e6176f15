//! The sandbox's state: directory users, licences, roles, number assignments, long-running
//! operations, issued tokens and the Dialpad company, plus the rules real tenants enforce on
//! assignments. No HTTP here: handlers lock the world, call these methods and render the result.

mod build;
mod dialpad_changes;
mod directory;
mod entities;
mod operations;
mod policies;
mod policy_changes;

use build::guid;
pub use dialpad_changes::*;
pub use directory::*;
pub use entities::*;
pub use operations::detail;
pub use policies::*;
pub use policy_changes::*;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use rand::Rng;
use rand::rngs::StdRng;

use crate::fixture::{ApplicationFixture, BehaviourFixture, PublicClientFixture};

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
    /// Role-assignable groups.
    pub groups: Vec<RoleGroup>,
    user_index: HashMap<String, usize>,
    /// Teams numbers by number.
    pub numbers: BTreeMap<String, NumberRecord>,
    /// User id -> the numbers assigned to it as `primary`: an index over `numbers`, kept by the
    /// operations, so that a new primary number replaces the old one without a scan of every
    /// number (which made large orgs quadratic).
    primaries: HashMap<String, Vec<String>>,
    /// Operations by id.
    pub operations: HashMap<String, Operation>,
    running: VecDeque<String>,
    /// Access tokens.
    pub access_tokens: HashMap<String, Grant>,
    /// Refresh tokens.
    pub refresh_tokens: HashMap<String, Grant>,
    /// Teams policies, their assignments and emergency locations.
    pub teams: TeamsPolicies,
    /// Dialpad.
    pub dialpad: DialpadCompany,
    /// Directory change tracking (`users/delta`).
    pub directory: DirectoryLog,
    /// Timings and limits.
    pub behaviour: BehaviourFixture,
    rng: StdRng,
}

impl World {
    /// Whether `tenant` (from a sign-in URL) names this tenant: its id or a verified domain.
    pub fn is_tenant(&self, tenant: &str) -> bool {
        self.tenant_id.eq_ignore_ascii_case(tenant)
            || self.domains.iter().any(|d| d.eq_ignore_ascii_case(tenant))
    }

    /// The role-assignable groups `user_id` is a direct member of.
    pub fn groups_of<'a>(&'a self, user_id: &'a str) -> impl Iterator<Item = &'a RoleGroup> + 'a {
        self.groups
            .iter()
            .filter(move |group| group.member_ids.iter().any(|m| m == user_id))
    }

    /// The template ids of every role `user_id` holds, directly or through a group; this is what
    /// Teams and Graph authorise by.
    pub fn effective_role_template_ids(&self, user_id: &str) -> Vec<String> {
        let mut roles: Vec<String> = self
            .user(user_id)
            .map(|user| user.role_template_ids.clone())
            .unwrap_or_default();
        for role in self.groups_of(user_id).flat_map(|g| &g.role_template_ids) {
            if !roles.iter().any(|r| r.eq_ignore_ascii_case(role)) {
                roles.push(role.clone());
            }
        }
        roles
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
                    // `wids`: "the tenant-wide roles assigned to this user", as role template IDs
                    // (Microsoft's access token claims reference). Whether roles held through a
                    // role-assignable group appear there is not documented; the sandbox lists the
                    // roles assigned to the user itself only, so a client must look the others up.
                    claims["wids"] = user.role_template_ids.clone().into();
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

/// 32 hex digits written as a GUID (8-4-4-4-12).
pub fn guid_text(hex: &str) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Base64url without padding, as JWTs use.
pub fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
