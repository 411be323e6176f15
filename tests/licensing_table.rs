//! The operator's licence catalog against Microsoft's own table ("Product names and service plan
//! identifiers for licensing", `vendor/microsoft-licensing-service-plans.csv`, provenance in
//! `vendor/README.md`): every id the catalog names exists there under that name, and every SKU
//! of the table that carries Phone System or a Calling Plan is classified the way its plans say.
//!
//! What counts as which comes from the table's own words, not from the catalog: a Phone System
//! plan for a person is an `MCOEV` plan that is not for resource accounts (`VIRTUALUSER`); a
//! Calling Plan is an `MCOPSTN` plan other than Communications Credits (`MCOPSTNC`), or a plan
//! whose friendly name says "Calling Plan" or "PSTN Calling".

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use dialpad_teams_operator::microsoft::catalog;
use dialpad_teams_operator::microsoft::licences::{AssignedLicense, AssignedPlan, LicenceState};

/// Ids the catalog names that the December 2025 edition of the table lacks, each with where
/// Microsoft publishes it.
const NOT_IN_THIS_EDITION: &[(&str, &str)] = &[
    // Domestic Calling for Government: plan MCOPSTN1_GOV inside SKU MCOPSTN_1_GOV, listed in
    // earlier editions of Microsoft's licensing-service-plan-reference page.
    ("3c8a8792-7866-409b-bb61-1b20ace0368b", "MCOPSTN1_GOV"),
    ("923f58ab-fca1-46a1-92f9-89fda21238a8", "MCOPSTN_1_GOV"),
];

struct TablePlan {
    name: String,
    friendly: String,
}

struct TableSku {
    part_number: String,
    product_name: String,
    plan_ids: BTreeSet<String>,
}

struct Table {
    plans: BTreeMap<String, TablePlan>,
    skus: BTreeMap<String, TableSku>,
}

fn table() -> Table {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vendor/microsoft-licensing-service-plans.csv");
    let mut reader =
        csv::Reader::from_path(&path).expect("vendor/microsoft-licensing-service-plans.csv is readable");
    let mut table = Table {
        plans: BTreeMap::new(),
        skus: BTreeMap::new(),
    };
    for record in reader.records() {
        let record = record.expect("a well-formed row");
        let field = |i: usize| record.get(i).unwrap_or("").trim().to_owned();
        let plan_id = field(4).to_lowercase();
        table.plans.entry(plan_id.clone()).or_insert(TablePlan {
            name: field(3),
            friendly: field(5),
        });
        table
            .skus
            .entry(field(2).to_lowercase())
            .or_insert_with(|| TableSku {
                part_number: field(1),
                product_name: field(0),
                plan_ids: BTreeSet::new(),
            })
            .plan_ids
            .insert(plan_id);
    }
    table
}

fn is_phone_system_for_a_person(plan: &TablePlan) -> bool {
    plan.name.starts_with("MCOEV") && !plan.name.contains("VIRTUALUSER")
}

fn is_calling_plan(plan: &TablePlan) -> bool {
    let friendly = plan.friendly.to_ascii_lowercase();
    (plan.name.starts_with("MCOPSTN") && plan.name != "MCOPSTNC")
        || friendly.contains("calling plan")
        || friendly.contains("pstn calling")
}

fn exception(id: &str, name: &str) -> bool {
    NOT_IN_THIS_EDITION.contains(&(id, name))
}

#[test]
fn every_plan_the_catalog_names_is_in_microsofts_table_under_that_name() {
    let table = table();
    assert!(
        table.plans.len() > 500,
        "the whole table is read ({} plans)",
        table.plans.len()
    );
    for plan in catalog::all_plans() {
        if exception(plan.id, plan.name) {
            assert!(
                !table.plans.contains_key(plan.id),
                "{} is in the table now: drop the exception",
                plan.name
            );
            continue;
        }
        let listed = table
            .plans
            .get(plan.id)
            .unwrap_or_else(|| panic!("plan {} ({}) is not in Microsoft's table", plan.name, plan.id));
        assert_eq!(listed.name, plan.name, "plan {}", plan.id);
    }
}

#[test]
fn every_sku_the_catalog_names_is_in_microsofts_table_with_all_its_telephony_plans() {
    let table = table();
    for sku in catalog::SKUS {
        if exception(sku.id, sku.part_number) {
            continue;
        }
        let listed = table
            .skus
            .get(sku.id)
            .unwrap_or_else(|| panic!("SKU {} ({}) is not in Microsoft's table", sku.part_number, sku.id));
        assert_eq!(listed.part_number, sku.part_number, "SKU {}", sku.id);
        assert!(
            sku.product_name.starts_with(&listed.product_name),
            "{}: the table calls it {:?}",
            sku.part_number,
            listed.product_name
        );
        let telephony: BTreeSet<&str> = listed
            .plan_ids
            .iter()
            .filter(|id| {
                let plan = &table.plans[*id];
                is_phone_system_for_a_person(plan) || is_calling_plan(plan) || plan.name.starts_with("MCOEV")
            })
            .map(String::as_str)
            .collect();
        let named: BTreeSet<&str> = sku.plans.iter().copied().collect();
        assert_eq!(
            named, telephony,
            "{}: its Phone System and Calling Plan plans",
            sku.part_number
        );
    }
}

#[test]
fn every_sku_with_phone_system_or_a_calling_plan_is_classified_the_way_its_plans_say() {
    let table = table();
    let mut checked = 0;
    for (sku_id, sku) in &table.skus {
        let plans: Vec<&TablePlan> = sku.plan_ids.iter().map(|id| &table.plans[id]).collect();
        let phone_system = plans.iter().any(|p| is_phone_system_for_a_person(p));
        let calling: BTreeSet<&str> = sku
            .plan_ids
            .iter()
            .filter(|id| is_calling_plan(&table.plans[*id]))
            .map(String::as_str)
            .collect();
        if !phone_system && calling.is_empty() {
            continue;
        }
        checked += 1;
        let assigned: Vec<AssignedPlan> = sku
            .plan_ids
            .iter()
            .map(|id| AssignedPlan {
                service_plan_id: Some(id.clone()),
                capability_status: Some("Enabled".into()),
            })
            .collect();
        let licence = AssignedLicense {
            sku_id: Some(sku_id.clone()),
            disabled_plans: Vec::new(),
        };
        let state = LicenceState::classify(&assigned, std::slice::from_ref(&licence));
        let name = &sku.part_number;
        assert_eq!(state.phone_system.is_some(), phone_system, "{name}: Phone System");
        let detected: BTreeSet<&str> = state
            .calling_plans
            .iter()
            .map(|plan| catalog::plan_by_name(plan).expect("a catalog plan").id)
            .collect();
        assert_eq!(detected, calling, "{name}: Calling Plans");
        for grant in &state.calling_plan_licences {
            let carrier = grant
                .sku
                .unwrap_or_else(|| panic!("{name}: the fix must name the licence carrying {}", grant.plan));
            assert_eq!(carrier.id, sku_id, "{name}");
            assert_eq!(
                carrier.carries_phone_system(),
                phone_system,
                "{name}: bundle or add-on"
            );
        }
        let switched_off = AssignedLicense {
            sku_id: Some(sku_id.clone()),
            disabled_plans: calling.iter().map(|id| (*id).to_owned()).collect(),
        };
        let state = LicenceState::classify(&assigned, &[switched_off]);
        assert!(
            state.calling_plans.is_empty(),
            "{name}: its Calling Plan turned off inside it"
        );
    }
    assert!(checked >= 60, "only {checked} telephony SKUs found in the table");
}
