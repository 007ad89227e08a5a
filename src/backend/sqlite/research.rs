//! [`ResearchRepository`] over SQLite.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use rusqlite::{Connection, Row, params};

use super::SqliteDb;
use super::row::{
    enumerated, flag, int, opt_int, opt_json, opt_json_param, opt_string, opt_timestamp, opt_ts_param, string,
    timestamp, ts_param,
};
use crate::model::{
    ExecutionChanges, ExecutionDetail, ExecutionFilter, NewResearchExecution, NewTranscript, Page, PageRequest,
    ResearchExecution, Transcript, now, truncate,
};
use crate::repo::ResearchRepository;
use crate::{Error, Result};

const EXECUTIONS: &str = "research_executions";
const TRANSCRIPTS: &str = "transcripts";

/// Interview batches and transcripts in the legacy SQLite store.
pub(crate) struct SqliteResearchRepository {
    db: SqliteDb,
}

impl SqliteResearchRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteResearchRepository { db }
    }
}

fn execution(row: &Row<'_>) -> Result<ResearchExecution> {
    Ok(ResearchExecution {
        exec_id: string(row, EXECUTIONS, "exec_id")?,
        experiment_id: opt_string(row, EXECUTIONS, "experiment_id")?,
        topic_name: string(row, EXECUTIONS, "topic_name")?,
        status: enumerated(row, EXECUTIONS, "status")?,
        synth_count: int(row, EXECUTIONS, "synth_count")?,
        successful_count: opt_int(row, EXECUTIONS, "successful_count")?,
        failed_count: opt_int(row, EXECUTIONS, "failed_count")?,
        model: opt_string(row, EXECUTIONS, "model")?,
        max_turns: opt_int(row, EXECUTIONS, "max_turns")?,
        started_at: timestamp(row, EXECUTIONS, "started_at")?,
        completed_at: opt_timestamp(row, EXECUTIONS, "completed_at")?,
        additional_context: opt_string(row, EXECUTIONS, "additional_context")?,
    })
}

fn transcript(row: &Row<'_>) -> Result<Transcript> {
    Ok(Transcript {
        id: string(row, TRANSCRIPTS, "id")?,
        exec_id: string(row, TRANSCRIPTS, "exec_id")?,
        synth_id: string(row, TRANSCRIPTS, "synth_id")?,
        synth_name: string(row, TRANSCRIPTS, "synth_name")?,
        status: string(row, TRANSCRIPTS, "status")?,
        turn_count: opt_int(row, TRANSCRIPTS, "turn_count")?,
        timestamp: timestamp(row, TRANSCRIPTS, "timestamp")?,
        messages: opt_json(row, TRANSCRIPTS, "messages")?,
    })
}

/// The id list as one JSON array parameter, expanded in SQL with `json_each`.
fn ids_param(ids: &[String]) -> String {
    serde_json::Value::from(ids.to_vec()).to_string()
}

fn executions_of(conn: &Connection, sql: &str, key: &str) -> Result<Vec<ResearchExecution>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query([key])?;
    let mut items = Vec::new();
    while let Some(row) = rows.next()? {
        items.push(execution(row)?);
    }
    Ok(items)
}

fn transcripts_of(conn: &Connection, sql: &str, args: impl rusqlite::Params) -> Result<Vec<Transcript>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(args)?;
    let mut items = Vec::new();
    while let Some(row) = rows.next()? {
        items.push(transcript(row)?);
    }
    Ok(items)
}

fn id_set(conn: &Connection, sql: &str, ids: &str) -> Result<BTreeSet<String>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query([ids])?;
    let mut set = BTreeSet::new();
    while let Some(row) = rows.next()? {
        set.insert(string(row, EXECUTIONS, "exec_id")?);
    }
    Ok(set)
}

#[async_trait]
impl ResearchRepository for SqliteResearchRepository {
    async fn list_executions(&self, filter: &ExecutionFilter, page: PageRequest) -> Result<Page<ResearchExecution>> {
        let status = filter.status.map(|s| s.as_str());
        let experiment_id = filter.experiment_id.clone();
        self.db
            .read(move |conn| {
                // One statement, so the total and the page come from the same snapshot.
                // julianday() orders legacy timestamp shapes by instant, text breaks ms ties.
                let mut stmt = conn.prepare_cached(
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
                )?;
                let mut rows = stmt.query(params![status, experiment_id, page.limit, page.offset])?;
                let mut items = Vec::new();
                let mut total = 0;
                while let Some(row) = rows.next()? {
                    total = int(row, EXECUTIONS, "total")?;
                    if opt_string(row, EXECUTIONS, "exec_id")?.is_none() {
                        continue;
                    }
                    items.push(execution(row)?);
                }
                Ok(Page::new(items, total, page))
            })
            .await
    }

    async fn get_execution(&self, exec_id: &str) -> Result<Option<ResearchExecution>> {
        let exec_id = exec_id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT exec_id, experiment_id, topic_name, status, synth_count, successful_count, failed_count,
                            model, max_turns, started_at, completed_at, additional_context
                     FROM research_executions WHERE exec_id = ?1",
                )?;
                let mut rows = stmt.query([exec_id])?;
                rows.next()?.map(execution).transpose()
            })
            .await
    }

    async fn get_execution_detail(&self, exec_id: &str) -> Result<Option<ExecutionDetail>> {
        let exec_id = exec_id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
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
                )?;
                let mut rows = stmt.query([exec_id])?;
                let Some(row) = rows.next()? else {
                    return Ok(None);
                };
                Ok(Some(ExecutionDetail {
                    execution: execution(row)?,
                    transcript_count: int(row, EXECUTIONS, "transcript_count")?,
                    total_turns: int(row, EXECUTIONS, "total_turns")?,
                    has_summary: flag(row, EXECUTIONS, "has_summary")?,
                    has_prfaq: flag(row, EXECUTIONS, "has_prfaq")?,
                }))
            })
            .await
    }

    async fn create_execution(&self, new: &NewResearchExecution) -> Result<ResearchExecution> {
        let new = new.clone();
        let started_at = new.started_at.map(truncate).unwrap_or_else(now);
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "INSERT INTO research_executions (exec_id, experiment_id, topic_name, status, synth_count,
                         successful_count, failed_count, model, max_turns, started_at, additional_context)
                     VALUES (?1, ?2, ?3, ?4, ?5, 0, 0, ?6, ?7, ?8, ?9)
                     RETURNING exec_id, experiment_id, topic_name, status, synth_count, successful_count,
                               failed_count, model, max_turns, started_at, completed_at, additional_context",
                )?;
                let mut rows = stmt.query(params![
                    new.exec_id,
                    new.experiment_id,
                    new.topic_name,
                    new.status.as_str(),
                    new.synth_count,
                    new.model,
                    new.max_turns,
                    ts_param(&started_at),
                    new.additional_context
                ])?;
                let row = rows
                    .next()?
                    .ok_or_else(|| Error::other("INSERT … RETURNING gave no row"))?;
                execution(row)
            })
            .await
    }

    async fn update_execution(&self, exec_id: &str, changes: &ExecutionChanges) -> Result<ResearchExecution> {
        let exec_id = exec_id.to_owned();
        let status = changes.status.map(|s| s.as_str());
        let (successful, failed) = (changes.successful_count, changes.failed_count);
        let completed_at = opt_ts_param(&changes.completed_at.map(truncate));
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "UPDATE research_executions
                     SET status = coalesce(?2, status), successful_count = coalesce(?3, successful_count),
                         failed_count = coalesce(?4, failed_count), completed_at = coalesce(?5, completed_at)
                     WHERE exec_id = ?1
                     RETURNING exec_id, experiment_id, topic_name, status, synth_count, successful_count,
                               failed_count, model, max_turns, started_at, completed_at, additional_context",
                )?;
                let mut rows = stmt.query(params![exec_id, status, successful, failed, completed_at])?;
                rows.next()?
                    .map(execution)
                    .transpose()?
                    .ok_or_else(|| Error::not_found(format!("research execution {exec_id}")))
            })
            .await
    }

    async fn executions_by_experiment(&self, experiment_id: &str) -> Result<Vec<ResearchExecution>> {
        let experiment_id = experiment_id.to_owned();
        self.db
            .read(move |conn| {
                executions_of(
                    conn,
                    "SELECT exec_id, experiment_id, topic_name, status, synth_count, successful_count, failed_count,
                            model, max_turns, started_at, completed_at, additional_context
                     FROM research_executions WHERE experiment_id = ?1
                     ORDER BY julianday(started_at) DESC NULLS LAST, started_at DESC, exec_id DESC",
                    &experiment_id,
                )
            })
            .await
    }

    async fn auto_interview(&self, experiment_id: &str) -> Result<Option<ResearchExecution>> {
        let experiment_id = experiment_id.to_owned();
        self.db
            .read(move |conn| {
                let found = executions_of(
                    conn,
                    "SELECT exec_id, experiment_id, topic_name, status, synth_count, successful_count, failed_count,
                            model, max_turns, started_at, completed_at, additional_context
                     FROM research_executions WHERE experiment_id = ?1
                     ORDER BY julianday(started_at) DESC NULLS LAST, started_at DESC, exec_id DESC
                     LIMIT 1",
                    &experiment_id,
                )?;
                Ok(found.into_iter().next())
            })
            .await
    }

    async fn list_transcripts(&self, exec_id: &str) -> Result<Vec<Transcript>> {
        let exec_id = exec_id.to_owned();
        self.db
            .read(move |conn| {
                transcripts_of(
                    conn,
                    "SELECT id, exec_id, synth_id, synth_name, status, turn_count, \"timestamp\", messages
                     FROM transcripts WHERE exec_id = ?1
                     ORDER BY synth_name ASC, id ASC",
                    [exec_id],
                )
            })
            .await
    }

    async fn get_transcript(&self, exec_id: &str, synth_id: &str) -> Result<Option<Transcript>> {
        let (exec_id, synth_id) = (exec_id.to_owned(), synth_id.to_owned());
        self.db
            .read(move |conn| {
                let found = transcripts_of(
                    conn,
                    "SELECT id, exec_id, synth_id, synth_name, status, turn_count, \"timestamp\", messages
                     FROM transcripts WHERE exec_id = ?1 AND synth_id = ?2",
                    [exec_id, synth_id],
                )?;
                Ok(found.into_iter().next())
            })
            .await
    }

    async fn get_transcript_by_id(&self, id: &str) -> Result<Option<Transcript>> {
        let id = id.to_owned();
        self.db
            .read(move |conn| {
                let found = transcripts_of(
                    conn,
                    "SELECT id, exec_id, synth_id, synth_name, status, turn_count, \"timestamp\", messages
                     FROM transcripts WHERE id = ?1",
                    [id],
                )?;
                Ok(found.into_iter().next())
            })
            .await
    }

    async fn upsert_transcript(&self, new: &NewTranscript) -> Result<Transcript> {
        let new = new.clone();
        let written_at = new.timestamp.map(truncate).unwrap_or_else(now);
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "INSERT INTO transcripts (id, exec_id, synth_id, synth_name, status, turn_count, \"timestamp\",
                                              messages)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (exec_id, synth_id) DO UPDATE SET
                         synth_name = excluded.synth_name, status = excluded.status,
                         turn_count = excluded.turn_count, \"timestamp\" = excluded.\"timestamp\",
                         messages = excluded.messages
                     RETURNING id, exec_id, synth_id, synth_name, status, turn_count, \"timestamp\", messages",
                )?;
                let mut rows = stmt.query(params![
                    new.id,
                    new.exec_id,
                    new.synth_id,
                    new.synth_name,
                    new.status,
                    new.turn_count,
                    ts_param(&written_at),
                    opt_json_param(&new.messages)
                ])?;
                let row = rows
                    .next()?
                    .ok_or_else(|| Error::other("INSERT … RETURNING gave no row"))?;
                transcript(row)
            })
            .await
    }

    async fn with_summary(&self, exec_ids: &[String]) -> Result<BTreeSet<String>> {
        let ids = ids_param(exec_ids);
        self.db
            .read(move |conn| {
                id_set(
                    conn,
                    "SELECT e.exec_id FROM research_executions e
                     WHERE e.exec_id IN (SELECT value FROM json_each(?1))
                       AND EXISTS (SELECT 1 FROM experiment_documents d
                                   WHERE d.experiment_id = e.experiment_id AND d.document_type = 'summary')",
                    &ids,
                )
            })
            .await
    }

    async fn with_prfaq(&self, exec_ids: &[String]) -> Result<BTreeSet<String>> {
        let ids = ids_param(exec_ids);
        self.db
            .read(move |conn| {
                id_set(
                    conn,
                    "SELECT e.exec_id FROM research_executions e
                     WHERE e.exec_id IN (SELECT value FROM json_each(?1))
                       AND EXISTS (SELECT 1 FROM experiment_documents d
                                   WHERE d.experiment_id = e.experiment_id AND d.document_type = 'prfaq')",
                    &ids,
                )
            })
            .await
    }

    async fn with_additional_context(&self, exec_ids: &[String]) -> Result<BTreeSet<String>> {
        let ids = ids_param(exec_ids);
        self.db
            .read(move |conn| {
                id_set(
                    conn,
                    "SELECT exec_id FROM research_executions
                     WHERE exec_id IN (SELECT value FROM json_each(?1))
                       AND additional_context IS NOT NULL AND additional_context <> ''",
                    &ids,
                )
            })
            .await
    }

    async fn additional_contexts(&self, exec_ids: &[String]) -> Result<BTreeMap<String, Option<String>>> {
        let ids = ids_param(exec_ids);
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT exec_id, additional_context FROM research_executions
                     WHERE exec_id IN (SELECT value FROM json_each(?1))",
                )?;
                let mut rows = stmt.query([ids])?;
                let mut map = BTreeMap::new();
                while let Some(row) = rows.next()? {
                    map.insert(
                        string(row, EXECUTIONS, "exec_id")?,
                        opt_string(row, EXECUTIONS, "additional_context")?,
                    );
                }
                Ok(map)
            })
            .await
    }

    async fn total_turns(&self, exec_ids: &[String]) -> Result<BTreeMap<String, i64>> {
        let ids = ids_param(exec_ids);
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT e.exec_id, coalesce(sum(t.turn_count), 0) AS total_turns
                     FROM research_executions e LEFT JOIN transcripts t ON t.exec_id = e.exec_id
                     WHERE e.exec_id IN (SELECT value FROM json_each(?1))
                     GROUP BY e.exec_id",
                )?;
                let mut rows = stmt.query([ids])?;
                let mut map = BTreeMap::new();
                while let Some(row) = rows.next()? {
                    map.insert(
                        string(row, EXECUTIONS, "exec_id")?,
                        int(row, TRANSCRIPTS, "total_turns")?,
                    );
                }
                Ok(map)
            })
            .await
    }
}
