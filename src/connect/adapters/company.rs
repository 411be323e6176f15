//! The company of the Dialpad API key, read before anything else: named on `SourceConnected`,
//! and refused when `spec.source.dialpad.companyId` pins another one (the same email can exist in
//! more than one Dialpad company, so a key of the wrong one would hand out its numbers).

use super::source_failure;
use crate::api::Reason;
use crate::dialpad::{DialpadClient, DialpadCompany};
use crate::sync::ports::SourceFailure;

/// The longest company name shown, in characters.
const NAME_SHOWN: usize = 64;

/// The company of `client`'s API key, described for the admin; an error when it cannot be read
/// (a 401 or 403 is the source's credentials, as for every Dialpad read), or when `pinned` names
/// another company (or Dialpad does not say which one it is). Called before any user is read, so
/// a key of another company reads nothing more.
pub(super) async fn check(client: &DialpadClient, pinned: Option<&str>) -> Result<String, SourceFailure> {
    let company = client
        .company()
        .await
        .map_err(|error| source_failure(error, "the company of the Dialpad API key"))?;
    let described = describe(&company);
    match pinned.map(str::trim).filter(|id| !id.is_empty()) {
        Some(pinned) if company.id.as_deref().map(str::trim) != Some(pinned) => Err(SourceFailure {
            reason: Reason::SourceWrongCompany,
            message: format!(
                "the API key belongs to {described}, not to the company {pinned} spec.source.dialpad.companyId names, so nothing was read or changed; put an API key of company {pinned} in the Secret, or correct companyId"
            ),
        }),
        _ => Ok(described),
    }
}

/// `Dialpad company 'Contoso' (id 123)`: the name made single-line and cut short, since it comes
/// from Dialpad and ends up in a condition message.
fn describe(company: &DialpadCompany) -> String {
    let name = company.name.as_deref().map(|name| {
        let line: String = name
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let line = line.trim();
        match line.char_indices().nth(NAME_SHOWN) {
            Some((end, _)) => format!("{}...", &line[..end]),
            None => line.to_owned(),
        }
    });
    let id = company
        .id
        .as_deref()
        .map_or_else(|| "no id given".to_owned(), |id| format!("id {id}"));
    match name.filter(|name| !name.is_empty()) {
        Some(name) => format!("Dialpad company '{name}' ({id})"),
        None => format!("Dialpad company ({id})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn company(id: Option<&str>, name: Option<&str>) -> DialpadCompany {
        DialpadCompany {
            id: id.map(str::to_owned),
            name: name.map(str::to_owned),
        }
    }

    #[test]
    fn a_company_is_described_by_name_and_id() {
        assert_eq!(
            describe(&company(Some("123"), Some("Contoso"))),
            "Dialpad company 'Contoso' (id 123)"
        );
        assert_eq!(describe(&company(Some("123"), None)), "Dialpad company (id 123)");
        assert_eq!(
            describe(&company(None, Some("Contoso"))),
            "Dialpad company 'Contoso' (no id given)"
        );
    }

    #[test]
    fn a_company_name_is_shown_on_one_line_and_cut_short() {
        let shown = describe(&company(Some("1"), Some("Contoso\nLtd\t")));
        assert_eq!(shown, "Dialpad company 'Contoso Ltd' (id 1)");
        let long = "\u{30d5}".repeat(200);
        let shown = describe(&company(Some("1"), Some(&long)));
        assert!(
            shown.contains(&format!("'{}...'", "\u{30d5}".repeat(NAME_SHOWN))),
            "{shown}"
        );
    }
}
