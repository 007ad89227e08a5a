//! What the copy knows about the target schema: per table its key, columns (type, NOT NULL,
//! CHECK, the default a column missing from an older legacy layout takes) and foreign keys, and
//! the rows the migrations seed. The types are here; the data ([`SPECS`], [`SEED_ROWS`]) is
//! derived from `migrations/postgres` when the crate is built (`build.rs`, reader in
//! `build/schema_facts.rs`), so it cannot drift from the migrations. A test compares it with
//! the migrated catalog, another checks each CHECK rule agrees with PostgreSQL's evaluation.

/// The PostgreSQL type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColType {
    /// `text COLLATE "C"`.
    Text,
    /// `bigint`.
    Int,
    /// `double precision`.
    Float,
    /// `timestamptz`.
    Timestamp,
    /// `jsonb`.
    Json,
}

impl ColType {
    /// The name PostgreSQL's catalog uses (`format_type`).
    pub(crate) fn pg_name(self) -> &'static str {
        match self {
            ColType::Text => "text",
            ColType::Int => "bigint",
            ColType::Float => "double precision",
            ColType::Timestamp => "timestamp with time zone",
            ColType::Json => "jsonb",
        }
    }
}

/// A CHECK constraint of the migrated schema, recognised from its expression in the migration
/// and evaluated in Rust before a row is sent (`convert.rs`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Check {
    /// No CHECK.
    None,
    /// `col IN (…)`.
    OneOf(&'static [&'static str]),
    /// `char_length(col) <= n`.
    MaxChars(usize),
    /// `col ~ '^<prefix>[a-f0-9]{n}$'`.
    HexId(&'static str, usize),
    /// `col >= n` (PostgreSQL orders NaN above every number, so NaN passes).
    AtLeast(f64),
    /// `col BETWEEN a AND b`.
    Between(f64, f64),
}

/// The value a column missing from an older legacy layout takes (its migration default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Missing {
    /// The column has no literal default and is nullable: NULL.
    Null,
    /// A literal default (`'active'`, `0`), as text; converted like a stored text value.
    Text(&'static str),
    /// NOT NULL without a literal default (none, or `now()`): a layout without it cannot be
    /// copied.
    Required,
}

/// One column.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ColumnSpec {
    pub(crate) name: &'static str,
    pub(crate) ty: ColType,
    pub(crate) not_null: bool,
    pub(crate) check: Check,
    pub(crate) missing: Missing,
}

/// A foreign key `column → parent(parent_column)` (all are single-column).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ForeignKey {
    pub(crate) column: &'static str,
    pub(crate) parent: &'static str,
    pub(crate) parent_column: &'static str,
}

/// One table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TableSpec {
    pub(crate) name: &'static str,
    /// Primary key columns.
    pub(crate) key: &'static [&'static str],
    pub(crate) columns: &'static [ColumnSpec],
    pub(crate) foreign_keys: &'static [ForeignKey],
}

impl TableSpec {
    /// Position of a column.
    pub(crate) fn index_of(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == column)
    }

    /// Positions of the key columns.
    pub(crate) fn key_indexes(&self) -> Vec<usize> {
        self.key.iter().filter_map(|k| self.index_of(k)).collect()
    }

    /// The foreign key pointing into the same table (scenario_nodes.parent_id), if any.
    pub(crate) fn self_reference(&self) -> Option<&ForeignKey> {
        self.foreign_keys.iter().find(|fk| fk.parent == self.name)
    }
}

/// Looks a table up by name.
pub(crate) fn table(name: &str) -> Option<&'static TableSpec> {
    SPECS.iter().find(|t| t.name == name)
}

/// A row the migrations themselves insert (V1 seeds the default synth group). A copy into a
/// fresh target replaces it with the source's row of the same key; when the source has no such
/// row the seed stays, and verify expects it.
pub(crate) struct SeedRow {
    pub(crate) table: &'static str,
    /// Column values as text (`None`: NULL), in the table's column order.
    pub(crate) values: &'static [Option<&'static str>],
}

impl SeedRow {
    /// The value of the table's (first) key column.
    pub(crate) fn key_value(&self, spec: &TableSpec) -> &'static str {
        spec.key_indexes()
            .first()
            .and_then(|&i| self.values.get(i).copied().flatten())
            .unwrap_or_default()
    }
}

include!(concat!(env!("OUT_DIR"), "/copy_spec.rs"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_follow_the_schema_table_order() {
        let names: Vec<&str> = SPECS.iter().map(|t| t.name).collect();
        assert_eq!(names, crate::schema::TABLES.to_vec());
        for spec in &SPECS {
            assert_eq!(spec.key_indexes().len(), spec.key.len(), "{}", spec.name);
            for fk in spec.foreign_keys {
                assert!(spec.index_of(fk.column).is_some(), "{}.{}", spec.name, fk.column);
                let parent = table(fk.parent).expect("parent spec");
                assert!(parent.index_of(fk.parent_column).is_some());
                let own = SPECS.iter().position(|t| t.name == spec.name);
                let theirs = SPECS.iter().position(|t| t.name == fk.parent);
                assert!(theirs <= own, "{} loads before its parent {}", spec.name, fk.parent);
            }
        }
    }
}
