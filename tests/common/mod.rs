//! Helpers shared by the integration tests.
#![allow(dead_code, reason = "each test binary uses a different subset")]

pub mod apiserver;
pub mod captured_log;
pub mod issuer;
pub mod pipeline;
pub mod raw_http;
pub mod rbac;
pub mod sign_in;
pub mod specs;
