//! The parity suite: every case is written once and runs on both backends
//! (`cargo test --features parity`; without the feature only the SQLite half runs).

#[macro_use]
mod harness;
mod support;

mod analyses;
mod analysis_cache;
mod chart_insights;
mod constraints;
mod experiment_documents;
mod experiments;
mod explorations;
mod interview_guides;
mod regions;
mod research;
mod schema;
mod scorecards;
mod sensitivity;
mod simulations;
mod synth_groups;
mod synth_outcomes;
mod synths;
mod timestamps;
mod unit_of_work;
