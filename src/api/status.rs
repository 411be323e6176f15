//! What the operator observed and did: `TeamsTenantSync.status`.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The outcome of the last sync of the tenant.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct TeamsTenantSyncStatus {
    /// The `metadata.generation` of the spec the last sync used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// When the last sync finished (every completed sync moves it, also when nothing changed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_time: Option<Time>,

    /// The value of the `teamssync.io/sync-now` annotation that the last sync handled. When it
    /// equals the annotation, the sync asked for has run and this status is its result (as
    /// Flux's `lastHandledReconcileAt` for `reconcile.fluxcd.io/requestedAt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_sync_now: Option<String>,

    /// Tenant conditions: `Ready` (the summary that `kubectl wait` and GitOps tools read),
    /// `AdminConnected` (sign-in to Microsoft works), `AdminAuthorized` (the admin holds the
    /// required roles or permissions), `SourceConnected` (the desired state could be read) and
    /// `UsersSynced` (every desired user is in sync).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,

    /// Exact counts over all users, whether or not they are listed in `users`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<SyncSummary>,

    /// The users that are not in sync, so that `kubectl describe` stays short at any size: every
    /// user who left the source and still holds a number, then up to 25 failing or pending users
    /// taken in turn from each reason (so every reason shows examples), within a size budget.
    /// Users in sync are counted in `summary`, not listed. Every user is in the users report
    /// (`usersReport`; `kubectl teamssync users NAME`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<UserSyncStatus>,

    /// How many users that are not in sync are counted in `summary` but not listed in `users`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub users_omitted: i32,

    /// Where every user's state is: the users report, kept by the operator in ConfigMaps beside
    /// this resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users_report: Option<UsersReportStatus>,
}

/// The users report: every user of the last sync (email, ids, number, reason, message, since
/// when), compressed in ConfigMaps of the resource's namespace that the resource owns. Read it
/// with `kubectl teamssync users NAME`.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct UsersReportStatus {
    /// The label selector of its ConfigMaps (`teamssync.io/users-report-of=<this resource's uid>`).
    pub selector: String,

    /// How many ConfigMaps it takes.
    pub config_maps: i32,

    /// How many users it lists.
    pub users: i32,

    /// Users it leaves out (past its bound of 256,000 users; users in sync are left out first).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub users_omitted: i32,

    /// Why the last sync could not write it (for example a missing RBAC permission): the
    /// ConfigMaps still hold an earlier report, and the next sync tries again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

fn is_zero(value: &i32) -> bool {
    *value == 0
}

/// Exact user counts of the last sync.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SyncSummary {
    /// Users the source wants assigned a number: `inSync + pending + failed`.
    pub desired: i32,

    /// Desired users whose number is assigned in Teams as desired.
    pub in_sync: i32,

    /// Desired users waiting on Teams (`AssignmentPending`) or shown by a dry run (`DryRun`); no
    /// admin action needed.
    pub pending: i32,

    /// Desired users that are not in sync and need attention or a retry.
    pub failed: i32,

    /// Users who left the source and whose numbers Teams still holds, counted apart from
    /// `desired`: waiting for the grace period (`RemovalPending`) or held back by the safety limit
    /// (`BlockedBySafetyLimit`).
    #[serde(default)]
    pub departed: i32,

    /// Numbers this resource assigned, or adopted with `spec.removal.adoptExisting`: the only
    /// numbers it ever unassigns. An in-sync user's message says whether its number is owned.
    #[serde(default)]
    pub owned: i32,

    /// Users per reason of their `Synced` condition, desired and departed, e.g.
    /// `{InSync: 1180, CallingPlanAssigned: 7, RemovalPending: 2}`.
    #[serde(default)]
    pub by_reason: BTreeMap<String, i32>,
}

/// The sync state of one user.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct UserSyncStatus {
    /// The user's email address (the key that joins Dialpad and Teams), if the source has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,

    /// The number the source wants assigned, in E.164 form when it could be normalised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,

    /// The Dialpad user ID, when the source is Dialpad.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialpad_user_id: Option<String>,

    /// The Entra object ID of the matching Teams user, once found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams_user_id: Option<String>,

    /// The user's `Synced` condition: `True` with reason `InSync`, or `False` with the reason why
    /// not and what to do about it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
}
