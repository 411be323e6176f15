//! Graph's `users/delta`: which users changed since a state token, one request when nothing did.
//!
//! From "Use delta query to track changes in Microsoft Graph data"
//! (https://learn.microsoft.com/en-us/graph/delta-query-overview): a round follows
//! `@odata.nextLink` until a page carries `@odata.deltaLink`, whose URL starts the next round; the
//! `$select` of the first request is kept in the tokens; Microsoft Entra resources such as users
//! "support sync from now": `$deltaToken=latest` answers a deltaLink and no users. Removed users
//! carry `@removed`. A token Graph no longer knows is answered `410 Gone` (a synchronization
//! reset, with a `Location` to start again) or `400` with the code `syncStateNotFound`: the
//! caller starts again from now, knowing changes may have been missed.

use serde::Deserialize;

use super::{GraphClient, GraphError, USER_SELECT};
use crate::upstream::{Idempotency, Pages, Service, read_json};

/// The endpoint's name in errors and metrics.
const ENDPOINT: &str = "GET /v1.0/users/delta";

/// What one round found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeltaRound {
    /// Object ids of users that changed (or were removed) since the round's token.
    pub changed: Vec<String>,
    /// Where the next round starts.
    pub delta_link: String,
}

/// Why a round could not be read.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DeltaError {
    /// Graph no longer knows the token: start again from now; changes in between are unknown.
    #[error("Graph no longer tracks changes from this point ({0}); starting again from now")]
    Reset(u16),
    /// Any other failure.
    #[error(transparent)]
    Graph(#[from] GraphError),
}

#[derive(Deserialize)]
struct DeltaPage {
    #[serde(default)]
    value: Vec<DeltaUser>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
    #[serde(rename = "@odata.deltaLink", default)]
    delta_link: Option<String>,
}

#[derive(Deserialize)]
struct DeltaUser {
    #[serde(default)]
    id: Option<String>,
}

impl GraphClient {
    /// A deltaLink from now on, reading no user (`$deltaToken=latest`), tracking the properties
    /// the sync reads.
    pub async fn users_delta_from_now(&self) -> Result<String, DeltaError> {
        let first = format!(
            "{}/v1.0/users/delta?$select={USER_SELECT}&$deltaToken=latest",
            self.base
        );
        let round = self.users_delta_round(first).await?;
        Ok(round.delta_link)
    }

    /// The users changed since `delta_link` and the link of the next round.
    pub async fn users_delta_since(&self, delta_link: &str) -> Result<DeltaRound, DeltaError> {
        self.users_delta_round(delta_link.to_owned()).await
    }

    async fn users_delta_round(&self, first: String) -> Result<DeltaRound, DeltaError> {
        let mut pages = Pages::new(Service::Graph, ENDPOINT, self.upstream.limits().max_pages);
        let mut next = first;
        let mut handed_by: Option<String> = None;
        let mut changed = Vec::new();
        loop {
            self.origin
                .check(ENDPOINT, "@odata.nextLink", &next)
                .map_err(GraphError::from)?;
            pages
                .follow(&next, "@odata.nextLink", handed_by.as_deref())
                .map_err(GraphError::from)?;
            let url = &next;
            let fetch = move || self.send(ENDPOINT, Idempotency::Idempotent, move |http| http.get(url));
            let read: Result<(DeltaPage, _), GraphError> = read_json(Service::Graph, ENDPOINT, fetch).await;
            let (page, request_id) = read.map_err(reset_or_failure)?;
            handed_by = request_id;
            changed.extend(page.value.into_iter().filter_map(|user| user.id));
            match (page.next_link, page.delta_link) {
                (Some(link), _) => next = link,
                (None, Some(link)) => {
                    self.origin
                        .check(ENDPOINT, "@odata.deltaLink", &link)
                        .map_err(GraphError::from)?;
                    return Ok(DeltaRound {
                        changed,
                        delta_link: link,
                    });
                }
                (None, None) => {
                    return Err(DeltaError::Graph(GraphError::Upstream(
                        crate::upstream::UpstreamError::Malformed {
                            service: Service::Graph,
                            endpoint: ENDPOINT.into(),
                            detail: "a users/delta page has neither @odata.nextLink nor @odata.deltaLink"
                                .into(),
                            request_id: handed_by,
                            problem: crate::upstream::BodyProblem::UnexpectedShape,
                        },
                    )));
                }
            }
        }
    }
}

/// A 410, or a 400 `syncStateNotFound`, is a reset; anything else a failure.
fn reset_or_failure(error: GraphError) -> DeltaError {
    match &error {
        GraphError::Upstream(upstream) => match (upstream.status(), upstream.code()) {
            (Some(410), _) => DeltaError::Reset(410),
            (Some(400), Some(code)) if code.eq_ignore_ascii_case("syncStateNotFound") => {
                DeltaError::Reset(400)
            }
            _ => DeltaError::Graph(error),
        },
        _ => DeltaError::Graph(error),
    }
}
