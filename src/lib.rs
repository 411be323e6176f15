//! dialpad-teams-operator keeps every Dialpad user's phone number assigned to the matching
//! Microsoft Teams user (Direct Routing) and reports, per user, why anyone is not in sync.
//!
//! The library holds everything; the binary (`src/main.rs`) only parses the command line.

pub mod api;
pub mod cli;
pub mod commands;
pub mod connect;
pub mod controller;
pub mod dialpad;
pub mod events;
#[doc(hidden)]
pub mod fuzzing;
pub mod microsoft;
pub mod sync;
pub mod telemetry;
pub mod tls;
pub mod upstream;
