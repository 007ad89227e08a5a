//! What `adopt` reports. The work itself is SQLite-only (`schema::sqlite::adopt`).

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// The result of adopting a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum AdoptOutcome {
    /// The legacy file is now under management at schema V1.
    Adopted(Box<AdoptReport>),
    /// The file already has a migration history: nothing was done.
    AlreadyManaged {
        /// The highest applied version.
        current_version: i64,
    },
}

/// Which legacy layout a file had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DetectedLayout {
    /// The legacy schema version the tables match (`v15`, `v14`, `v13`, `v11–v12`, `v10`,
    /// `v9 or older`).
    pub version: String,
    /// How the file differs from a file created at that version ("experiments.status added
    /// in place: last column, no CHECK", "index idx_experiments_status missing", …).
    pub notes: Vec<String>,
}

/// A row that schema V1 would refuse; adopt stops on it and changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefusedRow {
    /// Table.
    pub table: String,
    /// The row's primary key (`column = 'value'`, …).
    pub key: String,
    /// The offending column and its value, when one column is to blame.
    pub column: Option<String>,
    /// The value of that column (SQL literal).
    pub value: Option<String>,
    /// Why V1 refuses it (the constraint that fails).
    pub reason: String,
}

impl fmt::Display for RefusedRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "table {} row {}", self.table, self.key)?;
        if let Some(column) = &self.column {
            write!(f, ": column {column}")?;
            if let Some(value) = &self.value {
                write!(f, " = {value}")?;
            }
        }
        write!(f, ": {}", self.reason)
    }
}

/// What adopting a legacy file did.
///
/// The file was brought to the exact V1 layout in one transaction: tables whose definition
/// differs from V1 were rebuilt (new table, rows copied column by column by name with their
/// rowids, V1 defaults for columns the layout lacked, old table dropped, V1 indexes created),
/// missing tables were created, timestamp text was rewritten to the canonical shape of the
/// same instant, the layout was verified against a freshly migrated V1, and V1 was recorded
/// as applied in refinery's history with refinery's own checksum.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdoptReport {
    /// The adopted file.
    pub path: PathBuf,
    /// The copy written before any change (`<file>.pre-adopt-<timestamp>.bak`).
    pub backup: PathBuf,
    /// The layout found.
    pub layout: DetectedLayout,
    /// Tables rebuilt to the V1 definition.
    pub tables_rebuilt: Vec<String>,
    /// Tables whose definition already equalled V1 (left in place).
    pub tables_kept: Vec<String>,
    /// Tables the layout lacked, created empty.
    pub tables_created: Vec<String>,
    /// Indexes created on tables kept in place.
    pub indexes_created: Vec<String>,
    /// Columns the layout lacked, filled with the V1 default (`table.column = default`).
    pub columns_filled: Vec<String>,
    /// Rows per table (the same before and after).
    pub rows: Vec<(String, u64)>,
    /// Timestamp values rewritten to the canonical shape (same instant), in total.
    pub timestamps_rewritten: u64,
    /// The same, per `table.column`.
    pub timestamps_rewritten_by_column: Vec<(String, u64)>,
    /// Timestamp values left as they were because they are not a recognised timestamp shape
    /// (or carry more than microsecond precision), in total.
    pub timestamps_unrecognised: u64,
    /// Up to ten of them (`table key column = value`).
    pub timestamps_unrecognised_examples: Vec<String>,
    /// Rows whose parent does not exist (kept: V1 on SQLite does not re-check stored rows, and
    /// dropping them would lose data), per foreign key.
    pub orphans: Vec<String>,
    /// Rows V1 inserts that the file lacked (the default synth group).
    pub seed_rows_added: u64,
}

impl fmt::Display for AdoptReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "adopted:            {}", self.path.display())?;
        writeln!(f, "backup:             {}", self.backup.display())?;
        writeln!(f, "legacy layout:      {}", self.layout.version)?;
        for note in &self.layout.notes {
            writeln!(f, "                    - {note}")?;
        }
        let list = |items: &[String]| {
            if items.is_empty() {
                "none".to_owned()
            } else {
                items.join(", ")
            }
        };
        writeln!(f, "tables rebuilt:     {}", list(&self.tables_rebuilt))?;
        writeln!(f, "tables created:     {}", list(&self.tables_created))?;
        writeln!(f, "tables kept:        {}", list(&self.tables_kept))?;
        writeln!(f, "indexes created:    {}", list(&self.indexes_created))?;
        writeln!(f, "columns filled:     {}", list(&self.columns_filled))?;
        writeln!(
            f,
            "timestamps rewritten to the canonical shape: {}",
            self.timestamps_rewritten
        )?;
        for (column, n) in &self.timestamps_rewritten_by_column {
            writeln!(f, "                    - {column}: {n}")?;
        }
        writeln!(
            f,
            "timestamps left as they were (unrecognised): {}",
            self.timestamps_unrecognised
        )?;
        for example in &self.timestamps_unrecognised_examples {
            writeln!(f, "                    - {example}")?;
        }
        writeln!(f, "orphan rows kept:   {}", list(&self.orphans))?;
        writeln!(f, "seed rows added:    {}", self.seed_rows_added)?;
        writeln!(f, "\n{:<24} {:>10}", "table", "rows")?;
        for (table, rows) in &self.rows {
            writeln!(f, "{table:<24} {rows:>10}")?;
        }
        write!(
            f,
            "\nschema V1 recorded as applied; run `synthlab-db migrate` for newer versions"
        )
    }
}
