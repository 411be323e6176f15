//! The state tokens of `users/delta` (`$skiptoken` in an `@odata.nextLink`, `$deltatoken` in an
//! `@odata.deltaLink`). Microsoft calls them opaque and says they encode the initial request's
//! query parameters ("Use delta query to track changes in Microsoft Graph data", State tokens,
//! https://learn.microsoft.com/graph/delta-query-overview); the sandbox's carry the directory
//! sequence a round reads up to, the world's epoch, when they were minted, and `$select`/`$filter`.

use base64::Engine;
use serde::{Deserialize, Serialize};

/// What the text of every sandbox delta token starts with, once decoded.
const PREFIX: &str = "sandbox-users-delta:";

/// Where a delta round stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "camelCase")]
pub(super) enum Position {
    /// A `$deltatoken`: the next round reports what changed after `after`.
    Delta {
        /// The sequence the finished round read up to.
        after: u64,
    },
    /// A `$skiptoken`: the rest of a round.
    Skip {
        /// `None` in the initial round (every user), else the sequence changes are reported after.
        since: Option<u64>,
        /// The sequence the round reads up to (the directory's when the round began).
        upto: u64,
        /// The id the next page starts at.
        resume_at: String,
    },
}

/// A decoded state token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct DeltaState {
    /// The world it was minted by.
    pub(super) epoch: u64,
    /// When it was minted (Unix seconds).
    pub(super) minted: i64,
    /// Where the round stands.
    pub(super) position: Position,
    /// The initial request's `$select`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(super) select: Option<String>,
    /// The initial request's `$filter`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(super) filter: Option<String>,
}

/// Why a state token is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TokenProblem {
    /// Not a token this sandbox minted: garbled, or another kind of token.
    Undecodable,
    /// Older than the fixture's `deltaTokenLifetimeSeconds`.
    Expired,
    /// Minted by another run of the sandbox, or names a sequence the directory has not reached:
    /// the client must start over (Graph's "synchronization reset").
    Reset,
}

impl DeltaState {
    /// The token text: base64url, no padding.
    pub(super) fn encode(&self) -> String {
        let json = serde_json::to_string(self).expect("a delta state serializes");
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{PREFIX}{json}"))
    }

    /// Decodes `token`, without checking it against the directory.
    pub(super) fn decode(token: &str) -> Result<DeltaState, TokenProblem> {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.trim().trim_end_matches('='))
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| {
                text.strip_prefix(PREFIX)
                    .and_then(|json| serde_json::from_str(json).ok())
            })
            .ok_or(TokenProblem::Undecodable)
    }

    /// Whether a world in `epoch` at directory sequence `current` takes this token at `now`
    /// (Unix seconds), tokens living `lifetime` seconds.
    pub(super) fn check(
        &self,
        epoch: u64,
        current: u64,
        now: i64,
        lifetime: u64,
    ) -> Result<(), TokenProblem> {
        let reaches = match &self.position {
            Position::Delta { after } => *after,
            Position::Skip { since, upto, .. } => (*upto).max(since.unwrap_or(0)),
        };
        if self.epoch != epoch || reaches > current || self.minted > now {
            return Err(TokenProblem::Reset);
        }
        if now.saturating_sub(self.minted) > i64::try_from(lifetime).unwrap_or(i64::MAX) {
            return Err(TokenProblem::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(after: u64) -> DeltaState {
        DeltaState {
            epoch: 7,
            minted: 1_000,
            position: Position::Delta { after },
            select: Some("id,accountEnabled".into()),
            filter: None,
        }
    }

    #[test]
    fn a_token_round_trips_and_carries_the_initial_select() {
        let skip = DeltaState {
            position: Position::Skip {
                since: None,
                upto: 3,
                resume_at: "b0".into(),
            },
            ..delta(0)
        };
        for state in [delta(2), skip] {
            let token = state.encode();
            assert!(
                token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
            assert_eq!(DeltaState::decode(&token), Ok(state));
        }
    }

    #[test]
    fn garbled_tokens_and_other_kinds_of_token_are_undecodable() {
        let other = crate::graph::odata::paging::encode_skiptoken("users", "abc");
        for token in ["", "%%%", "bm90IGEgdG9rZW4", other.as_str()] {
            assert_eq!(
                DeltaState::decode(token),
                Err(TokenProblem::Undecodable),
                "{token}"
            );
        }
    }

    #[test]
    fn a_token_from_another_run_or_from_the_future_asks_for_a_reset() {
        assert_eq!(delta(2).check(7, 2, 1_000, 60), Ok(()));
        assert_eq!(delta(2).check(8, 2, 1_000, 60), Err(TokenProblem::Reset));
        assert_eq!(delta(3).check(7, 2, 1_000, 60), Err(TokenProblem::Reset));
        assert_eq!(delta(2).check(7, 2, 999, 60), Err(TokenProblem::Reset));
    }

    #[test]
    fn a_token_older_than_its_lifetime_has_expired() {
        assert_eq!(delta(2).check(7, 5, 1_060, 60), Ok(()));
        assert_eq!(delta(2).check(7, 5, 1_061, 60), Err(TokenProblem::Expired));
    }
}
