//! Reading an org fixture ([`OrgFixture::from_yaml`], [`OrgFixture::load`]) and the checks its YAML
//! types cannot express: names that must be unique,
//! references to licences, plans, roles and accounts that must exist, and values that must have a
//! form (E.164 numbers, Dialpad's user states). Each error names the field by its path, such as
//! `tenant.users[3].licenses[0]`, and says how to correct it. (Unknown fields, wrong types and
//! missing fields are named by the YAML parser, with the same paths.)

use std::collections::HashMap;

use crate::directory_roles::{self, BUILT_IN_ROLES};
use crate::fixture::{FixtureError, OrgFixture};
use crate::licensing::licensing;
use crate::world::normalise_number;

impl OrgFixture {
    /// Parses a fixture from YAML text; `origin` names it in errors.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, FixtureError> {
        let fixture: OrgFixture = serde_yaml::from_str(text).map_err(|source| FixtureError::Parse {
            path: origin.to_owned(),
            source,
        })?;
        fixture.check().map_err(|message| FixtureError::Invalid {
            path: origin.to_owned(),
            message,
        })?;
        Ok(fixture)
    }

    /// Reads and parses a fixture file.
    pub fn load(path: &std::path::Path) -> Result<Self, FixtureError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Read {
            path: origin.clone(),
            source,
        })?;
        Self::from_yaml(&text, &origin)
    }

    /// Checks what a YAML schema cannot: known SKUs, plans and roles, unique names, ids and
    /// numbers, E.164 Teams numbers, Dialpad's states (see [`check_references`]). The error
    /// names the field by its path and says how to correct it.
    pub fn check(&self) -> Result<(), String> {
        if self.tenant.domains.is_empty() {
            return Err("tenant.domains must list at least one verified domain".into());
        }
        check_references(self)?;
        for (index, fault) in self.behaviour.faults.iter().enumerate() {
            let rates = [
                fault.error_rate,
                fault.throttle_rate,
                fault.reset_rate,
                fault.malformed_rate,
                fault.late_rate,
            ];
            if rates.iter().any(|rate| !(0.0..=1.0).contains(rate)) {
                return Err(format!(
                    "behaviour.faults[{index}]: rates must be between 0 and 1"
                ));
            }
        }
        Ok(())
    }
}

/// The user states Dialpad documents (`schemas.user.UserProto.state`).
pub const DIALPAD_USER_STATES: &[&str] = &["active", "pending", "suspended", "deleted", "cancelled"];

/// The first mistake in `org`'s references and values, as `path: what is wrong; how to fix it`.
pub fn check_references(org: &OrgFixture) -> Result<(), String> {
    check_accounts(org)?;
    check_credentials(org)?;
    check_licences(org)?;
    check_teams_numbers(org)?;
    check_roles_and_groups(org)?;
    crate::fixture_teams::check_teams(org)?;
    check_dialpad(org)
}

/// Every admin's and user's `userPrincipalName`, in lower case.
pub fn tenant_accounts(org: &OrgFixture) -> std::collections::HashSet<String> {
    org.tenant
        .admins
        .iter()
        .map(|a| a.user_principal_name.to_lowercase())
        .chain(
            org.tenant
                .users
                .iter()
                .map(|u| u.user_principal_name.to_lowercase()),
        )
        .collect()
}

/// Remembers where each value was first seen, to name both places of a repeat.
struct FirstSeen(HashMap<String, String>);

impl FirstSeen {
    fn new() -> Self {
        Self(HashMap::new())
    }

    /// `Err(first path)` when `key` was seen before.
    fn insert(&mut self, key: String, path: String) -> Result<(), String> {
        match self.0.get(&key) {
            Some(first) => Err(first.clone()),
            None => {
                self.0.insert(key, path);
                Ok(())
            }
        }
    }
}

fn check_accounts(org: &OrgFixture) -> Result<(), String> {
    let mut upns = FirstSeen::new();
    let admins = org
        .tenant
        .admins
        .iter()
        .enumerate()
        .map(|(i, a)| (format!("tenant.admins[{i}]"), &a.user_principal_name));
    let users = org
        .tenant
        .users
        .iter()
        .enumerate()
        .map(|(i, u)| (format!("tenant.users[{i}]"), &u.user_principal_name));
    for (account, upn) in admins.chain(users) {
        if let Err(first) = upns.insert(upn.to_lowercase(), account.clone()) {
            return Err(format!(
                "{account}.userPrincipalName: {upn} is also {first}'s; give each account its own userPrincipalName"
            ));
        }
    }
    let mut ids = FirstSeen::new();
    for (index, user) in org.tenant.users.iter().enumerate() {
        let Some(id) = &user.id else { continue };
        if let Err(first) = ids.insert(id.to_lowercase(), format!("tenant.users[{index}]")) {
            return Err(format!(
                "tenant.users[{index}].id: {id} is also {first}'s; give each user its own id, or leave it out to have one generated"
            ));
        }
    }
    Ok(())
}

fn check_credentials(org: &OrgFixture) -> Result<(), String> {
    for (index, app) in org.tenant.applications.iter().enumerate() {
        for (position, pem) in app.certificates.iter().enumerate() {
            if let Err(problem) = crate::entra::certificate::parse_certificate(pem) {
                return Err(format!(
                    "tenant.applications[{index}].certificates[{position}]: {problem}; give the certificate's public part as PEM (-----BEGIN CERTIFICATE----- ...)"
                ));
            }
        }
        for (position, credential) in app.federated_credentials.iter().enumerate() {
            if credential.audiences.is_empty() {
                return Err(format!(
                    "tenant.applications[{index}].federatedCredentials[{position}].audiences: empty; leave it out for api://AzureADTokenExchange"
                ));
            }
        }
    }
    for (index, issuer) in org.behaviour.oidc_issuers.iter().enumerate() {
        let Some(pem) = &issuer.ca_pem else { continue };
        if let Err(problem) = crate::entra::certificate::parse_ca(pem) {
            return Err(format!(
                "behaviour.oidcIssuers[{index}].caPem: {problem}; give the issuer's CA certificate as PEM"
            ));
        }
    }
    Ok(())
}

fn check_licences(org: &OrgFixture) -> Result<(), String> {
    for (index, user) in org.tenant.users.iter().enumerate() {
        for (position, sku) in user.licenses.iter().enumerate() {
            if licensing().sku_by_part_number(sku).is_none() {
                return Err(format!(
                    "tenant.users[{index}].licenses[{position}]: unknown SKU {sku}; use a skuPartNumber (String_Id) of Microsoft's licensing table, vendor/microsoft-licensing-service-plans.csv, such as SPE_E5"
                ));
            }
        }
        for (position, plan) in user.disabled_plans.iter().enumerate() {
            if licensing().plan_by_name(plan).is_none() {
                return Err(format!(
                    "tenant.users[{index}].disabledPlans[{position}]: unknown service plan {plan}; use a Service_Plan_Name of Microsoft's licensing table, vendor/microsoft-licensing-service-plans.csv, such as MCOEV"
                ));
            }
        }
    }
    Ok(())
}

/// `+`, a country code that does not start with 0, 8 to 15 digits in all, and optionally a Direct
/// Routing extension `;ext=digits`: the form Teams stores numbers in.
pub fn is_e164(number: &str) -> bool {
    let (base, extension) = match number.split_once(";ext=") {
        Some((base, extension)) => (base, Some(extension)),
        None => (number, None),
    };
    let digits_only = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let Some(digits) = base.strip_prefix('+') else {
        return false;
    };
    digits_only(digits)
        && (8..=15).contains(&digits.len())
        && !digits.starts_with('0')
        && extension.is_none_or(digits_only)
}

fn check_teams_numbers(org: &OrgFixture) -> Result<(), String> {
    let mut holders = FirstSeen::new();
    for (index, user) in org.tenant.users.iter().enumerate() {
        let Some(raw) = &user.phone_number else { continue };
        let number = normalise_number(raw);
        if !is_e164(&number) {
            return Err(format!(
                "tenant.users[{index}].phoneNumber: {raw:?} is not an E.164 number; Teams holds numbers as + and 8 to 15 digits, such as +14155550100 (a Dialpad user's phoneNumbers may be malformed on purpose, a Teams number may not)"
            ));
        }
        if let Err(first) = holders.insert(number.clone(), format!("tenant.users[{index}]")) {
            return Err(format!(
                "tenant.users[{index}].phoneNumber: {number} is already {first}'s; a number has one holder in Teams"
            ));
        }
    }
    Ok(())
}

fn known_roles() -> String {
    let keys: Vec<&str> = BUILT_IN_ROLES.iter().map(|role| role.key).collect();
    keys.join(", ")
}

fn check_roles_and_groups(org: &OrgFixture) -> Result<(), String> {
    let unknown_role =
        |path: String, role: &str| format!("{path}: unknown role {role}; use one of {}", known_roles());
    for (index, admin) in org.tenant.admins.iter().enumerate() {
        for (position, role) in admin.roles.iter().enumerate() {
            if directory_roles::role_by_key(role).is_none() {
                return Err(unknown_role(
                    format!("tenant.admins[{index}].roles[{position}]"),
                    role,
                ));
            }
        }
    }
    let accounts = tenant_accounts(org);
    for (index, group) in org.tenant.groups.iter().enumerate() {
        for (position, role) in group.roles.iter().enumerate() {
            if directory_roles::role_by_key(role).is_none() {
                return Err(unknown_role(
                    format!("tenant.groups[{index}].roles[{position}]"),
                    role,
                ));
            }
        }
        for (position, member) in group.members.iter().enumerate() {
            if !accounts.contains(&member.to_lowercase()) {
                return Err(format!(
                    "tenant.groups[{index}].members[{position}]: {member} is not an admin or user of the tenant; add the account to tenant.admins or tenant.users, or remove it from the group"
                ));
            }
        }
    }
    Ok(())
}

fn check_dialpad(org: &OrgFixture) -> Result<(), String> {
    let other = &org.dialpad.other_company;
    if other.api_key == org.dialpad.api_key {
        return Err(
            "dialpad.otherCompany.apiKey: is the org's own dialpad.apiKey; give the other company a key of its own"
                .to_owned(),
        );
    }
    if other.company_id == org.dialpad.company_id {
        return Err(
            "dialpad.otherCompany.companyId: is the org's own dialpad.companyId; give the other company an id of its own"
                .to_owned(),
        );
    }
    let mut ids = FirstSeen::new();
    for (index, user) in org.dialpad.users.iter().enumerate() {
        if !DIALPAD_USER_STATES.contains(&user.state.as_str()) {
            return Err(format!(
                "dialpad.users[{index}].state: {:?} is not a state Dialpad documents; use one of {}",
                user.state,
                DIALPAD_USER_STATES.join(", ")
            ));
        }
        let Some(id) = &user.id else { continue };
        if let Err(first) = ids.insert(id.clone(), format!("dialpad.users[{index}]")) {
            return Err(format!(
                "dialpad.users[{index}].id: {id} is also {first}'s; give each user its own id, or leave it out to have one generated"
            ));
        }
    }
    for (index, other) in org.dialpad.other_numbers.iter().enumerate() {
        if !is_e164(&other.number) {
            return Err(format!(
                "dialpad.otherNumbers[{index}].number: {:?} is not an E.164 number; write it as + and 8 to 15 digits, such as +14155550100",
                other.number
            ));
        }
    }
    let mut offices = FirstSeen::new();
    for (index, office) in org.dialpad.offices.iter().enumerate() {
        let digits = !office.id.is_empty() && office.id.bytes().all(|b| b.is_ascii_digit());
        if !digits {
            return Err(format!(
                "dialpad.offices[{index}].id: {:?} is not an id; write the office id as digits, such as \"5012637248020480\"",
                office.id
            ));
        }
        if let Err(first) = offices.insert(office.id.clone(), format!("dialpad.offices[{index}]")) {
            return Err(format!(
                "dialpad.offices[{index}].id: {} is also {first}'s; give each office its own id",
                office.id
            ));
        }
        if !DIALPAD_USER_STATES.contains(&office.state.as_str()) {
            return Err(format!(
                "dialpad.offices[{index}].state: {:?} is not a state Dialpad documents; use one of {}",
                office.state,
                DIALPAD_USER_STATES.join(", ")
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_is_plus_and_eight_to_fifteen_digits_with_an_optional_extension() {
        for good in ["+14155550100", "+442079460000", "+14255388701;ext=1001"] {
            assert!(is_e164(good), "{good}");
        }
        for bad in [
            "14155550100",
            "+1415",
            "+0415555010",
            "+1 415 555 0100",
            "+1415555010012345",
            "+14155550100;ext=",
            "+14155550100;ext=1a",
            "",
            "+",
        ] {
            assert!(!is_e164(bad), "{bad}");
        }
    }
}
