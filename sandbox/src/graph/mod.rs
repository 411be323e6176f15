//! Microsoft Graph v1.0: users, the signed-in admin and its roles, `$batch`, Teams telephone
//! numbers and user configurations, and Teams policy assignment.

pub mod auth;
pub mod batch;
pub mod numbers;
pub mod odata;
pub mod policies;
pub mod users;

use std::sync::Arc;

use axum::Router;

use super::SandboxState;

/// Every Graph route.
pub fn routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .merge(users::routes())
        .merge(numbers::routes())
        .merge(policies::routes())
        .merge(batch::routes())
}
