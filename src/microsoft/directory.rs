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
    fn an_address_shared_by_two_users_returns_both() {
        let users = [
            user("1", "a@contoso.com", Some("desk@contoso.com"), &[]),
            user("2", "b@contoso.com", Some("desk@contoso.com"), &[]),
        ];
        assert_eq!(EmailIndex::new(&users).find("desk@contoso.com"), [0, 1]);
    }
}
