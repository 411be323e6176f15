//! Dialpad's wire types, read leniently: every field may be missing or null, ids may be JSON
//! strings or numbers, and unknown fields are ignored (Dialpad's schema drifts; see
//! `docs/dialpad-api.md` section 4.3).

use serde::{Deserialize, Deserializer};

/// A Dialpad user (`schemas.user.UserProto`), only the fields the sync reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct DialpadUser {
    /// The user id, kept as text whatever its JSON type.
    #[serde(default, deserialize_with = "id")]
    pub id: Option<String>,
    /// Emails; the first is the primary.
    #[serde(default, deserialize_with = "strings")]
    pub emails: Vec<String>,
    /// Dialpad numbers; the first is taken as the primary.
    #[serde(default, deserialize_with = "strings")]
    pub phone_numbers: Vec<String>,
    /// `active`, `pending`, `suspended`, `deleted`, `cancelled`, or a value added later.
    #[serde(default)]
    pub state: Option<String>,
    /// The user's office.
    #[serde(default, deserialize_with = "id")]
    pub office_id: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
}

/// What a Dialpad user's `state` means for the sync.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// `active`: the user should have their number in Teams.
    Desired,
    /// `suspended`, `deleted` or `cancelled`: the user left, and a number this resource assigned
    /// them may be unassigned after the grace period.
    Gone,
    /// `pending` (invited, not yet active), no state at all, or a state this operator does not
    /// know: not synced, and their numbers are never unassigned. A state Dialpad adds later is
    /// never taken for a departure.
    Protected,
}

impl DialpadUser {
    /// Whether the user is in one of `office_ids` (any office when it is empty): Dialpad has no
    /// office filter on its user endpoints, so it is applied here.
    pub fn in_offices(&self, office_ids: &[String]) -> bool {
        office_ids.is_empty()
            || self
                .office_id
                .as_ref()
                .is_some_and(|office| office_ids.contains(office))
    }

    /// What this user's state means for the sync. The states are those of Dialpad's
    /// `schemas.user.UserProto.state` (vendor/dialpad-openapi.json).
    pub fn standing(&self) -> Standing {
        match self.state.as_deref() {
            Some("active") => Standing::Desired,
            Some("suspended" | "deleted" | "cancelled") => Standing::Gone,
            _ => Standing::Protected,
        }
    }

    /// Whether Dialpad documents this user's state (a missing state counts as undocumented).
    pub fn has_documented_state(&self) -> bool {
        matches!(
            self.state.as_deref(),
            Some("active" | "pending" | "suspended" | "deleted" | "cancelled")
        )
    }
}

/// A company number (`schemas.number.NumberProto`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct DialpadNumber {
    /// The E.164 number.
    #[serde(default)]
    pub number: Option<String>,
    /// `user`, `office`, `available`, ...
    #[serde(default)]
    pub status: Option<String>,
    /// What owns it.
    #[serde(default)]
    pub target_type: Option<String>,
    /// Its owner's id.
    #[serde(default, deserialize_with = "id")]
    pub target_id: Option<String>,
    /// Ported out.
    #[serde(default)]
    pub deleted: Option<bool>,
}

/// The company an API key belongs to (`schemas.company.CompanyProto`, the answer of
/// `GET /api/v2/company`, operationId `company.get`, vendor/dialpad-openapi.json), only the
/// fields the source reads: its `id` (int64, nullable) and `name` (nullable, single-line).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct DialpadCompany {
    /// The company's id, kept as text whatever its JSON type (the spec's example writes it as a
    /// string, its schema as an integer).
    #[serde(default, deserialize_with = "id")]
    pub id: Option<String>,
    /// The company's name.
    #[serde(default)]
    pub name: Option<String>,
}

/// A Dialpad office, as much as the sync reads: which office a user's `office_id` names.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct DialpadOffice {
    /// The office's id, kept as text whatever its JSON type (as every Dialpad id).
    #[serde(default, deserialize_with = "id")]
    pub id: Option<String>,
    /// The office's name.
    #[serde(default)]
    pub name: Option<String>,
}

/// One page of a Dialpad collection.
#[derive(Debug, Deserialize)]
#[serde(bound = "T: Deserialize<'de>")]
pub struct Page<T> {
    /// The items (null or missing means none).
    #[serde(default, deserialize_with = "items")]
    pub items: Vec<T>,
    /// The next page's cursor; missing, null or empty on the last page.
    #[serde(default)]
    pub cursor: Option<String>,
}

pub(crate) fn id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Number(i128),
        Float(f64),
    }
    Ok(match Option::<Id>::deserialize(deserializer)? {
        None => None,
        Some(Id::Text(text)) => Some(text),
        Some(Id::Number(number)) => Some(number.to_string()),
        Some(Id::Float(number)) => Some(format!("{number:.0}")),
    })
}

fn strings<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let values = Option::<Vec<Option<String>>>::deserialize(deserializer)?.unwrap_or_default();
    Ok(values
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect())
}

fn items<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_from_strings_and_numbers() {
        let user: DialpadUser =
            serde_json::from_str(r#"{"id": "5835806903417907", "office_id": 6422934115149452}"#).unwrap();
        assert_eq!(user.id.as_deref(), Some("5835806903417907"));
        assert_eq!(user.office_id.as_deref(), Some("6422934115149452"));
    }

    #[test]
    fn nulls_and_missing_fields_are_empty() {
        let user: DialpadUser =
            serde_json::from_str(r#"{"id": null, "emails": null, "phone_numbers": [null, ""]}"#).unwrap();
        assert_eq!(user, DialpadUser::default());
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let user: DialpadUser =
            serde_json::from_str(r#"{"id": 1, "onboarding_completed": true, "voicemail": {}}"#).unwrap();
        assert_eq!(user.id.as_deref(), Some("1"));
    }

    #[test]
    fn only_documented_departures_let_a_number_go() {
        let with = |state: Option<&str>| DialpadUser {
            state: state.map(str::to_owned),
            ..Default::default()
        };
        assert_eq!(with(Some("active")).standing(), Standing::Desired);
        for gone in ["suspended", "deleted", "cancelled"] {
            assert_eq!(with(Some(gone)).standing(), Standing::Gone, "{gone}");
        }
        for kept in [Some("pending"), None, Some("frozen"), Some("Active"), Some("")] {
            assert_eq!(with(kept).standing(), Standing::Protected, "{kept:?}");
        }
        assert!(with(Some("pending")).has_documented_state());
        assert!(!with(Some("frozen")).has_documented_state());
        assert!(!with(None).has_documented_state());
    }

    #[test]
    fn a_company_is_read_with_its_id_as_text_or_number() {
        // The spec's own example of `GET /api/v2/company` (vendor/dialpad-openapi.json).
        let example: DialpadCompany = serde_json::from_str(
            r#"{"account_type": "standard", "country": "us", "domain": "fuzz-ball.com", "id": "123", "name": "Fuzz Ball, Inc", "office_count": "1"}"#,
        )
        .unwrap();
        assert_eq!(example.id.as_deref(), Some("123"));
        assert_eq!(example.name.as_deref(), Some("Fuzz Ball, Inc"));
        let numeric: DialpadCompany =
            serde_json::from_str(r#"{"id": 4508591728425653, "name": null}"#).unwrap();
        assert_eq!(numeric.id.as_deref(), Some("4508591728425653"));
        assert_eq!(numeric.name, None);
    }

    #[test]
    fn a_page_without_items_or_cursor_is_an_empty_last_page() {
        let page: Page<DialpadUser> = serde_json::from_str(r#"{"items": null}"#).unwrap();
        assert!(page.items.is_empty() && page.cursor.is_none());
    }
}
