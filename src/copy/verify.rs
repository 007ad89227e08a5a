//! `verify`: do the source file and the PostgreSQL target hold the same data?
//!
//! Per table, both sides are read (the target through the driver, in binary) and every row is
//! turned into a canonical byte string: NULL distinct from every value, text as its bytes,
//! integers as 8 bytes, floats by their bits, timestamps as microseconds since the epoch, JSON
//! as its parsed value (keys sorted, numbers normalized, strings unescaped — see `json`). The
//! table checksum is the wrapping sum of 128-bit row hashes, so row order does not matter.
//! Tables whose counts or checksums differ are read a second time, both sides ordered by key,
//! to name the first differing rows and columns. Rows listed in a quarantine file are expected
//! absent from the target.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hasher};
use std::path::PathBuf;
use std::time::Instant;

use serde_json::{Map, Value as Json};
use tokio::sync::mpsc;
use tokio_postgres::types::{FromSql, Type};

use super::bad_row::{key_string, raw_json};
use super::convert::{Raw, Value, convert};
use super::pg::{Target, quote};
use super::read::convert_row;
use super::source::{ScanOrder, SourceRow};
use super::spec::{ColType, SEED_ROWS, SPECS, TableSpec};
use super::{CopyObserver, DifferenceKind, RowDifference, blocking, open_source, plan_for, source_layout};
use crate::backend::sqlite::copy_source::SqliteSource;
use crate::config::PostgresConfig;
use crate::{Error, Result};

/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
const PG_EPOCH_OFFSET_MICROS: i64 = 946_684_800_000_000;
/// Rows fetched per round trip from the target.
const FETCH_ROWS: i32 = 2000;

/// Options of [`verify`].
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The legacy SQLite file (opened read-only).
    pub source: PathBuf,
    /// The PostgreSQL target.
    pub target: PostgresConfig,
    /// The copy's quarantine file: its rows are expected absent from the target.
    pub quarantine: Option<PathBuf>,
    /// Only these tables.
    pub tables: Option<Vec<String>>,
    /// Differing rows to name per table.
    pub max_differences: usize,
}

impl VerifyOptions {
    /// All tables, no quarantine file, up to 10 differences per table.
    pub fn new(source: impl Into<PathBuf>, target: PostgresConfig) -> Self {
        VerifyOptions {
            source: source.into(),
            target,
            quarantine: None,
            tables: None,
            max_differences: 10,
        }
    }
}

/// Per-table result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifyTable {
    /// Table.
    pub table: String,
    /// Source rows expected in the target.
    pub source_rows: u64,
    /// Target rows.
    pub target_rows: u64,
    /// Source rows listed in the quarantine file (expected absent).
    pub expected_absent: u64,
    /// Source rows that cannot be stored and are not in the quarantine file.
    pub bad_source_rows: u64,
    /// Checksum of the source side (hex).
    pub source_checksum: String,
    /// Checksum of the target side (hex).
    pub target_checksum: String,
    /// Same rows, same values.
    pub equal: bool,
    /// The first differing rows.
    pub differences: Vec<RowDifference>,
    /// Wall time.
    pub seconds: f64,
}

/// The result of [`verify`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifyReport {
    /// The source file.
    pub source: PathBuf,
    /// The target (redacted URL).
    pub target: String,
    /// Per table, in foreign-key order.
    pub tables: Vec<VerifyTable>,
    /// Every table equal.
    pub equal: bool,
    /// Wall time.
    pub seconds: f64,
}

/// Appends the canonical encoding of a converted source value.
fn canonical_value(value: &Value<'_>, out: &mut Vec<u8>) -> std::result::Result<(), String> {
    match value {
        Value::Null => out.push(0),
        Value::Text(t) => {
            out.push(1);
            out.extend_from_slice(&(t.len() as u64).to_be_bytes());
            out.extend_from_slice(t.as_bytes());
        }
        Value::Int(i) => {
            out.push(2);
            out.extend_from_slice(&i.to_be_bytes());
        }
        Value::Float(f) => {
            out.push(3);
            out.extend_from_slice(&f.to_bits().to_be_bytes());
        }
        Value::Timestamp(micros) => {
            out.push(4);
            out.extend_from_slice(&micros.to_be_bytes());
        }
        Value::Json(text) => {
            out.push(5);
            super::json::canonical(text, out)?;
        }
    }
    Ok(())
}

/// A target value as the server sent it (binary format).
struct Wire<'a>(&'a [u8]);

impl<'a> FromSql<'a> for Wire<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Wire(raw))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Appends the canonical encoding of a target value of type `ty`.
fn canonical_wire(ty: ColType, wire: Option<&Wire<'_>>, out: &mut Vec<u8>) -> std::result::Result<(), String> {
    let Some(Wire(raw)) = wire else {
        out.push(0);
        return Ok(());
    };
    let eight = |raw: &[u8]| -> std::result::Result<[u8; 8], String> {
        raw.try_into()
            .map_err(|_| "the server sent a value of unexpected size".to_owned())
    };
    match ty {
        ColType::Text => {
            out.push(1);
            out.extend_from_slice(&(raw.len() as u64).to_be_bytes());
            out.extend_from_slice(raw);
        }
        ColType::Int => {
            out.push(2);
            out.extend_from_slice(&eight(raw)?);
        }
        ColType::Float => {
            out.push(3);
            out.extend_from_slice(&eight(raw)?);
        }
        ColType::Timestamp => {
            out.push(4);
            let micros = i64::from_be_bytes(eight(raw)?) + PG_EPOCH_OFFSET_MICROS;
            out.extend_from_slice(&micros.to_be_bytes());
        }
        ColType::Json => {
            out.push(5);
            let text = raw
                .split_first()
                .filter(|(version, _)| **version == 1)
                .and_then(|(_, text)| std::str::from_utf8(text).ok())
                .ok_or_else(|| "the server sent jsonb in an unknown format".to_owned())?;
            super::json::canonical(text, out)?;
        }
    }
    Ok(())
}

fn row_hash(bytes: &[u8]) -> u128 {
    let mut a = DefaultHasher::new();
    a.write(bytes);
    let mut b = DefaultHasher::new();
    b.write_u8(0xA5);
    b.write(bytes);
    (u128::from(a.finish()) << 64) | u128::from(b.finish())
}

#[derive(Debug, Default, Clone, Copy)]
struct Digest {
    rows: u64,
    sum: u128,
    expected_absent: u64,
    bad: u64,
}

/// The canonical rows of the table's seed rows (what V1 inserts).
fn seed_rows(spec: &TableSpec) -> Vec<Vec<u8>> {
    SEED_ROWS
        .iter()
        .filter(|s| s.table == spec.name)
        .filter_map(|seed| {
            let mut out = Vec::new();
            for (column, text) in spec.columns.iter().zip(seed.values) {
                let value = convert(column, text.map_or(Raw::Null, |t| Raw::Text(t.as_bytes()))).ok()?;
                canonical_value(&value, &mut out).ok()?;
            }
            Some(out)
        })
        .collect()
}

enum SourceItem {
    Row {
        key: Vec<String>,
        columns: Vec<Vec<u8>>,
    },
    Bad {
        key: Vec<String>,
        column: String,
        reason: String,
    },
}

fn text_key(spec: &TableSpec, row: &SourceRow<'_>) -> Vec<String> {
    spec.key
        .iter()
        .map(|k| match spec.index_of(k).and_then(|i| row.values[i]) {
            Some(Raw::Text(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
            other => raw_json(other).to_string(),
        })
        .collect()
}

/// Reads the source side of one table: the digest, or (when `ordered` is given) the ordered
/// canonical rows sent there.
fn read_source_side(
    source: &SqliteSource,
    spec: &'static TableSpec,
    columns: &[String],
    tables_present: &HashSet<String>,
    quarantined: &HashSet<String>,
    ordered: Option<&mpsc::Sender<SourceItem>>,
) -> Result<Digest> {
    let order = if ordered.is_some() {
        ScanOrder::Key
    } else {
        ScanOrder::Natural
    };
    let plan = plan_for(spec, columns, tables_present, order);
    let mut digest = Digest::default();
    let mut bytes = Vec::new();
    source.scan(&plan, &mut |row| {
        let listed = !quarantined.is_empty() && quarantined.contains(&key_string(spec, row));
        if listed {
            digest.expected_absent += 1;
            return Ok(true);
        }
        let mut values = Vec::with_capacity(spec.columns.len());
        let converted = convert_row(spec, row, &mut values);
        if let Err((column, reason)) = converted {
            digest.bad += 1;
            if let Some(tx) = ordered {
                let item = SourceItem::Bad {
                    key: text_key(spec, row),
                    column: column.to_owned(),
                    reason,
                };
                return Ok(tx.blocking_send(item).is_ok());
            }
            return Ok(true);
        }
        match ordered {
            None => {
                bytes.clear();
                for value in &values {
                    canonical_value(value, &mut bytes).map_err(Error::other)?;
                }
                digest.rows += 1;
                digest.sum = digest.sum.wrapping_add(row_hash(&bytes));
                Ok(true)
            }
            Some(tx) => {
                let mut cols = Vec::with_capacity(values.len());
                for value in &values {
                    let mut one = Vec::new();
                    canonical_value(value, &mut one).map_err(Error::other)?;
                    cols.push(one);
                }
                let key = spec
                    .key_indexes()
                    .iter()
                    .map(|&i| match &values[i] {
                        Value::Text(t) => t.to_string(),
                        other => format!("{other:?}"),
                    })
                    .collect();
                Ok(tx.blocking_send(SourceItem::Row { key, columns: cols }).is_ok())
            }
        }
    })?;
    Ok(digest)
}

fn select_sql(spec: &TableSpec, ordered: bool) -> String {
    let columns: Vec<String> = spec.columns.iter().map(|c| quote(c.name)).collect();
    let mut sql = format!("SELECT {} FROM {}", columns.join(", "), quote(spec.name));
    if ordered {
        let keys: Vec<String> = spec.key.iter().map(|k| quote(k)).collect();
        sql.push_str(&format!(" ORDER BY {}", keys.join(", ")));
    }
    sql
}

type TargetRow = (Vec<String>, Vec<Vec<u8>>);

/// Where target rows go.
enum TargetSink<'a> {
    /// Summed into a digest.
    Digest(&'a mut Digest),
    /// Sent, in key order, to the merge.
    Ordered(&'a mpsc::Sender<TargetRow>),
}

/// Streams the target rows of `spec` in batches as per-column canonical encodings; rows equal
/// to a skipped seed are left out.
async fn read_target_side(
    target: &mut Target,
    spec: &TableSpec,
    skip_seeds: &[Vec<u8>],
    mut sink: TargetSink<'_>,
) -> Result<()> {
    let ordered = matches!(sink, TargetSink::Ordered(_));
    let tx = target
        .client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let statement = tx.prepare(&select_sql(spec, ordered)).await?;
    let portal = tx.bind(&statement, &[]).await?;
    let key_indexes = spec.key_indexes();
    let mut bytes = Vec::new();
    'fetch: loop {
        let rows = tx.query_portal(&portal, FETCH_ROWS).await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let mut columns = Vec::with_capacity(spec.columns.len());
            for (i, column) in spec.columns.iter().enumerate() {
                let wire: Option<Wire<'_>> = row.try_get(i)?;
                let mut one = Vec::new();
                canonical_wire(column.ty, wire.as_ref(), &mut one)
                    .map_err(|e| Error::other(format!("{}.{}: {e}", spec.name, column.name)))?;
                columns.push(one);
            }
            bytes.clear();
            for c in &columns {
                bytes.extend_from_slice(c);
            }
            if skip_seeds.contains(&bytes) {
                continue;
            }
            match &mut sink {
                TargetSink::Digest(digest) => {
                    digest.rows += 1;
                    digest.sum = digest.sum.wrapping_add(row_hash(&bytes));
                }
                TargetSink::Ordered(sender) => {
                    let key = key_indexes
                        .iter()
                        .map(|&i| row.try_get::<_, String>(i))
                        .collect::<std::result::Result<Vec<_>, _>>()?;
                    if sender.send((key, columns)).await.is_err() {
                        break 'fetch;
                    }
                }
            }
        }
    }
    // Closed inside the transaction: behind a transaction pooler nothing may outlive it.
    drop(portal);
    drop(statement);
    tx.commit().await?;
    Ok(())
}

fn extra(spec: &TableSpec, key: &[String], quarantined: &HashSet<String>) -> RowDifference {
    let mut d = difference(spec, key, DifferenceKind::ExtraInTarget, Vec::new());
    if quarantined.contains(&Json::Object(key_map(spec, key)).to_string()) {
        d.detail = Some("quarantined in the source".to_owned());
    }
    d
}

fn source_only(spec: &TableSpec, item: SourceItem) -> RowDifference {
    match item {
        SourceItem::Row { key, .. } => difference(spec, &key, DifferenceKind::MissingInTarget, Vec::new()),
        SourceItem::Bad { key, column, reason } => {
            let mut d = difference(spec, &key, DifferenceKind::BadSourceRow, vec![column]);
            d.detail = Some(reason);
            d
        }
    }
}

/// Merges the two key-ordered streams and names the first `max` differences. Blocking.
fn merge(
    spec: &TableSpec,
    quarantined: &HashSet<String>,
    max: usize,
    source: &mut mpsc::Receiver<SourceItem>,
    target: &mut mpsc::Receiver<TargetRow>,
) -> Vec<RowDifference> {
    let mut out = Vec::new();
    let mut pending: Option<SourceItem> = None;
    let mut next_source = |pending: &mut Option<SourceItem>| pending.take().or_else(|| source.blocking_recv());
    'target: while let Some((tkey, tcols)) = target.blocking_recv() {
        loop {
            if out.len() >= max {
                return out;
            }
            let Some(item) = next_source(&mut pending) else {
                out.push(extra(spec, &tkey, quarantined));
                continue 'target;
            };
            let skey = match &item {
                SourceItem::Row { key, .. } | SourceItem::Bad { key, .. } => key.clone(),
            };
            match skey.cmp(&tkey) {
                std::cmp::Ordering::Less => out.push(source_only(spec, item)),
                std::cmp::Ordering::Greater => {
                    pending = Some(item);
                    out.push(extra(spec, &tkey, quarantined));
                    continue 'target;
                }
                std::cmp::Ordering::Equal => {
                    match item {
                        SourceItem::Row { columns, .. } => {
                            let differing: Vec<String> = spec
                                .columns
                                .iter()
                                .zip(columns.iter().zip(&tcols))
                                .filter(|(_, (a, b))| a != b)
                                .map(|(c, _)| c.name.to_owned())
                                .collect();
                            if !differing.is_empty() {
                                out.push(difference(spec, &tkey, DifferenceKind::Differs, differing));
                            }
                        }
                        bad @ SourceItem::Bad { .. } => out.push(source_only(spec, bad)),
                    }
                    continue 'target;
                }
            }
        }
    }
    while out.len() < max {
        match next_source(&mut pending) {
            Some(item) => out.push(source_only(spec, item)),
            None => break,
        }
    }
    out
}

fn key_map(spec: &TableSpec, key: &[String]) -> Map<String, Json> {
    spec.key
        .iter()
        .zip(key)
        .map(|(k, v)| ((*k).to_owned(), Json::String(v.clone())))
        .collect()
}

fn difference(spec: &TableSpec, key: &[String], kind: DifferenceKind, columns: Vec<String>) -> RowDifference {
    RowDifference::new(spec, key.to_vec(), kind, columns)
}

/// Compares the source file with the target (see the module doc).
///
/// # Errors
/// NotFound for a missing source or quarantine file; Unavailable when the target cannot be
/// reached; InvalidInput for an unknown table name.
pub async fn verify(options: &VerifyOptions, observer: &dyn CopyObserver) -> Result<VerifyReport> {
    let started = Instant::now();
    let selected = super::selected_tables(&options.tables)?;
    let quarantine = match &options.quarantine {
        Some(path) => super::read_quarantine(path)?,
        None => HashMap::new(),
    };
    let source = open_source(&options.source).await?;
    let (mut source, layout) = source_layout(source).await?;
    let tables_present: std::sync::Arc<HashSet<String>> = std::sync::Arc::new(layout.keys().cloned().collect());
    let mut target = Target::connect(&options.target).await?;
    let status = crate::schema::postgres::status(&mut target.client).await?;
    if status.current_version == 0 {
        return Err(Error::other(format!(
            "the target {} has no schema: nothing was copied there",
            options.target.redacted_url()
        )));
    }
    let mut tables = Vec::new();
    for spec in &SPECS {
        if selected.as_ref().is_some_and(|s| !s.contains(spec.name)) {
            continue;
        }
        let table_started = Instant::now();
        let columns = layout.get(spec.name).cloned();
        let quarantined = std::sync::Arc::new(quarantine.get(spec.name).cloned().unwrap_or_default());
        // Seed rows count as expected in the target only when the source lacks their key.
        let mut seeds = seed_rows(spec);
        if !seeds.is_empty() && columns.is_some() {
            let (src, has) = blocking(move || {
                let mut has = false;
                for seed in SEED_ROWS.iter().filter(|s| s.table == spec.name) {
                    has |= source.has_key(spec.name, spec.key[0], seed.key_value(spec))?;
                }
                Ok((source, has))
            })
            .await?;
            source = src;
            if has {
                seeds.clear();
            }
        }
        observer.table_started(spec.name, 0);
        // Pass 1: digests of both sides, concurrently.
        let side = {
            let columns = columns.clone();
            let present = tables_present.clone();
            let quarantined = quarantined.clone();
            tokio::task::spawn_blocking(move || {
                let digest = match &columns {
                    Some(columns) => read_source_side(&source, spec, columns, &present, &quarantined, None),
                    None => Ok(Digest::default()),
                };
                (source, digest)
            })
        };
        let mut target_digest = Digest::default();
        let target_result = read_target_side(&mut target, spec, &seeds, TargetSink::Digest(&mut target_digest)).await;
        let (src, source_digest) = side.await.map_err(|e| Error::other(format!("reader failed: {e}")))?;
        source = src;
        let source_digest = source_digest?;
        target_result?;
        let equal = source_digest.rows == target_digest.rows
            && source_digest.sum == target_digest.sum
            && source_digest.bad == 0;
        let mut differences = Vec::new();
        if !equal && options.max_differences > 0 {
            // Pass 2: both sides in key order, merged on a blocking thread.
            let (stx, mut srx) = mpsc::channel::<SourceItem>(256);
            let (ttx, mut trx) = mpsc::channel::<TargetRow>(FETCH_ROWS as usize);
            let side = {
                let present = tables_present.clone();
                let quarantined = quarantined.clone();
                tokio::task::spawn_blocking(move || {
                    let digest = match &columns {
                        Some(columns) => read_source_side(&source, spec, columns, &present, &quarantined, Some(&stx)),
                        None => Ok(Digest::default()),
                    };
                    drop(stx);
                    (source, digest)
                })
            };
            let max = options.max_differences;
            let merger = {
                let quarantined = quarantined.clone();
                tokio::task::spawn_blocking(move || {
                    let found = merge(spec, &quarantined, max, &mut srx, &mut trx);
                    drop(srx);
                    found
                })
            };
            let feed = read_target_side(&mut target, spec, &seeds, TargetSink::Ordered(&ttx)).await;
            drop(ttx);
            differences = merger.await.map_err(|e| Error::other(format!("diff failed: {e}")))?;
            let (src, _) = side.await.map_err(|e| Error::other(format!("reader failed: {e}")))?;
            source = src;
            feed?;
        }
        let report = VerifyTable {
            table: spec.name.to_owned(),
            source_rows: source_digest.rows,
            target_rows: target_digest.rows,
            expected_absent: source_digest.expected_absent,
            bad_source_rows: source_digest.bad,
            source_checksum: format!("{:032x}", source_digest.sum),
            target_checksum: format!("{:032x}", target_digest.sum),
            equal,
            differences,
            seconds: table_started.elapsed().as_secs_f64(),
        };
        tables.push(report);
    }
    let equal = tables.iter().all(|t| t.equal);
    Ok(VerifyReport {
        source: options.source.clone(),
        target: options.target.redacted_url().to_owned(),
        tables,
        equal,
        seconds: started.elapsed().as_secs_f64(),
    })
}
