//! The demo data set (`fixtures/demo.json`), loaded through the repositories.

use serde::Deserialize;

use crate::model::{InterviewGuideFields, NewExperiment, NewSynth, NewSynthGroup};
use crate::{ErrorKind, Result, Store};

/// The demo data set embedded in the binary.
pub const DEMO_JSON: &str = include_str!("../fixtures/demo.json");

/// A data set of groups, synths and experiments (with optional interview guides).
#[derive(Debug, Clone, Deserialize)]
pub struct DataSet {
    /// Synth groups (the default group always exists and is not listed).
    pub synth_groups: Vec<NewSynthGroup>,
    /// Synths.
    pub synths: Vec<NewSynth>,
    /// Experiments.
    pub experiments: Vec<FixtureExperiment>,
}

/// An experiment of a data set, with its interview guide if it has one.
#[derive(Debug, Clone, Deserialize)]
pub struct FixtureExperiment {
    /// The experiment.
    #[serde(flatten)]
    pub experiment: NewExperiment,
    /// Its interview guide.
    pub interview_guide: Option<InterviewGuideFields>,
}

/// What [`load`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LoadReport {
    /// Rows created.
    pub created: usize,
    /// Rows already present (same id), left as they were.
    pub already_present: usize,
}

impl DataSet {
    /// The embedded demo data set.
    ///
    /// # Errors
    /// Other if the embedded JSON does not parse (a build defect).
    pub fn demo() -> Result<DataSet> {
        serde_json::from_str(DEMO_JSON).map_err(|e| crate::Error::other(format!("fixtures/demo.json: {e}")))
    }
}

fn tally<T>(report: &mut LoadReport, result: Result<T>) -> Result<()> {
    match result {
        Ok(_) => report.created += 1,
        Err(err) if err.kind() == ErrorKind::Conflict => report.already_present += 1,
        Err(err) => return Err(err),
    }
    Ok(())
}

/// Loads a data set through the repositories; rows whose id already exists are left alone,
/// so loading twice is harmless.
///
/// # Errors
/// Any repository error other than a unique conflict.
pub async fn load(store: &Store, data: &DataSet) -> Result<LoadReport> {
    let mut report = LoadReport::default();
    store.synth_groups().ensure_default().await?;
    for group in &data.synth_groups {
        tally(&mut report, store.synth_groups().create(group).await)?;
    }
    for synth in &data.synths {
        tally(&mut report, store.synths().create(synth).await)?;
    }
    for fixture in &data.experiments {
        tally(&mut report, store.experiments().create(&fixture.experiment).await)?;
        if let Some(guide) = &fixture.interview_guide {
            tally(
                &mut report,
                store.interview_guides().create(&fixture.experiment.id, guide).await,
            )?;
        }
    }
    Ok(report)
}
