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

/// Writes bad rows, one JSON object per line.
pub(crate) struct QuarantineWriter {
    file: std::io::BufWriter<std::fs::File>,
    path: PathBuf,
}

impl QuarantineWriter {
    /// Creates (truncates) the file.
    pub(crate) fn create(path: &Path) -> Result<Self> {
        let file = std::fs::File::create(path).map_err(|e| {
            Error::new(
                ErrorKind::Other,
                format!("cannot create the quarantine file {}: {e}", path.display()),
            )
        })?;
        Ok(QuarantineWriter {
            file: std::io::BufWriter::new(file),
            path: path.to_owned(),
        })
    }

    /// Opens the file for appending (creating it if needed): a follower adds to it run after run.
    pub(crate) fn append(path: &Path) -> Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| {
                Error::new(
                    ErrorKind::Other,
                    format!("cannot open the quarantine file {}: {e}", path.display()),
                )
            })?;
        Ok(QuarantineWriter {
            file: std::io::BufWriter::new(file),
            path: path.to_owned(),
        })
    }

    /// Appends one bad row.
    pub(crate) fn write(&mut self, row: &BadRow) -> Result<()> {
        let line = serde_json::to_string(row)?;
        writeln!(self.file, "{line}").map_err(|e| self.io_error(e))
    }

    /// Flushes to disk.
    pub(crate) fn flush(&mut self) -> Result<()> {
        self.file.flush().map_err(|e| self.io_error(e))
    }

    fn io_error(&self, e: std::io::Error) -> Error {
        Error::other(format!("cannot write the quarantine file {}: {e}", self.path.display()))
    }
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
        out.entry(row.table)
            .or_default()
            .insert(Json::Object(row.key).to_string());
    }
    Ok(out)
}
