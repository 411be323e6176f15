//! What to do about one user's Teams policies (voice routing, dialling plan, calling): the policy
//! a resource wants for the user against the one Teams applies and the record of what this
//! resource assigned. Pure: no I/O, no Graph types.
//!
//! The rules, as for numbers:
//! - A user gets a *direct* assignment where the policy Teams applies differs from the wanted one.
//! - A policy that comes from a group assignment is the group owner's decision: it is left alone
//!   (the user is reported) unless the resource says `overrideGroupPolicies`, in which case a
//!   direct assignment is made, which Teams ranks above any group's.
//! - Only a direct assignment this resource made (its record holds it) is ever removed, when the
//!   user no longer wants one of that kind; a direct assignment someone else made is replaced when
//!   a policy is wanted, and otherwise left alone.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::api::Reason;

/// A kind of Teams policy a resource converges, by the spec field that names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyKind {
    /// `voiceRoutingPolicy`: which PSTN routes a Direct Routing user's outgoing calls take.
    VoiceRouting,
    /// `dialPlan`: how dialled numbers are normalised.
    DialPlan,
    /// `callingPolicy`: what calling features the user has.
    Calling,
}

impl PolicyKind {
    /// Every kind, in the order they are converged and reported.
    pub const ALL: [PolicyKind; 3] = [
        PolicyKind::VoiceRouting,
        PolicyKind::DialPlan,
        PolicyKind::Calling,
    ];

    /// The kind a spec field names ([`PolicyKind::field`]).
    pub fn from_field(field: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.field() == field)
    }

    /// The spec field that names this kind's policy (under `spec.assignment` or an office).
    pub fn field(self) -> &'static str {
        match self {
            PolicyKind::VoiceRouting => "voiceRoutingPolicy",
            PolicyKind::DialPlan => "dialPlan",
            PolicyKind::Calling => "callingPolicy",
        }
    }
}

/// Why a wanted policy's name could not be turned into a policy of the tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unresolved {
    /// The tenant has no policy of that kind by that name.
    NotFound,
    /// Teams does not accept the policy type the kind maps to.
    TypeUnsupported,
}

/// A policy a resource wants a user to have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WantedPolicy {
    /// The name the spec gives.
    pub name: String,
    /// The tenant's id for it, or why there is none.
    pub id: Result<String, Unresolved>,
}

/// Where the policy Teams applies to a user comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicySource {
    /// Assigned to the user.
    Direct,
    /// Inherited from a group assignment.
    Group {
        /// The group, when Teams names it.
        group_id: Option<String>,
    },
    /// Anything else Teams reports (a value it added later): treated like a group's, since this
    /// resource cannot tell who decided it.
    Other,
}

/// The policy of one kind Teams applies to a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectivePolicy {
    /// The policy's id.
    pub policy_id: String,
    /// Where it comes from.
    pub source: PolicySource,
}

/// What to do about one user's policy of one kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyDecision {
    /// Nothing: Teams applies what is wanted, or nothing is wanted and nothing of this resource's
    /// is left to take back.
    InSync,
    /// Assign the policy `policy_id` to the user directly.
    Assign {
        /// The wanted policy's id.
        policy_id: String,
    },
    /// Remove the user's direct assignment, which this resource made and no longer wants.
    Unassign {
        /// The policy being removed.
        policy_id: String,
    },
    /// A group's assignment applies another policy, and group policies are not overridden.
    HeldByGroup {
        /// The group, when Teams names it.
        group_id: Option<String>,
        /// The policy the group applies.
        policy_id: String,
    },
    /// The wanted policy's name did not resolve.
    Unresolved(Unresolved),
}

/// Decides about one user's policy of one kind: `wanted` (none when the user needs none of this
/// kind, e.g. the kind is not configured or the user has left), `effective` (none when Teams
/// applies the tenant's default), `owned` (the policy this resource assigned the user, from its
/// record) and whether group assignments may be overridden.
pub fn decide(
    wanted: Option<&WantedPolicy>,
    effective: Option<&EffectivePolicy>,
    owned: Option<&str>,
    override_groups: bool,
) -> PolicyDecision {
    let Some(wanted) = wanted else {
        return match (effective, owned) {
            (Some(effective), Some(owned))
                if effective.source == PolicySource::Direct && effective.policy_id == owned =>
            {
                PolicyDecision::Unassign {
                    policy_id: owned.to_owned(),
                }
            }
            _ => PolicyDecision::InSync,
        };
    };
    let wanted_id = match &wanted.id {
        Ok(id) => id,
        Err(unresolved) => return PolicyDecision::Unresolved(unresolved.clone()),
    };
    let assign = || PolicyDecision::Assign {
        policy_id: wanted_id.clone(),
    };
    match effective {
        None => assign(),
        Some(effective) if effective.policy_id.eq_ignore_ascii_case(wanted_id) => PolicyDecision::InSync,
        Some(EffectivePolicy {
            source: PolicySource::Direct,
            ..
        }) => assign(),
        Some(_) if override_groups => assign(),
        Some(EffectivePolicy { policy_id, source }) => PolicyDecision::HeldByGroup {
            group_id: match source {
                PolicySource::Group { group_id } => group_id.clone(),
                _ => None,
            },
            policy_id: policy_id.clone(),
        },
    }
}

/// One user's policy changes as Teams takes them: a list entry of an assign or unassign request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyChange {
    /// Assign `policy_id` of `kind` to `user_id`.
    Assign {
        /// Teams object id.
        user_id: String,
        /// The kind.
        kind: PolicyKind,
        /// The policy.
        policy_id: String,
    },
    /// Remove `user_id`'s direct assignment of `kind`.
    Unassign {
        /// Teams object id.
        user_id: String,
        /// The kind.
        kind: PolicyKind,
    },
}

impl PolicyChange {
    /// The user and kind the change is for: what identifies it within one plan and one record.
    pub fn target(&self) -> (&str, PolicyKind) {
        match self {
            PolicyChange::Assign { user_id, kind, .. } | PolicyChange::Unassign { user_id, kind } => {
                (user_id, *kind)
            }
        }
    }

    /// [`PolicyChange::target`], owned.
    pub fn owned_target(&self) -> (String, PolicyKind) {
        let (user, kind) = self.target();
        (user.to_owned(), kind)
    }
}

/// The changes, in requests of at most `per_request` entries each: assignments first, then
/// unassignments (each request is one call taking a list), in the order given.
pub fn requests(changes: &[PolicyChange], per_request: usize) -> Vec<Vec<PolicyChange>> {
    let per_request = per_request.max(1);
    let (assigns, unassigns): (Vec<&PolicyChange>, Vec<&PolicyChange>) = changes
        .iter()
        .partition(|change| matches!(change, PolicyChange::Assign { .. }));
    let mut out = Vec::new();
    for group in [assigns, unassigns] {
        for chunk in group.chunks(per_request) {
            out.push(chunk.iter().map(|change| (*change).clone()).collect());
        }
    }
    out
}

/// What a user's outcome says of their policies once the sync's changes are made (see
/// `policy_execute::settle_notes`): notes are kept apart from the outcome until then, so that the
/// number's own result never hides them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyNote {
    /// A policy is being assigned: "assigned" once it was, "would assign" in a dry run.
    Assigning {
        /// The Teams user.
        user_id: String,
        /// The kind.
        kind: PolicyKind,
        /// The policy's name, as the spec gives it.
        name: String,
    },
    /// Something worth knowing that needs nothing done (a policy a group applies as wanted).
    Info(String),
    /// Something the admin must fix: the user's reason, unless their number already failed.
    Problem {
        /// The reason.
        reason: Reason,
        /// What is wrong and what to do.
        text: String,
    },
}

/// The Teams policies a resource converges, as the tenant has them (read only when the resource
/// names a policy).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyState {
    /// The kinds read: those the spec names anywhere (resource-wide or for an office).
    pub kinds: BTreeSet<PolicyKind>,
    /// The tenant's id of each policy the spec names, by kind and name, or why there is none.
    pub ids: BTreeMap<(PolicyKind, String), Result<String, Unresolved>>,
    /// The policy Teams applies, by Teams user id and kind, for the kinds the spec names; a user
    /// or kind left out is on the tenant's default.
    pub effective: HashMap<String, BTreeMap<PolicyKind, EffectivePolicy>>,
}

impl PolicyState {
    /// The wanted policy of `kind` named `name`, resolved.
    pub fn wanted(&self, kind: PolicyKind, name: &str) -> WantedPolicy {
        WantedPolicy {
            name: name.to_owned(),
            id: self
                .ids
                .get(&(kind, name.to_owned()))
                .cloned()
                .unwrap_or(Err(Unresolved::NotFound)),
        }
    }

    /// The policy of `kind` Teams applies to `user_id`, if not the tenant's default.
    pub fn effective(&self, user_id: &str, kind: PolicyKind) -> Option<&EffectivePolicy> {
        self.effective.get(user_id).and_then(|by_kind| by_kind.get(&kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(id: &str) -> WantedPolicy {
        WantedPolicy {
            name: format!("name of {id}"),
            id: Ok(id.to_owned()),
        }
    }

    fn direct(id: &str) -> EffectivePolicy {
        EffectivePolicy {
            policy_id: id.to_owned(),
            source: PolicySource::Direct,
        }
    }

    fn group(id: &str) -> EffectivePolicy {
        EffectivePolicy {
            policy_id: id.to_owned(),
            source: PolicySource::Group {
                group_id: Some("sales".into()),
            },
        }
    }

    fn assign(id: &str) -> PolicyDecision {
        PolicyDecision::Assign { policy_id: id.into() }
    }

    #[test]
    fn a_user_on_the_tenant_default_gets_the_wanted_policy() {
        assert_eq!(
            decide(Some(&wanted("berlin")), None, None, false),
            assign("berlin")
        );
    }

    #[test]
    fn the_wanted_policy_applied_directly_or_by_a_group_is_in_sync() {
        assert_eq!(
            decide(Some(&wanted("berlin")), Some(&direct("berlin")), None, false),
            PolicyDecision::InSync
        );
        assert_eq!(
            decide(Some(&wanted("berlin")), Some(&group("berlin")), None, false),
            PolicyDecision::InSync
        );
    }

    #[test]
    fn another_direct_assignment_is_replaced_whoever_made_it() {
        assert_eq!(
            decide(Some(&wanted("berlin")), Some(&direct("paris")), None, false),
            assign("berlin")
        );
        assert_eq!(
            decide(
                Some(&wanted("berlin")),
                Some(&direct("paris")),
                Some("paris"),
                false
            ),
            assign("berlin")
        );
    }

    #[test]
    fn a_groups_policy_is_left_alone_unless_group_policies_may_be_overridden() {
        assert_eq!(
            decide(Some(&wanted("berlin")), Some(&group("paris")), None, false),
            PolicyDecision::HeldByGroup {
                group_id: Some("sales".into()),
                policy_id: "paris".into()
            }
        );
        assert_eq!(
            decide(Some(&wanted("berlin")), Some(&group("paris")), None, true),
            assign("berlin")
        );
    }

    #[test]
    fn a_source_teams_does_not_name_is_treated_as_a_groups() {
        let other = EffectivePolicy {
            policy_id: "paris".into(),
            source: PolicySource::Other,
        };
        assert_eq!(
            decide(Some(&wanted("berlin")), Some(&other), None, false),
            PolicyDecision::HeldByGroup {
                group_id: None,
                policy_id: "paris".into()
            }
        );
    }

    #[test]
    fn only_a_direct_assignment_this_resource_made_is_taken_back() {
        assert_eq!(
            decide(None, Some(&direct("berlin")), Some("berlin"), false),
            PolicyDecision::Unassign {
                policy_id: "berlin".into()
            }
        );
        // Someone else's direct assignment, one that changed since, or a group's: left alone.
        assert_eq!(
            decide(None, Some(&direct("berlin")), None, false),
            PolicyDecision::InSync
        );
        assert_eq!(
            decide(None, Some(&direct("paris")), Some("berlin"), false),
            PolicyDecision::InSync
        );
        assert_eq!(
            decide(None, Some(&group("berlin")), Some("berlin"), true),
            PolicyDecision::InSync
        );
        assert_eq!(decide(None, None, Some("berlin"), false), PolicyDecision::InSync);
    }

    #[test]
    fn a_name_that_did_not_resolve_changes_nothing() {
        let missing = WantedPolicy {
            name: "Berlin".into(),
            id: Err(Unresolved::NotFound),
        };
        assert_eq!(
            decide(Some(&missing), Some(&direct("paris")), Some("paris"), true),
            PolicyDecision::Unresolved(Unresolved::NotFound)
        );
    }

    #[test]
    fn policy_ids_compare_without_letter_case() {
        assert_eq!(
            decide(Some(&wanted("ABC-1")), Some(&direct("abc-1")), None, false),
            PolicyDecision::InSync
        );
    }

    #[test]
    fn changes_go_in_requests_of_the_allowed_size_assignments_first() {
        let assign = |user: &str| PolicyChange::Assign {
            user_id: user.into(),
            kind: PolicyKind::VoiceRouting,
            policy_id: "berlin".into(),
        };
        let unassign = |user: &str| PolicyChange::Unassign {
            user_id: user.into(),
            kind: PolicyKind::DialPlan,
        };
        let changes = [
            unassign("u1"),
            assign("a1"),
            assign("a2"),
            assign("a3"),
            unassign("u2"),
        ];
        assert_eq!(
            requests(&changes, 2),
            vec![
                vec![assign("a1"), assign("a2")],
                vec![assign("a3")],
                vec![unassign("u1"), unassign("u2")],
            ]
        );
        assert_eq!(
            requests(&changes, 0).len(),
            5,
            "a bound of 0 still sends one per request"
        );
        assert!(requests(&[], 20).is_empty());
    }
}
