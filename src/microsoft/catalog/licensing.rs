//! Service plans and licences (SKUs), from Microsoft's "Product names and service plan identifiers
//! for licensing" (learn.microsoft.com/entra/identity/users/licensing-service-plan-reference; the
//! table is kept at `vendor/microsoft-licensing-service-plans.csv` and `tests/licensing_table.rs`
//! checks every id and name here against it). Plans are matched by GUID, never by name: the
//! names are for people.

use std::collections::HashMap;
use std::sync::LazyLock;

/// A service plan: the unit inside a licence (SKU) that grants a capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServicePlan {
    /// The plan's `servicePlanName` as Microsoft's table gives it, e.g. `MCOEV`.
    pub name: &'static str,
    /// The plan's `servicePlanId` (a GUID), as in `assignedPlans` and `disabledPlans`.
    pub id: &'static str,
}

const fn plan(name: &'static str, id: &'static str) -> ServicePlan {
    ServicePlan { name, id }
}

/// Microsoft 365 Phone System (Teams Phone).
pub const MCOEV: ServicePlan = plan("MCOEV", "4828c8ec-dc2e-4779-b502-87ac9ce28ab7");
/// Phone System for small and medium business.
pub const MCOEVSMB: ServicePlan = plan("MCOEVSMB", "ed777b71-af04-42ca-9798-84344c66f7c6");
/// Phone System for Government.
pub const MCOEV_GOV: ServicePlan = plan("MCOEV_GOV", "db23fce2-a974-42ef-9002-d78dd42a0f22");
/// Phone Standard for resource accounts.
pub const MCOEV_VIRTUALUSER: ServicePlan = plan("MCOEV_VIRTUALUSER", "f47330e9-c134-43b3-9993-e7f004506889");
/// Phone Standard for resource accounts, Government.
pub const MCOEV_VIRTUALUSER_GOV: ServicePlan =
    plan("MCOEV_VIRTUALUSER_GOV", "0628a73f-3b4a-4989-bd7b-0f8823144313");
/// Domestic Calling Plan.
pub const MCOPSTN1: ServicePlan = plan("MCOPSTN1", "4ed3ff63-69d7-4fb7-b984-5aec7f605ca8");
/// Domestic Calling for Government. Absent from the December 2025 edition of the table in
/// `vendor/`; listed, with SKU `MCOPSTN_1_GOV`, in earlier editions of Microsoft's reference.
pub const MCOPSTN1_GOV: ServicePlan = plan("MCOPSTN1_GOV", "3c8a8792-7866-409b-bb61-1b20ace0368b");
/// Domestic and International Calling Plan.
pub const MCOPSTN2: ServicePlan = plan("MCOPSTN2", "5a10155d-f5c1-411a-a8ec-e99aae125390");
/// Usage (pay-per-minute) Calling Plan.
pub const MCOPSTN3: ServicePlan = plan("MCOPSTN3", "6b340437-d6f9-4dc5-8cc2-99163f7f83d6");
/// Domestic Calling Plan (120 minutes).
pub const MCOPSTN5: ServicePlan = plan("MCOPSTN5", "54a152dc-90de-4996-93d2-bc47e670fc06");
/// Domestic Calling Plan (240 minutes).
pub const MCOPSTN6: ServicePlan = plan("MCOPSTN6", "346d83bf-6fe6-42ca-b424-b9300d2e21bf");
/// Domestic Calling Plan (120 minutes) at user level, inside the "with Calling Minutes" suites.
pub const MCOPSTN8: ServicePlan = plan("MCOPSTN8", "16935b20-87c0-4908-934a-22aa267d0d26");
/// Domestic Calling Plan - US (120 minutes).
pub const PSTN5_US: ServicePlan = plan("PSTN5_US", "1346d5e6-15a6-4b88-9693-806ff7296a7a");
/// The plan of one of the two `MCOPSTN5` SKUs; Microsoft's table gives it no code name, only
/// this one.
pub const PSTN_CALLING_DOMESTIC_SMALL: ServicePlan = plan(
    "Skype for Business PSTN Calling Domestic Small",
    "9a0125a5-c8f8-4526-b231-49e2abe0ebce",
);
/// Australia Calling Plan (Telstra).
pub const MCOPSTNEAU: ServicePlan = plan("MCOPSTNEAU", "7861360b-dc3b-4eba-a3fc-0d323a035746");
/// Calling Plan pay-as-you-go, country zone 1.
pub const MCOPSTN_PAYG_1: ServicePlan = plan("MCOPSTN_PAYG_1", "156a1efe-17cd-4b03-9f17-2eb512298fb3");

/// Phone System (Teams Phone) for people: any one of these makes a user eligible for a number.
/// The resource-account plans are deliberately absent: they are not valid for a person.
pub const PHONE_SYSTEM_PLANS: &[ServicePlan] = &[MCOEV, MCOEVSMB, MCOEV_GOV];

/// Phone System for resource accounts only (not valid for a person).
pub const RESOURCE_ACCOUNT_PHONE_PLANS: &[ServicePlan] = &[MCOEV_VIRTUALUSER, MCOEV_VIRTUALUSER_GOV];

/// Microsoft Calling Plans: Dialpad requires that a user has none of these.
pub const CALLING_PLANS: &[ServicePlan] = &[
    MCOPSTN1,
    MCOPSTN1_GOV,
    MCOPSTN2,
    MCOPSTN3,
    MCOPSTN5,
    MCOPSTN6,
    MCOPSTN8,
    PSTN5_US,
    PSTN_CALLING_DOMESTIC_SMALL,
    MCOPSTNEAU,
    MCOPSTN_PAYG_1,
];

/// Plans that look like telephony but grant neither Phone System nor a Calling Plan:
/// Communications Credits (a prepaid balance) and Audio Conferencing.
pub const OTHER_PLANS: &[ServicePlan] = &[
    plan("MCOPSTNC", "505e180f-f7e0-4b65-91d4-00d670bbd18c"),
    plan("MCOMEETADV", "3e26ee1f-8a5f-4d52-aee2-b81ce45c8f40"),
];

/// A licence (SKU) and the telephony plans it brings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sku {
    /// The `skuPartNumber`, e.g. `SPE_E5`.
    pub part_number: &'static str,
    /// The `skuId` (a GUID), as in `assignedLicenses`.
    pub id: &'static str,
    /// The product name an admin sees in the Microsoft 365 admin center.
    pub product_name: &'static str,
    /// The `servicePlanId`s of the Phone System and Calling Plan plans it includes (every one
    /// Microsoft's table lists for it; other plans are left out).
    pub plans: &'static [&'static str],
}

impl Sku {
    /// Whether this licence brings the plan with id `plan_id`.
    pub fn brings(&self, plan_id: &str) -> bool {
        self.plans.iter().any(|id| id.eq_ignore_ascii_case(plan_id))
    }

    /// Whether this licence also carries Phone System, so that removing it would remove Phone
    /// System too (a bundle such as Teams Phone with Calling Plan), rather than being a Calling
    /// Plan add-on.
    pub fn carries_phone_system(&self) -> bool {
        PHONE_SYSTEM_PLANS.iter().any(|plan| self.brings(plan.id))
    }
}

const fn sku(
    part_number: &'static str,
    id: &'static str,
    product_name: &'static str,
    plans: &'static [&'static str],
) -> Sku {
    Sku {
        part_number,
        id,
        product_name,
        plans,
    }
}

/// The licences the operator names in its messages: every SKU in Microsoft's table that carries a
/// Calling Plan (so that the fix names the licence to change), plus the common Phone System ones.
pub const SKUS: &[Sku] = &[
    sku(
        "SPE_E5",
        "06ebc4ee-1bb5-47dd-8120-11324bc54e06",
        "Microsoft 365 E5",
        &[MCOEV.id],
    ),
    sku(
        "SPE_E3",
        "05e9a617-0261-4cee-bb44-138d3ef5d965",
        "Microsoft 365 E3",
        &[],
    ),
    sku(
        "ENTERPRISEPREMIUM",
        "c7df2760-2c81-4ef7-b578-5b5392b571df",
        "Office 365 E5",
        &[MCOEV.id],
    ),
    sku(
        "MCOEV",
        "e43b5b99-8dfb-405f-9987-dc307f34bcbd",
        "Microsoft Teams Phone Standard",
        &[MCOEV.id],
    ),
    sku(
        "MCOEVSMB_1",
        "aa6791d3-bb09-4bc2-afed-c30c3fe26032",
        "Microsoft Teams Phone Standard for Small and Medium Business",
        &[MCOEVSMB.id],
    ),
    sku(
        "BUSINESS_VOICE_DIRECTROUTING",
        "d52db95a-5ecb-46b6-beb0-190ab5cda4a8",
        "Microsoft 365 Business Voice (without Calling Plan)",
        &[MCOEV.id],
    ),
    sku(
        "PHONESYSTEM_VIRTUALUSER",
        "440eaaa8-b3e0-484b-a8be-62870b9ba70a",
        "Microsoft Teams Phone Resource Account",
        &[MCOEV_VIRTUALUSER.id],
    ),
    // Bundles: Phone System and a Calling Plan in one licence.
    sku(
        "SPE_E5_CALLINGMINUTES",
        "a91fc4e0-65e5-4266-aa76-4037509c1626",
        "Microsoft 365 E5 with Calling Minutes",
        &[MCOPSTN8.id, MCOEV.id],
    ),
    sku(
        "Microsoft_365_E5_EEA_(no_Teams)_with_Calling_Minutes",
        "6ee4114a-9b2d-4577-9e7a-49fa43d222d3",
        "Microsoft 365 E5 EEA (no Teams) with Calling Minutes",
        &[MCOPSTN8.id, MCOEV.id],
    ),
    sku(
        "BUSINESS_VOICE",
        "e5a17adf-8f0d-4b57-bc14-d331235f9307",
        "Microsoft 365 Business Voice (UK)",
        &[MCOPSTN1.id, MCOEV.id],
    ),
    sku(
        "BUSINESS_VOICE_MED2",
        "a6051f20-9cbc-47d2-930d-419183bf6cf1",
        "Microsoft 365 Business Voice",
        &[MCOPSTN1.id, MCOEV.id],
    ),
    sku(
        "MCOTEAMS_ESSENTIALS",
        "ae2343d1-0999-43f6-ae18-d816516f6e78",
        "Teams Phone with Calling Plan",
        &[MCOPSTN1.id, MCOEV.id],
    ),
    // Calling Plan add-ons: a Calling Plan without Phone System.
    sku(
        "BUSINESS_VOICE_MED2_TELCO",
        "08d7bce8-6e16-490e-89db-1d508e5e9609",
        "Microsoft 365 Business Voice (US)",
        &[MCOPSTN1.id],
    ),
    sku(
        "MCOPSTN1",
        "0dab259f-bf13-4952-b7f8-7db8f131b28d",
        "Skype for Business PSTN Domestic Calling",
        &[MCOPSTN1.id],
    ),
    sku(
        "MCOPSTN_1_GOV",
        "923f58ab-fca1-46a1-92f9-89fda21238a8",
        "Microsoft 365 Domestic Calling Plan for GCC",
        &[MCOPSTN1_GOV.id],
    ),
    sku(
        "MCOPSTN2",
        "d3b4fe1f-9992-4930-8acb-ca6ec609365e",
        "Skype for Business PSTN Domestic and International Calling",
        &[MCOPSTN2.id],
    ),
    sku(
        "MCOPSTN5",
        "54a152dc-90de-4996-93d2-bc47e670fc06",
        "Skype for Business PSTN Domestic Calling (120 Minutes)",
        &[MCOPSTN5.id],
    ),
    sku(
        "MCOPSTN5",
        "d43177b5-475b-4880-92d4-d54c27b5efbd",
        "Skype for Business PSTN Calling Domestic Small",
        &[PSTN_CALLING_DOMESTIC_SMALL.id],
    ),
    sku(
        "MCOPSTN5_US",
        "d13e9d1b-316a-4946-98c6-362c97a4fdfe",
        "Microsoft 365 Domestic Calling Plan (120 minutes) - US",
        &[PSTN5_US.id],
    ),
    sku(
        "MCOPSTNEAU2",
        "de3312e1-c7b0-46e6-a7c3-a515ff90bc86",
        "TELSTRA Calling for O365",
        &[MCOPSTNEAU.id],
    ),
    sku(
        "MCOPSTNPP",
        "06b48c5f-01d9-4b18-9015-03b52040f51a",
        "Skype for Business PSTN Usage Calling Plan",
        &[MCOPSTN3.id],
    ),
    sku(
        "MCOPSTN_6",
        "729dbb8f-8d56-4994-8e33-2f218f549544",
        "Microsoft Teams Domestic Calling Plan (240 min)",
        &[MCOPSTN6.id],
    ),
    sku(
        "Microsoft_Teams_Calling_Plan_pay_as_you_go_(country_zone_1_US)",
        "9b196e97-5830-4c2e-adc2-1e10ebf5dee5",
        "Microsoft Teams Calling Plan pay-as-you-go (country zone 1 - US)",
        &[MCOPSTN_PAYG_1.id],
    ),
];

/// Every service plan listed in this module.
pub fn all_plans() -> impl Iterator<Item = &'static ServicePlan> {
    PHONE_SYSTEM_PLANS
        .iter()
        .chain(RESOURCE_ACCOUNT_PHONE_PLANS)
        .chain(CALLING_PLANS)
        .chain(OTHER_PLANS)
}

/// The plan with `servicePlanName` `name`.
pub fn plan_by_name(name: &str) -> Option<&'static ServicePlan> {
    all_plans().find(|plan| plan.name == name)
}

/// The plan with `servicePlanId` `id` (case-insensitive). Called for every plan of every user
/// (86 for an E5 user), so it is a hash lookup, not a scan.
pub fn plan_by_id(id: &str) -> Option<&'static ServicePlan> {
    static BY_ID: LazyLock<HashMap<String, &'static ServicePlan>> = LazyLock::new(|| {
        all_plans()
            .map(|plan| (plan.id.to_ascii_lowercase(), plan))
            .collect()
    });
    if id.bytes().any(|b| b.is_ascii_uppercase()) {
        BY_ID.get(&id.to_ascii_lowercase()).copied()
    } else {
        BY_ID.get(id).copied()
    }
}

/// The SKU with `skuPartNumber` `part_number` (the first listed, for `MCOPSTN5`, which Microsoft
/// uses for two SKUs).
pub fn sku_by_part_number(part_number: &str) -> Option<&'static Sku> {
    SKUS.iter().find(|sku| sku.part_number == part_number)
}

/// The SKU with `skuId` `id` (case-insensitive).
pub fn sku_by_id(id: &str) -> Option<&'static Sku> {
    SKUS.iter().find(|sku| sku.id.eq_ignore_ascii_case(id))
}
