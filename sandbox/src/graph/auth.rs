//! Bearer-token checks for Graph: who is calling, and may they do this?

use std::sync::Arc;
use std::time::Instant;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;

use crate::SandboxState;
use crate::directory_roles;
use crate::errors::graph_error;
use crate::world::{Principal, TokenProblem};

/// What a request needs permission for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// `/users` and `/users/delta`: `User.Read.All` (or a higher permission that includes it)
    /// for apps; any signed-in user. "user: delta" lists the same application permissions as
    /// "List users" (https://learn.microsoft.com/graph/api/user-delta).
    ReadUsers,
    /// `/me...`: a delegated (user) token.
    SignedInUser,
    /// Listing numbers and reading operations: `TeamsTelephoneNumber.Read(Write).All` for apps;
    /// a Teams admin role for users.
    ReadNumbers,
    /// Assigning and unassigning: `TeamsTelephoneNumber.ReadWrite.All`; a Teams admin role.
    WriteNumbers,
    /// Teams user configurations: `TeamsUserConfiguration.Read.All`; a Teams admin role.
    ReadUserConfigurations,
    /// Teams policies (`getPolicyId`, `userAssignments/assign` and `unassign`):
    /// `TeamsPolicyUserAssign.ReadWrite.All`; a Teams admin role.
    AssignPolicies,
}

/// Checks the `Authorization` header and `need`; returns the caller or the Graph error response.
#[allow(
    clippy::result_large_err,
    reason = "handlers answer with this response as is; boxing it buys nothing"
)]
pub fn authorize(state: &Arc<SandboxState>, headers: &HeaderMap, need: Need) -> Result<Principal, Response> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Err(unauthenticated("Access token is empty."));
    };
    let world = state.world();
    let principal = match world.access_grant(token, Instant::now()) {
        Ok(grant) => grant.principal.clone(),
        Err(TokenProblem::Expired) => {
            return Err(unauthenticated("Access token has expired or is not yet valid."));
        }
        Err(TokenProblem::Unknown) => {
            return Err(unauthenticated(
                "CompactToken parsing failed with error code: 80049217",
            ));
        }
    };
    let allowed = match (&principal, need) {
        (Principal::Application { .. }, Need::SignedInUser) => {
            return Err(graph_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "/me request is only valid with delegated authentication flow.",
            ));
        }
        (Principal::Application { roles, .. }, need) => {
            let accepted: &[&str] = match need {
                // "List users", Permissions: User.Read.All, or the higher User.ReadWrite.All,
                // Directory.Read.All and Directory.ReadWrite.All
                // (https://learn.microsoft.com/graph/api/user-list).
                Need::ReadUsers => &[
                    "User.Read.All",
                    "User.ReadWrite.All",
                    "Directory.Read.All",
                    "Directory.ReadWrite.All",
                ],
                Need::ReadNumbers => &[
                    "TeamsTelephoneNumber.Read.All",
                    "TeamsTelephoneNumber.ReadWrite.All",
                ],
                Need::WriteNumbers => &["TeamsTelephoneNumber.ReadWrite.All"],
                Need::ReadUserConfigurations => &["TeamsUserConfiguration.Read.All"],
                // getPolicyId, assign and unassign: TeamsPolicyUserAssign.ReadWrite.All, "Higher
                // privileged permissions: Not available"
                // (https://learn.microsoft.com/graph/api/teamsadministration-teamspolicyassignment-getpolicyid,
                // https://learn.microsoft.com/graph/api/teamsadministration-teamspolicyuserassignment-assign).
                Need::AssignPolicies => &["TeamsPolicyUserAssign.ReadWrite.All"],
                Need::SignedInUser => &[],
            };
            roles.iter().any(|role| accepted.contains(&role.as_str()))
        }
        (Principal::User { .. }, Need::ReadUsers | Need::SignedInUser) => true,
        (Principal::User { user_id, .. }, _) => world
            .effective_role_template_ids(user_id)
            .iter()
            .filter_map(|r| directory_roles::role_by_template_id(r))
            .any(|role| role.manages_teams_numbers),
    };
    if allowed {
        Ok(principal)
    } else {
        Err(graph_error(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ))
    }
}

fn unauthenticated(message: &str) -> Response {
    let mut response = graph_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", message);
    response.headers_mut().insert(
        "www-authenticate",
        HeaderValue::from_static("Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\""),
    );
    response
}
