//! LLM insights per chart (`chart_insights`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Timestamp;

/// One insight (`chart_insights`; unique per simulation and insight type).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartInsight {
    /// Primary key.
    pub id: String,
    /// The simulation or analysis the chart belongs to (no foreign key in the legacy schema).
    pub simulation_id: String,
    /// Which chart.
    pub insight_type: String,
    /// The LLM response.
    pub response_json: Value,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}
