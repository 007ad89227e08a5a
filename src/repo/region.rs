//! [`RegionRepository`]: rule-defined regions of a legacy simulation.

use async_trait::async_trait;

use crate::Result;
use crate::model::{NewRegionAnalysis, RegionAnalysis};

/// Region analyses (`region_analyses`).
#[super::repository]
#[async_trait]
pub trait RegionRepository: Send + Sync {
    /// Saves one region analysis.
    ///
    /// # Errors
    /// Conflict when the id exists; ForeignKey when the simulation does not exist;
    /// InvalidInput for a non-finite rate.
    #[write]
    async fn save(&self, new: &NewRegionAnalysis) -> Result<RegionAnalysis>;

    /// Saves several region analyses at once, all or none; returns them in input order.
    ///
    /// # Errors
    /// As [`RegionRepository::save`] for any of them (then none is saved).
    #[write]
    async fn save_many(&self, new: &[NewRegionAnalysis]) -> Result<Vec<RegionAnalysis>>;

    /// The region analysis with this id, or `None`.
    #[read]
    async fn get(&self, id: &str) -> Result<Option<RegionAnalysis>>;

    /// The regions of a simulation, largest `failure_delta` first (ties by id, ascending).
    #[read]
    async fn list_by_simulation(&self, simulation_id: &str) -> Result<Vec<RegionAnalysis>>;

    /// Deletes the regions of a simulation; returns how many were deleted.
    #[write]
    async fn delete_by_simulation(&self, simulation_id: &str) -> Result<u64>;
}
