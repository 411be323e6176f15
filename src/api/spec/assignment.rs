//! `spec.assignment`: how numbers are assigned in Teams, and the Teams policies and emergency
//! location a synced user gets, for the whole resource and per Dialpad office.

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How numbers are assigned in Teams, and which policies a synced user gets.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentSpec {
    /// The Teams number type. Dialpad numbers reach Teams through Direct Routing.
    #[serde(default)]
    pub number_type: NumberType,

    /// ID of the Teams emergency location to attach to assigned numbers. Leave unset for none.
    /// An office in `offices` may name its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub emergency_location_id: Option<String>,

    /// The name of the Online Voice Routing Policy every synced user gets (without it, a Direct
    /// Routing user can receive calls but not place them). Unset: left as Teams has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub voice_routing_policy: Option<String>,

    /// The name of the tenant dial plan every synced user gets. Unset: left as Teams has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub dial_plan: Option<String>,

    /// The name of the Teams calling policy every synced user gets. Unset: left as Teams has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub calling_policy: Option<String>,

    /// Per Dialpad office, the emergency location and policies its users get instead of the
    /// resource-wide ones above (a field an office leaves unset falls back to the resource's).
    /// Each office is listed once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 200))]
    #[x_kube(validation = Rule::new("self.all(a, self.exists_one(b, b.office == a.office))").message("an office is listed twice in spec.assignment.offices; list each office once"))]
    pub offices: Vec<OfficeAssignment>,

    /// Whether a user whose policy of a kind comes from a group assignment in Teams gets this
    /// resource's policy as a direct assignment (which Teams ranks above any group's). Off by
    /// default: a group's policy is left alone and the user reported.
    #[serde(default)]
    pub override_group_policies: bool,
}

/// The emergency location and policies of one Dialpad office's users.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct OfficeAssignment {
    /// The Dialpad office: its id, or its name as Dialpad shows it (ignoring letter case). For a
    /// static source, the `office` of its users.
    #[schemars(length(min = 1, max = 128))]
    pub office: String,

    /// ID of the Teams emergency location for this office's numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub emergency_location_id: Option<String>,

    /// The Online Voice Routing Policy of this office's users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub voice_routing_policy: Option<String>,

    /// The tenant dial plan of this office's users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub dial_plan: Option<String>,

    /// The Teams calling policy of this office's users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub calling_policy: Option<String>,
}

/// The Teams telephone number type.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum NumberType {
    /// A number routed through a Session Border Controller (Dialpad's model).
    #[default]
    DirectRouting,
    /// A Microsoft Calling Plan number.
    CallingPlan,
    /// A number from an Operator Connect carrier.
    OperatorConnect,
}
