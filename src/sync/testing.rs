//! What the sync core's in-module tests share: licence states, a Teams state with its email
//! index, and the confirming half of fakes whose every change is decided when it is sent.

use std::collections::HashMap;
use std::time::Duration;

use super::change::{ChangeOutcome, WriteError};
use super::model::{HeldNumber, TeamsState, TeamsUser};
use super::ports::ChangeConfirmer;
use crate::microsoft::catalog::{self, ServicePlan};
use crate::microsoft::directory::EmailIndex;
use crate::microsoft::licences::{AssignedLicense, AssignedPlan, LicenceState};

/// The licence state of a user with `plans` enabled from the licences `skus`.
pub(crate) fn licensed(plans: &[ServicePlan], skus: &[&str]) -> LicenceState {
    let plans: Vec<AssignedPlan> = plans
        .iter()
        .map(|plan| AssignedPlan {
            service_plan_id: Some(plan.id.to_owned()),
            capability_status: Some("Enabled".into()),
        })
        .collect();
    let licences: Vec<AssignedLicense> = skus
        .iter()
        .map(|part| AssignedLicense {
            sku_id: Some(
                catalog::sku_by_part_number(part)
                    .expect("known SKU")
                    .id
                    .to_owned(),
            ),
            disabled_plans: Vec::new(),
        })
        .collect();
    LicenceState::classify(&plans, &licences)
}

/// The Teams state of `users` holding `numbers`, with the email index the tenant would build.
pub(crate) fn teams_state(users: Vec<TeamsUser>, numbers: Vec<HeldNumber>) -> TeamsState {
    let mut index = EmailIndex::default();
    for (position, user) in users.iter().enumerate() {
        let addresses = user.mail.as_deref().into_iter();
        index.add(position, addresses.chain([user.user_principal_name.as_str()]));
    }
    TeamsState {
        index,
        users,
        numbers,
        policies: Default::default(),
    }
}

/// A fake sender that answers every change with its verdict (`Submission::Done`): nothing is left
/// to confirm, so its confirming half has no verdicts and no holders.
pub(crate) trait DecidedWhenSent: Sync {}

impl<T: DecidedWhenSent> ChangeConfirmer for T {
    async fn outcome(&self, _: &str) -> Result<Option<ChangeOutcome>, WriteError> {
        Ok(None)
    }

    async fn holders(&self) -> Result<HashMap<String, Option<String>>, WriteError> {
        Ok(HashMap::new())
    }

    fn operation_timeout(&self) -> Duration {
        Duration::from_secs(1)
    }
}
