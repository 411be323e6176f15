//! Dialpad change-log events: a change in Dialpad reaches Teams in seconds instead of at the
//! next interval.
//!
//! The pieces, from the wire inwards: [`socket`] opens the WebSocket Dialpad gives a URL for,
//! [`signature`] reads each frame as an event signed with the secret the operator generated
//! ([`store`] keeps it in a Secret of the operator's namespace), [`change_log`] maps an event to
//! what to read again, [`coalesce`] turns a burst into one batch, [`feed`] runs one company's
//! endpoint, subscription and connection, and [`hub`] shares a feed between every resource of a
//! company. The controller joins resources to the hub and syncs those a batch names; [`wanted`]
//! gathers what a resource has not synced yet.

pub mod change_log;
pub mod coalesce;
pub mod feed;
pub mod hub;
pub mod signature;
pub mod socket;
pub mod store;
pub mod wanted;

pub use feed::{FeedState, FeedTimings, Wake};
pub use hub::{EventHub, JoinError};
pub use wanted::Wanted;
