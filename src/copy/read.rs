//! The reading side of the copy, run on a blocking thread: scans one source table, converts and
//! checks every row, and sends COPY payload chunks (or bad rows) through a bounded channel, so
//! memory stays bounded whatever the table's size.

use std::collections::HashSet;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;

use super::bad_row::{BadRow, bad_row};
use super::convert::{Value, convert};
use super::encode;
use super::source::{MAX_COLUMNS, ScanPlan, SourceRow};
use super::spec::{Missing, TableSpec};
use crate::backend::sqlite::copy_source::SqliteSource;
use crate::{Error, Result};

/// Size at which a payload chunk is handed to the writer.
const CHUNK_BYTES: usize = 256 * 1024;
/// Chunks in flight between reader and writer.
pub(crate) const CHANNEL_CHUNKS: usize = 8;

/// What the reader sends.
pub(crate) enum Msg {
    /// Part of a COPY payload holding `rows` rows.
    Chunk(Bytes, u64),
    /// The end of one COPY payload (a batch).
    EndBatch,
    /// A refused row.
    Bad(Box<BadRow>),
}

/// How to read a table.
pub(crate) struct ReadJob {
    pub(crate) plan: ScanPlan,
    /// Per foreign key: keys of the parent's refused rows (their children are orphans).
    pub(crate) parent_bad: Vec<Arc<HashSet<String>>>,
    /// Rows per COPY payload (`None`: one payload for the whole table).
    pub(crate) batch_rows: Option<u64>,
    /// Stop at the first bad row.
    pub(crate) stop_at_first_bad: bool,
}

/// What the reader found.
pub(crate) struct ReadOutcome {
    /// Rows sent.
    pub(crate) rows: u64,
    /// Keys (the value of the first key column) of refused rows.
    pub(crate) bad_keys: HashSet<String>,
    /// Refused rows.
    pub(crate) bad: u64,
}

/// The key value children use to point at a row (single-column keys only).
fn parent_key(spec: &TableSpec, row: &SourceRow<'_>) -> Option<String> {
    if spec.key.len() != 1 {
        return None;
    }
    let i = spec.index_of(spec.key[0])?;
    match row.values[i]? {
        super::convert::Raw::Text(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        super::convert::Raw::Integer(v) => Some(v.to_string()),
        _ => None,
    }
}

/// Converts a source row: the values, or the first bad column and its reason.
pub(crate) fn convert_row<'r>(
    spec: &TableSpec,
    row: &SourceRow<'r>,
    out: &mut Vec<Value<'r>>,
) -> std::result::Result<(), (&'static str, String)> {
    out.clear();
    for (i, column) in spec.columns.iter().enumerate().take(MAX_COLUMNS) {
        let value = match row.values[i] {
            Some(raw) => convert(column, raw).map_err(|reason| (column.name, reason))?,
            None => match column.missing {
                Missing::Null => Value::Null,
                Missing::Text(text) => convert(column, super::convert::Raw::Text(text.as_bytes()))
                    .map_err(|reason| (column.name, format!("its default: {reason}")))?,
                Missing::Required => {
                    return Err((column.name, "the source layout has no such column".to_owned()));
                }
            },
        };
        out.push(value);
    }
    Ok(())
}

/// Reads the table of `job` and sends its payload to `tx`. Returns when the rows end, at the
/// first bad row when asked to stop there, or when the receiver is gone.
pub(crate) fn read_table(source: &SqliteSource, job: &ReadJob, tx: &mpsc::Sender<Msg>) -> Result<ReadOutcome> {
    let spec = job.plan.spec;
    let self_fk = spec.foreign_keys.iter().position(|fk| fk.parent == spec.name);
    let mut outcome = ReadOutcome {
        rows: 0,
        bad_keys: HashSet::new(),
        bad: 0,
    };
    let mut buf = BytesMut::with_capacity(CHUNK_BYTES + 64 * 1024);
    let mut chunk_rows = 0u64;
    let mut batch_rows = 0u64;
    let mut receiver_gone = false;
    encode::header(&mut buf);
    let send = |msg: Msg, gone: &mut bool| {
        if tx.blocking_send(msg).is_err() {
            *gone = true;
        }
    };
    source.scan(&job.plan, &mut |row| {
        let mut values: Vec<Value<'_>> = Vec::with_capacity(spec.columns.len());
        let mut fault = convert_row(spec, row, &mut values).err();
        if fault.is_none() {
            for (k, fk) in spec.foreign_keys.iter().enumerate() {
                let Some(Value::Text(parent)) = spec.index_of(fk.column).map(|i| &values[i]) else {
                    continue;
                };
                let reason = if !row.parent_exists[k] {
                    Some(format!(
                        "orphan: no {} row has {} = '{parent}'",
                        fk.parent, fk.parent_column
                    ))
                } else if (Some(k) == self_fk && outcome.bad_keys.contains(parent.as_ref()))
                    || job.parent_bad.get(k).is_some_and(|bad| bad.contains(parent.as_ref()))
                {
                    Some(format!("orphan: its parent {} row '{parent}' is a bad row", fk.parent))
                } else {
                    None
                };
                if let Some(reason) = reason {
                    fault = Some((fk.column, reason));
                    break;
                }
            }
        }
        if let Some((column, reason)) = fault {
            outcome.bad += 1;
            if let Some(key) = parent_key(spec, row) {
                outcome.bad_keys.insert(key);
            }
            send(
                Msg::Bad(Box::new(bad_row(spec, row, column, reason))),
                &mut receiver_gone,
            );
            return Ok(!job.stop_at_first_bad && !receiver_gone);
        }
        encode::row(&mut buf, &values);
        outcome.rows += 1;
        chunk_rows += 1;
        batch_rows += 1;
        if job.batch_rows.is_some_and(|limit| batch_rows >= limit) {
            encode::trailer(&mut buf);
            send(Msg::Chunk(buf.split().freeze(), chunk_rows), &mut receiver_gone);
            send(Msg::EndBatch, &mut receiver_gone);
            chunk_rows = 0;
            batch_rows = 0;
            encode::header(&mut buf);
        } else if buf.len() >= CHUNK_BYTES {
            send(Msg::Chunk(buf.split().freeze(), chunk_rows), &mut receiver_gone);
            chunk_rows = 0;
        }
        Ok(!receiver_gone)
    })?;
    if receiver_gone {
        return Ok(outcome);
    }
    if batch_rows > 0 || job.batch_rows.is_none() {
        encode::trailer(&mut buf);
        send(Msg::Chunk(buf.split().freeze(), chunk_rows), &mut receiver_gone);
        send(Msg::EndBatch, &mut receiver_gone);
    }
    Ok(outcome)
}

/// Error for a table whose layout lacks a column the target requires.
pub(crate) fn missing_required(spec: &TableSpec, plan: &ScanPlan) -> Option<Error> {
    spec.columns
        .iter()
        .zip(&plan.present)
        .find(|(c, present)| !**present && c.missing == Missing::Required)
        .map(|(c, _)| {
            Error::invalid_input(format!(
                "the source table {} has no column {}, which the target requires and has no default for",
                spec.name, c.name
            ))
        })
}
