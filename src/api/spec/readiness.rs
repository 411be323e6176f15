//! `spec.readiness`: when `Ready` is True, so that a tenant with a few users who cannot be synced
//! (a contact-centre agent without Teams, an unlicensed intern) is not red forever.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::KubeSchema;
use serde::{Deserialize, Serialize};

use crate::api::schema;

/// When `Ready` is True. `UsersSynced` always gives the exact picture; `Ready` says whether the
/// operator is doing its job for this tenant.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ReadinessSpec {
    /// How many failed users `Ready` tolerates: a count such as `10`, or a percentage of the
    /// desired users such as `"5%"` (rounded down). Default `"5%"`; `0` makes any failed user
    /// `Ready=False`. Departed users whose removal needs a person count as failed.
    #[serde(default = "default_max_failed_users")]
    #[schemars(schema_with = "schema::count_or_percent")]
    pub max_failed_users: IntOrString,

    /// How long Teams may take to activate assignments, as a Go duration, before `Ready` turns
    /// False: counted from when `Reconciling` turned True for them. Default `24h`.
    #[serde(default = "default_max_activation_time")]
    #[schemars(schema_with = "schema::go_duration")]
    pub max_activation_time: String,
}

/// The default `readiness.maxFailedUsers`.
pub const DEFAULT_MAX_FAILED_USERS: &str = "5%";

/// The default `readiness.maxActivationTime`.
pub const DEFAULT_MAX_ACTIVATION_TIME: &str = "24h";

fn default_max_failed_users() -> IntOrString {
    IntOrString::String(DEFAULT_MAX_FAILED_USERS.to_owned())
}

fn default_max_activation_time() -> String {
    DEFAULT_MAX_ACTIVATION_TIME.to_owned()
}

impl Default for ReadinessSpec {
    fn default() -> Self {
        Self {
            max_failed_users: default_max_failed_users(),
            max_activation_time: default_max_activation_time(),
        }
    }
}
