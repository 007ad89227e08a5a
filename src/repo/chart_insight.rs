//! [`ChartInsightRepository`]: LLM insights per chart of a simulation.

use async_trait::async_trait;

use crate::Result;
use crate::model::{ChartInsight, NewChartInsight};

/// Chart insights (`chart_insights`; one per simulation and insight type, no foreign key).
#[super::repository]
#[async_trait]
pub trait ChartInsightRepository: Send + Sync {
    /// The insight of a simulation and type, or `None`.
    #[read]
    async fn get(&self, simulation_id: &str, insight_type: &str) -> Result<Option<ChartInsight>>;

    /// Every insight of a simulation, by insight type (byte order).
    #[read]
    async fn list_by_simulation(&self, simulation_id: &str) -> Result<Vec<ChartInsight>>;

    /// Stores an insight. Replacing one keeps its id and `created_at`, replaces
    /// `response_json` and sets `updated_at`; a new one gets `new.id` and both times.
    ///
    /// # Errors
    /// Conflict when a new insight's id belongs to another simulation/type; InvalidInput for
    /// text/JSON holding a NUL character.
    #[write]
    async fn save(&self, new: &NewChartInsight) -> Result<ChartInsight>;

    /// Deletes one insight; returns whether it existed.
    #[write]
    async fn delete(&self, simulation_id: &str, insight_type: &str) -> Result<bool>;

    /// Deletes every insight of a simulation; returns how many there were.
    #[write]
    async fn delete_by_simulation(&self, simulation_id: &str) -> Result<u64>;
}
