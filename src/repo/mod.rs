//! The repository traits: one trait per repository, one file per trait. Services hold
//! `Arc<dyn …Repository>` and cannot tell which backend answers.
//!
//! Each trait carries `#[repository]` (above `#[async_trait]`) and marks every method
//! `#[read]` or `#[write]` once (an unmarked method does not compile). From that one list the
//! attribute generates the two wrappers every call passes through: `Traced<R>` (each argument
//! checked by `crate::model::Input` before the backend sees it, then one tracing span) and
//! `Routed<dyn Trait>` (dual writes, shadow reads). A new repository is its trait here, its
//! two implementations in `src/backend/`, and one line in `repositories!` (`src/store.rs`).

use synthlab_db_macros::repository;

mod analysis;
mod analysis_cache;
mod chart_insight;
mod experiment;
mod experiment_document;
mod exploration;
mod interview_guide;
mod region;
mod research;
mod scorecard;
mod sensitivity;
mod simulation;
mod synth;
mod synth_group;
mod synth_outcome;

pub use analysis::AnalysisRepository;
pub use analysis_cache::AnalysisCacheRepository;
pub use chart_insight::ChartInsightRepository;
pub use experiment::ExperimentRepository;
pub use experiment_document::ExperimentDocumentRepository;
pub use exploration::ExplorationRepository;
pub use interview_guide::InterviewGuideRepository;
pub use region::RegionRepository;
pub use research::ResearchRepository;
pub use scorecard::ScorecardRepository;
pub use sensitivity::SensitivityRepository;
pub use simulation::SimulationRepository;
pub use synth::SynthRepository;
pub use synth_group::SynthGroupRepository;
pub use synth_outcome::SynthOutcomeRepository;
