//! The parity suite: every case is written once and runs on both backends
//! (`cargo test --features parity`; without the feature only the SQLite half runs).

#[macro_use]
mod harness;
mod support;

mod experiments;
mod regions;
mod scorecards;
mod sensitivity;
mod simulations;
