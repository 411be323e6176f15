//! The desired configuration of one tenant's sync: `TeamsTenantSync.spec`.
//!
//! Every field's `///` doc is its `kubectl explain` text, so it is written for the admin who
//! applies the resource, not for the Rust reader.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::schema;
use super::status::TeamsTenantSyncStatus;

mod assignment;
mod credentials;
mod readiness;

pub use assignment::*;
pub use credentials::*;
pub use readiness::*;

/// The desired sync of one Microsoft tenant: how to sign in, where the desired numbers come from,
/// and the policies that govern changes in Teams.
#[allow(
    clippy::duplicated_attributes,
    reason = "each printcolumn(...) repeats keys such as type_; clippy reads them as duplicates"
)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "teamssync.io",
    version = "v1alpha1",
    kind = "TeamsTenantSync",
    plural = "teamstenantsyncs",
    singular = "teamstenantsync",
    shortname = "tts",
    category = "teamssync",
    namespaced,
    status = "TeamsTenantSyncStatus",
    derive = "PartialEq",
    doc = "TeamsTenantSync keeps the Dialpad users' phone numbers assigned to the matching Microsoft Teams users of one Microsoft tenant (Direct Routing) and reports, per user, why anyone is not in sync.",
    printcolumn(
        name = "Tenant",
        type_ = "string",
        json_path = ".spec.tenant.domain",
        description = "Verified domain of the Microsoft tenant"
    ),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status",
        description = "True once Teams matches the source for every user that can be synced; False while assignments activate, in DryRun with changes, or when something needs a person"
    ),
    printcolumn(
        name = "In Sync",
        type_ = "integer",
        json_path = ".status.summary.inSync",
        description = "Users whose number is assigned in Teams as desired"
    ),
    printcolumn(
        name = "Desired",
        type_ = "integer",
        json_path = ".status.summary.desired",
        description = "Users the source wants assigned"
    ),
    printcolumn(
        name = "Failed",
        type_ = "integer",
        json_path = ".status.summary.failed",
        description = "Users that need an admin's attention"
    ),
    printcolumn(
        name = "Last Sync",
        type_ = "date",
        json_path = ".status.lastSyncTime",
        description = "When the last sync finished"
    ),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct TeamsTenantSyncSpec {
    /// The Microsoft tenant whose Teams users receive the phone numbers.
    pub tenant: TenantSpec,

    /// How the operator signs in to Microsoft: set exactly one of `adminAccount` or `application`.
    pub credentials: CredentialsSpec,

    /// Where the desired assignments come from: set exactly one of `dialpad` or `static`.
    pub source: SourceSpec,

    /// How numbers are assigned in Teams.
    #[serde(default)]
    pub assignment: AssignmentSpec,

    /// What happens to the number of a user who is no longer wanted by the source.
    #[serde(default)]
    pub removal: RemovalSpec,

    /// Limits that stop a sync from making large or risky changes unattended.
    #[serde(default)]
    pub safety: SafetySpec,

    /// `Enforce` applies the plan; `DryRun` computes and reports it (reason `DryRun`) and changes
    /// nothing in Teams.
    #[serde(default)]
    pub mode: SyncMode,

    /// How often the tenant is synced, as a Go duration such as `15m` or `1h`. At least `1m`.
    #[serde(default = "default_sync_interval")]
    #[schemars(schema_with = "schema::go_duration")]
    #[x_kube(validation = Rule::new("duration(self) >= duration('1m')").message("must be at least 1m, such as 15m"))]
    pub sync_interval: String,

    /// With `spec.source.dialpad.changeEvents` enabled and connected: how often the full sync runs
    /// as a safety net (a change in Dialpad syncs within seconds without waiting for it), as a Go
    /// duration such as `24h`. At least `1m`; defaults to `24h`. While change events are off or
    /// not connected, `syncInterval` applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::go_duration")]
    #[x_kube(validation = Rule::new("duration(self) >= duration('1m')").message("must be at least 1m, such as 1h"))]
    pub full_sync_interval: Option<String>,

    /// Set to `true` to pause syncing (nothing is read or changed) without deleting the resource.
    /// A suspended resource is `Ready=True` with reason `Suspended`: pausing is a choice, not a
    /// failure.
    #[serde(default)]
    pub suspend: bool,

    /// When `Ready` is True: how many failed users it tolerates, and how long Teams may take to
    /// activate assignments.
    #[serde(default)]
    pub readiness: ReadinessSpec,

    /// Base URLs of the upstream APIs. Leave unset for Microsoft's global service and Dialpad's
    /// production API (the national clouds are not supported); set them for a proxy or the
    /// bundled sandbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<EndpointsSpec>,
}

/// The default `fullSyncInterval`.
pub const DEFAULT_FULL_SYNC_INTERVAL: &str = "24h";

/// The default `syncInterval`.
pub const DEFAULT_SYNC_INTERVAL: &str = "15m";

fn default_sync_interval() -> String {
    DEFAULT_SYNC_INTERVAL.to_owned()
}

/// The Microsoft (Entra ID) tenant.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TenantSpec {
    /// The Entra tenant ID (a GUID such as `9b5e2f1c-...`) or one of its verified domains
    /// (such as `contoso.onmicrosoft.com`). Used in the sign-in URL.
    #[schemars(length(min = 1, max = 253), pattern(schema::GUID_OR_DNS_NAME))]
    pub tenant_id: String,

    /// The tenant's verified domain, such as `contoso.com`. In `adminAccount` mode the sign-in
    /// name must be `dialpad-msteams-admin@<domain>`.
    #[schemars(length(min = 1, max = 253), pattern(schema::DNS_NAME))]
    pub domain: String,
}

/// A key in a Secret of this resource's namespace.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    /// Name of the Secret in this resource's namespace.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,

    /// Key in the Secret. Defaults to `clientSecret` for an application and `apiKey` for Dialpad.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub key: Option<String>,
}

/// Where the desired assignments come from. Exactly one source is set.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.dialpad) != has(self.static)").message("set exactly one of dialpad or static"))]
pub struct SourceSpec {
    /// Read users and their numbers from the Dialpad API: every active Dialpad user with an
    /// email and a number is assigned that number in Teams.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialpad: Option<DialpadSource>,

    /// Declare the assignments inline (GitOps), without Dialpad.
    #[serde(default, rename = "static", skip_serializing_if = "Option::is_none")]
    pub static_list: Option<StaticSource>,
}

/// Dialpad as the source of desired assignments.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DialpadSource {
    /// The Secret key, in this resource's namespace, that holds the Dialpad API key
    /// (key defaults to `apiKey`).
    pub api_key_secret_ref: SecretKeyRef,

    /// Only sync users of these Dialpad office IDs. Empty means every office.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(pattern(r"^[0-9]+$")))]
    pub office_ids: Vec<String>,

    /// The Dialpad company the API key must belong to (its id, as Dialpad's `GET /api/v2/company`
    /// gives it). When set and the key belongs to another company, nothing is read or changed and
    /// `SourceConnected` says `SourceWrongCompany`. Unset: any company's key is used, and
    /// `SourceConnected` names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(r"^[0-9]+$"))]
    pub company_id: Option<String>,

    /// Dialpad's change-log events: a change in Dialpad (a new user, a new number, a user
    /// removed) starts a sync within seconds instead of at the next `syncInterval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_events: Option<ChangeEventsSpec>,
}

/// Dialpad's change-log events over a WebSocket the operator opens (no public endpoint needed).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ChangeEventsSpec {
    /// Set to `true` to receive the company's change-log events. The operator then creates one
    /// WebSocket endpoint and one change-log subscription in the Dialpad company (shared by every
    /// resource of that company, removed with the last one), which needs an API key of a company
    /// admin with the `change_log` scope. Off by default: it creates objects in Dialpad and needs
    /// that scope.
    #[serde(default)]
    pub enabled: bool,
}

impl DialpadSource {
    /// Whether change-log events are wanted.
    pub fn change_events_enabled(&self) -> bool {
        self.change_events.as_ref().is_some_and(|events| events.enabled)
    }

    /// The Secret key that holds the Dialpad API key.
    pub fn api_key_key(&self) -> &str {
        self.api_key_secret_ref
            .key
            .as_deref()
            .unwrap_or(DEFAULT_DIALPAD_API_KEY_KEY)
    }
}

/// The default key of the API key in the Dialpad Secret.
pub const DEFAULT_DIALPAD_API_KEY_KEY: &str = "apiKey";

/// An inline list of desired assignments.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StaticSource {
    /// The users and numbers to assign. A user listed twice is reported as `DuplicateEmail`.
    #[schemars(length(max = 10000))]
    pub users: Vec<StaticUser>,
}

/// One desired assignment in the static list.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StaticUser {
    /// The user's email address; it is matched against the Teams users' mail, user principal
    /// name and SMTP proxy addresses, ignoring case.
    #[schemars(length(min = 3, max = 320), pattern(schema::EMAIL))]
    pub email: String,

    /// The number to assign, in E.164 form: `+`, country code and number, digits only, e.g.
    /// `+14155550100`; an extension may follow as `;ext=123`.
    #[schemars(pattern(schema::E164))]
    pub phone_number: String,

    /// The user's office, as `spec.assignment.offices` names it: its location and policies
    /// apply to this user. Unset: the resource-wide ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub office: Option<String>,
}

/// What happens to the number of a user the source no longer wants.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RemovalSpec {
    /// `Unassign` removes a number in Teams after `gracePeriod` (also when this resource is
    /// deleted), and only a number this resource assigned or adopted (see `adoptExisting`);
    /// `Retain` never unassigns anything.
    #[serde(default)]
    pub policy: RemovalPolicy,

    /// Whether a number of the source that Teams already held on a synced user before this
    /// resource assigned it is taken over as if this resource had assigned it: the user's right
    /// number, so that `Unassign` may later remove it, and another number of the source (one put
    /// on the user by hand), so that a sync may replace it with the right one (recorded first;
    /// it counts toward `safety.maxUnassignmentsPerSync`). Off by default: the right number counts
    /// as in sync but not owned, and is never removed; another one is `NumberConflict`.
    #[serde(default)]
    pub adopt_existing: bool,

    /// How long a user must be gone from the source before their number is unassigned (reason
    /// `RemovalPending` meanwhile), as a Go duration such as `72h`. `0s` unassigns at once.
    /// Dialpad itself holds a deleted user's number for 72 hours.
    #[serde(default = "default_grace_period")]
    #[schemars(schema_with = "schema::go_duration")]
    pub grace_period: String,
}

impl Default for RemovalSpec {
    fn default() -> Self {
        Self {
            policy: RemovalPolicy::default(),
            grace_period: default_grace_period(),
            adopt_existing: false,
        }
    }
}

/// The default `removal.gracePeriod`.
pub const DEFAULT_GRACE_PERIOD: &str = "72h";

fn default_grace_period() -> String {
    DEFAULT_GRACE_PERIOD.to_owned()
}

/// Whether numbers of users who left are unassigned.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RemovalPolicy {
    /// Unassign after the grace period.
    #[default]
    Unassign,
    /// Leave Teams as it is.
    Retain,
}

/// Limits that keep a sync from making large or risky changes unattended.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SafetySpec {
    /// The most numbers one sync may take off users: departed users' numbers it unassigns and
    /// synced users' numbers it replaces, counted together. A plan that would take off more takes
    /// off none of them (reason `BlockedBySafetyLimit` on each such user) until the limit is
    /// raised; assignments to users without a number still go ahead.
    #[serde(default = "default_max_unassignments")]
    #[schemars(range(min = 0))]
    pub max_unassignments_per_sync: i32,

    /// Allow replacing any number a synced Teams user holds: one Dialpad (or the static list)
    /// does not own, and one it owns that this resource neither assigned to the user nor adopted
    /// (see `removal.adoptExisting`). Replacements still count toward `maxUnassignmentsPerSync`.
    /// Off by default: such users are reported as `NumberConflict` and left alone.
    #[serde(default)]
    pub overwrite_foreign_numbers: bool,
}

impl Default for SafetySpec {
    fn default() -> Self {
        Self {
            max_unassignments_per_sync: DEFAULT_MAX_UNASSIGNMENTS,
            overwrite_foreign_numbers: false,
        }
    }
}

/// The default `safety.maxUnassignmentsPerSync`.
pub const DEFAULT_MAX_UNASSIGNMENTS: i32 = 25;

fn default_max_unassignments() -> i32 {
    DEFAULT_MAX_UNASSIGNMENTS
}

/// Whether a sync changes Teams.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SyncMode {
    /// Apply the plan.
    #[default]
    Enforce,
    /// Report what would be done and change nothing.
    DryRun,
}

/// Base URLs of the upstream APIs, without a trailing path.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EndpointsSpec {
    /// The Microsoft identity platform (sign-in); defaults to Microsoft's global service,
    /// `https://login.microsoftonline.com`. Only the global service works: Teams' telephone number
    /// APIs are not offered in the US Government or China clouds, whose endpoints are refused
    /// (`CloudNotSupported`). Another URL (a proxy, the sandbox) must be allowed by a platform
    /// admin.
    #[serde(default = "default_login_url")]
    #[schemars(pattern(schema::HTTP_URL))]
    pub login: String,

    /// Microsoft Graph; defaults to Microsoft's global service, `https://graph.microsoft.com`, the
    /// only one supported (see `login`).
    #[serde(default = "default_graph_url")]
    #[schemars(pattern(schema::HTTP_URL))]
    pub graph: String,

    /// The Dialpad API.
    #[serde(default = "default_dialpad_url")]
    #[schemars(pattern(schema::HTTP_URL))]
    pub dialpad: String,
}

/// Microsoft's global sign-in endpoint.
pub const DEFAULT_LOGIN_URL: &str = "https://login.microsoftonline.com";
/// Microsoft Graph in the global cloud.
pub const DEFAULT_GRAPH_URL: &str = "https://graph.microsoft.com";
/// Dialpad's production API.
pub const DEFAULT_DIALPAD_URL: &str = "https://dialpad.com";

fn default_login_url() -> String {
    DEFAULT_LOGIN_URL.to_owned()
}

fn default_graph_url() -> String {
    DEFAULT_GRAPH_URL.to_owned()
}

fn default_dialpad_url() -> String {
    DEFAULT_DIALPAD_URL.to_owned()
}

impl Default for EndpointsSpec {
    fn default() -> Self {
        Self {
            login: default_login_url(),
            graph: default_graph_url(),
            dialpad: default_dialpad_url(),
        }
    }
}
