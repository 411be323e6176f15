//! Narrow reads for a targeted re-sync: the users answering to a few addresses or ids, and the
//! numbers a few users hold or a few numbers' holders, each with `$filter` instead of a listing.
//!
//! Limits from Microsoft's "Known issues with Microsoft Graph" (query parameters): a filter with
//! `in` is limited "to 15 expressions in the filter clause by default", and an `eq` value to 120
//! characters. Each request here carries at most [`EXPRESSIONS_PER_FILTER`] `eq` expressions
//! joined by `or`, and a value longer than 120 characters is not looked up this way
//! ([`LookupError::TooLong`]): the caller reads everything instead.
//!
//! Users: `mail`, `userPrincipalName` and `proxyAddresses` support `$filter` with `eq` by default
//! ("user resource type", https://learn.microsoft.com/en-us/graph/api/resources/user, `any` for
//! the collection). Numbers: `GET .../numberAssignments` takes `$filter`
//! (vendor/graph-teams-numbers-openapi.yaml) on `assignmentTargetId` and `telephoneNumber`
//! ("List numberAssignments", https://learn.microsoft.com/en-us/graph/api/teamsadministration-telephonenumbermanagement-list-numberassignments).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::{GraphClient, GraphError, GraphUser, NUMBERS_PATH, NumberAssignment, USER_SELECT};

/// The most `eq` expressions one `$filter` carries (Graph's default limit for `in`, applied to
/// `or`-joined `eq` too, to stay within what Graph evaluates by default).
pub const EXPRESSIONS_PER_FILTER: usize = 15;

/// The longest value Graph matches with `eq` by default.
const LONGEST_VALUE: usize = 120;

/// What is left unencoded in a `$filter` value: letters, digits and the few marks OData needs
/// to read as written (`+` is encoded, or it would read as a space).
const FILTER_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'/')
    .remove(b':')
    .remove(b'@');

/// Why a narrow read was not made or failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum LookupError {
    /// A value is longer than Graph matches with `eq`.
    #[error("a value of {0} characters is longer than Graph's $filter matches (120)")]
    TooLong(usize),
    /// The read failed.
    #[error(transparent)]
    Graph(#[from] GraphError),
}

/// `value` as an OData string literal (single quotes doubled), or why it cannot be one.
fn literal(value: &str) -> Result<String, LookupError> {
    let count = value.chars().count();
    if count > LONGEST_VALUE {
        return Err(LookupError::TooLong(count));
    }
    Ok(format!("'{}'", value.replace('\'', "''")))
}

/// The filters for `values`, each giving `per_value` expressions (`clauses`), joined by `or` and
/// chunked so that a filter carries at most [`EXPRESSIONS_PER_FILTER`] expressions.
fn filters<T>(
    values: &[T],
    per_value: usize,
    clauses: impl Fn(&T) -> Result<Vec<String>, LookupError>,
) -> Result<Vec<String>, LookupError> {
    let per_filter = (EXPRESSIONS_PER_FILTER / per_value.max(1)).max(1);
    let mut out = Vec::new();
    for chunk in values.chunks(per_filter) {
        let mut expressions = Vec::with_capacity(chunk.len() * per_value);
        for value in chunk {
            expressions.extend(clauses(value)?);
        }
        out.push(expressions.join(" or "));
    }
    Ok(out)
}

/// A number assignment looked up by its holder or by its number.
enum NumberWanted<'a> {
    Holder(&'a str),
    Number(&'a str),
}

impl GraphClient {
    /// The users answering to any of `addresses` as mail, user principal name or SMTP proxy
    /// address (compared by Graph; the caller matches exactly as the full read does).
    pub async fn users_by_address(&self, addresses: &[String]) -> Result<Vec<GraphUser>, LookupError> {
        let filters = filters(addresses, 3, |address| {
            let (quoted, proxy) = (literal(address)?, literal(&format!("smtp:{address}"))?);
            Ok(vec![
                format!("mail eq {quoted}"),
                format!("userPrincipalName eq {quoted}"),
                format!("proxyAddresses/any(p:p eq {proxy})"),
            ])
        })?;
        self.users_filtered(&filters).await
    }

    /// The users with any of `ids` (object ids).
    pub async fn users_by_id(&self, ids: &[String]) -> Result<Vec<GraphUser>, LookupError> {
        let filters = filters(ids, 1, |id| Ok(vec![format!("id eq {}", literal(id)?)]))?;
        self.users_filtered(&filters).await
    }

    async fn users_filtered(&self, filters: &[String]) -> Result<Vec<GraphUser>, LookupError> {
        let mut users = Vec::new();
        for filter in filters {
            let first = format!(
                "{}/v1.0/users?$select={USER_SELECT}&$top=999&$filter={}",
                self.base,
                utf8_percent_encode(filter, FILTER_VALUE)
            );
            self.follow_next_links("GET /v1.0/users", first, |request| request, &mut |page| {
                users.extend(page)
            })
            .await?;
        }
        Ok(users)
    }

    /// The number assignments held by any of `holders` (Teams user ids) or of any of `numbers`
    /// (E.164, as Teams lists them).
    pub async fn numbers_of(
        &self,
        holders: &[String],
        numbers: &[String],
    ) -> Result<Vec<NumberAssignment>, LookupError> {
        // One list of expressions, so that a few of each share a request.
        let wanted: Vec<NumberWanted> = holders
            .iter()
            .map(|holder| NumberWanted::Holder(holder))
            .chain(numbers.iter().map(|number| NumberWanted::Number(number)))
            .collect();
        let filters = filters(&wanted, 1, |wanted| {
            Ok(vec![match wanted {
                NumberWanted::Holder(holder) => format!("assignmentTargetId eq {}", literal(holder)?),
                NumberWanted::Number(number) => format!("telephoneNumber eq {}", literal(number)?),
            }])
        })?;
        let endpoint = format!("GET {NUMBERS_PATH}");
        let mut found = Vec::new();
        for filter in filters {
            let first = format!(
                "{}{NUMBERS_PATH}?$filter={}",
                self.base,
                utf8_percent_encode(&filter, FILTER_VALUE)
            );
            self.follow_next_links(&endpoint, first, |request| request, &mut |page| {
                found.extend(page)
            })
            .await?;
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_stay_within_fifteen_expressions_and_quote_their_values() {
        let addresses: Vec<String> = (0..7).map(|i| format!("o'neil{i}@contoso.com")).collect();
        let built = filters(&addresses, 3, |a| {
            let quoted = literal(a)?;
            Ok(vec![
                format!("mail eq {quoted}"),
                format!("x eq {quoted}"),
                format!("y eq {quoted}"),
            ])
        })
        .unwrap();
        assert_eq!(built.len(), 2, "5 addresses of 3 expressions, then 2");
        assert_eq!(built[0].matches(" eq ").count(), 15);
        assert!(built[0].starts_with("mail eq 'o''neil0@contoso.com' or "));
        let encoded = utf8_percent_encode("telephoneNumber eq '+1' or id eq 'a b'", FILTER_VALUE).to_string();
        assert_eq!(encoded, "telephoneNumber%20eq%20'%2B1'%20or%20id%20eq%20'a%20b'");
    }

    #[test]
    fn a_value_longer_than_graph_matches_is_refused_not_cut() {
        let quote = |value: &String| Ok(vec![literal(value)?]);
        assert_eq!(
            filters(&["a".repeat(121)], 1, quote),
            Err(LookupError::TooLong(121))
        );
        assert!(filters(&["a".repeat(120)], 1, quote).is_ok());
    }
}
