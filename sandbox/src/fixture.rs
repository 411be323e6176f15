//! The org fixture: a YAML description of one company's Dialpad account and Microsoft tenant,
//! including how its admin account signs in and how the upstreams misbehave.
//!
//! ```yaml
//! seed: 7
//! tenant:
//!   id: 9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b34
//!   domains: [contoso.com, contoso.onmicrosoft.com]
//!   publicClients: [{clientId: 0d1f8a7e-3c2b-4e5f-8a9b-1c2d3e4f5a6b}]
//!   admins:
//!   - userPrincipalName: dialpad-msteams-admin@contoso.com
//!     password: s3cret
//!     roles: [TeamsAdministrator, SkypeForBusinessAdministrator]
//!   users:
//!   - userPrincipalName: ada@contoso.com
//!     mail: ada@contoso.com
//!     licenses: [SPE_E5]
//! dialpad:
//!   apiKey: dp-key
//!   users:
//!   - {emails: [ada@contoso.com], phoneNumbers: ["+14155550100"]}
//! ```

use serde::{Deserialize, Serialize};

pub use crate::fixture_teams::*;

/// One organisation: a Microsoft tenant and the Dialpad company that feeds it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrgFixture {
    /// Seed for every random choice (generated ids, fault injection), so runs repeat exactly.
    #[serde(default)]
    pub seed: u64,
    /// The Microsoft side.
    pub tenant: TenantFixture,
    /// The Dialpad side.
    #[serde(default)]
    pub dialpad: DialpadFixture,
    /// Timings, rate limits and faults.
    #[serde(default)]
    pub behaviour: BehaviourFixture,
}

/// The Microsoft tenant.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantFixture {
    /// The tenant id (a GUID).
    pub id: String,
    /// Verified domains; sign-in accepts the id or any of these in the URL.
    pub domains: Vec<String>,
    /// Public client app registrations usable for password sign-in (ROPC).
    #[serde(default)]
    pub public_clients: Vec<PublicClientFixture>,
    /// Confidential app registrations usable for client credentials.
    #[serde(default)]
    pub applications: Vec<ApplicationFixture>,
    /// Admin accounts that can sign in with a password; each is also a directory user.
    #[serde(default)]
    pub admins: Vec<AdminFixture>,
    /// Directory users (Teams users).
    #[serde(default)]
    pub users: Vec<TeamsUserFixture>,
    /// Role-assignable groups: their members hold the group's directory roles through it, and
    /// are members of those roles only transitively (`/me/memberOf` lists the group, not them).
    #[serde(default)]
    pub groups: Vec<RoleGroupFixture>,
    /// Teams policies, groups with policies assigned, and emergency locations.
    #[serde(default)]
    pub teams: TeamsFixture,
}

/// A role-assignable group (`isAssignableToRole`) with directory roles assigned to it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleGroupFixture {
    /// The group's display name.
    pub display_name: String,
    /// Directory roles assigned to the group, by key (as an admin's `roles`).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Members, by `userPrincipalName` (admins or users).
    #[serde(default)]
    pub members: Vec<String>,
}

/// A public client app registration ("Allow public client flows" on).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublicClientFixture {
    /// The application (client) id.
    pub client_id: String,
    /// Whether an admin consented to its delegated Graph permissions; `false` gives AADSTS65001.
    #[serde(default = "yes")]
    pub consented: bool,
}

/// A confidential app registration: a client secret, certificates and federated identity
/// credentials, any of which may be absent.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationFixture {
    /// The application (client) id.
    pub client_id: String,
    /// The client secret; empty or absent means the app has none, and any secret presented is
    /// refused as a wrong one (AADSTS7000215).
    #[serde(default)]
    pub client_secret: String,
    /// Certificates (PEM, public part only) registered on the app, for client assertions signed
    /// with their private keys.
    #[serde(default)]
    pub certificates: Vec<String>,
    /// Federated identity credentials: which external issuer's tokens the app accepts.
    #[serde(default)]
    pub federated_credentials: Vec<FederatedCredentialFixture>,
    /// Whether the secret has expired (AADSTS7000222).
    #[serde(default)]
    pub secret_expired: bool,
    /// Application permissions granted by admin consent, e.g. `User.Read.All`; they become the
    /// token's `roles` claim.
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// A federated identity credential on an app registration: tokens from `issuer` about `subject`
/// for one of `audiences` are accepted as the app's client assertion.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FederatedCredentialFixture {
    /// The credential's name.
    pub name: String,
    /// The external issuer (`iss`), compared exactly.
    pub issuer: String,
    /// The subject (`sub`), compared exactly, e.g. `system:serviceaccount:ns:name`.
    pub subject: String,
    /// Accepted audiences (`aud`).
    #[serde(default = "default_federation_audiences")]
    pub audiences: Vec<String>,
}

/// How the sandbox reaches an external OIDC issuer for its discovery document and keys.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OidcIssuerFixture {
    /// The issuer, as in tokens' `iss`.
    pub issuer: String,
    /// A base URL (such as `https://127.0.0.1:16443`) used instead of the issuer's own origin, for
    /// the discovery document and for a `jwks_uri` on that origin: the sandbox's stand-in for DNS.
    #[serde(default)]
    pub address: Option<String>,
    /// A CA certificate (PEM) to trust, alone, for this issuer's HTTPS.
    #[serde(default)]
    pub ca_pem: Option<String>,
}

/// An admin account and how its password sign-in behaves.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdminFixture {
    /// The sign-in name.
    pub user_principal_name: String,
    /// The password that signs in.
    pub password: String,
    /// Directory roles by key (`TeamsAdministrator`, `SkypeForBusinessAdministrator`,
    /// `GlobalAdministrator`, `TeamsCommunicationsAdministrator`, `TeamsTelephonyAdministrator`).
    #[serde(default)]
    pub roles: Vec<String>,
    /// What happens when the right password is presented.
    #[serde(default)]
    pub sign_in: SignInBehaviour,
    /// With `signIn: transientError`, how many attempts fail before one succeeds (0: all fail).
    #[serde(default)]
    pub transient_failures: u32,
}

/// How a password sign-in with the right password ends.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum SignInBehaviour {
    /// A token is issued.
    #[default]
    Ok,
    /// AADSTS50076: MFA required by policy.
    MfaRequired,
    /// AADSTS50079: the account must register for MFA (security defaults).
    MfaEnrollmentRequired,
    /// AADSTS53003: blocked by Conditional Access (e.g. a location rule).
    ConditionalAccessBlocked,
    /// AADSTS50057: the account is disabled.
    Disabled,
    /// AADSTS50053: the account is locked.
    Locked,
    /// AADSTS50055: the password has expired.
    PasswordExpired,
    /// HTTP 503 `temporarily_unavailable` (AADSTS90033) for `transientFailures` attempts.
    TransientError,
}

/// A directory (Teams) user.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TeamsUserFixture {
    /// The object id; generated from the seed when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// The sign-in name.
    pub user_principal_name: String,
    /// The primary SMTP address; absent means the user has none.
    #[serde(default)]
    pub mail: Option<String>,
    /// Proxy addresses such as `SMTP:ada@contoso.com` and `smtp:alias@contoso.com`.
    #[serde(default)]
    pub proxy_addresses: Vec<String>,
    /// Display name; derived from the UPN when absent.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Whether the account is enabled.
    #[serde(default = "yes")]
    pub account_enabled: bool,
    /// The usage location (two-letter country code).
    #[serde(default)]
    pub usage_location: Option<String>,
    /// Licences by `skuPartNumber`, as Microsoft's licensing table lists them (see `licensing`).
    #[serde(default)]
    pub licenses: Vec<String>,
    /// Service plans by name that are disabled in every assigned licence, e.g. `MCOEV`.
    #[serde(default)]
    pub disabled_plans: Vec<String>,
    /// A Direct Routing number already assigned (activated) to the user in Teams.
    #[serde(default)]
    pub phone_number: Option<String>,
    /// Makes every assignment to this user fail with this `statusDetail` (an upstream error the
    /// operator does not recognise, for `UnknownError`).
    #[serde(default)]
    pub assignment_error: Option<String>,
    /// Teams policies assigned to the user directly (by type and name).
    #[serde(default)]
    pub policies: Vec<PolicyReferenceFixture>,
}

/// The Dialpad company.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DialpadFixture {
    /// The company API key (Bearer token).
    #[serde(default = "default_api_key")]
    pub api_key: String,
    /// The OAuth scopes the key carries. Dialpad's change-log subscription routes require
    /// `change_log` (vendor/dialpad-openapi.json, `security` of `/api/v2/subscriptions/changelog`);
    /// the default holds it, so the demo works.
    #[serde(default = "default_api_key_scopes")]
    pub api_key_scopes: Vec<String>,
    /// The company id.
    #[serde(default = "default_company_id")]
    pub company_id: String,
    /// The company name, as `GET /api/v2/company` gives it.
    #[serde(default = "default_company_name")]
    pub company_name: String,
    /// Another Dialpad company, whose key the sandbox also accepts: `GET /api/v2/company` names
    /// it, and it has no users or numbers. For the wrong-company check.
    #[serde(default)]
    pub other_company: OtherCompanyFixture,
    /// How int64 values are written: as JSON strings (the spec's examples) or numbers (its schema).
    #[serde(default)]
    pub id_encoding: IdEncoding,
    /// Whether timestamps carry a zone (`...Z`) or not (the spec's examples).
    #[serde(default)]
    pub timestamps_with_zone: bool,
    /// Users.
    #[serde(default)]
    pub users: Vec<DialpadUserFixture>,
    /// Numbers that belong to offices, departments or call centres rather than users.
    #[serde(default)]
    pub other_numbers: Vec<DialpadNumberFixture>,
    /// Offices besides the main one (which always exists, is named after the company and holds
    /// the company's office numbers); users name theirs by `officeId`.
    #[serde(default)]
    pub offices: Vec<DialpadOfficeFixture>,
}

/// A Dialpad office other than the company's main office.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DialpadOfficeFixture {
    /// The office id (digits).
    pub id: String,
    /// The office's name, e.g. `Berlin`.
    pub name: String,
    /// `active`, `pending`, `suspended`, `deleted` or `cancelled` (`schemas.office.OfficeProto.state`).
    #[serde(default = "default_state")]
    pub state: String,
}

impl Default for DialpadFixture {
    fn default() -> Self {
        Self {
            api_key: default_api_key(),
            api_key_scopes: default_api_key_scopes(),
            company_id: default_company_id(),
            company_name: default_company_name(),
            other_company: OtherCompanyFixture::default(),
            id_encoding: IdEncoding::default(),
            timestamps_with_zone: false,
            users: Vec::new(),
            other_numbers: Vec::new(),
            offices: Vec::new(),
        }
    }
}

/// A Dialpad company other than the org's, known only by its key, id and name.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OtherCompanyFixture {
    /// Its API key (Bearer token); must differ from the org's.
    #[serde(default = "default_other_api_key")]
    pub api_key: String,
    /// The OAuth scopes its key carries (as `dialpad.apiKeyScopes`).
    #[serde(default = "default_api_key_scopes")]
    pub api_key_scopes: Vec<String>,
    /// Its company id.
    #[serde(default = "default_other_company_id")]
    pub company_id: String,
    /// Its name.
    #[serde(default = "default_other_company_name")]
    pub company_name: String,
}

impl Default for OtherCompanyFixture {
    fn default() -> Self {
        Self {
            api_key: default_other_api_key(),
            api_key_scopes: default_api_key_scopes(),
            company_id: default_other_company_id(),
            company_name: default_other_company_name(),
        }
    }
}

/// How Dialpad writes int64 values.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum IdEncoding {
    /// `"id": "5835806903417907"`, as in every example of Dialpad's spec.
    #[default]
    String,
    /// `"id": 5835806903417907`, as the spec's schema declares.
    Number,
}

/// A Dialpad user.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DialpadUserFixture {
    /// The user id (digits); generated from the seed when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// Emails, primary first; empty means the user has none.
    #[serde(default)]
    pub emails: Vec<String>,
    /// Dialpad numbers, primary first, as Dialpad stores them (normally E.164).
    #[serde(default)]
    pub phone_numbers: Vec<String>,
    /// `active`, `pending`, `suspended`, `deleted` or `cancelled`.
    #[serde(default = "default_state")]
    pub state: String,
    /// The office id; the company's main office when absent.
    #[serde(default)]
    pub office_id: Option<String>,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
}

/// A company number not owned by a user.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DialpadNumberFixture {
    /// The E.164 number.
    pub number: String,
    /// `office`, `department`, `call_center`, `available`, ...
    #[serde(default = "default_number_status")]
    pub status: String,
}

/// Timings, limits and faults.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BehaviourFixture {
    /// Access token lifetime (`expires_in`).
    #[serde(default = "default_token_lifetime")]
    pub token_lifetime_seconds: u64,
    /// How long a long-running number operation stays `running`.
    #[serde(default = "default_operation_delay")]
    pub operation_delay_ms: u64,
    /// How long a new assignment shows `assignmentPending` before `activated`.
    #[serde(default = "default_activation_delay")]
    pub activation_delay_ms: u64,
    /// Graph requests per second per tenant before 429.
    #[serde(default = "default_graph_rate")]
    pub graph_requests_per_second: u32,
    /// Dialpad requests per second per company before 429 (Dialpad documents 20).
    #[serde(default = "default_dialpad_rate")]
    pub dialpad_requests_per_second: u32,
    /// Faults to inject, matched by endpoint name.
    #[serde(default)]
    pub faults: Vec<FaultFixture>,
    /// The first this many `assignNumber`/`unassignNumber` operations never complete: they stay
    /// `running` and change nothing, as an operation lost inside Teams would.
    #[serde(default)]
    pub never_completing_operations: u32,
    /// The first this many `assignNumber`/`unassignNumber` requests are answered `204 No
    /// Content` without a `Location`, which Microsoft's generated OpenAPI description declares
    /// for actions without a return type, instead of the `202 Accepted` with a `Location` its
    /// documentation describes; the operation runs all the same.
    #[serde(default)]
    pub operations_answered_without_location: u32,
    /// External OIDC issuers' addresses and CAs (workload identity federation); issuers not
    /// listed are fetched at their own URL.
    #[serde(default)]
    pub oidc_issuers: Vec<OidcIssuerFixture>,
    /// The sandbox's Entra clock runs this many seconds ahead of the host's when it checks
    /// client assertions' lifetimes (negative: behind), to reproduce a host with a wrong clock.
    #[serde(default)]
    pub entra_clock_skew_seconds: i64,
    /// The policy types `userAssignments/assign` and `unassign` accept (ignoring case); others
    /// are refused with 400. See `fixture_teams::default_accepted_policy_types`.
    #[serde(default = "default_accepted_policy_types")]
    pub accepted_policy_types: Vec<String>,
    /// The most entries one `assign` or `unassign` request may carry (UNCONFIRMED upstream).
    #[serde(default = "default_policy_assignment_batch_limit")]
    pub policy_assignment_batch_limit: u32,
    /// How long the token in a Dialpad `websocket_url` stays usable: Dialpad's tokens expire an
    /// hour after they are issued (developers.dialpad.com/docs/event-subscriptions-via-websocket).
    #[serde(default = "default_websocket_lifetime")]
    pub websocket_url_lifetime_seconds: u64,
    /// How long an open Dialpad event connection lasts before the server closes it: Dialpad
    /// disconnects after an hour (same page).
    #[serde(default = "default_websocket_lifetime")]
    pub websocket_connection_lifetime_seconds: u64,
    /// How long a `users/delta` state token stays usable; an older one is answered 400
    /// `syncStateNotFound`. Microsoft gives directory objects seven days ("Use delta query to
    /// track changes in Microsoft Graph data", Token duration,
    /// https://learn.microsoft.com/graph/delta-query-overview).
    #[serde(default = "default_delta_token_lifetime")]
    pub delta_token_lifetime_seconds: u64,
}

impl Default for BehaviourFixture {
    fn default() -> Self {
        Self {
            token_lifetime_seconds: default_token_lifetime(),
            operation_delay_ms: default_operation_delay(),
            activation_delay_ms: default_activation_delay(),
            graph_requests_per_second: default_graph_rate(),
            dialpad_requests_per_second: default_dialpad_rate(),
            faults: Vec::new(),
            never_completing_operations: 0,
            operations_answered_without_location: 0,
            oidc_issuers: Vec::new(),
            entra_clock_skew_seconds: 0,
            accepted_policy_types: default_accepted_policy_types(),
            policy_assignment_batch_limit: default_policy_assignment_batch_limit(),
            websocket_url_lifetime_seconds: default_websocket_lifetime(),
            websocket_connection_lifetime_seconds: default_websocket_lifetime(),
            delta_token_lifetime_seconds: default_delta_token_lifetime(),
        }
    }
}

/// Faults injected into the requests of matching endpoints.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultFixture {
    /// Endpoint name (`graph.users`, `dialpad.users`, ...), a prefix ending in `*` (`graph.*`),
    /// or `*` for every endpoint. Names are listed by `sandbox::Endpoint`.
    pub endpoint: String,
    /// The first N requests fail with `errorStatus`, then requests are served normally.
    #[serde(default)]
    pub fail_first: u32,
    /// Share of requests (0..1) answered with `errorStatus`.
    #[serde(default)]
    pub error_rate: f64,
    /// Status for injected errors.
    #[serde(default = "default_error_status")]
    pub error_status: u16,
    /// Share of requests (0..1) that start a burst of 429s.
    #[serde(default)]
    pub throttle_rate: f64,
    /// Length of a 429 burst, in requests.
    #[serde(default = "default_burst")]
    pub throttle_burst: u32,
    /// `Retry-After` of injected 429s, in seconds (may be fractional).
    #[serde(default = "default_retry_after")]
    pub retry_after_seconds: f64,
    /// Share of requests (0..1) whose connection is dropped mid-response.
    #[serde(default)]
    pub reset_rate: f64,
    /// Share of requests (0..1) answered 200 with a truncated JSON body.
    #[serde(default)]
    pub malformed_rate: f64,
    /// Share of requests (0..1) that are acted on but answered `lateMs` late, so that a client
    /// with a shorter timeout gives up without learning the outcome.
    #[serde(default)]
    pub late_rate: f64,
    /// How late those answers are, in milliseconds.
    #[serde(default)]
    pub late_ms: u64,
    /// Latency added to every matching request.
    #[serde(default)]
    pub latency_ms: u64,
}

fn default_federation_audiences() -> Vec<String> {
    vec!["api://AzureADTokenExchange".to_owned()]
}
fn yes() -> bool {
    true
}
fn default_api_key() -> String {
    "sandbox-dialpad-api-key".to_owned()
}
fn default_company_id() -> String {
    "4508591728425653".to_owned()
}
fn default_company_name() -> String {
    "Contoso".to_owned()
}
fn default_api_key_scopes() -> Vec<String> {
    vec!["change_log".to_owned()]
}
fn default_websocket_lifetime() -> u64 {
    3600
}
fn default_other_api_key() -> String {
    "sandbox-dialpad-other-company-api-key".to_owned()
}
fn default_other_company_id() -> String {
    "6120375840275968".to_owned()
}
fn default_other_company_name() -> String {
    "Fabrikam".to_owned()
}
fn default_state() -> String {
    "active".to_owned()
}
fn default_number_status() -> String {
    "office".to_owned()
}
fn default_token_lifetime() -> u64 {
    3599
}
fn default_delta_token_lifetime() -> u64 {
    7 * 24 * 3600
}
fn default_operation_delay() -> u64 {
    200
}
fn default_activation_delay() -> u64 {
    1000
}
fn default_graph_rate() -> u32 {
    200
}
fn default_dialpad_rate() -> u32 {
    20
}
fn default_error_status() -> u16 {
    503
}
fn default_burst() -> u32 {
    3
}
fn default_retry_after() -> f64 {
    1.0
}

/// Errors loading a fixture.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The file could not be read.
    #[error("cannot read org fixture {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The YAML does not describe an org.
    #[error("org fixture {path} is not valid: {source}")]
    Parse {
        /// The file.
        path: String,
        /// Why, with line and column.
        #[source]
        source: serde_yaml::Error,
    },
    /// The org is inconsistent.
    #[error("org fixture {path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong and where.
        message: String,
    },
}
