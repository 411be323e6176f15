//! Licence classification from a user's `assignedPlans` and `assignedLicenses`: does the user have
//! Phone System (Teams Phone), and which Calling Plans does the user have?

use std::borrow::Cow;

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

/// An `assignedPlans` entry as read, before it is known to be kept.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BorrowedPlan<'a> {
    #[serde(default, borrow)]
    service_plan_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    capability_status: Option<Cow<'a, str>>,
}

/// Reads `assignedPlans` keeping only the plans the catalog knows (Phone System, Calling Plans
/// and their look-alikes), the only ones [`LicenceState::classify`] looks at. A Microsoft 365 E5
/// user carries 86 plans; keeping them all cost about 10 KiB per user, most of the operator's
/// memory in a large tenant. A `null` or missing list reads as empty.
pub fn telephony_plans_only<'de, D>(deserializer: D) -> Result<Vec<AssignedPlan>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Plans;

    impl<'de> serde::de::Visitor<'de> for Plans {
        type Value = Vec<AssignedPlan>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of assigned plans, or null")
        }

        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }

        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }

        fn visit_some<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_seq(self)
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            // Each entry is read borrowing from the page where it can, so that the 86 plans of
            // an E5 user cost no allocation unless they are kept.
            let mut kept = Vec::new();
            while let Some(plan) = seq.next_element::<BorrowedPlan>()? {
                let known = plan
                    .service_plan_id
                    .as_deref()
                    .is_some_and(|id| catalog::plan_by_id(id).is_some());
                if known {
                    kept.push(AssignedPlan {
                        service_plan_id: plan.service_plan_id.map(Cow::into_owned),
                        capability_status: plan.capability_status.map(Cow::into_owned),
                    });
                }
            }
            Ok(kept)
        }
    }

    deserializer.deserialize_option(Plans)
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
    /// For each usable Calling Plan, the licences that bring it (in `calling_plans`' order).
    pub calling_plan_licences: Vec<CallingPlanLicence>,
}

/// A usable Calling Plan and the licence it comes from, so that the fix can name the licence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallingPlanLicence {
    /// The Calling Plan's name.
    pub plan: &'static str,
    /// The licence that brings it, when the catalog knows it.
    pub sku: Option<&'static catalog::Sku>,
    /// The `skuId` of a licence the catalog does not know that may bring it (absent when the
    /// user has none).
    pub unknown_sku_id: Option<String>,
}

impl CallingPlanLicence {
    /// What is wrong and what to do about it, for one Calling Plan, e.g. "the Calling Plan
    /// MCOPSTN1 comes with Teams Phone with Calling Plan (MCOTEAMS_ESSENTIALS), which also
    /// carries Phone System: ...".
    pub fn fix(&self) -> String {
        let plan = self.plan;
        match (self.sku, self.unknown_sku_id.as_deref()) {
            (Some(sku), _) if sku.carries_phone_system() => format!(
                "the Calling Plan {plan} comes with {} ({}), which also carries Phone System, so do not remove that licence: turn off its service plan {plan} for the user in Microsoft 365 (or move the user to a licence without a Calling Plan, such as Microsoft 365 Business Voice (without Calling Plan) or Teams Phone Standard)",
                sku.product_name, sku.part_number
            ),
            (Some(sku), _) => format!(
                "the Calling Plan {plan} comes with the add-on licence {} ({}): remove that licence from the user in Microsoft 365",
                sku.product_name, sku.part_number
            ),
            (None, Some(sku_id)) => format!(
                "the Calling Plan {plan} comes with the licence with skuId {sku_id}: turn off its service plan {plan} for the user in Microsoft 365, or remove the licence if it is a Calling Plan add-on"
            ),
            (None, None) => format!(
                "the Calling Plan {plan} is active for the user: turn it off in the user's licences in Microsoft 365"
            ),
        }
    }
}

impl LicenceState {
    /// Classifies a user's licences.
    ///
    /// A plan is usable when `assignedPlans` lists it as `Enabled` or `Warning` (grace period) and
    /// it is not switched off in every assigned licence that brings it. For SKUs the catalog does
    /// not know, `assignedPlans` is trusted as it is.
    pub fn classify(plans: &[AssignedPlan], licences: &[AssignedLicense]) -> Self {
        let usable = |plan: &ServicePlan| plan_usable(plan, plans, licences);
        let calling: Vec<&'static ServicePlan> =
            catalog::CALLING_PLANS.iter().filter(|p| usable(p)).collect();
        Self {
            phone_system: catalog::PHONE_SYSTEM_PLANS
                .iter()
                .find(|p| usable(p))
                .map(|p| p.name),
            calling_plans: calling.iter().map(|p| p.name).collect(),
            calling_plan_licences: calling
                .iter()
                .map(|plan| calling_plan_licence(plan, licences))
                .collect(),
        }
    }
}

/// Which licence brings the usable Calling Plan `plan`: a catalog licence that brings it and does
/// not switch it off, else a licence the catalog does not know.
fn calling_plan_licence(plan: &'static ServicePlan, licences: &[AssignedLicense]) -> CallingPlanLicence {
    let switched_off = |licence: &AssignedLicense| {
        licence
            .disabled_plans
            .iter()
            .any(|d| d.eq_ignore_ascii_case(plan.id))
    };
    let known = licences
        .iter()
        .filter(|l| !switched_off(l))
        .filter_map(|l| l.sku_id.as_deref().and_then(catalog::sku_by_id))
        .find(|sku| sku.brings(plan.id));
    let unknown_sku_id = licences
        .iter()
        .filter(|l| !switched_off(l))
        .filter_map(|l| l.sku_id.as_deref())
        .find(|id| catalog::sku_by_id(id).is_none())
        .map(str::to_owned);
    CallingPlanLicence {
        plan: plan.name,
        sku: known,
        unknown_sku_id: if known.is_some() { None } else { unknown_sku_id },
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
        match licence.sku_id.as_deref().and_then(catalog::sku_by_id) {
            Some(sku) => sku.brings(plan.id),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct User {
        #[serde(deserialize_with = "telephony_plans_only")]
        assigned_plans: Vec<AssignedPlan>,
    }

    #[test]
    fn plans_in_upper_case_or_with_escapes_are_kept_and_others_dropped() {
        let json = r#"{"assignedPlans": [
            {"servicePlanId": "4828C8EC-DC2E-4779-B502-87AC9CE28AB7", "capabilityStatus": "Enab\u006ced"},
            {"servicePlanId": "4828c8ec-dc2e-4779-b502-87ac9ce28ab\u0037", "capabilityStatus": "Deleted"},
            {"servicePlanId": "00000000-0000-0000-0000-000000000000", "capabilityStatus": "Enabled"},
            {"capabilityStatus": "Enabled"}
        ]}"#;
        let user: User = serde_json::from_str(json).unwrap();
        let kept: Vec<(Option<&str>, Option<&str>)> = user
            .assigned_plans
            .iter()
            .map(|p| (p.service_plan_id.as_deref(), p.capability_status.as_deref()))
            .collect();
        assert_eq!(
            kept,
            [
                (Some("4828C8EC-DC2E-4779-B502-87AC9CE28AB7"), Some("Enabled")),
                (Some("4828c8ec-dc2e-4779-b502-87ac9ce28ab7"), Some("Deleted")),
            ]
        );
    }

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

    #[test]
    fn the_government_calling_plan_is_detected_by_its_guid() {
        let plans = [AssignedPlan {
            service_plan_id: Some("3C8A8792-7866-409B-BB61-1B20ACE0368B".into()),
            capability_status: Some("Enabled".into()),
        }];
        let licences = [AssignedLicense {
            sku_id: Some("923f58ab-fca1-46a1-92f9-89fda21238a8".into()),
            disabled_plans: Vec::new(),
        }];
        let state = LicenceState::classify(&plans, &licences);
        assert_eq!(state.calling_plans, vec!["MCOPSTN1_GOV"]);
        let fix = state.calling_plan_licences[0].fix();
        assert!(
            fix.contains("add-on licence Microsoft 365 Domestic Calling Plan for GCC (MCOPSTN_1_GOV)"),
            "{fix}"
        );
    }

    #[test]
    fn a_calling_plan_from_a_licence_the_catalog_does_not_know_names_its_sku_id() {
        let unknown = AssignedLicense {
            sku_id: Some("00000000-1111-2222-3333-444444444444".into()),
            disabled_plans: Vec::new(),
        };
        let state =
            LicenceState::classify(&[plan("MCOPSTN2", "Enabled")], &[licence("SPE_E5", &[]), unknown]);
        assert_eq!(state.calling_plans, vec!["MCOPSTN2"]);
        let fix = state.calling_plan_licences[0].fix();
        assert!(
            fix.contains("skuId 00000000-1111-2222-3333-444444444444"),
            "{fix}"
        );
    }

    #[test]
    fn a_calling_plan_switched_off_inside_its_bundle_does_not_count() {
        let state = LicenceState::classify(
            &[plan("MCOEV", "Enabled"), plan("MCOPSTN1", "Enabled")],
            &[licence("MCOTEAMS_ESSENTIALS", &["MCOPSTN1"])],
        );
        assert!(state.calling_plans.is_empty());
        assert_eq!(state.phone_system, Some("MCOEV"));
    }

    #[test]
    fn only_the_plans_the_classifier_looks_at_are_kept_from_graph() {
        #[derive(Deserialize)]
        struct User {
            #[serde(default, deserialize_with = "telephony_plans_only")]
            plans: Vec<AssignedPlan>,
        }
        let json = r#"{"plans": [
            {"servicePlanId": "57ff2da0-773e-42df-b2af-ffb7a2317929", "capabilityStatus": "Enabled"},
            {"servicePlanId": "4828c8ec-dc2e-4779-b502-87ac9ce28ab7", "capabilityStatus": "Enabled"},
            {"servicePlanId": "efb87545-963c-4e0d-99df-69c6916d9eb0", "capabilityStatus": "Enabled"}
        ]}"#;
        let user: User = serde_json::from_str(json).unwrap();
        assert_eq!(
            user.plans.len(),
            1,
            "Teams and Exchange are dropped, Phone System kept"
        );
        assert_eq!(
            LicenceState::classify(&user.plans, &[]).phone_system,
            Some("MCOEV")
        );
        let user: User = serde_json::from_str(r#"{"plans": null}"#).unwrap();
        assert!(user.plans.is_empty());
        let user: User = serde_json::from_str("{}").unwrap();
        assert!(user.plans.is_empty());
    }
}
