//! The email index over Teams users: every user is found by mail, user principal name or SMTP
//! proxy address, ignoring case.

use std::collections::HashMap;

use super::graph::GraphUser;

/// Lower-cased address -> indexes of the users answering to it.
#[derive(Clone, Debug, Default)]
pub struct EmailIndex {
    by_address: HashMap<String, Vec<usize>>,
}

impl EmailIndex {
    /// Indexes `users` (positions refer to that slice).
    pub fn new(users: &[GraphUser]) -> Self {
        let mut index = Self {
            by_address: HashMap::with_capacity(users.len() * 2),
        };
        for (position, user) in users.iter().enumerate() {
            index.insert(position, user);
        }
        index
    }

    /// Indexes `user` at `position`, for an index built page by page.
    pub fn insert(&mut self, position: usize, user: &GraphUser) {
        let proxies = user.proxy_addresses.iter().filter_map(|p| {
            let (kind, address) = p.split_once(':')?;
            kind.eq_ignore_ascii_case("smtp").then_some(address)
        });
        let addresses = user
            .mail
            .as_deref()
            .into_iter()
            .chain(user.user_principal_name.as_deref())
            .chain(proxies);
        self.add(position, addresses);
    }

    /// Indexes the user at `position` under each of `addresses` (blank ones are skipped).
    pub fn add<'a>(&mut self, position: usize, addresses: impl IntoIterator<Item = &'a str>) {
        for address in addresses {
            let key = address.trim().to_lowercase();
            if key.is_empty() {
                continue;
            }
            let entry = self.by_address.entry(key).or_default();
            if !entry.contains(&position) {
                entry.push(position);
            }
        }
    }

    /// The users answering to `email` (usually one; several means the directory is ambiguous).
    pub fn find(&self, email: &str) -> &[usize] {
        self.by_address
            .get(&email.trim().to_lowercase())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, upn: &str, mail: Option<&str>, proxies: &[&str]) -> GraphUser {
        GraphUser {
            id: id.into(),
            user_principal_name: Some(upn.into()),
            mail: mail.map(str::to_owned),
            proxy_addresses: proxies.iter().map(|p| (*p).to_owned()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn users_are_found_by_mail_upn_and_smtp_proxies_ignoring_case() {
        let users = [
            user(
                "1",
                "ada@contoso.onmicrosoft.com",
                Some("Ada@Contoso.com"),
                &["SMTP:ada@contoso.com", "smtp:lovelace@contoso.com"],
            ),
            user("2", "alan@contoso.com", None, &["SIP:alan@contoso.com"]),
        ];
        let index = EmailIndex::new(&users);
        assert_eq!(index.find("ada@contoso.com"), [0]);
        assert_eq!(index.find("LOVELACE@contoso.com"), [0]);
        assert_eq!(index.find("ada@contoso.onmicrosoft.com"), [0]);
        assert_eq!(index.find("alan@contoso.com"), [1]);
        assert!(index.find("nobody@contoso.com").is_empty());
    }

    #[test]
    fn non_smtp_proxy_addresses_are_ignored() {
        let users = [user(
            "1",
            "a@contoso.com",
            None,
            &["SIP:b@contoso.com", "X500:/o=x"],
        )];
        assert!(EmailIndex::new(&users).find("b@contoso.com").is_empty());
    }

    #[test]
    fn odd_proxy_addresses_are_ignored_and_never_panic() {
        let users = [user(
            "1",
            "a@contoso.com",
            None,
            &[
                "b@contoso.com",
                "",
                "smtp:",
                "SMTP:   ",
                ":c@contoso.com",
                "SMTP",
                "sip:d@contoso.com",
                "SMTP:e@contoso.com:extra",
                "smtp:ada@contoso.com",
                "SMTP:ada@contoso.com",
            ],
        )];
        let index = EmailIndex::new(&users);
        for ignored in ["b@contoso.com", "c@contoso.com", "d@contoso.com", ""] {
            assert!(index.find(ignored).is_empty(), "{ignored:?}");
        }
        assert_eq!(
            index.find("e@contoso.com:extra"),
            [0],
            "everything after the first colon is the address"
        );
        assert_eq!(
            index.find("ada@contoso.com"),
            [0],
            "an address listed twice on one user is that user once"
        );
    }

    #[test]
    fn a_proxy_address_equal_to_another_users_mail_makes_the_address_ambiguous() {
        let users = [
            user("1", "a@contoso.com", Some("sales@contoso.com"), &[]),
            user("2", "b@contoso.com", None, &["smtp:SALES@contoso.com"]),
        ];
        assert_eq!(EmailIndex::new(&users).find("sales@contoso.com"), [0, 1]);
    }

    #[test]
    fn non_ascii_addresses_match_ignoring_case() {
        let users = [user(
            "1",
            "zoe@contoso.com",
            Some("Zoë.Ärlig@Contoso.com"),
            &["smtp:ÉMILE@contoso.com"],
        )];
        let index = EmailIndex::new(&users);
        assert_eq!(index.find("zoë.ärlig@contoso.com"), [0]);
        assert_eq!(index.find("émile@CONTOSO.com"), [0]);
    }

    #[test]
    fn null_proxy_addresses_on_the_wire_are_skipped_not_fatal() {
        let user: GraphUser = serde_json::from_str(
            r#"{"id": "1", "proxyAddresses": ["SMTP:a@contoso.com", null, "smtp:b@contoso.com"]}"#,
        )
        .unwrap();
        assert_eq!(user.proxy_addresses, ["SMTP:a@contoso.com", "smtp:b@contoso.com"]);
        let none: GraphUser = serde_json::from_str(r#"{"id": "2", "proxyAddresses": null}"#).unwrap();
        assert!(none.proxy_addresses.is_empty());
    }

    #[test]
    fn an_address_shared_by_two_users_returns_both() {
        let users = [
            user("1", "a@contoso.com", Some("desk@contoso.com"), &[]),
            user("2", "b@contoso.com", Some("desk@contoso.com"), &[]),
        ];
        assert_eq!(EmailIndex::new(&users).find("desk@contoso.com"), [0, 1]);
    }
}
