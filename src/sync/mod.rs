//! The sync core: desired state (Dialpad or the static list) and observed state (Teams) in,
//! actions and one outcome per user out, then a status report. Pure where it decides
//! (`numbers`, `plan`, `report`), bounded and retried where it acts (`execute`); I/O sits behind
//! the traits of `ports`, in the core's own words (`change`), implemented over the real clients in
//! [`crate::connect::adapters`]. Nothing here knows the Graph or Dialpad clients.

pub mod change;
pub mod confirm;
pub mod early;
pub mod execute;
pub mod input;
mod lookup;
pub mod model;
pub mod numbers;
pub mod offices;
pub mod ownership;
pub mod pipeline;
pub mod plan;
pub mod policies;
mod policy_execute;
mod policy_plan;
pub mod ports;
pub mod readiness;
mod removals;
pub mod report;
pub mod sent;
pub mod targeted;
pub mod targets;
#[cfg(test)]
mod testing;
pub mod trail;
pub mod users_report;
