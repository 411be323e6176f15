//! The narrow reads of a targeted re-sync (see [`crate::sync::targeted`]) over the real clients:
//! Dialpad users by id, and the Teams users and numbers around them by `$filter`.

use std::collections::{BTreeSet, HashMap, HashSet};

use futures::StreamExt;

use super::{
    DialpadSource, GraphTenant, desired_user, graph_failure, office_names, source_failure, teams_user,
};
use crate::dialpad::{DialpadUser, Standing};
use crate::microsoft::directory::EmailIndex;
use crate::microsoft::graph::{GraphUser, LookupError, NumberAssignment};
use crate::sync::change::WriteError;
use crate::sync::model::{HeldNumber, TeamsState};
use crate::sync::numbers::normalise;
use crate::sync::policies::PolicyState;
use crate::sync::ports::{SourceFailure, TenantFailure};
use crate::sync::targets::{Around, SourceUser};

/// Dialpad users read at once: within `users.get`'s 1,200 per minute, and the client's own
/// request budget paces them further.
const USERS_AT_ONCE: usize = 8;

/// Reads the users `ids` from Dialpad, one `GET /api/v2/users/{id}` each. A user Dialpad no
/// longer has, or one outside `spec.source.dialpad.officeIds`, is left out (gone).
pub(super) async fn read_users(
    source: &DialpadSource,
    ids: &BTreeSet<String>,
) -> Result<Vec<SourceUser>, SourceFailure> {
    let client = &source.client;
    let reads = futures::stream::iter(ids.iter().cloned())
        .map(|id| async move { client.user(&id).await })
        .buffer_unordered(USERS_AT_ONCE)
        .collect::<Vec<_>>()
        .await;
    let mut users: Vec<DialpadUser> = Vec::with_capacity(reads.len());
    for read in reads {
        if let Some(user) = read.map_err(|error| source_failure(error, "Dialpad users"))? {
            users.push(user);
        }
    }
    users.retain(|user| user.in_offices(&source.office_ids));
    let office_names = if source.office_names && !users.is_empty() {
        office_names(client).await?
    } else {
        HashMap::new()
    };
    Ok(users
        .iter()
        .filter_map(|user| {
            let id = user.id.clone()?;
            let mut desired = desired_user(user);
            if let Some(desired) = desired.as_mut() {
                desired.office.name = desired
                    .office
                    .id
                    .as_ref()
                    .and_then(|id| office_names.get(id))
                    .cloned();
            }
            Some(SourceUser {
                id,
                desired,
                numbers: user
                    .phone_numbers
                    .iter()
                    .map(|number| normalise(number).unwrap_or_else(|| number.clone()))
                    .collect(),
                protected: user.standing() == Standing::Protected,
            })
        })
        .collect())
}

/// Reads the users with the object ids `ids` from Graph, without their numbers.
pub(super) async fn read_users_by_id(
    tenant: &GraphTenant,
    ids: &[String],
) -> Result<TeamsState, TenantFailure> {
    let found = tenant.graph.users_by_id(ids).await.map_err(lookup_failure)?;
    Ok(teams_state(found, Vec::new()))
}

/// Reads what `around` names from Graph: the users answering to its addresses, then every number
/// those users hold and the holders of its numbers. Policies are not read.
pub(super) async fn read_around(tenant: &GraphTenant, around: &Around) -> Result<TeamsState, TenantFailure> {
    let graph = &tenant.graph;
    let found = if around.addresses.is_empty() {
        Vec::new()
    } else {
        graph
            .users_by_address(&around.addresses)
            .await
            .map_err(lookup_failure)?
    };
    let holders: Vec<String> = found.iter().map(|user| user.id.clone()).collect();
    let numbers = if holders.is_empty() && around.numbers.is_empty() {
        Vec::new()
    } else {
        graph
            .numbers_of(&holders, &around.numbers)
            .await
            .map_err(lookup_failure)?
    };
    Ok(teams_state(found, numbers))
}

/// The Teams state of `found` users (each once) and the numbers `listed`.
fn teams_state(found: Vec<GraphUser>, listed: Vec<NumberAssignment>) -> TeamsState {
    let mut seen = HashSet::new();
    let mut users = Vec::new();
    let mut index = EmailIndex::default();
    for user in found {
        if seen.insert(user.id.clone()) {
            index.insert(users.len(), &user);
            users.push(teams_user(user));
        }
    }
    let mut once = HashSet::new();
    let numbers = listed
        .iter()
        .filter_map(held_number)
        .filter(|held| once.insert(held.number.clone()))
        .collect();
    TeamsState {
        users,
        index,
        numbers,
        policies: PolicyState::default(),
    }
}

fn lookup_failure(error: LookupError) -> TenantFailure {
    let (reason, message) = match error {
        LookupError::Graph(error) => {
            graph_failure(&error, "cannot read the Teams users and numbers involved")
        }
        other => (crate::api::Reason::UnknownError, other.to_string()),
    };
    TenantFailure { reason, message }
}

/// Who holds each of `numbers` (`None`: unassigned, or not in the tenant's inventory).
pub(super) async fn holders_of(
    tenant: &GraphTenant,
    numbers: &[String],
) -> Result<HashMap<String, Option<String>>, WriteError> {
    let mut holders: HashMap<String, Option<String>> = numbers.iter().map(|n| (n.clone(), None)).collect();
    if numbers.is_empty() {
        return Ok(holders);
    }
    let found = tenant
        .graph
        .numbers_of(&[], numbers)
        .await
        .map_err(|error| match error {
            LookupError::Graph(error) => super::write_error(error),
            other => WriteError {
                message: other.to_string(),
                transient: false,
            },
        })?;
    for assignment in &found {
        let (number, holder) = super::held_by(assignment);
        holders.insert(number, holder);
    }
    Ok(holders)
}

/// A listed number held by a user, and whether Teams is still activating it.
pub(super) fn held_number(assignment: &NumberAssignment) -> Option<HeldNumber> {
    let (number, holder) = super::held_by(assignment);
    let pending = matches!(
        assignment.activation_state.as_deref(),
        Some("assignmentPending" | "updatePending")
    );
    Some(HeldNumber {
        number,
        holder: holder?,
        pending,
    })
}
