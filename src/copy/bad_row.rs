//! Bad rows: what is recorded about them (table, key, column, reason, original values) and the
//! quarantine file (one JSON object per line).

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json};

use super::convert::Raw;
use super::source::SourceRow;
use super::spec::TableSpec;
use crate::{Error, ErrorKind, Result};

/// A row the copy refused, with why.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BadRow {
    /// Table.
    pub table: String,
    /// Primary key columns and their stored values.
    pub key: Map<String, Json>,
    /// The column at fault.
    pub column: String,
    /// Why the row cannot be stored as is.
    pub reason: String,
    /// Every stored value of the row, losslessly (`{"text_hex": …}` for text that is not
    /// UTF-8, `{"blob_hex": …}` for BLOBs, `{"real": "inf"}` for non-finite reals).
    pub values: Map<String, Json>,
}

impl BadRow {
    /// The key as one line of text (`id='exp_1'`).
    pub fn key_text(&self) -> String {
        self.key
            .iter()
            .map(|(k, v)| format!("{k}={}", v))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A stored value as JSON, without loss.
pub(crate) fn raw_json(raw: Option<Raw<'_>>) -> Json {
    match raw {
        None | Some(Raw::Null) => Json::Null,
        Some(Raw::Integer(i)) => Json::from(i),
        Some(Raw::Real(f)) => match serde_json::Number::from_f64(f) {
            Some(n) => Json::Number(n),
            None => serde_json::json!({ "real": format!("{f}") }),
        },
        Some(Raw::Text(bytes)) => match std::str::from_utf8(bytes) {
            Ok(text) => Json::String(text.to_owned()),
            Err(_) => serde_json::json!({ "text_hex": hex(bytes) }),
        },
        Some(Raw::Blob(bytes)) => serde_json::json!({ "blob_hex": hex(bytes) }),
    }
}

/// The key of a source row as a JSON object.
pub(crate) fn key_json(spec: &TableSpec, row: &SourceRow<'_>) -> Map<String, Json> {
    spec.key
        .iter()
        .filter_map(|k| spec.index_of(k).map(|i| ((*k).to_owned(), raw_json(row.values[i]))))
        .collect()
}

/// The key of a source row as a lookup string (the compact JSON of [`key_json`]).
pub(crate) fn key_string(spec: &TableSpec, row: &SourceRow<'_>) -> String {
    Json::Object(key_json(spec, row)).to_string()
}

/// Builds the record of a bad source row.
pub(crate) fn bad_row(spec: &TableSpec, row: &SourceRow<'_>, column: &str, reason: String) -> BadRow {
    BadRow {
        table: spec.name.to_owned(),
        key: key_json(spec, row),
        column: column.to_owned(),
        reason,
        values: spec
            .columns
            .iter()
            .enumerate()
            .filter(|(i, _)| row.values[*i].is_some())
            .map(|(i, c)| (c.name.to_owned(), raw_json(row.values[i])))
            .collect(),
    }
}

/// The default quarantine file beside the source: `<source>.quarantine.jsonl`.
pub fn default_quarantine_path(source: &Path) -> PathBuf {
    let mut name = source.as_os_str().to_owned();
    name.push(".quarantine.jsonl");
    PathBuf::from(name)
}

/// The quarantine file of a run, merged with what earlier runs recorded: one JSON object per
/// line. A table this run has read replaces that table's earlier records (the same rows are
/// found again, or were fixed in the source); every other table keeps them, so a second run
/// with other `--tables` never loses the first run's records. The file is rewritten (temporary
/// file + rename) each time a table is finished, so it is always whole.
pub(crate) struct QuarantineWriter {
    path: PathBuf,
    /// Records of earlier runs, as (table, line).
    earlier: Vec<(String, String)>,
    /// Records of this run, as (table, line).
    current: Vec<(String, String)>,
    /// Tables this run has read to the end.
    finished: HashSet<String>,
}

impl QuarantineWriter {
    /// Opens the file of `path`: its records are kept (and it is created, empty, if missing).
    ///
    /// # Errors
    /// InvalidInput when the file exists but is not a quarantine file (it is left alone);
    /// Other when it cannot be written.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let earlier = match std::fs::File::open(path) {
            Ok(file) => read_records(path, file)?
                .into_iter()
                .map(|(row, line)| (row.table, line))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                return Err(Error::other(format!(
                    "cannot read the quarantine file {}: {e}",
                    path.display()
                )));
            }
        };
        let writer = QuarantineWriter {
            path: path.to_owned(),
            earlier,
            current: Vec::new(),
            finished: HashSet::new(),
        };
        writer.rewrite()?;
        Ok(writer)
    }

    /// Records one bad row (written when its table is finished).
    pub(crate) fn write(&mut self, row: &BadRow) -> Result<()> {
        self.current.push((row.table.clone(), serde_json::to_string(row)?));
        Ok(())
    }

    /// Writes what was recorded so far to disk, keeping every earlier record (a follower that
    /// quarantines rows batch after batch).
    pub(crate) fn flush(&mut self) -> Result<()> {
        self.rewrite()
    }

    /// `table` was read to the end: its records of this run replace the earlier ones, on disk.
    pub(crate) fn finish_table(&mut self, table: &str) -> Result<()> {
        self.finished.insert(table.to_owned());
        self.rewrite()
    }

    /// Writes the earlier records of unfinished tables and this run's records to a temporary
    /// file beside the quarantine file, then renames it over the quarantine file.
    fn rewrite(&self) -> Result<()> {
        let mut temporary = self.path.as_os_str().to_owned();
        temporary.push(".tmp");
        let temporary = PathBuf::from(temporary);
        let io =
            |e: std::io::Error| Error::other(format!("cannot write the quarantine file {}: {e}", self.path.display()));
        let mut file = std::io::BufWriter::new(std::fs::File::create(&temporary).map_err(io)?);
        let kept = self.earlier.iter().filter(|(table, _)| !self.finished.contains(table));
        for (_, line) in kept.chain(&self.current) {
            writeln!(file, "{line}").map_err(io)?;
        }
        file.into_inner()
            .map_err(|e| io(e.into_error()))?
            .sync_all()
            .map_err(io)?;
        std::fs::rename(&temporary, &self.path).map_err(io)
    }
}

/// Every record of a quarantine file with its line as written.
fn read_records(path: &Path, file: std::fs::File) -> Result<Vec<(BadRow, String)>> {
    let mut records = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| Error::other(format!("cannot read {}: {e}", path.display())))?;
        if line.trim().is_empty() {
            continue;
        }
        let row: BadRow = serde_json::from_str(&line).map_err(|e| {
            Error::invalid_input(format!(
                "{} line {}: not a quarantine record: {e}",
                path.display(),
                n + 1
            ))
        })?;
        records.push((row, line));
    }
    Ok(records)
}

/// Reads a quarantine file: per table, the key strings of its rows.
///
/// # Errors
/// NotFound when the file is missing; InvalidInput for a line that is not a bad-row record.
pub fn read_quarantine(path: &Path) -> Result<HashMap<String, HashSet<String>>> {
    let file = std::fs::File::open(path).map_err(|e| {
        Error::new(
            ErrorKind::NotFound,
            format!("cannot open the quarantine file {}: {e}", path.display()),
        )
    })?;
    let mut out: HashMap<String, HashSet<String>> = HashMap::new();
    for (row, _) in read_records(path, file)? {
        out.entry(row.table)
            .or_default()
            .insert(Json::Object(row.key).to_string());
    }
    Ok(out)
}
