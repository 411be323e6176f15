//! Teams policies at the Graph edge: which Graph policy type each kind is, reading the names a
//! resource uses and every user's effective policies into the core's [`PolicyState`], and the
//! core's changes as Graph's assign and unassign lists.

use std::collections::{BTreeMap, BTreeSet};

use crate::api::AssignmentSpec;
use crate::microsoft::graph::{GraphClient, GraphError, PolicyAssignmentEntry, TeamsUserConfiguration};
use crate::sync::policies::{
    EffectivePolicy, PolicyChange, PolicyKind, PolicySource, PolicyState, Unresolved,
};

/// The Graph `policyType` of each kind. UNCONFIRMED: Microsoft's Graph pages show only meeting
/// and calling policy types in their examples ("teamsMeetingBroadcastPolicy" on the assign page,
/// "TeamsMeetingPolicy and TeamsCallingPolicy" on effectivePolicyAssignment), so the defaults are
/// the policy names of the Teams PowerShell cmdlets that assign the same policies
/// (Grant-CsOnlineVoiceRoutingPolicy, Grant-CsTenantDialPlan, Grant-CsTeamsCallingPolicy;
/// `Get-CsUserPolicyAssignment -PolicyType` takes the same names), and `run --policy-type
/// FIELD=TYPE` changes one. Effective assignments are matched ignoring letter case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyTypes(BTreeMap<PolicyKind, String>);

impl Default for PolicyTypes {
    fn default() -> Self {
        Self(BTreeMap::from([
            (PolicyKind::VoiceRouting, "OnlineVoiceRoutingPolicy".to_owned()),
            (PolicyKind::DialPlan, "TenantDialPlan".to_owned()),
            (PolicyKind::Calling, "TeamsCallingPolicy".to_owned()),
        ]))
    }
}

impl PolicyTypes {
    /// The defaults with `overrides` (`FIELD=TYPE`, FIELD a spec field such as
    /// `voiceRoutingPolicy`) applied; an error names a malformed one and the fields.
    pub fn with_overrides<S: AsRef<str>>(overrides: &[S]) -> Result<Self, String> {
        let mut types = Self::default();
        for text in overrides {
            let text = text.as_ref();
            let parsed = text
                .split_once('=')
                .map(|(field, value)| (PolicyKind::from_field(field.trim()), value.trim()));
            match parsed {
                Some((Some(kind), value)) if !value.is_empty() => {
                    types.0.insert(kind, value.to_owned());
                }
                _ => {
                    let fields: Vec<&str> = PolicyKind::ALL.iter().map(|k| k.field()).collect();
                    return Err(format!(
                        "--policy-type {text:?} is not FIELD=TYPE with FIELD one of {}",
                        fields.join(", ")
                    ));
                }
            }
        }
        Ok(types)
    }

    /// The Graph type of `kind`.
    pub fn of(&self, kind: PolicyKind) -> &str {
        self.0.get(&kind).map_or("", String::as_str)
    }

    /// The kind whose Graph type is `policy_type`, ignoring letter case.
    fn kind_of(&self, policy_type: &str) -> Option<PolicyKind> {
        self.0
            .iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(policy_type))
            .map(|(kind, _)| *kind)
    }
}

/// The policy names a resource uses, by kind (resource-wide and every office's).
pub fn named_policies(spec: &AssignmentSpec) -> BTreeMap<PolicyKind, BTreeSet<String>> {
    let mut names: BTreeMap<PolicyKind, BTreeSet<String>> = BTreeMap::new();
    let mut add = |kind: PolicyKind, name: &Option<String>| {
        if let Some(name) = name {
            names.entry(kind).or_default().insert(name.clone());
        }
    };
    add(PolicyKind::VoiceRouting, &spec.voice_routing_policy);
    add(PolicyKind::DialPlan, &spec.dial_plan);
    add(PolicyKind::Calling, &spec.calling_policy);
    for office in &spec.offices {
        add(PolicyKind::VoiceRouting, &office.voice_routing_policy);
        add(PolicyKind::DialPlan, &office.dial_plan);
        add(PolicyKind::Calling, &office.calling_policy);
    }
    names
}

/// Reads what `names` needs: each name's id (`getPolicyId`; a type Teams answers 400 for is
/// unsupported, no match is not found) and every user's effective policy of those kinds.
pub async fn read_policies(
    graph: &GraphClient,
    types: &PolicyTypes,
    names: &BTreeMap<PolicyKind, BTreeSet<String>>,
) -> Result<PolicyState, GraphError> {
    let mut state = PolicyState {
        kinds: names.keys().copied().collect(),
        ..PolicyState::default()
    };
    if names.is_empty() {
        return Ok(state);
    }
    for (kind, kind_names) in names {
        for name in kind_names {
            let id = match graph.policy_ids(types.of(*kind), name).await {
                Ok(found) => found
                    .into_iter()
                    .find(|p| p.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name)))
                    .and_then(|p| p.policy_id)
                    .ok_or(Unresolved::NotFound),
                Err(GraphError::Upstream(error)) if error.status() == Some(404) => Err(Unresolved::NotFound),
                Err(GraphError::Upstream(error)) if error.status() == Some(400) => {
                    Err(Unresolved::TypeUnsupported)
                }
                Err(error) => return Err(error),
            };
            state.ids.insert((*kind, name.clone()), id);
        }
    }
    let mut on_page = |page: Vec<TeamsUserConfiguration>| {
        for configuration in page {
            let Some(user_id) = configuration.id else { continue };
            let effective = effective_of(types, &state.kinds, configuration.effective_policy_assignments);
            if !effective.is_empty() {
                state.effective.insert(user_id, effective);
            }
        }
    };
    graph.list_user_configurations_by_page(&mut on_page).await?;
    Ok(state)
}

/// A user's effective policies of `kinds`, in the core's words.
fn effective_of(
    types: &PolicyTypes,
    kinds: &BTreeSet<PolicyKind>,
    assignments: Vec<crate::microsoft::graph::EffectivePolicyAssignment>,
) -> BTreeMap<PolicyKind, EffectivePolicy> {
    let mut effective = BTreeMap::new();
    for assignment in assignments {
        let kind = assignment.policy_type.as_deref().and_then(|t| types.kind_of(t));
        let (Some(kind), Some(instance)) = (kind, assignment.policy_assignment) else {
            continue;
        };
        let Some(policy_id) = instance.policy_id.filter(|id| !id.is_empty()) else {
            continue;
        };
        if !kinds.contains(&kind) {
            continue;
        }
        let source = match instance.assignment_type.as_deref() {
            Some(t) if t.eq_ignore_ascii_case("direct") => PolicySource::Direct,
            Some(t) if t.eq_ignore_ascii_case("group") => PolicySource::Group {
                group_id: instance.group_id,
            },
            _ => PolicySource::Other,
        };
        effective.insert(kind, EffectivePolicy { policy_id, source });
    }
    effective
}

/// `changes` as the entries of one assign or unassign list.
pub fn entries<'a>(types: &'a PolicyTypes, changes: &'a [PolicyChange]) -> Vec<PolicyAssignmentEntry<'a>> {
    changes
        .iter()
        .map(|change| match change {
            PolicyChange::Assign {
                user_id,
                kind,
                policy_id,
            } => PolicyAssignmentEntry {
                user_id,
                policy_type: types.of(*kind),
                policy_id: Some(policy_id),
            },
            PolicyChange::Unassign { user_id, kind } => PolicyAssignmentEntry {
                user_id,
                policy_type: types.of(*kind),
                policy_id: None,
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::OfficeAssignment;

    #[test]
    fn a_policy_type_is_overridden_by_field_and_a_bad_override_names_the_fields() {
        let types = PolicyTypes::with_overrides(&["dialPlan=tenantDialPlan"]).unwrap();
        assert_eq!(types.of(PolicyKind::DialPlan), "tenantDialPlan");
        assert_eq!(types.of(PolicyKind::VoiceRouting), "OnlineVoiceRoutingPolicy");
        let error = PolicyTypes::with_overrides(&["meetingPolicy=X"]).unwrap_err();
        assert!(
            error.contains("voiceRoutingPolicy, dialPlan, callingPolicy"),
            "{error}"
        );
        assert!(PolicyTypes::with_overrides(&["dialPlan="]).is_err());
    }

    #[test]
    fn the_names_a_resource_uses_come_from_it_and_its_offices() {
        let spec = AssignmentSpec {
            voice_routing_policy: Some("Global-Routes".into()),
            offices: vec![OfficeAssignment {
                office: "Berlin".into(),
                voice_routing_policy: Some("Berlin-Routes".into()),
                dial_plan: Some("DE".into()),
                ..OfficeAssignment::default()
            }],
            ..AssignmentSpec::default()
        };
        let names = named_policies(&spec);
        assert_eq!(names[&PolicyKind::VoiceRouting].len(), 2);
        assert_eq!(names[&PolicyKind::DialPlan].len(), 1);
        assert!(!names.contains_key(&PolicyKind::Calling));
    }

    #[test]
    fn effective_assignments_are_read_by_type_ignoring_case_and_source() {
        use crate::microsoft::graph::{EffectivePolicyAssignment, PolicyAssignment};
        let types = PolicyTypes::default();
        let kinds = BTreeSet::from([PolicyKind::VoiceRouting, PolicyKind::Calling]);
        let assignment = |policy_type: &str, how: &str, id: &str| EffectivePolicyAssignment {
            policy_type: Some(policy_type.into()),
            policy_assignment: Some(PolicyAssignment {
                assignment_type: Some(how.into()),
                policy_id: Some(id.into()),
                group_id: Some("g1".into()),
            }),
        };
        let read = effective_of(
            &types,
            &kinds,
            vec![
                assignment("onlinevoiceroutingpolicy", "direct", "p1"),
                assignment("TeamsCallingPolicy", "group", "p2"),
                assignment("TenantDialPlan", "direct", "p3"),
                assignment("TeamsMeetingPolicy", "direct", "p4"),
            ],
        );
        assert_eq!(read[&PolicyKind::VoiceRouting].source, PolicySource::Direct);
        assert_eq!(
            read[&PolicyKind::Calling].source,
            PolicySource::Group {
                group_id: Some("g1".into())
            }
        );
        assert_eq!(read.len(), 2, "dial plans are not read when none is configured");
    }
}
