//! The repository traits: one trait per repository, one file per trait. Services hold
//! `Arc<dyn …Repository>` and cannot tell which backend answers.

mod experiment;
mod exploration;
mod interview_guide;
mod research;
mod synth;
mod synth_group;

pub use experiment::ExperimentRepository;
pub use exploration::ExplorationRepository;
pub use interview_guide::InterviewGuideRepository;
pub use research::ResearchRepository;
pub use synth::SynthRepository;
pub use synth_group::SynthGroupRepository;
