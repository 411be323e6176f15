//! What changes asked a resource to sync, gathered between its reconciles: the users named (by
//! Dialpad change-log events and Graph's `users/delta`), or everyone (a gap in the events, a
//! company-wide change, a reset of the Teams round, or more users than a targeted re-sync takes).

use std::collections::BTreeSet;

use super::coalesce::{ChangeBatch, MOST_USERS};
use super::feed::Wake;

/// The changes a resource has not synced yet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Wanted {
    /// Whether everyone is to be read again.
    pub everyone: bool,
    /// Dialpad user ids named, while not everyone.
    pub dialpad_users: BTreeSet<String>,
    /// Teams (Microsoft Entra) object ids named, while not everyone.
    pub teams_users: BTreeSet<String>,
}

impl Wanted {
    /// Adds what a feed's wake asks for (`State` asks for nothing).
    pub fn add_wake(&mut self, wake: &Wake) {
        match wake {
            Wake::Changes(batch) => self.add_batch(batch),
            Wake::Gap => self.everyone = true,
            Wake::State => {}
        }
    }

    /// Adds a batch of Dialpad changes.
    pub fn add_batch(&mut self, batch: &ChangeBatch) {
        self.everyone |= batch.everyone;
        self.dialpad_users.extend(batch.users.iter().cloned());
        self.bound();
    }

    /// Adds Teams users that changed (`None`: the changes could not be told, so everyone).
    pub fn add_teams_users(&mut self, changed: Option<&[String]>) {
        match changed {
            Some(ids) => self.teams_users.extend(ids.iter().cloned()),
            None => self.everyone = true,
        }
        self.bound();
    }

    /// Adds users named elsewhere (those a targeted re-sync left to look at again).
    pub fn add_users(&mut self, dialpad_users: &BTreeSet<String>, teams_users: &BTreeSet<String>) {
        self.dialpad_users.extend(dialpad_users.iter().cloned());
        self.teams_users.extend(teams_users.iter().cloned());
        self.bound();
    }

    /// The users named (Dialpad ids, Teams ids), or `None` when everyone is to be read again
    /// or nobody was named.
    pub fn named(self) -> Option<(BTreeSet<String>, BTreeSet<String>)> {
        let nobody = self.dialpad_users.is_empty() && self.teams_users.is_empty();
        (!self.everyone && !nobody).then_some((self.dialpad_users, self.teams_users))
    }

    fn bound(&mut self) {
        if self.everyone || self.dialpad_users.len() + self.teams_users.len() > MOST_USERS {
            self.everyone = true;
            self.dialpad_users.clear();
            self.teams_users.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(users: &[&str], everyone: bool) -> ChangeBatch {
        ChangeBatch {
            users: users.iter().map(|u| (*u).to_owned()).collect(),
            everyone,
            events: users.len(),
        }
    }

    #[test]
    fn batches_and_teams_changes_gather_into_one_set_of_targets() {
        let mut wanted = Wanted::default();
        wanted.add_wake(&Wake::Changes(batch(&["1", "2"], false)));
        wanted.add_wake(&Wake::Changes(batch(&["2", "3"], false)));
        wanted.add_teams_users(Some(&["t1".to_owned()]));
        wanted.add_wake(&Wake::State);
        let (dialpad, teams) = wanted.named().expect("users, not everyone");
        assert_eq!(dialpad, BTreeSet::from(["1".into(), "2".into(), "3".into()]));
        assert_eq!(teams, BTreeSet::from(["t1".into()]));
    }

    #[test]
    fn a_gap_a_company_wide_change_a_teams_reset_or_too_many_users_mean_everyone() {
        for wake in [Wake::Gap, Wake::Changes(batch(&[], true))] {
            let mut wanted = Wanted::default();
            wanted.add_wake(&Wake::Changes(batch(&["1"], false)));
            wanted.add_wake(&wake);
            assert_eq!(wanted.named(), None, "{wake:?}");
        }
        let mut wanted = Wanted::default();
        wanted.add_teams_users(None);
        wanted.add_teams_users(Some(&["t1".to_owned()]));
        assert_eq!(wanted.clone().named(), None, "everyone stays everyone");
        let mut wanted = Wanted::default();
        let many: Vec<String> = (0..=MOST_USERS).map(|i| i.to_string()).collect();
        wanted.add_teams_users(Some(&many));
        assert!(wanted.everyone);
        assert_eq!(Wanted::default().named(), None, "nothing named: nothing targeted");
    }
}
