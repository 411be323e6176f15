//! Microsoft's side: identifiers (licences, roles, permissions), sign-in with its AADSTS
//! classification, licence classification, the Graph client and the admin checks.

pub mod aadsts;
pub mod admin;
pub mod assertion;
pub mod catalog;
pub mod clouds;
pub mod directory;
pub mod federated;
pub mod graph;
pub mod licences;
pub mod tenant_id;
pub mod token;

use serde::{Deserialize, Deserializer};

/// Reads a JSON array that may be `null` or missing as an empty list.
pub(crate) fn nullable_vec<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// Reads a JSON array of strings that may be `null` or missing, or hold `null` entries, as the
/// strings it holds: one odd entry never makes a whole page unreadable.
pub(crate) fn nullable_strings<'de, D>(deserializer: D) -> Result<Vec<String>, D::Error>
where
    D: Deserializer<'de>,
{
    let entries = Option::<Vec<Option<String>>>::deserialize(deserializer)?.unwrap_or_default();
    Ok(entries.into_iter().flatten().collect())
}
