//! Which emergency location and policies a synced user gets: their office's, where
//! `spec.assignment.offices` lists it, else the resource's. Pure.

use std::collections::BTreeMap;

use super::policies::PolicyKind;
use crate::api::{AssignmentSpec, OfficeAssignment};

/// A user's office as the source knows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserOffice {
    /// Dialpad's office id (none for a static user).
    pub id: Option<String>,
    /// The office's name (Dialpad's, or the static user's `office`).
    pub name: Option<String>,
}

/// What a user gets besides the number.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserAssignment {
    /// The emergency location for their number.
    pub emergency_location_id: Option<String>,
    /// The policy name per kind; a kind left out is not converged for the user.
    pub policies: BTreeMap<PolicyKind, String>,
    /// The office entry that applied (its `office` as the spec writes it).
    pub office: Option<String>,
}

/// The office entry of `spec` that `office` matches: by id first, then by name ignoring case.
pub fn office_entry<'a>(spec: &'a AssignmentSpec, office: &UserOffice) -> Option<&'a OfficeAssignment> {
    let by_id = office
        .id
        .as_deref()
        .and_then(|id| spec.offices.iter().find(|entry| entry.office.trim() == id.trim()));
    by_id.or_else(|| {
        let name = office.name.as_deref()?.trim();
        spec.offices
            .iter()
            .find(|entry| entry.office.trim().eq_ignore_ascii_case(name))
    })
}

/// The location and policies of a user in `office` under `spec`.
pub fn user_assignment(spec: &AssignmentSpec, office: &UserOffice) -> UserAssignment {
    let entry = office_entry(spec, office);
    let pick = |own: Option<&Option<String>>, wide: &Option<String>| {
        own.and_then(Option::as_ref).or(wide.as_ref()).cloned()
    };
    let mut policies = BTreeMap::new();
    for kind in PolicyKind::ALL {
        let (own, wide) = match kind {
            PolicyKind::VoiceRouting => (entry.map(|e| &e.voice_routing_policy), &spec.voice_routing_policy),
            PolicyKind::DialPlan => (entry.map(|e| &e.dial_plan), &spec.dial_plan),
            PolicyKind::Calling => (entry.map(|e| &e.calling_policy), &spec.calling_policy),
        };
        if let Some(name) = pick(own, wide) {
            policies.insert(kind, name);
        }
    }
    UserAssignment {
        emergency_location_id: pick(
            entry.map(|e| &e.emergency_location_id),
            &spec.emergency_location_id,
        ),
        policies,
        office: entry.map(|e| e.office.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> AssignmentSpec {
        AssignmentSpec {
            emergency_location_id: Some("hq-location".into()),
            voice_routing_policy: Some("Global-Routes".into()),
            calling_policy: Some("AllowCalling".into()),
            offices: vec![
                OfficeAssignment {
                    office: "4711".into(),
                    emergency_location_id: Some("berlin-location".into()),
                    voice_routing_policy: Some("Berlin-Routes".into()),
                    dial_plan: Some("DE-Dialling".into()),
                    ..OfficeAssignment::default()
                },
                OfficeAssignment {
                    office: "Paris".into(),
                    dial_plan: Some("FR-Dialling".into()),
                    ..OfficeAssignment::default()
                },
            ],
            ..AssignmentSpec::default()
        }
    }

    fn office(id: Option<&str>, name: Option<&str>) -> UserOffice {
        UserOffice {
            id: id.map(str::to_owned),
            name: name.map(str::to_owned),
        }
    }

    #[test]
    fn an_offices_own_settings_override_the_resources_and_the_rest_fall_back() {
        let berlin = user_assignment(&spec(), &office(Some("4711"), Some("Berlin")));
        assert_eq!(berlin.emergency_location_id.as_deref(), Some("berlin-location"));
        assert_eq!(berlin.office.as_deref(), Some("4711"));
        assert_eq!(
            berlin.policies,
            BTreeMap::from([
                (PolicyKind::VoiceRouting, "Berlin-Routes".to_owned()),
                (PolicyKind::DialPlan, "DE-Dialling".to_owned()),
                (PolicyKind::Calling, "AllowCalling".to_owned()),
            ])
        );
    }

    #[test]
    fn an_office_is_found_by_id_or_by_name_ignoring_case() {
        let paris = user_assignment(&spec(), &office(Some("99"), Some("PARIS")));
        assert_eq!(paris.office.as_deref(), Some("Paris"));
        assert_eq!(paris.emergency_location_id.as_deref(), Some("hq-location"));
        assert_eq!(
            paris.policies.get(&PolicyKind::DialPlan).map(String::as_str),
            Some("FR-Dialling")
        );
    }

    #[test]
    fn a_user_of_an_office_not_listed_gets_the_resources_settings_and_no_dial_plan() {
        let other = user_assignment(&spec(), &office(Some("12"), Some("Tokyo")));
        assert_eq!(other.office, None);
        assert_eq!(other.emergency_location_id.as_deref(), Some("hq-location"));
        assert!(!other.policies.contains_key(&PolicyKind::DialPlan));
        let nowhere = user_assignment(&spec(), &UserOffice::default());
        assert_eq!(nowhere, other);
    }

    #[test]
    fn without_any_policy_configured_no_kind_is_converged() {
        let plain = AssignmentSpec::default();
        assert!(
            user_assignment(&plain, &office(Some("4711"), None))
                .policies
                .is_empty()
        );
    }
}
