//! The ceremony engine: a reviewed plan, a registry of steps with ids, persisted state,
//! a hash-chained transcript, token back ends and the steps themselves. The terminal UI is
//! a thin layer over this, so tests drive exactly the same steps.

pub mod build;
pub mod claims;
pub mod engine;
pub mod existing_key;
pub mod freeze;
pub mod job;
pub mod plan;
pub mod plan_report;
pub mod presence;
pub mod progress;
pub mod rehearse;
pub mod stale;
pub mod state;
pub mod steps;
pub mod templates;
pub mod tokens;
pub mod transcript;
pub mod ui;
