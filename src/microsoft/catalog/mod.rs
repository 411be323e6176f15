//! The Microsoft facts the operator reasons about, each checked against Microsoft's own published
//! material (cited where it is defined): licences and service plans (`licensing`, tested against
//! Microsoft's licensing table in `vendor/` by `tests/licensing_table.rs`), directory roles
//! (`roles`) and the Graph permissions of application mode (`permissions`). The sandbox keeps its
//! own facts, so the two are independent witnesses of each other.

mod licensing;
mod permissions;
mod roles;

pub use licensing::*;
pub use permissions::*;
pub use roles::*;
