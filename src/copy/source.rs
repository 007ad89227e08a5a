//! What the copy asks of a legacy source, in backend-neutral terms (the SQLite reader in
//! `backend::sqlite::copy_source` answers it).

use super::convert::Raw;
use super::spec::TableSpec;

/// The most columns any table has.
pub(crate) const MAX_COLUMNS: usize = 16;
/// The most foreign keys any table has.
pub(crate) const MAX_FOREIGN_KEYS: usize = 4;

/// In which order rows come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScanOrder {
    /// Storage order (fastest).
    Natural,
    /// Parents before children along the table's self-reference (scenario_nodes), then
    /// storage order; rows unreachable from a root (cycles) come last.
    Tree,
    /// By primary key, byte order (the order of PostgreSQL's `COLLATE "C"`).
    Key,
}

/// How to read one table.
#[derive(Debug, Clone)]
pub(crate) struct ScanPlan {
    /// The target table.
    pub(crate) spec: &'static TableSpec,
    /// Per spec column: whether the source table has it.
    pub(crate) present: Vec<bool>,
    /// Per foreign key: whether the source has the parent table.
    pub(crate) parent_present: Vec<bool>,
    /// Row order.
    pub(crate) order: ScanOrder,
}

/// One source row: per spec column its stored value (`None`: the layout lacks the column),
/// and per foreign key whether the referenced parent row exists in the source (true for NULL).
pub(crate) struct SourceRow<'r> {
    /// Values in spec column order.
    pub(crate) values: [Option<Raw<'r>>; MAX_COLUMNS],
    /// Parent existence in foreign key order.
    pub(crate) parent_exists: [bool; MAX_FOREIGN_KEYS],
}

/// The layout of a source table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SourceTable {
    /// Column names in file order.
    pub(crate) columns: Vec<String>,
}
