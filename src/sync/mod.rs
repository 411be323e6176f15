//! The sync core: desired state (Dialpad or the static list) and observed state (Teams) in,
//! actions and one outcome per user out, then a status report. Pure where it decides
//! (`numbers`, `plan`, `report`), bounded and retried where it acts (`execute`); I/O sits behind
//! the traits of `ports`, implemented over the real clients in `adapters`.

pub mod adapters;
pub mod confirm;
pub mod connect;
pub mod early;
pub mod execute;
pub mod input;
mod lookup;
pub mod model;
pub mod numbers;
pub mod ownership;
pub mod pipeline;
pub mod plan;
pub mod ports;
mod removals;
pub mod report;
pub mod sent;
pub mod setup;
