//! Microsoft's side: identifiers (licences, roles, permissions) shared by the clients and the
//! sandbox.

pub mod catalog;
