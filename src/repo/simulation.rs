//! [`SimulationRepository`]: legacy simulation runs.

use async_trait::async_trait;

use crate::Result;
use crate::model::{NewSimulation, Page, PageRequest, SimulationRun, SimulationStatusUpdate, SimulationSummary};

/// Legacy simulations (`simulation_runs`; replaced by analysis runs).
#[super::repository]
#[async_trait]
pub trait SimulationRepository: Send + Sync {
    /// Creates a simulation run.
    ///
    /// # Errors
    /// Conflict when the id exists; ForeignKey when the scorecard does not exist;
    /// InvalidInput for a non-finite `execution_time_seconds`.
    #[write]
    async fn create(&self, new: &NewSimulation) -> Result<SimulationRun>;

    /// The simulation with this id, or `None`.
    #[read]
    async fn get(&self, id: &str) -> Result<Option<SimulationRun>>;

    /// The simulations of a scorecard, latest `started_at` first (ties by id, descending).
    #[read]
    async fn list_by_scorecard(&self, scorecard_id: &str) -> Result<Vec<SimulationRun>>;

    /// All simulations, latest `started_at` first (ties by id, descending).
    ///
    /// # Errors
    /// InvalidInput for a page outside 1..=200 rows or a negative offset.
    #[read]
    async fn list(&self, page: PageRequest) -> Result<Page<SimulationRun>>;

    /// Writes status, `completed_at`, `total_synths`, `aggregated_outcomes` and
    /// `execution_time_seconds` exactly as given (`None` clears a field).
    ///
    /// # Errors
    /// NotFound when no simulation has this id; InvalidInput for a non-finite
    /// `execution_time_seconds`.
    #[write]
    async fn update_status(&self, id: &str, update: &SimulationStatusUpdate) -> Result<SimulationRun>;

    /// Deletes a simulation; returns whether it existed.
    ///
    /// # Errors
    /// ForeignKey while region analyses or sensitivity results reference it.
    #[write]
    async fn delete(&self, id: &str) -> Result<bool>;

    /// The simulation with its numbers of region analyses and sensitivity results, or `None`.
    #[read]
    async fn summary(&self, id: &str) -> Result<Option<SimulationSummary>>;
}
