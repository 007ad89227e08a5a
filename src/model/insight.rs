//! LLM insights per chart (`chart_insights`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Input, Timestamp};

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

/// What a caller supplies to save (create or replace) an insight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Input)]
pub struct NewChartInsight {
    /// Primary key of a new row; [`NewChartInsight::new`] generates one. A save that replaces
    /// the insight of this simulation and type keeps the stored id.
    pub id: String,
    /// The simulation or analysis the chart belongs to.
    pub simulation_id: String,
    /// Which chart.
    pub insight_type: String,
    /// The LLM response.
    pub response_json: Value,
    /// Save time (`created_at` of a new row, `updated_at` always); `None` means now.
    pub saved_at: Option<Timestamp>,
}

impl NewChartInsight {
    /// An insight with a generated id, saved now.
    pub fn new(simulation_id: impl Into<String>, insight_type: impl Into<String>, response_json: Value) -> Self {
        NewChartInsight {
            id: super::id::generate("ins", 12),
            simulation_id: simulation_id.into(),
            insight_type: insight_type.into(),
            response_json,
            saved_at: None,
        }
    }
}
