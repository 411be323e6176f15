//! Licences (SKUs) and their service plans, read from Microsoft's own table: "Product names and
//! service plan identifiers for licensing" (the CSV linked from Microsoft Entra's
//! licensing-service-plan-reference page), kept at `vendor/microsoft-licensing-service-plans.csv`
//! with its provenance in `vendor/README.md`. Every SKU and plan a fixture names is looked up here,
//! so the sandbox hands out exactly the plans Microsoft says each licence carries.
//!
//! Two facts the table does not give come from Microsoft's documentation instead:
//! - which plans are Phone System for a person (Teams Phone: `MCOEV`, `MCOEVSMB`, `MCOEV_GOV`; the
//!   `MCOEV_VIRTUALUSER*` plans are for resource accounts), from "Teams Phone licensing"
//!   (learn.microsoft.com/microsoftteams/teams-add-on-licensing/microsoft-teams-add-on-licensing);
//! - the `service` Graph shows in `assignedPlans`, which the table leaves out: the sandbox says
//!   `MicrosoftCommunicationsOnline` for the Teams telephony plans (`MCO...`), `TeamspaceAPI` for
//!   `TEAMS...`, `exchange` and `SharePoint` for theirs, and otherwise the plan's own name.

use std::collections::HashMap;
use std::sync::LazyLock;

/// Microsoft's table, as kept in the repository.
const TABLE: &str = include_str!("../../vendor/microsoft-licensing-service-plans.csv");

/// Phone System plans for a person, by `servicePlanName` (see the module documentation).
const PHONE_SYSTEM_PLAN_NAMES: [&str; 3] = ["MCOEV", "MCOEVSMB", "MCOEV_GOV"];

/// A service plan as Microsoft's table lists it.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    /// `Service_Plan_Name`, e.g. `MCOEV`.
    pub name: String,
    /// `Service_Plan_Id` (a GUID, lower case).
    pub id: String,
    /// The friendly name, e.g. `Microsoft 365 Phone System`.
    pub friendly_name: String,
    /// The `service` the sandbox shows in `assignedPlans`.
    pub service: String,
}

impl Plan {
    /// Whether Teams lets a person with this plan hold a number (Phone System).
    pub fn is_phone_system(&self) -> bool {
        PHONE_SYSTEM_PLAN_NAMES.contains(&self.name.as_str())
    }

    /// Whether this is a Microsoft Calling Plan, by the table's own words: its name is an
    /// `MCOPSTN` plan other than Communications Credits (`MCOPSTNC`), or its friendly name says
    /// "Calling Plan" or "PSTN Calling".
    pub fn is_calling_plan(&self) -> bool {
        let friendly = self.friendly_name.to_ascii_lowercase();
        (self.name.starts_with("MCOPSTN") && self.name != "MCOPSTNC")
            || friendly.contains("calling plan")
            || friendly.contains("pstn calling")
    }
}

/// A licence (SKU) and every plan Microsoft's table says it carries.
#[derive(Debug)]
pub struct Sku {
    /// `String_Id`, the `skuPartNumber`, e.g. `SPE_E5`.
    pub part_number: String,
    /// `GUID`, the `skuId` (lower case).
    pub id: String,
    /// `Product_Display_Name`.
    pub product_name: String,
    /// The plans, in the table's order (indices into [`Licensing::plans`]).
    plan_indices: Vec<usize>,
}

/// The parsed table.
pub struct Licensing {
    skus: Vec<Sku>,
    plans: Vec<Plan>,
    plan_by_id: HashMap<String, usize>,
    plan_by_name: HashMap<String, usize>,
}

static LICENSING: LazyLock<Licensing> = LazyLock::new(|| parse(TABLE));

/// The licensing table (parsed once).
pub fn licensing() -> &'static Licensing {
    &LICENSING
}

impl Licensing {
    /// The SKU with `skuPartNumber` `part_number` (case-insensitive). Microsoft's table lists
    /// `MCOPSTN5` under two SKU ids; the first listed is returned.
    pub fn sku_by_part_number(&self, part_number: &str) -> Option<&Sku> {
        self.skus
            .iter()
            .find(|sku| sku.part_number.eq_ignore_ascii_case(part_number))
    }

    /// The plan with `servicePlanName` `name` (the first listed, when a name repeats).
    pub fn plan_by_name(&self, name: &str) -> Option<&Plan> {
        self.plan_by_name.get(name).map(|&index| &self.plans[index])
    }

    /// The plan with `servicePlanId` `id` (case-insensitive).
    pub fn plan_by_id(&self, id: &str) -> Option<&Plan> {
        self.plan_by_id
            .get(&id.to_ascii_lowercase())
            .map(|&index| &self.plans[index])
    }

    /// The plans `sku` carries, in the table's order.
    pub fn plans_of<'a>(&'a self, sku: &'a Sku) -> impl Iterator<Item = &'a Plan> {
        sku.plan_indices.iter().map(|&index| &self.plans[index])
    }

    /// Every SKU in the table.
    pub fn skus(&self) -> &[Sku] {
        &self.skus
    }
}

fn service_of(name: &str) -> String {
    let service = if name.starts_with("MCO") {
        "MicrosoftCommunicationsOnline"
    } else if name.starts_with("TEAMS") {
        "TeamspaceAPI"
    } else if name.starts_with("EXCHANGE") {
        "exchange"
    } else if name.starts_with("SHAREPOINT") {
        "SharePoint"
    } else {
        name
    };
    service.to_owned()
}

/// Parses the table. It is compiled in and checked by tests, so a malformed row is a build
/// mistake: such rows are skipped rather than taking the sandbox down.
fn parse(text: &str) -> Licensing {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut table = Licensing {
        skus: Vec::new(),
        plans: Vec::new(),
        plan_by_id: HashMap::new(),
        plan_by_name: HashMap::new(),
    };
    let mut sku_by_id: HashMap<String, usize> = HashMap::new();
    for record in reader.records().flatten() {
        let field = |i: usize| record.get(i).unwrap_or("").trim().to_owned();
        let (product_name, part_number, sku_id) = (field(0), field(1), field(2).to_lowercase());
        let (plan_name, plan_id, friendly_name) = (field(3), field(4).to_lowercase(), field(5));
        if part_number.is_empty() || sku_id.is_empty() || plan_id.is_empty() {
            continue;
        }
        let plan = match table.plan_by_id.get(&plan_id) {
            Some(&index) => index,
            None => {
                let index = table.plans.len();
                table.plan_by_id.insert(plan_id.clone(), index);
                table.plan_by_name.entry(plan_name.clone()).or_insert(index);
                table.plans.push(Plan {
                    service: service_of(&plan_name),
                    name: plan_name,
                    id: plan_id,
                    friendly_name,
                });
                index
            }
        };
        let sku = *sku_by_id.entry(sku_id.clone()).or_insert_with(|| {
            table.skus.push(Sku {
                part_number,
                id: sku_id,
                product_name,
                plan_indices: Vec::new(),
            });
            table.skus.len() - 1
        });
        if !table.skus[sku].plan_indices.contains(&plan) {
            table.skus[sku].plan_indices.push(plan);
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_table_is_read() {
        let table = licensing();
        assert!(table.skus().len() > 500, "{} SKUs", table.skus().len());
        let e5 = table.sku_by_part_number("SPE_E5").expect("Microsoft 365 E5");
        assert_eq!(e5.id, "06ebc4ee-1bb5-47dd-8120-11324bc54e06");
        assert!(table.plans_of(e5).any(|p| p.name == "MCOEV"));
        assert!(table.plans_of(e5).any(|p| p.name == "TEAMS1"));
    }

    #[test]
    fn bundles_carry_both_phone_system_and_a_calling_plan() {
        let table = licensing();
        let essentials = table.sku_by_part_number("MCOTEAMS_ESSENTIALS").unwrap();
        assert!(table.plans_of(essentials).any(Plan::is_phone_system));
        assert!(table.plans_of(essentials).any(Plan::is_calling_plan));
    }

    #[test]
    fn communications_credits_and_resource_accounts_are_neither() {
        let credits = licensing().plan_by_name("MCOPSTNC").unwrap();
        assert!(!credits.is_calling_plan());
        let virtual_user = licensing().plan_by_name("MCOEV_VIRTUALUSER").unwrap();
        assert!(!virtual_user.is_phone_system());
    }

    #[test]
    fn the_domestic_small_plan_is_a_calling_plan_under_the_name_microsoft_gives_it() {
        let plan = licensing()
            .plan_by_id("9A0125A5-C8F8-4526-B231-49E2ABE0EBCE")
            .expect("listed");
        assert_eq!(plan.name, "Skype for Business PSTN Calling Domestic Small");
        assert!(plan.is_calling_plan());
    }
}
