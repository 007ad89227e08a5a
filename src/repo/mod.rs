//! The repository traits: one trait per repository, one file per trait. Services hold
//! `Arc<dyn …Repository>` and cannot tell which backend answers.

mod experiment;
mod interview_guide;
mod synth;
mod synth_group;

pub use experiment::ExperimentRepository;
pub use interview_guide::InterviewGuideRepository;
pub use synth::SynthRepository;
pub use synth_group::SynthGroupRepository;
