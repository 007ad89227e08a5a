//! [`ResearchRepository`] over PostgreSQL.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use tokio_postgres::Row;

use super::PgDb;
use super::row::{enumerated, get, opt_json, opt_timestamp, timestamp};
use crate::model::{
    ExecutionChanges, ExecutionDetail, ExecutionFilter, NewResearchExecution, NewTranscript, Page, PageRequest,
    ResearchExecution, Transcript, now, truncate,
};
use crate::repo::ResearchRepository;
use crate::{Error, Result};

const EXECUTIONS: &str = "research_executions";
const TRANSCRIPTS: &str = "transcripts";

/// Interview batches and transcripts in PostgreSQL.
pub(crate) struct PgResearchRepository {
    db: PgDb,
}

impl PgResearchRepository {
    pub(crate) fn new(db: PgDb) -> Self {
        PgResearchRepository { db }
    }
}

fn execution(row: &Row) -> Result<ResearchExecution> {
    Ok(ResearchExecution {
        exec_id: get(row, EXECUTIONS, "exec_id")?,
        experiment_id: get(row, EXECUTIONS, "experiment_id")?,
        topic_name: get(row, EXECUTIONS, "topic_name")?,
        status: enumerated(row, EXECUTIONS, "status")?,
        synth_count: get(row, EXECUTIONS, "synth_count")?,
        successful_count: get(row, EXECUTIONS, "successful_count")?,
        failed_count: get(row, EXECUTIONS, "failed_count")?,
        model: get(row, EXECUTIONS, "model")?,
        max_turns: get(row, EXECUTIONS, "max_turns")?,
        started_at: timestamp(row, EXECUTIONS, "started_at")?,
        completed_at: opt_timestamp(row, EXECUTIONS, "completed_at")?,
        additional_context: get(row, EXECUTIONS, "additional_context")?,
    })
}

fn transcript(row: &Row) -> Result<Transcript> {
    Ok(Transcript {
        id: get(row, TRANSCRIPTS, "id")?,
        exec_id: get(row, TRANSCRIPTS, "exec_id")?,
        synth_id: get(row, TRANSCRIPTS, "synth_id")?,
        synth_name: get(row, TRANSCRIPTS, "synth_name")?,
        status: get(row, TRANSCRIPTS, "status")?,
        turn_count: get(row, TRANSCRIPTS, "turn_count")?,
        timestamp: timestamp(row, TRANSCRIPTS, "timestamp")?,
        messages: opt_json(row, TRANSCRIPTS, "messages")?,
    })
}

fn executions(rows: &[Row]) -> Result<Vec<ResearchExecution>> {
    rows.iter().map(execution).collect()
}

fn transcripts(rows: &[Row]) -> Result<Vec<Transcript>> {
    rows.iter().map(transcript).collect()
}

fn id_set(rows: &[Row]) -> Result<BTreeSet<String>> {
    rows.iter().map(|row| get(row, EXECUTIONS, "exec_id")).collect()
}

#[async_trait]
impl ResearchRepository for PgResearchRepository {
    async fn list_executions(&self, filter: &ExecutionFilter, page: PageRequest) -> Result<Page<ResearchExecution>> {
        let status = filter.status.map(|s| s.as_str());
        // One statement, so the total and the page come from the same snapshot.
        let rows = self
            .db
            .query(
                "WITH total AS (
                     SELECT count(*) AS n FROM research_executions
                     WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR experiment_id = $2)
                 )
                 SELECT total.n AS total, p.* FROM total LEFT JOIN (
                     SELECT exec_id, experiment_id, topic_name, status, synth_count, successful_count,
                            failed_count, model, max_turns, started_at, completed_at, additional_context
                     FROM research_executions
                     WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR experiment_id = $2)
                     ORDER BY started_at DESC, exec_id DESC
                     LIMIT $3 OFFSET $4
                 ) p ON true
                 ORDER BY p.started_at DESC, p.exec_id DESC",
                &[&status, &filter.experiment_id, &page.limit, &page.offset],
            )
            .await?;
        let mut items = Vec::with_capacity(rows.len());
        let mut total = 0;
        for row in &rows {
            total = get(row, EXECUTIONS, "total")?;
            if get::<Option<&str>>(row, EXECUTIONS, "exec_id")?.is_none() {
                continue;
            }
            items.push(execution(row)?);
        }
        Ok(Page::new(items, total, page))
    }

    async fn get_execution(&self, exec_id: &str) -> Result<Option<ResearchExecution>> {
        self.db
            .query_opt(
                "SELECT exec_id, experiment_id, topic_name, status, synth_count, successful_count, failed_count,
                        model, max_turns, started_at, completed_at, additional_context
                 FROM research_executions WHERE exec_id = $1",
                &[&exec_id],
            )
            .await?
            .as_ref()
            .map(execution)
            .transpose()
    }

    async fn get_execution_detail(&self, exec_id: &str) -> Result<Option<ExecutionDetail>> {
        let row = self
            .db
            .query_opt(
                "SELECT e.exec_id, e.experiment_id, e.topic_name, e.status, e.synth_count, e.successful_count,
                        e.failed_count, e.model, e.max_turns, e.started_at, e.completed_at, e.additional_context,
                        (SELECT count(*) FROM transcripts t WHERE t.exec_id = e.exec_id) AS transcript_count,
                        (SELECT coalesce(sum(t.turn_count), 0)::bigint FROM transcripts t WHERE t.exec_id = e.exec_id)
                            AS total_turns,
                        EXISTS (SELECT 1 FROM experiment_documents d
                                WHERE d.experiment_id = e.experiment_id AND d.document_type = 'summary')
                            AS has_summary,
                        EXISTS (SELECT 1 FROM experiment_documents d
                                WHERE d.experiment_id = e.experiment_id AND d.document_type = 'prfaq')
                            AS has_prfaq
                 FROM research_executions e WHERE e.exec_id = $1",
                &[&exec_id],
            )
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(ExecutionDetail {
            execution: execution(&row)?,
            transcript_count: get(&row, EXECUTIONS, "transcript_count")?,
            total_turns: get(&row, EXECUTIONS, "total_turns")?,
            has_summary: get(&row, EXECUTIONS, "has_summary")?,
            has_prfaq: get(&row, EXECUTIONS, "has_prfaq")?,
        }))
    }

    async fn create_execution(&self, new: &NewResearchExecution) -> Result<ResearchExecution> {
        let new = &new.clone();
        let started_at = new.started_at.map(truncate).unwrap_or_else(now);
        let row = self
            .db
            .query_one(
                "INSERT INTO research_executions (exec_id, experiment_id, topic_name, status, synth_count,
                     successful_count, failed_count, model, max_turns, started_at, additional_context)
                 VALUES ($1, $2, $3, $4, $5, 0, 0, $6, $7, $8, $9)
                 RETURNING exec_id, experiment_id, topic_name, status, synth_count, successful_count,
                           failed_count, model, max_turns, started_at, completed_at, additional_context",
                &[
                    &new.exec_id,
                    &new.experiment_id,
                    &new.topic_name,
                    &new.status.as_str(),
                    &new.synth_count,
                    &new.model,
                    &new.max_turns,
                    &started_at,
                    &new.additional_context,
                ],
            )
            .await?;
        execution(&row)
    }

    async fn update_execution(&self, exec_id: &str, changes: &ExecutionChanges) -> Result<ResearchExecution> {
        let status = changes.status.map(|s| s.as_str());
        let completed_at = changes.completed_at.map(truncate);
        let row = self
            .db
            .query_opt(
                "UPDATE research_executions
                 SET status = coalesce($2, status), successful_count = coalesce($3, successful_count),
                     failed_count = coalesce($4, failed_count), completed_at = coalesce($5, completed_at)
                 WHERE exec_id = $1
                 RETURNING exec_id, experiment_id, topic_name, status, synth_count, successful_count,
                           failed_count, model, max_turns, started_at, completed_at, additional_context",
                &[
                    &exec_id,
                    &status,
                    &changes.successful_count,
                    &changes.failed_count,
                    &completed_at,
                ],
            )
            .await?;
        row.as_ref()
            .map(execution)
            .transpose()?
            .ok_or_else(|| Error::not_found(format!("research execution {exec_id}")))
    }

    async fn executions_by_experiment(&self, experiment_id: &str) -> Result<Vec<ResearchExecution>> {
        let rows = self
            .db
            .query(
                "SELECT exec_id, experiment_id, topic_name, status, synth_count, successful_count, failed_count,
                        model, max_turns, started_at, completed_at, additional_context
                 FROM research_executions WHERE experiment_id = $1
                 ORDER BY started_at DESC, exec_id DESC",
                &[&experiment_id],
            )
            .await?;
        executions(&rows)
    }

    async fn auto_interview(&self, experiment_id: &str) -> Result<Option<ResearchExecution>> {
        self.db
            .query_opt(
                "SELECT exec_id, experiment_id, topic_name, status, synth_count, successful_count, failed_count,
                        model, max_turns, started_at, completed_at, additional_context
                 FROM research_executions WHERE experiment_id = $1
                 ORDER BY started_at DESC, exec_id DESC
                 LIMIT 1",
                &[&experiment_id],
            )
            .await?
            .as_ref()
            .map(execution)
            .transpose()
    }

    async fn list_transcripts(&self, exec_id: &str) -> Result<Vec<Transcript>> {
        let rows = self
            .db
            .query(
                "SELECT id, exec_id, synth_id, synth_name, status, turn_count, \"timestamp\", messages
                 FROM transcripts WHERE exec_id = $1
                 ORDER BY synth_name ASC, id ASC",
                &[&exec_id],
            )
            .await?;
        transcripts(&rows)
    }

    async fn get_transcript(&self, exec_id: &str, synth_id: &str) -> Result<Option<Transcript>> {
        self.db
            .query_opt(
                "SELECT id, exec_id, synth_id, synth_name, status, turn_count, \"timestamp\", messages
                 FROM transcripts WHERE exec_id = $1 AND synth_id = $2",
                &[&exec_id, &synth_id],
            )
            .await?
            .as_ref()
            .map(transcript)
            .transpose()
    }

    async fn get_transcript_by_id(&self, id: &str) -> Result<Option<Transcript>> {
        self.db
            .query_opt(
                "SELECT id, exec_id, synth_id, synth_name, status, turn_count, \"timestamp\", messages
                 FROM transcripts WHERE id = $1",
                &[&id],
            )
            .await?
            .as_ref()
            .map(transcript)
            .transpose()
    }

    async fn upsert_transcript(&self, new: &NewTranscript) -> Result<Transcript> {
        let new = &new.clone();
        let written_at = new.timestamp.map(truncate).unwrap_or_else(now);
        let row = self
            .db
            .query_one(
                "INSERT INTO transcripts (id, exec_id, synth_id, synth_name, status, turn_count, \"timestamp\", messages)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (exec_id, synth_id) DO UPDATE SET
                     synth_name = excluded.synth_name, status = excluded.status,
                     turn_count = excluded.turn_count, \"timestamp\" = excluded.\"timestamp\",
                     messages = excluded.messages
                 RETURNING id, exec_id, synth_id, synth_name, status, turn_count, \"timestamp\", messages",
                &[
                    &new.id,
                    &new.exec_id,
                    &new.synth_id,
                    &new.synth_name,
                    &new.status,
                    &new.turn_count,
                    &written_at,
                    &new.messages,
                ],
            )
            .await?;
        transcript(&row)
    }

    async fn with_summary(&self, exec_ids: &[String]) -> Result<BTreeSet<String>> {
        let rows = self
            .db
            .query(
                "SELECT e.exec_id FROM research_executions e
                 WHERE e.exec_id = ANY($1)
                   AND EXISTS (SELECT 1 FROM experiment_documents d
                               WHERE d.experiment_id = e.experiment_id AND d.document_type = 'summary')",
                &[&exec_ids],
            )
            .await?;
        id_set(&rows)
    }

    async fn with_prfaq(&self, exec_ids: &[String]) -> Result<BTreeSet<String>> {
        let rows = self
            .db
            .query(
                "SELECT e.exec_id FROM research_executions e
                 WHERE e.exec_id = ANY($1)
                   AND EXISTS (SELECT 1 FROM experiment_documents d
                               WHERE d.experiment_id = e.experiment_id AND d.document_type = 'prfaq')",
                &[&exec_ids],
            )
            .await?;
        id_set(&rows)
    }

    async fn with_additional_context(&self, exec_ids: &[String]) -> Result<BTreeSet<String>> {
        let rows = self
            .db
            .query(
                "SELECT exec_id FROM research_executions
                 WHERE exec_id = ANY($1) AND additional_context IS NOT NULL AND additional_context <> ''",
                &[&exec_ids],
            )
            .await?;
        id_set(&rows)
    }

    async fn additional_contexts(&self, exec_ids: &[String]) -> Result<BTreeMap<String, Option<String>>> {
        let rows = self
            .db
            .query(
                "SELECT exec_id, additional_context FROM research_executions WHERE exec_id = ANY($1)",
                &[&exec_ids],
            )
            .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    get(row, EXECUTIONS, "exec_id")?,
                    get(row, EXECUTIONS, "additional_context")?,
                ))
            })
            .collect()
    }

    async fn total_turns(&self, exec_ids: &[String]) -> Result<BTreeMap<String, i64>> {
        let rows = self
            .db
            .query(
                "SELECT e.exec_id, coalesce(sum(t.turn_count), 0)::bigint AS total_turns
                 FROM research_executions e LEFT JOIN transcripts t ON t.exec_id = e.exec_id
                 WHERE e.exec_id = ANY($1)
                 GROUP BY e.exec_id",
                &[&exec_ids],
            )
            .await?;
        rows.iter()
            .map(|row| Ok((get(row, EXECUTIONS, "exec_id")?, get(row, TRANSCRIPTS, "total_turns")?)))
            .collect()
    }
}
