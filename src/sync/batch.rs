//! Reading one batch of changes from the legacy file, in ONE short read transaction: the
//! change records of a range, the current image of every key they name (or its absence), and
//! the rows that become bad with them. Converting and encoding happen here too (exactly as
//! `copy` converts: `convert_row`, the binary COPY encoder, the bad-row record), so the
//! PostgreSQL side only moves bytes.
//!
//! What a key becomes:
//! - **upsert**: the row exists and converts;
//! - **delete**: the row is gone (its key is deleted in PostgreSQL);
//! - **bad**: the row exists but cannot be stored (a value, or an orphan: its parent is
//!   missing or bad). It is deleted from PostgreSQL and, with `--on-error quarantine`,
//!   written to the quarantine file.
//!
//! Deleted and bad rows pull in the rows that reference them in the same snapshot: with a
//! legacy writer that has foreign keys off, deleting a parent leaves orphans behind in SQLite,
//! and those are bad rows too (as `copy` would say), with the rows below them.

use std::collections::{HashMap, VecDeque};

use bytes::{Bytes, BytesMut};

use super::capture::{Change, KeyPart, RowKey};
use super::specs;
use crate::backend::sqlite::copy_source::SqliteSource;
use crate::copy::bad_row::{BadRow, bad_row};
use crate::copy::convert::{Raw, Value};
use crate::copy::encode;
use crate::copy::read::convert_row;
use crate::copy::source::{ScanPlan, SourceRow};
use crate::copy::spec::TableSpec;
use crate::{Error, ErrorKind, Result};

/// How far a batch reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// At most this many records after the applied position.
    Cut(i64),
    /// Every record up to the newest one, in the same snapshot as the images.
    Full,
}

/// A row ready for PostgreSQL.
#[derive(Debug, Clone)]
pub(crate) struct GoodRow {
    /// Key values as text.
    pub(crate) key: Vec<String>,
    /// Per foreign key of the table: the referenced value (None: NULL).
    pub(crate) parents: Vec<Option<String>>,
    /// The row in binary COPY format (without header and trailer).
    pub(crate) bytes: Bytes,
}

/// What one table gets from a batch.
#[derive(Debug, Default)]
pub(crate) struct TableBatch {
    /// Rows to insert or update.
    pub(crate) upserts: Vec<GoodRow>,
    /// Keys to delete (gone in SQLite, or bad).
    pub(crate) deletes: Vec<Vec<String>>,
}

/// One batch (see the module doc).
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// Records after this position…
    pub(crate) after: i64,
    /// …up to this one (inclusive).
    pub(crate) upto: i64,
    /// The newest record in the snapshot.
    pub(crate) captured: i64,
    /// Records in the range.
    pub(crate) records: u64,
    /// When the oldest record of the range was captured (Unix seconds).
    pub(crate) oldest_captured_at: Option<f64>,
    /// When the record after the range was captured (None: the range reaches the newest).
    pub(crate) next_captured_at: Option<f64>,
    /// Per spec index (foreign-key order).
    pub(crate) tables: Vec<TableBatch>,
    /// Bad rows, in the order found.
    pub(crate) bad: Vec<BadRow>,
}

/// The read plans of the tables the legacy file has (per spec index).
pub(crate) struct Plans {
    pub(crate) plans: Vec<Option<ScanPlan>>,
}

impl Plans {
    fn get(&self, index: usize) -> Option<&ScanPlan> {
        self.plans.get(index).and_then(Option::as_ref)
    }
}

/// A key to evaluate beside the records (a row the copy found bad, or one the target refused).
#[derive(Debug, Clone)]
pub(crate) struct ExtraKey {
    /// Spec index.
    pub(crate) table: usize,
    /// The key.
    pub(crate) key: RowKey,
    /// Make the row bad with this reason (when it exists).
    pub(crate) bad_reason: Option<(String, String)>,
}

#[derive(Debug)]
enum Fate {
    Upsert(GoodRow),
    Delete,
    Bad,
}

fn text_of(raw: Option<Raw<'_>>) -> String {
    match raw {
        Some(Raw::Text(t)) => String::from_utf8_lossy(t).into_owned(),
        Some(Raw::Integer(i)) => i.to_string(),
        Some(Raw::Real(f)) => f.to_string(),
        _ => "NULL".to_owned(),
    }
}

/// The key of a source row.
pub(crate) fn row_key(spec: &TableSpec, row: &SourceRow<'_>) -> RowKey {
    let mut key: RowKey = [KeyPart::Null, KeyPart::Null];
    for (slot, i) in key.iter_mut().zip(spec.key_indexes()) {
        *slot = row.values[i].map(KeyPart::from_raw).unwrap_or(KeyPart::Null);
    }
    key
}

fn pg_key(spec: &TableSpec, key: &RowKey) -> Option<Vec<String>> {
    key.iter().take(spec.key.len()).map(KeyPart::as_text).collect()
}

/// Evaluates one existing row: good (encoded) or bad (recorded).
fn evaluate(
    spec: &'static TableSpec,
    row: &SourceRow<'_>,
    forced: Option<&(String, String)>,
    bad: &mut Vec<BadRow>,
) -> Fate {
    if let Some((column, reason)) = forced {
        bad.push(bad_row(spec, row, column, reason.clone()));
        return Fate::Bad;
    }
    let mut values: Vec<Value<'_>> = Vec::with_capacity(spec.columns.len());
    if let Err((column, reason)) = convert_row(spec, row, &mut values) {
        bad.push(bad_row(spec, row, column, reason));
        return Fate::Bad;
    }
    let mut parents = Vec::with_capacity(spec.foreign_keys.len());
    for (k, fk) in spec.foreign_keys.iter().enumerate() {
        let value = match spec.index_of(fk.column).map(|i| &values[i]) {
            Some(Value::Text(v)) => Some(v.to_string()),
            _ => None,
        };
        if let Some(v) = &value
            && !row.parent_exists[k]
        {
            let reason = format!("orphan: no {} row has {} = '{v}'", fk.parent, fk.parent_column);
            bad.push(bad_row(spec, row, fk.column, reason));
            return Fate::Bad;
        }
        parents.push(value);
    }
    let key = spec
        .key_indexes()
        .into_iter()
        .map(|i| match &values[i] {
            Value::Text(t) => t.to_string(),
            Value::Int(n) => n.to_string(),
            _ => String::new(),
        })
        .collect();
    let mut buf = BytesMut::new();
    encode::row(&mut buf, &values);
    Fate::Upsert(GoodRow {
        key,
        parents,
        bytes: buf.freeze(),
    })
}

/// Reads the batch after `applied` (see the module doc). `extra` keys are evaluated too.
///
/// # Errors
/// A SQLite error; Other when records the batch needs were pruned already.
pub(crate) fn read_batch(
    source: &SqliteSource,
    plans: &Plans,
    applied: i64,
    reach: Reach,
    extra: &[ExtraKey],
) -> Result<Batch> {
    source.snapshot(|snap| {
        let captured = snap.max_seq()?;
        let upto = match reach {
            Reach::Cut(n) => captured.min(applied.saturating_add(n)),
            Reach::Full => captured,
        };
        let mut batch = Batch {
            after: applied,
            upto: upto.max(applied),
            captured,
            tables: (0..specs().len()).map(|_| TableBatch::default()).collect(),
            ..Batch::default()
        };
        if captured > applied {
            let oldest = snap.min_seq()?;
            if oldest > applied + 1 {
                return Err(Error::new(
                    ErrorKind::Other,
                    format!(
                        "the change records after position {applied} were pruned (the oldest left is {oldest}): \
                         this target cannot catch up; start it again with --force"
                    ),
                ));
            }
        }
        // The keys, in the order first named.
        let mut order: Vec<ExtraKey> = Vec::new();
        let mut seen: HashMap<(usize, RowKey), usize> = HashMap::new();
        let mut add = |order: &mut Vec<ExtraKey>, key: ExtraKey| match seen.get(&(key.table, key.key.clone())) {
            Some(&at) => {
                if key.bad_reason.is_some() {
                    order[at].bad_reason = key.bad_reason;
                }
            }
            None => {
                seen.insert((key.table, key.key.clone()), order.len());
                order.push(key);
            }
        };
        if upto > applied {
            let mut records: Vec<Change> = Vec::new();
            snap.changes(applied, upto, &mut |c| records.push(c))?;
            batch.records = records.len() as u64;
            batch.oldest_captured_at = records.first().map(|c| c.captured_at);
            for change in records {
                if let Some(table) = specs().iter().position(|s| s.name == change.table)
                    && plans.get(table).is_some()
                {
                    add(
                        &mut order,
                        ExtraKey {
                            table,
                            key: change.key,
                            bad_reason: None,
                        },
                    );
                }
            }
        }
        if upto < captured {
            batch.next_captured_at = snap.captured_at(upto + 1)?;
        }
        for key in extra {
            add(&mut order, key.clone());
        }

        let mut fates: HashMap<(usize, RowKey), Fate> = HashMap::new();
        let mut bad: Vec<BadRow> = Vec::new();
        // Keys that are gone or bad, whose referencing rows must be looked at.
        let mut dead: VecDeque<(usize, RowKey)> = VecDeque::new();
        for ExtraKey { table, key, bad_reason } in &order {
            let Some(plan) = plans.get(*table) else { continue };
            let spec = plan.spec;
            let mut fate = Fate::Delete;
            snap.image(plan, key, &mut |row| {
                fate = evaluate(spec, row, bad_reason.as_ref(), &mut bad);
                Ok(())
            })?;
            if !matches!(fate, Fate::Upsert(_)) {
                dead.push_back((*table, key.clone()));
            }
            fates.insert((*table, key.clone()), fate);
        }
        // Rows referencing dead keys: orphans now (or rows of a bad parent).
        while let Some((table, key)) = dead.pop_front() {
            let parent = &specs()[table];
            let parent_is_bad = matches!(fates.get(&(table, key.clone())), Some(Fate::Bad));
            for (child_index, child) in specs().iter().enumerate() {
                let Some(plan) = plans.get(child_index) else { continue };
                for fk in child.foreign_keys.iter().filter(|fk| fk.parent == parent.name) {
                    let Some(at) = parent.key.iter().position(|k| *k == fk.parent_column) else {
                        continue;
                    };
                    let value = &key[at];
                    if *value == KeyPart::Null {
                        continue;
                    }
                    let shown = text_of(Some(value.as_raw()));
                    let reason = if parent_is_bad {
                        format!("orphan: its parent {} row '{shown}' is a bad row", parent.name)
                    } else {
                        format!("orphan: no {} row has {} = '{shown}'", parent.name, fk.parent_column)
                    };
                    let mut found: Vec<RowKey> = Vec::new();
                    snap.referencing(plan, fk.column, value, &mut |row| {
                        let child_key = row_key(child, row);
                        if !matches!(fates.get(&(child_index, child_key.clone())), Some(Fate::Bad)) {
                            bad.push(bad_row(child, row, fk.column, reason.clone()));
                            found.push(child_key);
                        }
                        Ok(())
                    })?;
                    for child_key in found {
                        fates.insert((child_index, child_key.clone()), Fate::Bad);
                        dead.push_back((child_index, child_key));
                    }
                }
            }
        }
        for ((table, key), fate) in fates {
            let spec = &specs()[table];
            match fate {
                Fate::Upsert(row) => batch.tables[table].upserts.push(row),
                Fate::Delete | Fate::Bad => {
                    if let Some(key) = pg_key(spec, &key) {
                        batch.tables[table].deletes.push(key);
                    }
                }
            }
        }
        for table in &mut batch.tables {
            table.upserts.sort_by(|a, b| a.key.cmp(&b.key));
            table.deletes.sort();
        }
        batch.bad = bad;
        Ok(batch)
    })
}
