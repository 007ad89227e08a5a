//! The initial copy under writes, in one PostgreSQL transaction:
//!
//! 1. record the capture position P (and register this target in the legacy file, so nothing
//!    after P is pruned);
//! 2. copy every table in key order, in short chunks (each chunk one statement, so one short
//!    read lock), with the copy's conversion and bulk load (secondary indexes rebuilt after
//!    the load; foreign keys and secondary UNIQUE constraints left dropped: rows read at
//!    different moments may collide on a unique value until the replay); a row that does not
//!    convert is not judged yet;
//! 3. replay every change after P in batches, reading each key's current image, until a batch
//!    reaches the newest record Q of its snapshot: the target then equals the file at Q, and
//!    rows a chunk read mid-way are fixed (last state wins). The rows step 2 could not convert
//!    are judged here, at Q;
//! 4. rows whose parent is missing from the target are bad (orphans, or children of bad rows);
//! 5. rebuild the UNIQUE constraints and foreign keys, write the checkpoint Q, commit.
//!
//! A kill at any point leaves nothing behind in PostgreSQL (one transaction); the next run
//! starts over.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use tokio::sync::mpsc;

use super::apply::{apply, stuck_error};
use super::batch::{ExtraKey, Plans, Reach, read_batch, row_key};
use super::capture::{RowKey, text_key};
use super::follower::{SyncObserver, abort_error};
use super::{Source, SyncOptions, specs, state};
use crate::copy::bad_row::{BadRow, QuarantineWriter, bad_row};
use crate::copy::convert::Value;
use crate::copy::encode;
use crate::copy::pg::{LoadEvents, TableState, Target, quote};
use crate::copy::read::{CHANNEL_CHUNKS, Msg, convert_row};
use crate::copy::source::ScanPlan;
use crate::copy::{OnError, TableOutcome, TableReport};
use crate::{Error, ErrorKind, Result};

/// Rows per chunk of the initial scan at most.
const CHUNK_ROWS: usize = 2000;
/// Longest time one chunk may hold the legacy file's read lock (checked every 64 rows).
const CHUNK_TIME: Duration = Duration::from_millis(20);

/// What the initial copy did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InitialReport {
    /// Capture position the copy started from.
    pub start_position: i64,
    /// Position the data committed at.
    pub position: i64,
    /// Per table (rows copied in chunks).
    pub tables: Vec<TableReport>,
    /// Change records replayed on top of the chunks.
    pub replayed_changes: u64,
    /// Bad rows (quarantined).
    pub quarantined: u64,
    /// Wall time.
    pub seconds: f64,
}

struct Events<'a> {
    table: &'static str,
    observer: &'a dyn SyncObserver,
}

impl LoadEvents for Events<'_> {
    fn bad(&mut self, _row: BadRow) -> Result<()> {
        Ok(())
    }

    fn progress(&mut self, rows: u64) {
        self.observer.rows(self.table, rows);
    }
}

/// Reads one table in chunks and sends its COPY payload; returns the keys of rows that did
/// not convert (judged again at the end of the replay).
fn read_chunks(source: &Source, plan: &ScanPlan, table: usize, tx: &mpsc::Sender<Msg>) -> Result<Vec<ExtraKey>> {
    let spec = plan.spec;
    let mut plan = plan.clone();
    // Parents are checked once the replay has made the target consistent, not per chunk.
    plan.parent_present = vec![false; spec.foreign_keys.len()];
    let mut unconverted = Vec::new();
    let mut after: Option<RowKey> = None;
    let mut first = true;
    loop {
        let mut buf = BytesMut::new();
        if first {
            encode::header(&mut buf);
            first = false;
        }
        let mut rows = 0u64;
        let last = {
            let reader = source.reader.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            reader.scan_chunk(&plan, after.as_ref(), CHUNK_ROWS, CHUNK_TIME, &mut |row| {
                let mut values: Vec<Value<'_>> = Vec::with_capacity(spec.columns.len());
                match convert_row(spec, row, &mut values) {
                    Ok(()) => {
                        encode::row(&mut buf, &values);
                        rows += 1;
                    }
                    Err(_) => unconverted.push(ExtraKey {
                        table,
                        key: row_key(spec, row),
                        bad_reason: None,
                    }),
                }
                Ok(())
            })?
        };
        let done = last.is_none();
        if done {
            encode::trailer(&mut buf);
        }
        if !buf.is_empty() && tx.blocking_send(Msg::Chunk(buf.freeze(), rows)).is_err() {
            return Ok(unconverted);
        }
        if done {
            return Ok(unconverted);
        }
        after = last;
    }
}

/// Bad rows of the target after the replay: rows whose parent is missing. Deletes them and
/// returns their keys per table with the reason.
async fn sweep_orphans(
    target: &Target,
    bad_keys: &HashSet<(usize, String)>,
) -> Result<Vec<(usize, Vec<String>, &'static str, String)>> {
    let mut found = Vec::new();
    loop {
        let mut more = false;
        for (t, spec) in specs().iter().enumerate() {
            for fk in spec.foreign_keys {
                let keys: Vec<String> = spec.key.iter().map(|k| format!("c.{}::text", quote(k))).collect();
                let sql = format!(
                    "DELETE FROM {table} c WHERE c.{col} IS NOT NULL \
                     AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.{pcol} = c.{col}) \
                     RETURNING ARRAY[{keys}], c.{col}::text",
                    table = quote(spec.name),
                    col = quote(fk.column),
                    parent = quote(fk.parent),
                    pcol = quote(fk.parent_column),
                    keys = keys.join(", ")
                );
                for row in target.client.query(&sql, &[]).await? {
                    let key: Vec<String> = row.try_get(0)?;
                    let value: String = row.try_get(1)?;
                    let parent = specs().iter().position(|s| s.name == fk.parent).unwrap_or(t);
                    let reason = if bad_keys.contains(&(parent, value.clone())) {
                        format!("orphan: its parent {} row '{value}' is a bad row", fk.parent)
                    } else {
                        format!("orphan: no {} row has {} = '{value}'", fk.parent, fk.parent_column)
                    };
                    found.push((t, key, fk.column, reason));
                    more = true;
                }
            }
        }
        if !more {
            return Ok(found);
        }
    }
}

/// The initial copy (see the module doc). The caller has connected and migrated the target.
pub(crate) async fn initial_copy(
    options: &SyncOptions,
    source: &Source,
    plans: &std::sync::Arc<Plans>,
    target: &mut Target,
    source_id: &str,
    observer: &dyn SyncObserver,
) -> Result<InitialReport> {
    let started = Instant::now();
    target.exec("BEGIN").await?;
    let result = initial_in_transaction(options, source, plans, target, source_id, observer, started).await;
    match result {
        Ok(report) => {
            target.exec("COMMIT").await?;
            Ok(report)
        }
        Err(err) => {
            let _ = target.exec("ROLLBACK").await;
            Err(err)
        }
    }
}

async fn initial_in_transaction(
    options: &SyncOptions,
    source: &Source,
    plans: &std::sync::Arc<Plans>,
    target: &mut Target,
    source_id: &str,
    observer: &dyn SyncObserver,
    started: Instant,
) -> Result<InitialReport> {
    let locked: bool = target
        .client
        .query_one(
            "SELECT pg_try_advisory_xact_lock(hashtext('synthlab-db sync ' || current_database() || '.' || current_schema())::bigint)",
            &[],
        )
        .await?
        .try_get(0)?;
    if !locked {
        return Err(Error::new(
            ErrorKind::Conflict,
            "another sync is initialising this target",
        ));
    }
    state::ensure_table(target).await?;
    if options.force {
        let tables: Vec<String> = specs().iter().map(|s| quote(s.name)).collect();
        target.exec(&format!("TRUNCATE {}", tables.join(", "))).await?;
        state::remove(target).await?;
    } else {
        if state::lock(target).await?.is_some() {
            return Err(Error::new(
                ErrorKind::Conflict,
                "another sync initialised this target meanwhile; run again to follow it",
            ));
        }
        for spec in specs() {
            if target.table_state(spec).await? == TableState::HasRows {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    format!(
                        "the target already holds rows (table {}) but no sync state: sync initialises only an \
                         empty target; --force empties the target's tables and starts over",
                        spec.name
                    ),
                ));
            }
        }
    }
    // The same target always gets the same id, so a retried initial copy reuses its position
    // in the legacy file instead of leaving a stale one that would hold back pruning.
    let target_id: String = target
        .client
        .query_one(
            "SELECT md5(current_database() || '.' || current_schema() || '@' \
             || coalesce(host(inet_server_addr()), 'local') || ':' || coalesce(inet_server_port()::text, ''))",
            &[],
        )
        .await?
        .try_get(0)?;
    let lock_wait = options.lock_wait;
    let id = target_id.clone();
    let start_position = source.capture(move |c| c.start_follower(&id, lock_wait)).await?;

    let mut quarantine = match options.on_error {
        OnError::Quarantine => Some(QuarantineWriter::open(&options.quarantine_path())?),
        OnError::Abort => None,
    };
    let mut reports = Vec::new();
    let mut foreign_keys = String::new();
    let mut unconverted: Vec<ExtraKey> = Vec::new();
    for (t, spec) in specs().iter().enumerate() {
        let Some(plan) = plans.plans[t].clone() else {
            reports.push(TableReport::new(spec.name, TableOutcome::AbsentInSource));
            continue;
        };
        let table_started = Instant::now();
        let name = spec.name;
        let rows_in_source = source.read(move |s| s.count(name)).await?;
        observer.table_started(spec.name, rows_in_source);
        let (tx, mut rx) = mpsc::channel(CHANNEL_CHUNKS);
        let reader_source = source.clone();
        let reader = tokio::task::spawn_blocking(move || read_chunks(&reader_source, &plan, t, &tx));
        let mut events = Events {
            table: spec.name,
            observer,
        };
        let loaded = target
            .bulk_load_deferring_constraints(spec, true, &mut rx, &mut events)
            .await;
        drop(rx);
        let keys = reader
            .await
            .map_err(|e| Error::other(format!("the reader of {} failed: {e}", spec.name)))??;
        let (stats, fk_sql) = loaded?;
        foreign_keys.push_str(&fk_sql);
        let mut report = TableReport::new(spec.name, TableOutcome::Bulk);
        report.source_rows = rows_in_source;
        report.copied = stats.inserted;
        report.bytes = stats.bytes;
        report.seconds = table_started.elapsed().as_secs_f64();
        observer.table_finished(&report);
        reports.push(report);
        unconverted.extend(keys);
    }

    // Replay every change after the start position, judging the unconverted rows at the end.
    let mut applied = start_position;
    let mut replayed = 0u64;
    let mut bad_keys: HashSet<(usize, String)> = HashSet::new();
    let mut quarantined = 0u64;
    let mut extra = unconverted;
    loop {
        let plans_for_read = plans.clone();
        let reach = Reach::Cut(options.batch_changes.max(1));
        let keys = std::mem::take(&mut extra);
        let batch = source
            .read(move |s| read_batch(s, &plans_for_read, applied, reach, &keys))
            .await?;
        if let Some(row) = batch.bad.first()
            && options.on_error == OnError::Abort
        {
            return Err(abort_error(row, applied));
        }
        match apply(target, &batch).await? {
            Ok(_) => {}
            Err(stuck) => return Err(stuck_error(stuck)),
        }
        for row in &batch.bad {
            if let Some(t) = specs().iter().position(|s| s.name == row.table)
                && let Some(serde_json::Value::String(k)) = row.key.values().next()
            {
                bad_keys.insert((t, k.clone()));
            }
            if let Some(writer) = quarantine.as_mut() {
                writer.write(row)?;
            }
        }
        quarantined += batch.bad.len() as u64;
        replayed += batch.records;
        applied = batch.upto;
        if batch.upto >= batch.captured {
            break;
        }
    }

    // Orphans: parents missing from the target (absent from the file, or bad).
    let orphans = sweep_orphans(target, &bad_keys).await?;
    if !orphans.is_empty() {
        let wanted: Vec<(usize, Vec<String>, &'static str, String)> = orphans;
        let reader_plans = plans.clone();
        let records: Vec<BadRow> = source
            .read(move |s| {
                s.snapshot(|snap| {
                    let mut out = Vec::new();
                    for (t, key, column, reason) in &wanted {
                        let Some(plan) = reader_plans.plans[*t].as_ref() else {
                            continue;
                        };
                        let row_key = text_key(key);
                        let mut found = false;
                        snap.image(plan, &row_key, &mut |row| {
                            out.push(bad_row(plan.spec, row, column, reason.clone()));
                            found = true;
                            Ok(())
                        })?;
                        if !found {
                            out.push(BadRow {
                                table: plan.spec.name.to_owned(),
                                key: plan
                                    .spec
                                    .key
                                    .iter()
                                    .zip(key)
                                    .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String(v.clone())))
                                    .collect(),
                                column: (*column).to_owned(),
                                reason: reason.clone(),
                                values: serde_json::Map::new(),
                            });
                        }
                    }
                    Ok(out)
                })
            })
            .await?;
        if options.on_error == OnError::Abort
            && let Some(row) = records.first()
        {
            return Err(abort_error(row, applied));
        }
        if let Some(writer) = quarantine.as_mut() {
            for row in &records {
                writer.write(row)?;
            }
        }
        quarantined += records.len() as u64;
        for report in &mut reports {
            report.quarantined += records.iter().filter(|r| r.table == report.table).count() as u64;
        }
    }
    if let Some(writer) = quarantine.as_mut() {
        writer.flush()?;
    }
    if !foreign_keys.is_empty() {
        target.exec(&foreign_keys).await?;
    }
    state::create(
        target,
        source_id,
        &target_id,
        &options.source.display().to_string(),
        applied,
        quarantined,
    )
    .await?;
    Ok(InitialReport {
        start_position,
        position: applied,
        tables: reports,
        replayed_changes: replayed,
        quarantined,
        seconds: started.elapsed().as_secs_f64(),
    })
}
