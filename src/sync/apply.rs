//! Applying a batch to PostgreSQL, inside the caller's transaction: deletes in leaf tables,
//! upserts parents first, then the other deletes children first, each statement under a
//! savepoint (opened with the previous statement, so it costs no extra round trip on the
//! common path).
//!
//! Images are final states, so the order that makes every statement valid is not always
//! "parents first": a row may take a unique value another row of the batch gives up only when
//! that row is deleted (a REPLACE on another unique column), or a parent may be deleted only
//! after its child was moved away (foreign keys without ON DELETE). A statement refused for a
//! unique or foreign key violation is rolled back to its savepoint and tried again after the
//! others; a refused multi-row statement is split into single rows. When a whole pass makes no
//! progress the batch is [`Stuck`].

use std::collections::VecDeque;

use bytes::BytesMut;
use futures_util::SinkExt;

use super::batch::{Batch, GoodRow};
use super::specs;
use crate::copy::encode;
use crate::copy::pg::{Target, column_list, quote};
use crate::copy::spec::TableSpec;
use crate::{Error, ErrorKind, Result};

/// One statement of a batch.
#[derive(Debug)]
enum Op<'b> {
    Upsert(usize, Vec<&'b GoodRow>),
    Delete(usize, Vec<&'b [String]>),
}

impl Op<'_> {
    fn len(&self) -> usize {
        match self {
            Op::Upsert(_, rows) => rows.len(),
            Op::Delete(_, keys) => keys.len(),
        }
    }

    fn table(&self) -> usize {
        match self {
            Op::Upsert(t, _) | Op::Delete(t, _) => *t,
        }
    }

    fn split(self) -> Vec<Self> {
        match self {
            Op::Upsert(t, rows) => rows.into_iter().map(|r| Op::Upsert(t, vec![r])).collect(),
            Op::Delete(t, keys) => keys.into_iter().map(|k| Op::Delete(t, vec![k])).collect(),
        }
    }
}

/// Rows refused by a foreign key although every other statement went through.
#[derive(Debug)]
pub(crate) struct Stuck {
    /// Upserts still refused: (spec index, the row).
    pub(crate) rows: Vec<(usize, GoodRow)>,
    /// The last refusal.
    pub(crate) error: Error,
}

/// What a batch did in PostgreSQL.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Applied {
    pub(crate) upserted: u64,
    pub(crate) deleted: u64,
}

fn stage_name(spec: &TableSpec) -> String {
    quote(&format!("{}stage_{}", super::capture::OBJECT_PREFIX, spec.name))
}

fn upsert_sql(spec: &TableSpec) -> String {
    let keys: Vec<String> = spec.key.iter().map(|k| quote(k)).collect();
    let set: Vec<String> = spec
        .columns
        .iter()
        .filter(|c| !spec.key.contains(&c.name))
        .map(|c| format!("{0} = EXCLUDED.{0}", quote(c.name)))
        .collect();
    let action = if set.is_empty() {
        "NOTHING".to_owned()
    } else {
        format!("UPDATE SET {}", set.join(", "))
    };
    format!(
        "INSERT INTO {} ({cols}) SELECT {cols} FROM {} ON CONFLICT ({}) DO {action}; TRUNCATE {}; {NEXT_SAVEPOINT}",
        quote(spec.name),
        stage_name(spec),
        keys.join(", "),
        stage_name(spec),
        cols = column_list(spec),
    )
}

/// Ends the savepoint of a statement that went through and opens the next one (one round
/// trip, or none when it rides along with the statement).
const NEXT_SAVEPOINT: &str = "RELEASE SAVEPOINT synthlab_sync_op; SAVEPOINT synthlab_sync_op";

fn delete_sql(spec: &TableSpec) -> String {
    let keys: Vec<String> = spec.key.iter().map(|k| quote(k)).collect();
    let arrays: Vec<String> = (1..=spec.key.len()).map(|i| format!("${i}::text[]")).collect();
    format!(
        "DELETE FROM {} WHERE ({}) IN (SELECT * FROM unnest({}))",
        quote(spec.name),
        keys.join(", "),
        arrays.join(", ")
    )
}

/// Refusals that another order may avoid (constraints), or that a retry may (a deadlock with
/// another writer of the target, such as a service dual-writing the same rows).
fn worth_retrying(err: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    err.code().is_some_and(|c| {
        [
            SqlState::UNIQUE_VIOLATION,
            SqlState::FOREIGN_KEY_VIOLATION,
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::T_R_SERIALIZATION_FAILURE,
        ]
        .contains(c)
    })
}

async fn run_op(target: &Target, op: &Op<'_>) -> std::result::Result<u64, tokio_postgres::Error> {
    match op {
        Op::Upsert(t, rows) => {
            let spec = &specs()[*t];
            let mut buf = BytesMut::new();
            encode::header(&mut buf);
            for row in rows {
                buf.extend_from_slice(&row.bytes);
            }
            encode::trailer(&mut buf);
            let sink = target
                .client
                .copy_in::<_, bytes::Bytes>(&format!(
                    "COPY {} ({}) FROM STDIN (FORMAT binary)",
                    stage_name(spec),
                    column_list(spec)
                ))
                .await?;
            futures_util::pin_mut!(sink);
            sink.send(buf.freeze()).await?;
            // Pipelined: the end of the COPY and the upsert leave together.
            let upsert = upsert_sql(spec);
            let (copied, upserted) = tokio::join!(sink.as_mut().finish(), target.client.batch_execute(&upsert));
            copied?;
            upserted?;
            Ok(rows.len() as u64)
        }
        Op::Delete(t, keys) => {
            let spec = &specs()[*t];
            let mut arrays: Vec<Vec<&str>> = vec![Vec::with_capacity(keys.len()); spec.key.len()];
            for key in keys {
                for (column, value) in arrays.iter_mut().zip(key.iter()) {
                    column.push(value.as_str());
                }
            }
            let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = arrays
                .iter()
                .map(|a| a as &(dyn tokio_postgres::types::ToSql + Sync))
                .collect();
            target.client.execute(&delete_sql(spec), &params).await
        }
    }
}

/// Applies `batch` inside the open transaction of `target` (see the module doc).
///
/// # Errors
/// `Ok(Err(Stuck))` when foreign keys or unique constraints refuse rows whatever the order;
/// `Err` for any other failure (the transaction is then unusable).
pub(crate) async fn apply(target: &Target, batch: &Batch) -> Result<std::result::Result<Applied, Stuck>> {
    // Deletes in tables no other table references come first: nothing can cascade from them,
    // and a new row there often takes the unique value of a row REPLACE removed (an outcome of
    // the same analysis and synth). Then upserts parents first, then the other deletes
    // children first.
    let is_leaf = |t: usize| {
        let name = specs()[t].name;
        !specs()
            .iter()
            .any(|c| c.foreign_keys.iter().any(|fk| fk.parent == name))
    };
    let mut queue: VecDeque<Op<'_>> = VecDeque::new();
    let delete = |t: usize| Op::Delete(t, batch.tables[t].deletes.iter().map(Vec::as_slice).collect());
    for (t, table) in batch.tables.iter().enumerate() {
        if !table.deletes.is_empty() && is_leaf(t) {
            queue.push_back(delete(t));
        }
    }
    for (t, table) in batch.tables.iter().enumerate() {
        if !table.upserts.is_empty() {
            queue.push_back(Op::Upsert(t, table.upserts.iter().collect()));
        }
    }
    for (t, table) in batch.tables.iter().enumerate().rev() {
        if !table.deletes.is_empty() && !is_leaf(t) {
            queue.push_back(delete(t));
        }
    }
    // Stage tables live until the transaction ends (ON COMMIT DROP): nothing outlives it.
    let mut setup = String::new();
    for (t, table) in batch.tables.iter().enumerate() {
        if !table.upserts.is_empty() {
            let spec = &specs()[t];
            setup.push_str(&format!(
                "CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {}) ON COMMIT DROP; ",
                stage_name(spec),
                quote(spec.name)
            ));
        }
    }
    setup.push_str("SAVEPOINT synthlab_sync_op");
    target.exec(&setup).await?;
    let mut applied = Applied::default();
    while !queue.is_empty() {
        let mut progress = false;
        let mut next: VecDeque<Op<'_>> = VecDeque::new();
        let mut last_error = None;
        let split_any = queue.iter().any(|op| op.len() > 1);
        while let Some(op) = queue.pop_front() {
            let op_started = std::time::Instant::now();
            let result = run_op(target, &op).await;
            tracing::trace!(
                table = specs()[op.table()].name,
                upsert = matches!(op, Op::Upsert(..)),
                rows = op.len(),
                ms = op_started.elapsed().as_secs_f64() * 1e3,
                ok = result.is_ok(),
                "sync statement"
            );
            match result {
                Ok(n) => {
                    progress = true;
                    match op {
                        Op::Upsert(..) => applied.upserted += op.len() as u64,
                        Op::Delete(..) => {
                            target.exec(NEXT_SAVEPOINT).await?;
                            applied.deleted += n;
                        }
                    }
                }
                Err(err) if worth_retrying(&err) => {
                    target.exec("ROLLBACK TO SAVEPOINT synthlab_sync_op").await?;
                    if op.len() > 1 {
                        next.extend(op.split());
                    } else {
                        next.push_back(op);
                    }
                    last_error = Some(Error::from(err));
                }
                Err(err) => return Err(Error::from(err).context("applying a sync batch")),
            }
        }
        if !progress && !split_any {
            let error = last_error.unwrap_or_else(|| Error::other("no progress"));
            let rows = next
                .iter()
                .filter_map(|op| match op {
                    Op::Upsert(t, rows) => rows.first().map(|r| (*t, (*r).clone())),
                    Op::Delete(..) => None,
                })
                .collect();
            return Ok(Err(Stuck { rows, error }));
        }
        queue = next;
    }
    target.exec("RELEASE SAVEPOINT synthlab_sync_op").await?;
    Ok(Ok(applied))
}

/// The message of a batch that stays stuck after every retry.
pub(crate) fn stuck_error(stuck: Stuck) -> Error {
    let kind = match stuck.error.kind() {
        ErrorKind::Conflict | ErrorKind::ForeignKey => stuck.error.kind(),
        _ => ErrorKind::Other,
    };
    let rows: Vec<String> = stuck
        .rows
        .iter()
        .take(5)
        .map(|(t, row)| format!("{} ({})", specs()[*t].name, row.key.join(", ")))
        .collect();
    Error::new(
        kind,
        format!(
            "PostgreSQL refuses this batch in every order ({}){}; nothing of it was committed",
            stuck.error.message(),
            if rows.is_empty() {
                String::new()
            } else {
                format!("; rows: {}", rows.join(", "))
            }
        ),
    )
}
