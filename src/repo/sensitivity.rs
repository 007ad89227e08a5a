//! [`SensitivityRepository`]: one-at-a-time sensitivity analyses of a legacy simulation.

use async_trait::async_trait;

use crate::Result;
use crate::model::{NewSensitivityResult, SensitivityResult};

/// Sensitivity results (`sensitivity_results`).
#[super::repository]
#[async_trait]
pub trait SensitivityRepository: Send + Sync {
    /// Saves a sensitivity result (`created_at` is now unless given).
    ///
    /// # Errors
    /// Conflict when the id exists; ForeignKey when the simulation does not exist;
    /// InvalidInput for a non-finite `baseline_success`.
    #[write]
    async fn save(&self, new: &NewSensitivityResult) -> Result<SensitivityResult>;

    /// The result with this id, or `None`.
    #[read]
    async fn get(&self, id: &str) -> Result<Option<SensitivityResult>>;

    /// The results of a simulation, latest `analyzed_at` first (ties by id, descending).
    #[read]
    async fn list_by_simulation(&self, simulation_id: &str) -> Result<Vec<SensitivityResult>>;

    /// The latest result of a simulation (the first of
    /// [`SensitivityRepository::list_by_simulation`]), or `None`.
    #[read]
    async fn latest_by_simulation(&self, simulation_id: &str) -> Result<Option<SensitivityResult>>;

    /// Deletes the results of a simulation; returns how many were deleted.
    #[write]
    async fn delete_by_simulation(&self, simulation_id: &str) -> Result<u64>;
}
