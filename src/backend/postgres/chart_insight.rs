//! [`ChartInsightRepository`] over PostgreSQL.

use async_trait::async_trait;

use super::PgDb;
use crate::Result;
use crate::backend::driver::Driver;
use crate::model::{ChartInsight, NewChartInsight, now};
use crate::repo::ChartInsightRepository;

/// Chart insights in PostgreSQL.
pub(crate) struct PgChartInsightRepository {
    db: PgDb,
}

impl PgChartInsightRepository {
    pub(crate) fn new(db: PgDb) -> Self {
        PgChartInsightRepository { db }
    }
}

#[async_trait]
impl ChartInsightRepository for PgChartInsightRepository {
    async fn get(&self, simulation_id: &str, insight_type: &str) -> Result<Option<ChartInsight>> {
        self.db
            .fetch_opt(
                "SELECT id, simulation_id, insight_type, response_json, created_at, updated_at
                 FROM chart_insights WHERE simulation_id = $1 AND insight_type = $2",
                &[&simulation_id, &insight_type],
            )
            .await
    }

    async fn list_by_simulation(&self, simulation_id: &str) -> Result<Vec<ChartInsight>> {
        self.db
            .fetch_all(
                "SELECT id, simulation_id, insight_type, response_json, created_at, updated_at
                 FROM chart_insights WHERE simulation_id = $1 ORDER BY insight_type",
                &[&simulation_id],
            )
            .await
    }

    async fn save(&self, new: &NewChartInsight) -> Result<ChartInsight> {
        self.db
            .fetch_written(
                "INSERT INTO chart_insights (id, simulation_id, insight_type, response_json, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $5)
                 ON CONFLICT (simulation_id, insight_type) DO UPDATE
                 SET response_json = excluded.response_json, updated_at = excluded.updated_at
                 RETURNING id, simulation_id, insight_type, response_json, created_at, updated_at",
                &[
                    &new.id,
                    &new.simulation_id,
                    &new.insight_type,
                    &new.response_json,
                    &new.saved_at.unwrap_or_else(now),
                ],
            )
            .await
    }

    async fn delete(&self, simulation_id: &str, insight_type: &str) -> Result<bool> {
        let deleted = self
            .db
            .execute_count(
                "DELETE FROM chart_insights WHERE simulation_id = $1 AND insight_type = $2",
                &[&simulation_id, &insight_type],
            )
            .await?;
        Ok(deleted > 0)
    }

    async fn delete_by_simulation(&self, simulation_id: &str) -> Result<u64> {
        self.db
            .execute_count("DELETE FROM chart_insights WHERE simulation_id = $1", &[&simulation_id])
            .await
    }
}
