//! The ports implemented over the real clients: Dialpad or the static list as the source, Graph
//! as the tenant.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use crate::api::{Reason, StaticUser};
use crate::dialpad::{DialpadClient, Standing};
use crate::microsoft::admin::{self, AdminRoles};
use crate::microsoft::directory::EmailIndex;
use crate::microsoft::graph::{
    AssignmentFailure, GraphClient, GraphError, NumberAssignment, OperationOutcome, Submitted,
};
use crate::microsoft::licences::LicenceState;
use crate::microsoft::token::Credentials;
use crate::sync::change::{ChangeOutcome, Refusal, Submission, WriteError};
use crate::sync::model::{DesiredState, DesiredUser, TeamsState, TeamsUser, TenantChecks};
use crate::sync::numbers::normalise;
use crate::sync::offices::UserOffice;
use crate::sync::policies::{PolicyChange, PolicyKind};
use crate::sync::ports::{
    ChangeConfirmer, ChangeSender, DesiredSource, SourceFailure, SourcePages, TeamsTenant, TenantFailure,
};
use crate::sync::targets::{Around, SourceUser};
use secrecy::ExposeSecret;

mod company;
mod narrow;
pub mod policies;

use policies::{PolicyTypes, read_policies};

/// Dialpad as the source: the API key's company first (and, when one is pinned, nothing more
/// unless it is that one); active users are desired; invited (pending) users' numbers are never
/// unassigned; every company number counts as Dialpad's.
pub struct DialpadSource {
    /// The client.
    pub client: DialpadClient,
    /// Only these offices (empty: all).
    pub office_ids: Vec<String>,
    /// `spec.source.dialpad.companyId`: the only company whose key may be read (`None`: any).
    pub company_id: Option<String>,
    /// Whether users' office names are read too (`spec.assignment.offices` names an office by
    /// name, not by id).
    pub office_names: bool,
}

impl DesiredSource for DialpadSource {
    async fn read_by_page(&self, pages: SourcePages) -> Result<DesiredState, SourceFailure> {
        // Each page is condensed into the desired state as it arrives; nothing of Dialpad's own
        // records is kept.
        let company = company::check(&self.client, self.company_id.as_deref()).await?;
        let mut state = DesiredState {
            origin: Some(company),
            ..DesiredState::default()
        };
        let office_names = if self.office_names {
            office_names(&self.client).await?
        } else {
            HashMap::new()
        };
        let mut users = Vec::new();
        let mut undocumented = BTreeSet::new();
        let mut on_users = |page: Vec<crate::dialpad::DialpadUser>| {
            for user in page.iter().filter(|user| !user.has_documented_state()) {
                undocumented.insert(format!("{:?}", user.state.as_deref().unwrap_or("(none)")));
            }
            let mut desired = condense_users(&mut state, &page);
            for user in &mut desired {
                user.office.name = user
                    .office
                    .id
                    .as_ref()
                    .and_then(|id| office_names.get(id))
                    .cloned();
            }
            // Nobody listening (the reader stopped early) is not an error of the source.
            if !desired.is_empty() {
                let _ = pages.send(desired.clone());
            }
            users.extend(desired);
        };
        self.client
            .list_users_by_page("all", &self.office_ids, &mut on_users)
            .await
            .map_err(|error| source_failure(error, "Dialpad users"))?;
        let mut inventory = Vec::new();
        self.client
            .list_numbers_by_page(&mut |page| inventory.extend(inventory_numbers(page)))
            .await
            .map_err(|error| source_failure(error, "Dialpad numbers"))?;
        state.owned_numbers.extend(inventory);
        state.users = users;
        if !undocumented.is_empty() {
            let states: Vec<String> = undocumented.into_iter().collect();
            tracing::warn!(
                states = %states.join(", "),
                "Dialpad users in a state Dialpad does not document are not synced, and their numbers are never unassigned"
            );
        }
        Ok(state)
    }

    async fn read_users(&self, ids: &BTreeSet<String>) -> Option<Result<Vec<SourceUser>, SourceFailure>> {
        Some(narrow::read_users(self, ids).await)
    }
}

/// The company's office names by id (`spec.assignment.offices` names an office by name).
async fn office_names(client: &DialpadClient) -> Result<HashMap<String, String>, SourceFailure> {
    let offices = client.list_offices().await;
    let offices = offices.map_err(|error| source_failure(error, "Dialpad offices"))?;
    Ok(offices
        .into_iter()
        .filter_map(|office| Some((office.id?, office.name?)))
        .collect())
}

/// Adds the numbers of a page of Dialpad users to `state` (every user's numbers are the company's;
/// those of a user who has not documentedly left are protected) and returns the page's desired
/// users.
pub(crate) fn condense_users(
    state: &mut DesiredState,
    page: &[crate::dialpad::DialpadUser],
) -> Vec<DesiredUser> {
    for user in page {
        let standing = user.standing();
        for number in &user.phone_numbers {
            let normalised = normalise(number).unwrap_or_else(|| number.clone());
            state.owned_numbers.insert(normalised.clone());
            if let Some(id) = &user.id {
                state.number_owners.insert(normalised.clone(), id.clone());
            }
            if standing == Standing::Protected {
                state.protected_numbers.insert(normalised);
            }
        }
    }
    page.iter().filter_map(desired_user).collect()
}

/// The numbers of a page of Dialpad's inventory that are still the company's, normalised where
/// they can be.
pub(crate) fn inventory_numbers(page: Vec<crate::dialpad::DialpadNumber>) -> impl Iterator<Item = String> {
    page.into_iter()
        .filter(|n| n.deleted != Some(true))
        .filter_map(|n| n.number)
        .map(|number| normalise(&number).unwrap_or(number))
}

/// The desired user a Dialpad user stands for: only active users are desired.
fn desired_user(user: &crate::dialpad::DialpadUser) -> Option<DesiredUser> {
    if user.standing() != Standing::Desired {
        return None;
    }
    let display_name = user.display_name.clone().or_else(|| {
        let name = [user.first_name.as_deref(), user.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>();
        (!name.is_empty()).then(|| name.join(" "))
    });
    Some(DesiredUser {
        dialpad_user_id: user.id.clone(),
        email: user.emails.first().cloned(),
        phone_number: user.phone_numbers.first().cloned(),
        display_name,
        office: UserOffice {
            id: user.office_id.clone(),
            name: None,
        },
    })
}

/// Why reading `what` from Dialpad failed: a rejected key (401 or 403) is the source's
/// credentials, whichever endpoint refused it.
fn source_failure(error: crate::upstream::UpstreamError, what: &str) -> SourceFailure {
    let reason = match error.status() {
        Some(401 | 403) => Reason::SourceCredentialsInvalid,
        _ if error.is_transient() => Reason::TransientError,
        _ => Reason::UnknownError,
    };
    let message = match reason {
        Reason::SourceCredentialsInvalid => {
            format!(
                "Dialpad rejected the API key ({error}); put a current company-admin API key in the Secret"
            )
        }
        _ => format!("cannot read {what}: {error}"),
    };
    SourceFailure { reason, message }
}

/// The static list of the spec as the source.
pub struct StaticSource {
    /// The listed users.
    pub users: Vec<StaticUser>,
}

impl DesiredSource for StaticSource {
    /// The list is in the spec, complete at once: there is no head start to give.
    async fn read_by_page(&self, _pages: SourcePages) -> Result<DesiredState, SourceFailure> {
        let mut state = DesiredState::default();
        for user in &self.users {
            let normalised = normalise(&user.phone_number).unwrap_or_else(|| user.phone_number.clone());
            state.owned_numbers.insert(normalised);
            state.users.push(DesiredUser {
                dialpad_user_id: None,
                email: Some(user.email.clone()),
                phone_number: Some(user.phone_number.clone()),
                display_name: None,
                office: UserOffice {
                    id: None,
                    name: user.office.clone(),
                },
            });
        }
        Ok(state)
    }
}

/// Microsoft Graph as the tenant.
pub struct GraphTenant {
    /// The client.
    pub graph: GraphClient,
    /// `spec.tenant.domain`, for the account-name rule.
    pub domain: String,
    /// The Graph policy type of each kind.
    pub policy_types: PolicyTypes,
    /// The policy names the resource uses, by kind (none: policies are neither read nor checked).
    pub policy_names: BTreeMap<PolicyKind, BTreeSet<String>>,
}

impl GraphTenant {
    /// Unassigns `number` and waits for Teams' verdict (deleting a resource does one at a time).
    pub async fn unassign_and_wait(
        &self,
        number: &str,
        number_type: &str,
    ) -> Result<ChangeOutcome, WriteError> {
        let outcome = self.graph.unassign_number(number, number_type).await;
        outcome.map(change_outcome).map_err(write_error)
    }
}

impl ChangeSender for GraphTenant {
    async fn submit_assign(
        &self,
        number: &str,
        user_id: &str,
        number_type: &str,
        location_id: Option<&str>,
    ) -> Result<Submission, WriteError> {
        let submitted = self
            .graph
            .submit_assign(number, user_id, number_type, location_id)
            .await;
        submitted.map(submission).map_err(write_error)
    }

    async fn submit_unassign(&self, number: &str, number_type: &str) -> Result<Submission, WriteError> {
        let submitted = self.graph.submit_unassign(number, number_type).await;
        submitted.map(submission).map_err(write_error)
    }

    async fn submit_policy_changes(&self, changes: &[PolicyChange]) -> Result<(), WriteError> {
        let entries = policies::entries(&self.policy_types, changes);
        self.graph.change_policies(&entries).await.map_err(write_error)
    }

    fn requests_per_second(&self) -> Option<u32> {
        self.graph.requests_per_second()
    }
}

impl ChangeConfirmer for GraphTenant {
    async fn outcome(&self, url: &str) -> Result<Option<ChangeOutcome>, WriteError> {
        let outcome = self.graph.operation_outcome(url).await;
        outcome.map(|o| o.map(change_outcome)).map_err(write_error)
    }

    async fn holders(&self) -> Result<HashMap<String, Option<String>>, WriteError> {
        let numbers = self.graph.list_numbers().await.map_err(write_error)?;
        Ok(numbers.into_iter().map(|n| held_by(&n)).collect())
    }

    fn operation_timeout(&self) -> Duration {
        self.graph.operation_timeout
    }
}

/// Teams' verdict, in the core's words.
fn change_outcome(outcome: OperationOutcome) -> ChangeOutcome {
    match outcome {
        OperationOutcome::Succeeded => ChangeOutcome::Succeeded,
        OperationOutcome::StillRunning => ChangeOutcome::StillRunning,
        OperationOutcome::Failed(failure) => ChangeOutcome::Refused(match failure {
            AssignmentFailure::Licence(detail) => Refusal::Licence(detail),
            AssignmentFailure::Conflict(detail) => Refusal::Conflict(detail),
            AssignmentFailure::UserNotFound(detail) => Refusal::UserNotFound(detail),
            AssignmentFailure::NumberNotInTenant(detail) => Refusal::NumberNotInTenant(detail),
            AssignmentFailure::LocationNotFound(detail) => Refusal::LocationNotFound(detail),
            AssignmentFailure::Other(detail) => Refusal::Other(detail),
        }),
    }
}

/// Teams' first answer, in the core's words.
fn submission(submitted: Submitted) -> Submission {
    match submitted {
        Submitted::Done(outcome) => Submission::Done(change_outcome(outcome)),
        Submitted::Running { url, retry_after } => Submission::Running { url, retry_after },
    }
}

/// A Graph failure of a write, in the core's words.
fn write_error(error: GraphError) -> WriteError {
    WriteError {
        transient: error.is_transient(),
        message: error.to_string(),
    }
}

impl TeamsTenant for GraphTenant {
    async fn check(&self) -> TenantChecks {
        let credentials = self.graph.tokens().credentials();
        if let Credentials::Password {
            username,
            username_in,
            ..
        } = credentials
            && let Err(message) =
                admin::check_account_name(username.expose_secret(), &self.domain, username_in)
        {
            return failed_connection(Reason::AccountNameInvalid, message);
        }
        let token = match self.graph.tokens().access_token().await {
            Ok(token) => token,
            Err(failure) => return failed_connection(failure.reason, failure.message),
        };
        let authorized = match credentials {
            Credentials::Password { account, .. } => {
                let wids = &token.claims.wids;
                let judged = match admin::judge_roles(wids, None) {
                    AdminRoles::Held => Ok(AdminRoles::Held),
                    // Not both in the token: look them up (roles through groups included).
                    _ => self
                        .graph
                        .my_roles()
                        .await
                        .map(|roles| admin::judge_roles(wids, Some(&roles))),
                };
                match judged {
                    Ok(roles) => roles_verdict(roles, account),
                    Err(error) => Err(graph_failure(&error, "cannot read the admin's directory roles")),
                }
            }
            Credentials::ClientSecret { client_id, .. }
            | Credentials::Certificate { client_id, .. }
            | Credentials::WorkloadIdentity { client_id, .. } => {
                let mut missing = admin::missing_permissions(&token.claims);
                if !self.policy_names.is_empty() {
                    missing.extend(admin::missing_policy_permissions(&token.claims));
                }
                lacking(&missing, |missing| {
                    format!(
                        "the app {client_id} lacks the application permission(s) {}; add them to the app registration and grant admin consent",
                        missing.join(", ")
                    )
                })
            }
        };
        TenantChecks {
            connected: Ok(()),
            authorized,
        }
    }

    async fn read(&self) -> Result<TeamsState, TenantFailure> {
        // Each page is condensed as it arrives (a Microsoft 365 E5 user carries some 86 service
        // plans), and users and numbers are read side by side.
        let mut users = Vec::new();
        let mut index = EmailIndex::default();
        let mut on_users = |page: Vec<crate::microsoft::graph::GraphUser>| {
            for user in page {
                index.insert(users.len(), &user);
                users.push(teams_user(user));
            }
        };
        let read_users = self.graph.list_users_by_page(&mut on_users);
        let mut seen = BTreeSet::new();
        let mut numbers = Vec::new();
        let mut on_numbers = |page: Vec<NumberAssignment>| {
            numbers.extend(
                page.iter()
                    .filter_map(narrow::held_number)
                    .filter(|held| seen.insert(held.number.clone())),
            );
        };
        let read_numbers = self.graph.list_numbers_by_page(&mut on_numbers);
        futures::try_join!(read_users, read_numbers).map_err(|error| {
            let (reason, message) = graph_failure(&error, "cannot read Teams users and numbers");
            TenantFailure { reason, message }
        })?;
        let policies = read_policies(&self.graph, &self.policy_types, &self.policy_names)
            .await
            .map_err(|error| {
                let (reason, message) = graph_failure(&error, "cannot read Teams policies");
                TenantFailure { reason, message }
            })?;
        Ok(TeamsState {
            users,
            index,
            numbers,
            policies,
        })
    }

    async fn read_users_by_id(&self, ids: &[String]) -> Result<TeamsState, TenantFailure> {
        narrow::read_users_by_id(self, ids).await
    }

    async fn read_around(&self, around: &Around) -> Result<TeamsState, TenantFailure> {
        narrow::read_around(self, around).await
    }

    async fn holders_of(&self, numbers: &[String]) -> Result<HashMap<String, Option<String>>, WriteError> {
        narrow::holders_of(self, numbers).await
    }
}

/// What the sync keeps of a Graph user.
pub(crate) fn teams_user(user: crate::microsoft::graph::GraphUser) -> TeamsUser {
    TeamsUser {
        licence: LicenceState::classify(&user.assigned_plans, &user.assigned_licenses),
        user_principal_name: user.user_principal_name.unwrap_or_else(|| user.id.clone()),
        id: user.id,
        mail: user.mail,
        enabled: user.account_enabled.unwrap_or(true),
    }
}

/// A listed number, normalised, and the user holding it: only a `userAssigned` number has one
/// (an unassigned number may still name its last target).
pub(crate) fn held_by(number: &NumberAssignment) -> (String, Option<String>) {
    let holder = number
        .assignment_target_id
        .clone()
        .filter(|_| number.assignment_status.as_deref() == Some("userAssigned"));
    let normalised = normalise(&number.telephone_number).unwrap_or_else(|| number.telephone_number.clone());
    (normalised, holder)
}

/// The admin's roles as a check: held, missing (`RolesMissing`, naming them), or unreadable
/// (`ConsentMissing`: the app may not read directory roles, so nothing is said missing).
fn roles_verdict(roles: AdminRoles, account: &str) -> Result<(), (Reason, String)> {
    match roles {
        AdminRoles::Held => Ok(()),
        AdminRoles::Missing(missing) => lacking(&missing, |missing| {
            format!(
                "{account} lacks the {} role(s); assign them in Entra ID as active (not only PIM-eligible) assignments",
                missing.join(" and ")
            )
        }),
        AdminRoles::Unreadable {
            not_found,
            unreadable,
        } => Err((
            Reason::ConsentMissing,
            format!(
                "cannot read whether {account} holds the {} role(s): {unreadable} of its directory role entries came without their role template ID, which Graph does when the app may not read directory roles; add the delegated permission RoleManagement.Read.Directory to the app registration and grant admin consent",
                not_found.join(" and ")
            ),
        )),
    }
}

/// Authorised when nothing is `missing`; otherwise `RolesMissing`, with what `say` makes of it.
fn lacking(missing: &[&str], say: impl FnOnce(&[&str]) -> String) -> Result<(), (Reason, String)> {
    if missing.is_empty() {
        Ok(())
    } else {
        Err((Reason::RolesMissing, say(missing)))
    }
}

fn failed_connection(reason: Reason, message: String) -> TenantChecks {
    let not_checked = format!("not checked: {message}");
    TenantChecks {
        connected: Err((reason, message)),
        authorized: Err((reason, not_checked)),
    }
}

/// A Graph failure as a tenant reason and message.
pub fn graph_failure(error: &GraphError, what: &str) -> (Reason, String) {
    match error {
        GraphError::SignIn(failure) => (failure.reason, failure.message.clone()),
        GraphError::Upstream(upstream) if upstream.is_transient() => {
            (Reason::TransientError, format!("{what}: {upstream}"))
        }
        GraphError::Upstream(upstream) if upstream.status() == Some(403) => (
            Reason::RolesMissing,
            format!(
                "{what}: Microsoft Graph denied access ({upstream}); check the admin's roles or the app's permissions"
            ),
        ),
        GraphError::Upstream(upstream) => (Reason::UnknownError, format!("{what}: {upstream}")),
    }
}
