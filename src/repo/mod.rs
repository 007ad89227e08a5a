//! The repository traits: one trait per repository, one file per trait. Services hold
//! `Arc<dyn …Repository>` and cannot tell which backend answers.

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
