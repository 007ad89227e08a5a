//! [`ResearchRepository`] over SQLite.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;

use super::SqliteDb;
use super::row::{SqliteArgs, args};
use crate::Result;
use crate::backend::driver::Driver;
use crate::backend::from_row::{additional_context_row, exec_id_row, total_turns_row};
use crate::model::{
    ExecutionChanges, ExecutionDetail, ExecutionFilter, NewResearchExecution, NewTranscript, Page, PageRequest,
    ResearchExecution, Transcript, now,
};
use crate::repo::ResearchRepository;

/// Interview batches and transcripts in the legacy SQLite store.
pub(crate) struct SqliteResearchRepository {
    db: SqliteDb,
}

impl SqliteResearchRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteResearchRepository { db }
    }
}

/// The id list as one JSON array parameter, expanded in SQL with `json_each`.
fn ids_arg(ids: &[String]) -> SqliteArgs {
    args![serde_json::Value::from(ids.to_vec())]
}

#[async_trait]
impl ResearchRepository for SqliteResearchRepository {
    async fn list_executions(&self, filter: &ExecutionFilter, page: PageRequest) -> Result<Page<ResearchExecution>> {
        // julianday() orders legacy timestamp shapes by instant, text breaks ms ties.
        self.db
            .fetch_page(
                "WITH total AS (
                     SELECT count(*) AS n FROM research_executions
                     WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR experiment_id = ?2)
                 )
                 SELECT total.n AS total, p.* FROM total LEFT JOIN (
                     SELECT exec_id, experiment_id, topic_name, status, synth_count, successful_count,
                            failed_count, model, max_turns, started_at, completed_at, additional_context,
                            julianday(started_at) AS sort_key
                     FROM research_executions
                     WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR experiment_id = ?2)
                     ORDER BY julianday(started_at) DESC NULLS LAST, started_at DESC, exec_id DESC
                     LIMIT ?3 OFFSET ?4
                 ) p ON 1
                 ORDER BY p.sort_key DESC NULLS LAST, p.started_at DESC, p.exec_id DESC",
                args![filter.status, filter.experiment_id, page.limit, page.offset],
                page,
            )
            .await
    }

    async fn get_execution(&self, exec_id: &str) -> Result<Option<ResearchExecution>> {
        self.db
            .fetch_opt(
                "SELECT exec_id, experiment_id, topic_name, status, synth_count, successful_count, failed_count,
                        model, max_turns, started_at, completed_at, additional_context
                 FROM research_executions WHERE exec_id = ?1",
                args![exec_id],
            )
            .await
    }

    async fn get_execution_detail(&self, exec_id: &str) -> Result<Option<ExecutionDetail>> {
        self.db
            .fetch_opt(
                "SELECT e.exec_id, e.experiment_id, e.topic_name, e.status, e.synth_count, e.successful_count,
                        e.failed_count, e.model, e.max_turns, e.started_at, e.completed_at, e.additional_context,
                        (SELECT count(*) FROM transcripts t WHERE t.exec_id = e.exec_id) AS transcript_count,
                        (SELECT coalesce(sum(t.turn_count), 0) FROM transcripts t WHERE t.exec_id = e.exec_id)
                            AS total_turns,
                        EXISTS (SELECT 1 FROM experiment_documents d
                                WHERE d.experiment_id = e.experiment_id AND d.document_type = 'summary')
                            AS has_summary,
                        EXISTS (SELECT 1 FROM experiment_documents d
                                WHERE d.experiment_id = e.experiment_id AND d.document_type = 'prfaq')
                            AS has_prfaq
                 FROM research_executions e WHERE e.exec_id = ?1",
                args![exec_id],
            )
            .await
    }

    async fn create_execution(&self, new: &NewResearchExecution) -> Result<ResearchExecution> {
        self.db
            .fetch_written(
                "INSERT INTO research_executions (exec_id, experiment_id, topic_name, status, synth_count,
                     successful_count, failed_count, model, max_turns, started_at, additional_context)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, 0, ?6, ?7, ?8, ?9)
                 RETURNING exec_id, experiment_id, topic_name, status, synth_count, successful_count,
                           failed_count, model, max_turns, started_at, completed_at, additional_context",
                args![
                    new.exec_id,
                    new.experiment_id,
                    new.topic_name,
                    new.status,
                    new.synth_count,
                    new.model,
                    new.max_turns,
                    new.started_at.unwrap_or_else(now),
                    new.additional_context
                ],
            )
            .await
    }

    async fn update_execution(&self, exec_id: &str, changes: &ExecutionChanges) -> Result<ResearchExecution> {
        self.db
            .fetch_updated(
                "UPDATE research_executions
                 SET status = coalesce(?2, status), successful_count = coalesce(?3, successful_count),
                     failed_count = coalesce(?4, failed_count), completed_at = coalesce(?5, completed_at)
                 WHERE exec_id = ?1
                 RETURNING exec_id, experiment_id, topic_name, status, synth_count, successful_count,
                           failed_count, model, max_turns, started_at, completed_at, additional_context",
                args![
                    exec_id,
                    changes.status,
                    changes.successful_count,
                    changes.failed_count,
                    changes.completed_at
                ],
                format!("research execution {exec_id}"),
            )
            .await
    }

    async fn executions_by_experiment(&self, experiment_id: &str) -> Result<Vec<ResearchExecution>> {
        self.db
            .fetch_all(
                "SELECT exec_id, experiment_id, topic_name, status, synth_count, successful_count, failed_count,
                        model, max_turns, started_at, completed_at, additional_context
                 FROM research_executions WHERE experiment_id = ?1
                 ORDER BY julianday(started_at) DESC NULLS LAST, started_at DESC, exec_id DESC",
                args![experiment_id],
            )
            .await
    }

    async fn auto_interview(&self, experiment_id: &str) -> Result<Option<ResearchExecution>> {
        self.db
            .fetch_opt(
                "SELECT exec_id, experiment_id, topic_name, status, synth_count, successful_count, failed_count,
                        model, max_turns, started_at, completed_at, additional_context
                 FROM research_executions WHERE experiment_id = ?1
                 ORDER BY julianday(started_at) DESC NULLS LAST, started_at DESC, exec_id DESC
                 LIMIT 1",
                args![experiment_id],
            )
            .await
    }

    async fn list_transcripts(&self, exec_id: &str) -> Result<Vec<Transcript>> {
        self.db
            .fetch_all(
                "SELECT id, exec_id, synth_id, synth_name, status, turn_count, \"timestamp\", messages
                 FROM transcripts WHERE exec_id = ?1
                 ORDER BY synth_name ASC, id ASC",
                args![exec_id],
            )
            .await
    }

    async fn get_transcript(&self, exec_id: &str, synth_id: &str) -> Result<Option<Transcript>> {
        self.db
            .fetch_opt(
                "SELECT id, exec_id, synth_id, synth_name, status, turn_count, \"timestamp\", messages
                 FROM transcripts WHERE exec_id = ?1 AND synth_id = ?2",
                args![exec_id, synth_id],
            )
            .await
    }

    async fn get_transcript_by_id(&self, id: &str) -> Result<Option<Transcript>> {
        self.db
            .fetch_opt(
                "SELECT id, exec_id, synth_id, synth_name, status, turn_count, \"timestamp\", messages
                 FROM transcripts WHERE id = ?1",
                args![id],
            )
            .await
    }

    async fn upsert_transcript(&self, new: &NewTranscript) -> Result<Transcript> {
        self.db
            .fetch_written(
                "INSERT INTO transcripts (id, exec_id, synth_id, synth_name, status, turn_count, \"timestamp\",
                                          messages)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (exec_id, synth_id) DO UPDATE SET
                     synth_name = excluded.synth_name, status = excluded.status,
                     turn_count = excluded.turn_count, \"timestamp\" = excluded.\"timestamp\",
                     messages = excluded.messages
                 RETURNING id, exec_id, synth_id, synth_name, status, turn_count, \"timestamp\", messages",
                args![
                    new.id,
                    new.exec_id,
                    new.synth_id,
                    new.synth_name,
                    new.status,
                    new.turn_count,
                    new.timestamp.unwrap_or_else(now),
                    new.messages
                ],
            )
            .await
    }

    async fn with_summary(&self, exec_ids: &[String]) -> Result<BTreeSet<String>> {
        self.db
            .fetch_mapped(
                "SELECT e.exec_id FROM research_executions e
                 WHERE e.exec_id IN (SELECT value FROM json_each(?1))
                   AND EXISTS (SELECT 1 FROM experiment_documents d
                               WHERE d.experiment_id = e.experiment_id AND d.document_type = 'summary')",
                ids_arg(exec_ids),
                exec_id_row,
            )
            .await
    }

    async fn with_prfaq(&self, exec_ids: &[String]) -> Result<BTreeSet<String>> {
        self.db
            .fetch_mapped(
                "SELECT e.exec_id FROM research_executions e
                 WHERE e.exec_id IN (SELECT value FROM json_each(?1))
                   AND EXISTS (SELECT 1 FROM experiment_documents d
                               WHERE d.experiment_id = e.experiment_id AND d.document_type = 'prfaq')",
                ids_arg(exec_ids),
                exec_id_row,
            )
            .await
    }

    async fn with_additional_context(&self, exec_ids: &[String]) -> Result<BTreeSet<String>> {
        self.db
            .fetch_mapped(
                "SELECT exec_id FROM research_executions
                 WHERE exec_id IN (SELECT value FROM json_each(?1))
                   AND additional_context IS NOT NULL AND additional_context <> ''",
                ids_arg(exec_ids),
                exec_id_row,
            )
            .await
    }

    async fn additional_contexts(&self, exec_ids: &[String]) -> Result<BTreeMap<String, Option<String>>> {
        self.db
            .fetch_mapped(
                "SELECT exec_id, additional_context FROM research_executions
                 WHERE exec_id IN (SELECT value FROM json_each(?1))",
                ids_arg(exec_ids),
                additional_context_row,
            )
            .await
    }

    async fn total_turns(&self, exec_ids: &[String]) -> Result<BTreeMap<String, i64>> {
        self.db
            .fetch_mapped(
                "SELECT e.exec_id, coalesce(sum(t.turn_count), 0) AS total_turns
                 FROM research_executions e LEFT JOIN transcripts t ON t.exec_id = e.exec_id
                 WHERE e.exec_id IN (SELECT value FROM json_each(?1))
                 GROUP BY e.exec_id",
                ids_arg(exec_ids),
                total_turns_row,
            )
            .await
    }
}
