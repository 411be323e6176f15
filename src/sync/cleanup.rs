//! What deleting a resource with `removal.policy: Unassign` removes: the numbers this resource
//! manages, i.e. each desired user's number where Teams holds it on that user. Nothing else.

use super::model::{DesiredState, TeamsState};
use super::numbers::normalise;

/// A number to unassign on deletion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Removal {
    /// The number.
    pub number: String,
    /// Who holds it.
    pub user_principal_name: String,
}

/// The numbers to unassign when the resource is deleted, in source order.
pub fn removals_on_delete(desired: &DesiredState, teams: &TeamsState) -> Vec<Removal> {
    let mut removals = Vec::new();
    for user in &desired.users {
        let (Some(email), Some(raw)) = (user.email.as_deref(), user.phone_number.as_deref()) else {
            continue;
        };
        let Some(number) = normalise(raw) else { continue };
        let [position] = teams.index.find(email) else {
            continue;
        };
        let holder = &teams.users[*position];
        if teams
            .numbers
            .iter()
            .any(|held| held.number == number && held.holder == holder.id)
        {
            removals.push(Removal {
                number,
                user_principal_name: holder.user_principal_name.clone(),
            });
        }
    }
    removals
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::microsoft::directory::EmailIndex;
    use crate::microsoft::graph::GraphUser;
    use crate::sync::model::{DesiredUser, HeldNumber, TeamsUser};

    #[test]
    fn only_numbers_held_by_their_desired_user_are_removed() {
        let desired = DesiredState {
            users: vec![
                DesiredUser {
                    email: Some("a@c.com".into()),
                    phone_number: Some("+14155550100".into()),
                    ..Default::default()
                },
                DesiredUser {
                    email: Some("b@c.com".into()),
                    phone_number: Some("+14155550101".into()),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let users = vec![
            TeamsUser {
                id: "1".into(),
                user_principal_name: "a@c.com".into(),
                mail: None,
                enabled: true,
                licence: Default::default(),
            },
            TeamsUser {
                id: "2".into(),
                user_principal_name: "b@c.com".into(),
                mail: None,
                enabled: true,
                licence: Default::default(),
            },
        ];
        let graph: Vec<GraphUser> = users
            .iter()
            .map(|u| GraphUser {
                id: u.id.clone(),
                user_principal_name: Some(u.user_principal_name.clone()),
                ..Default::default()
            })
            .collect();
        let teams = TeamsState {
            users,
            index: EmailIndex::new(&graph),
            numbers: vec![
                HeldNumber {
                    number: "+14155550100".into(),
                    holder: "1".into(),
                    pending: false,
                },
                HeldNumber {
                    number: "+19995550000".into(),
                    holder: "2".into(),
                    pending: false,
                },
            ],
        };
        let removals = removals_on_delete(&desired, &teams);
        assert_eq!(
            removals,
            [Removal {
                number: "+14155550100".into(),
                user_principal_name: "a@c.com".into()
            }]
        );
    }
}
