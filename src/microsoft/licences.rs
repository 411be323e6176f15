//! Licence classification from a user's `assignedPlans` and `assignedLicenses`: does the user have
//! Phone System (Teams Phone), and which Calling Plans does the user have?

use serde::Deserialize;

use super::catalog::{self, ServicePlan};

/// One entry of `assignedPlans`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignedPlan {
    /// The service plan id.
    #[serde(default)]
    pub service_plan_id: Option<String>,
    /// `Enabled`, `Warning`, `Suspended`, `LockedOut` or `Deleted`.
    #[serde(default)]
    pub capability_status: Option<String>,
}

/// One entry of `assignedLicenses`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignedLicense {
    /// The SKU id.
    #[serde(default)]
    pub sku_id: Option<String>,
    /// Service plans switched off in this licence.
    #[serde(default, deserialize_with = "crate::microsoft::nullable_vec")]
    pub disabled_plans: Vec<String>,
}

/// What a user's licences allow, for number assignment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LicenceState {
    /// The usable Phone System plan, if any (`MCOEV`, `MCOEVSMB`, `MCOEV_GOV`).
    pub phone_system: Option<&'static str>,
    /// Usable Calling Plan plans, by name (empty: none).
    pub calling_plans: Vec<&'static str>,
}

impl LicenceState {
    /// Classifies a user's licences.
    ///
    /// A plan is usable when `assignedPlans` lists it as `Enabled` or `Warning` (grace period) and
    /// it is not switched off in every assigned licence that brings it. For SKUs the catalog does
    /// not know, `assignedPlans` is trusted as it is.
    pub fn classify(plans: &[AssignedPlan], licences: &[AssignedLicense]) -> Self {
        let usable = |plan: &ServicePlan| plan_usable(plan, plans, licences);
        Self {
            phone_system: catalog::PHONE_SYSTEM_PLANS
                .iter()
                .find(|p| usable(p))
                .map(|p| p.name),
            calling_plans: catalog::CALLING_PLANS
                .iter()
                .filter(|p| usable(p))
                .map(|p| p.name)
                .collect(),
        }
    }
}

fn plan_usable(plan: &ServicePlan, plans: &[AssignedPlan], licences: &[AssignedLicense]) -> bool {
    let listed = plans.iter().any(|assigned| {
        assigned
            .service_plan_id
            .as_deref()
            .is_some_and(|id| id.eq_ignore_ascii_case(plan.id))
            && matches!(assigned.capability_status.as_deref(), Some("Enabled" | "Warning"))
    });
    if !listed {
        return false;
    }
    let brings_it = |licence: &AssignedLicense| -> bool {
        match licence.sku_id.as_deref().and_then(sku_by_id) {
            Some(sku) => sku.plans.contains(&plan.name),
            None => true,
        }
    };
    let bringing: Vec<&AssignedLicense> = licences.iter().filter(|l| brings_it(l)).collect();
    let switched_off_everywhere = !bringing.is_empty()
        && bringing
            .iter()
            .all(|l| l.disabled_plans.iter().any(|d| d.eq_ignore_ascii_case(plan.id)));
    !switched_off_everywhere
}

fn sku_by_id(id: &str) -> Option<&'static catalog::Sku> {
    catalog::SKUS.iter().find(|sku| sku.id.eq_ignore_ascii_case(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(name: &str, status: &str) -> AssignedPlan {
        AssignedPlan {
            service_plan_id: Some(catalog::plan_by_name(name).unwrap().id.to_owned()),
            capability_status: Some(status.to_owned()),
        }
    }

    fn licence(part: &str, disabled: &[&str]) -> AssignedLicense {
        AssignedLicense {
            sku_id: Some(catalog::sku_by_part_number(part).unwrap().id.to_owned()),
            disabled_plans: disabled
                .iter()
                .map(|n| catalog::plan_by_name(n).unwrap().id.to_owned())
                .collect(),
        }
    }

    #[test]
    fn every_phone_system_variant_counts() {
        for variant in catalog::PHONE_SYSTEM_PLANS {
            let state = LicenceState::classify(&[plan(variant.name, "Enabled")], &[]);
            assert_eq!(state.phone_system, Some(variant.name));
        }
    }

    #[test]
    fn resource_account_phone_system_does_not_count_for_a_person() {
        let state = LicenceState::classify(&[plan("MCOEV_VIRTUALUSER", "Enabled")], &[]);
        assert_eq!(state.phone_system, None);
    }

    #[test]
    fn every_calling_plan_is_detected() {
        for calling in catalog::CALLING_PLANS {
            let state = LicenceState::classify(&[plan(calling.name, "Enabled")], &[]);
            assert_eq!(state.calling_plans, vec![calling.name], "{}", calling.name);
        }
    }

    #[test]
    fn look_alikes_are_not_calling_plans() {
        let state =
            LicenceState::classify(&[plan("MCOPSTNC", "Enabled"), plan("MCOMEETADV", "Enabled")], &[]);
        assert!(state.calling_plans.is_empty());
    }

    #[test]
    fn grace_period_counts_and_suspended_or_deleted_do_not() {
        assert!(
            LicenceState::classify(&[plan("MCOEV", "Warning")], &[])
                .phone_system
                .is_some()
        );
        for status in ["Suspended", "LockedOut", "Deleted"] {
            assert!(
                LicenceState::classify(&[plan("MCOEV", status)], &[])
                    .phone_system
                    .is_none(),
                "{status}"
            );
        }
    }

    #[test]
    fn a_plan_disabled_in_its_only_licence_does_not_count() {
        let state = LicenceState::classify(&[plan("MCOEV", "Enabled")], &[licence("SPE_E5", &["MCOEV"])]);
        assert_eq!(state.phone_system, None);
    }

    #[test]
    fn a_plan_disabled_in_one_licence_but_brought_by_another_counts() {
        let licences = [licence("SPE_E5", &["MCOEV"]), licence("MCOEV", &[])];
        let state = LicenceState::classify(&[plan("MCOEV", "Enabled")], &licences);
        assert_eq!(state.phone_system, Some("MCOEV"));
    }

    #[test]
    fn e5_with_calling_minutes_has_both() {
        let state = LicenceState::classify(
            &[plan("MCOEV", "Enabled"), plan("MCOPSTN8", "Enabled")],
            &[licence("SPE_E5_CALLINGMINUTES", &[])],
        );
        assert_eq!(state.phone_system, Some("MCOEV"));
        assert_eq!(state.calling_plans, vec!["MCOPSTN8"]);
    }
}
