//! What a live schema looks like (read back from the database catalog), the differences
//! between two of them, and the dialect-neutral form used to compare SQLite with PostgreSQL.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::BackendKind;

pub use super::facts::{JSON_COLUMNS, TIMESTAMP_COLUMNS};

/// The tables of one schema, as the database catalog describes them (the migration history
/// table is left out).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SchemaModel {
    /// Tables by name.
    pub tables: BTreeMap<String, TableModel>,
}

/// One table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TableModel {
    /// Columns in their physical order.
    pub columns: Vec<ColumnModel>,
    /// Primary key columns, in key order.
    pub primary_key: Vec<String>,
    /// UNIQUE constraints (column lists).
    pub unique: BTreeSet<Vec<String>>,
    /// Foreign keys.
    pub foreign_keys: BTreeSet<ForeignKeyModel>,
    /// CHECK constraints, as the catalog prints them (whitespace collapsed).
    pub checks: BTreeSet<String>,
    /// Indexes created explicitly (not those backing a primary key or UNIQUE constraint), by name.
    pub indexes: BTreeMap<String, IndexModel>,
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnModel {
    /// Name.
    pub name: String,
    /// Type as the dialect names it (`TEXT`, `timestamp with time zone`, …).
    pub data_type: String,
    /// NOT NULL.
    pub not_null: bool,
    /// Default expression as the catalog prints it.
    pub default: Option<String>,
    /// Collation (PostgreSQL only; SQLite columns have none declared).
    pub collation: Option<String>,
}

/// One foreign key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ForeignKeyModel {
    /// Referencing columns.
    pub columns: Vec<String>,
    /// Referenced table.
    pub references: String,
    /// Referenced columns.
    pub referenced_columns: Vec<String>,
    /// `NO ACTION`, `CASCADE`, `SET NULL`, `RESTRICT` or `SET DEFAULT`.
    pub on_delete: String,
    /// As `on_delete`, for updates.
    pub on_update: String,
}

impl fmt::Display for ForeignKeyModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "({}) -> {} ({}) ON DELETE {} ON UPDATE {}",
            self.columns.join(", "),
            self.references,
            self.referenced_columns.join(", "),
            self.on_delete,
            self.on_update
        )
    }
}

/// One index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexModel {
    /// Key columns or expressions, each followed by ` DESC` when descending.
    pub columns: Vec<String>,
    /// UNIQUE index.
    pub unique: bool,
    /// Partial index predicate.
    pub predicate: Option<String>,
}

impl fmt::Display for IndexModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}({})",
            if self.unique { "UNIQUE " } else { "" },
            self.columns.join(", ")
        )?;
        if let Some(predicate) = &self.predicate {
            write!(f, " WHERE {predicate}")?;
        }
        Ok(())
    }
}

/// Collapses runs of whitespace to one space and trims (catalog text varies in layout only).
pub(crate) fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The differences between an expected schema and a live one, one readable line each.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SchemaDiff {
    /// One line per difference ("index idx_experiments_status missing", …).
    pub differences: Vec<String>,
}

impl SchemaDiff {
    /// True when the two schemas are equal.
    pub fn is_empty(&self) -> bool {
        self.differences.is_empty()
    }
}

impl fmt::Display for SchemaDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.differences {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

fn show(value: Option<&str>) -> String {
    value.map_or_else(|| "none".to_owned(), str::to_owned)
}

impl SchemaModel {
    /// The differences from `self` (expected) to `live`.
    pub fn diff(&self, live: &SchemaModel) -> SchemaDiff {
        let mut out = Vec::new();
        for (name, expected) in &self.tables {
            match live.tables.get(name) {
                None => out.push(format!("table {name} missing")),
                Some(found) => diff_table(name, expected, found, &mut out),
            }
        }
        for name in live.tables.keys().filter(|n| !self.tables.contains_key(*n)) {
            out.push(format!("table {name} unexpected"));
        }
        SchemaDiff { differences: out }
    }

    /// The dialect-neutral form of this schema (see [`LogicalSchema`]).
    pub fn logical(&self, dialect: BackendKind) -> LogicalSchema {
        LogicalSchema {
            tables: self
                .tables
                .iter()
                .map(|(name, table)| (name.clone(), logical_table(name, table, dialect)))
                .collect(),
        }
    }
}

fn diff_table(table: &str, expected: &TableModel, found: &TableModel, out: &mut Vec<String>) {
    for column in &expected.columns {
        let Some(live) = found.columns.iter().find(|c| c.name == column.name) else {
            out.push(format!("column {table}.{} missing", column.name));
            continue;
        };
        let name = &column.name;
        if live.data_type != column.data_type {
            out.push(format!(
                "type of {table}.{name}: expected '{}', found '{}'",
                column.data_type, live.data_type
            ));
        }
        if live.not_null != column.not_null {
            let state = |nn: bool| if nn { "NOT NULL" } else { "NULL allowed" };
            out.push(format!(
                "nullability of {table}.{name}: expected {}, found {}",
                state(column.not_null),
                state(live.not_null)
            ));
        }
        if live.default != column.default {
            out.push(format!(
                "default of {table}.{name}: expected {}, found {}",
                show(column.default.as_deref()),
                show(live.default.as_deref())
            ));
        }
        if live.collation != column.collation {
            out.push(format!(
                "collation of {table}.{name}: expected {}, found {}",
                show(column.collation.as_deref()),
                show(live.collation.as_deref())
            ));
        }
    }
    for column in found
        .columns
        .iter()
        .filter(|c| !expected.columns.iter().any(|e| e.name == c.name))
    {
        out.push(format!("column {table}.{} unexpected", column.name));
    }
    let order = |t: &TableModel, other: &TableModel| -> Vec<String> {
        t.columns
            .iter()
            .filter(|c| other.columns.iter().any(|o| o.name == c.name))
            .map(|c| c.name.clone())
            .collect()
    };
    let (expected_order, found_order) = (order(expected, found), order(found, expected));
    if expected_order != found_order {
        out.push(format!(
            "column order of {table}: expected ({}), found ({})",
            expected_order.join(", "),
            found_order.join(", ")
        ));
    }
    if expected.primary_key != found.primary_key {
        out.push(format!(
            "primary key of {table}: expected ({}), found ({})",
            expected.primary_key.join(", "),
            found.primary_key.join(", ")
        ));
    }
    for unique in expected.unique.difference(&found.unique) {
        out.push(format!("unique constraint {table} ({}) missing", unique.join(", ")));
    }
    for unique in found.unique.difference(&expected.unique) {
        out.push(format!("unique constraint {table} ({}) unexpected", unique.join(", ")));
    }
    for fk in expected.foreign_keys.difference(&found.foreign_keys) {
        out.push(format!("foreign key {table} {fk} missing"));
    }
    for fk in found.foreign_keys.difference(&expected.foreign_keys) {
        out.push(format!("foreign key {table} {fk} unexpected"));
    }
    for check in expected.checks.difference(&found.checks) {
        out.push(format!("check on {table} missing: {check}"));
    }
    for check in found.checks.difference(&expected.checks) {
        out.push(format!("check on {table} unexpected: {check}"));
    }
    for (name, index) in &expected.indexes {
        match found.indexes.get(name) {
            None => out.push(format!("index {name} missing (on {table} {index})")),
            Some(live) if live != index => {
                out.push(format!(
                    "index {name}: expected on {table} {index}, found on {table} {live}"
                ));
            }
            Some(_) => {}
        }
    }
    for (name, index) in found.indexes.iter().filter(|(n, _)| !expected.indexes.contains_key(*n)) {
        out.push(format!("index {name} unexpected (on {table} {index})"));
    }
}

/// Dialect-neutral column types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogicalType {
    /// SQLite `TEXT`, PostgreSQL `text`.
    Text,
    /// SQLite `TEXT` holding canonical timestamp text, PostgreSQL `timestamptz`.
    Timestamp,
    /// SQLite `TEXT` with a `json_valid` CHECK, PostgreSQL `jsonb`.
    Json,
    /// SQLite `INTEGER`, PostgreSQL `bigint`.
    Integer,
    /// SQLite `REAL`, PostgreSQL `double precision`.
    Real,
    /// A type outside the mapping (named as the dialect prints it).
    Other,
}

/// A column in dialect-neutral terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogicalColumn {
    /// Name.
    pub name: String,
    /// Mapped type.
    pub logical_type: LogicalType,
    /// The dialect's own type name when it is outside the mapping.
    pub other_type: Option<String>,
    /// NOT NULL (primary key columns count as NOT NULL on both sides).
    pub not_null: bool,
    /// Default with casts removed and the current-time functions named `now`.
    pub default: Option<String>,
}

/// A CHECK constraint in dialect-neutral terms: the columns it reads, the string and number
/// literals it compares with, and whether it is a pattern match (GLOB / regular expression,
/// whose pattern syntax differs by dialect).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct LogicalCheck {
    /// Columns of the table the expression reads.
    pub columns: Vec<String>,
    /// String literals (empty for pattern checks).
    pub strings: Vec<String>,
    /// Number literals.
    pub numbers: Vec<String>,
    /// Pattern match.
    pub pattern: bool,
}

/// A table in dialect-neutral terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogicalTable {
    /// Columns in order.
    pub columns: Vec<LogicalColumn>,
    /// Primary key.
    pub primary_key: Vec<String>,
    /// UNIQUE constraints.
    pub unique: BTreeSet<Vec<String>>,
    /// Foreign keys with their actions.
    pub foreign_keys: BTreeSet<ForeignKeyModel>,
    /// CHECK constraints other than the JSON validity checks that SQLite needs and jsonb implies.
    pub checks: BTreeSet<LogicalCheck>,
    /// Indexes by name.
    pub indexes: BTreeMap<String, IndexModel>,
}

/// A schema in dialect-neutral terms: equal for SQLite and PostgreSQL when the two dialects'
/// migrations describe the same tables, columns, keys, nullability and constraints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogicalSchema {
    /// Tables by name.
    pub tables: BTreeMap<String, LogicalTable>,
}

/// Whether `table.column` holds timestamps.
pub fn is_timestamp_column(table: &str, column: &str) -> bool {
    TIMESTAMP_COLUMNS.iter().any(|(t, c)| *t == table && *c == column)
}

/// A SQLite CHECK that only says "this column holds valid JSON (or NULL)": the column of it.
fn sqlite_json_check_column(check: &str) -> Option<String> {
    let text = check.trim();
    let inner = text.strip_prefix("json_valid(").and_then(|t| t.strip_suffix(')'));
    if let Some(column) = inner.filter(|c| is_identifier(c)) {
        return Some(column.to_owned());
    }
    let (left, right) = text.split_once(" IS NULL OR json_valid(")?;
    let right = right.strip_suffix(')')?;
    (left == right && is_identifier(left)).then(|| left.to_owned())
}

fn is_identifier(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn logical_type(
    table: &str,
    column: &ColumnModel,
    json_columns: &BTreeSet<String>,
    dialect: BackendKind,
) -> (LogicalType, Option<String>) {
    let declared = column.data_type.to_ascii_lowercase();
    let mapped = match (dialect, declared.as_str()) {
        (BackendKind::Sqlite, "text") if json_columns.contains(&column.name) => LogicalType::Json,
        (BackendKind::Sqlite, "text") if is_timestamp_column(table, &column.name) => LogicalType::Timestamp,
        (BackendKind::Sqlite, "text") | (BackendKind::Postgres, "text") => LogicalType::Text,
        (BackendKind::Sqlite, "integer") | (BackendKind::Postgres, "bigint") => LogicalType::Integer,
        (BackendKind::Sqlite, "real") | (BackendKind::Postgres, "double precision") => LogicalType::Real,
        (BackendKind::Postgres, "timestamp with time zone") => LogicalType::Timestamp,
        (BackendKind::Postgres, "jsonb") => LogicalType::Json,
        _ => LogicalType::Other,
    };
    let other = (mapped == LogicalType::Other).then(|| column.data_type.clone());
    (mapped, other)
}

/// Removes `::type` casts and names the current-time functions `now`.
fn logical_default(default: &str) -> String {
    let text = default.trim();
    if text.eq_ignore_ascii_case("now()")
        || text.eq_ignore_ascii_case("CURRENT_TIMESTAMP")
        || text.eq_ignore_ascii_case("datetime('now')")
    {
        return "now".to_owned();
    }
    strip_casts(text)
}

/// Drops `::type` casts (PostgreSQL prints `'active'::text`) and the parentheses PostgreSQL
/// puts around cast numbers (`(0)::double precision`).
fn strip_casts(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if c == '\'' {
            in_string = !in_string;
            out.push(c);
            continue;
        }
        if !in_string && c == ':' && chars.peek() == Some(&':') {
            chars.next();
            // A type name: letters, spaces between words ("double precision"), brackets.
            while let Some(&n) = chars.peek() {
                if n.is_ascii_alphanumeric() || n == '_' || n == '[' || n == ']' || n == '"' {
                    chars.next();
                } else if n == ' ' {
                    let rest: String = chars.clone().skip(1).take_while(|c| c.is_ascii_alphabetic()).collect();
                    if rest == "precision" || rest == "varying" || rest == "zone" || rest == "time" || rest == "with" {
                        chars.next();
                    } else {
                        break;
                    }
                } else {
                    break;
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// The parts of a CHECK expression that mean the same in both dialects.
fn logical_check(check: &str, columns: &[ColumnModel]) -> LogicalCheck {
    let mut strings = Vec::new();
    let mut numbers = Vec::new();
    let mut used = BTreeSet::new();
    let mut words = Vec::new();
    let chars: Vec<char> = check.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let mut literal = String::new();
            i += 1;
            while i < chars.len() {
                if chars[i] == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        literal.push('\'');
                        i += 2;
                        continue;
                    }
                    break;
                }
                literal.push(chars[i]);
                i += 1;
            }
            strings.push(literal);
        } else if c.is_ascii_digit() {
            let mut number = String::new();
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                number.push(chars[i]);
                i += 1;
            }
            numbers.push(number);
            continue;
        } else if c.is_ascii_alphabetic() || c == '_' || c == '"' {
            let mut word = String::new();
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '"') {
                if chars[i] != '"' {
                    word.push(chars[i]);
                }
                i += 1;
            }
            if columns.iter().any(|col| col.name == word) {
                used.insert(word.clone());
            }
            words.push(word.to_ascii_lowercase());
            continue;
        }
        i += 1;
    }
    let pattern = words.iter().any(|w| w == "glob" || w == "like" || w == "similar") || check.contains(" ~ ");
    if pattern {
        strings.clear();
    }
    strings.sort();
    numbers.sort();
    LogicalCheck {
        columns: used.into_iter().collect(),
        strings,
        numbers,
        pattern,
    }
}

fn logical_table(name: &str, table: &TableModel, dialect: BackendKind) -> LogicalTable {
    let mut json_columns = BTreeSet::new();
    let mut checks = BTreeSet::new();
    for check in &table.checks {
        let inner = check.strip_prefix("CHECK ").map_or(check.as_str(), str::trim);
        let inner = strip_outer_parens(inner);
        if dialect == BackendKind::Sqlite
            && let Some(column) = sqlite_json_check_column(inner)
        {
            json_columns.insert(column);
            continue;
        }
        checks.insert(logical_check(inner, &table.columns));
    }
    let columns = table
        .columns
        .iter()
        .map(|c| {
            let (logical_type, other_type) = logical_type(name, c, &json_columns, dialect);
            LogicalColumn {
                name: c.name.clone(),
                logical_type,
                other_type,
                not_null: c.not_null || table.primary_key.contains(&c.name),
                default: c.default.as_deref().map(logical_default),
            }
        })
        .collect();
    LogicalTable {
        columns,
        primary_key: table.primary_key.clone(),
        unique: table.unique.clone(),
        foreign_keys: table.foreign_keys.clone(),
        checks,
        indexes: table.indexes.clone(),
    }
}

/// `((x))` → `x`, only when the outer parentheses enclose the whole text.
fn strip_outer_parens(text: &str) -> &str {
    let mut text = text.trim();
    loop {
        let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) else {
            return text;
        };
        let mut depth = 0i32;
        let mut in_string = false;
        let mut encloses = true;
        for c in inner.chars() {
            match c {
                '\'' => in_string = !in_string,
                '(' if !in_string => depth += 1,
                ')' if !in_string => {
                    depth -= 1;
                    if depth < 0 {
                        encloses = false;
                        break;
                    }
                }
                _ => {}
            }
        }
        if !encloses || depth != 0 {
            return text;
        }
        text = inner.trim();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_and_time_functions_are_normalised() {
        assert_eq!(logical_default("'active'::text"), "'active'");
        assert_eq!(logical_default("datetime('now')"), "now");
        assert_eq!(logical_default("now()"), "now");
        assert_eq!(strip_casts("(0)::double precision"), "(0)");
        assert_eq!(strip_casts("'a::b'::text"), "'a::b'");
    }

    #[test]
    fn json_checks_are_recognised() {
        assert_eq!(
            sqlite_json_check_column("json_valid(config)").as_deref(),
            Some("config")
        );
        assert_eq!(
            sqlite_json_check_column("data IS NULL OR json_valid(data)").as_deref(),
            Some("data")
        );
        assert_eq!(sqlite_json_check_column("length(name) <= 100"), None);
    }

    #[test]
    fn enumeration_checks_match_across_dialects() {
        let columns = vec![ColumnModel {
            name: "status".into(),
            data_type: "TEXT".into(),
            not_null: true,
            default: None,
            collation: None,
        }];
        let sqlite = logical_check("status IN ('active','deleted')", &columns);
        let pg = logical_check("(status = ANY (ARRAY['active'::text, 'deleted'::text]))", &columns);
        assert_eq!(sqlite, pg);
        assert_eq!(strip_outer_parens("((a) OR (b))"), "(a) OR (b)");
        assert_eq!(strip_outer_parens("(a) OR (b)"), "(a) OR (b)");
    }
}
