//! The repository traits: one trait per repository, one file per trait. Services hold
//! `Arc<dyn …Repository>` and cannot tell which backend answers.

mod analysis;
mod analysis_cache;
mod chart_insight;
mod experiment;
mod experiment_document;
mod interview_guide;
mod synth;
mod synth_group;
mod synth_outcome;

pub use analysis::AnalysisRepository;
pub use analysis_cache::AnalysisCacheRepository;
pub use chart_insight::ChartInsightRepository;
pub use experiment::ExperimentRepository;
pub use experiment_document::ExperimentDocumentRepository;
pub use interview_guide::InterviewGuideRepository;
pub use synth::SynthRepository;
pub use synth_group::SynthGroupRepository;
pub use synth_outcome::SynthOutcomeRepository;
