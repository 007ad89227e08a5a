//! Reading rows of either backend by column name, written once.
//!
//! Each driver implements [`Row`] (a few required methods: a nullable text, integer, float,
//! boolean, timestamp or JSON column) for its own row type: `sqlite/row.rs` accepts every
//! legacy shape (numbers in text columns, 0/1 booleans, legacy timestamp text, JSON as text),
//! `postgres/row.rs` reads the native types. Everything above that — required vs nullable,
//! enumerated columns, the mapping of a row to a model type ([`FromRow`], in `from_row.rs`)
//! — is written here once, so both backends map rows the same way.
//!
//! Columns are always named, never positional: legacy files put late-added columns last.

use serde_json::Value;

use crate::model::{StringEnum, Timestamp};
use crate::{Error, Result};

/// A row of either backend. Each method reads one nullable column; `table` and `column` name
/// it in errors (a value of the wrong type is a bad-data error, never a panic).
pub(crate) trait Row {
    /// A text column.
    fn text(&self, table: &str, column: &str) -> Result<Option<String>>;
    /// A whole-number column.
    fn int(&self, table: &str, column: &str) -> Result<Option<i64>>;
    /// A floating point column.
    fn float(&self, table: &str, column: &str) -> Result<Option<f64>>;
    /// A boolean (computed in SQL, or stored).
    fn flag(&self, table: &str, column: &str) -> Result<Option<bool>>;
    /// A timestamp column.
    fn timestamp(&self, table: &str, column: &str) -> Result<Option<Timestamp>>;
    /// A JSON column.
    fn json(&self, table: &str, column: &str) -> Result<Option<Value>>;
}

impl<'r> dyn Row + 'r {
    /// The columns of this row, read as coming from `table` (the name errors give).
    pub(crate) fn of(&'r self, table: &'static str) -> Columns<'r> {
        Columns { row: self, table }
    }
}

/// A row read as coming from one table: `get` any [`FromColumn`] type by column name.
#[derive(Clone, Copy)]
pub(crate) struct Columns<'r> {
    row: &'r dyn Row,
    table: &'static str,
}

impl Columns<'_> {
    /// The column `column` as a `T` (`Option<T>` for a nullable column).
    ///
    /// # Errors
    /// Other (bad data) for a NULL in a required column or a value of another type.
    pub(crate) fn get<T: FromColumn>(&self, column: &str) -> Result<T> {
        T::from_column(self.row, self.table, column)
    }

    /// Whether the column is NULL (as text: any value reads as text on SQLite).
    pub(crate) fn is_null(&self, column: &str) -> Result<bool> {
        Ok(self.row.text(self.table, column)?.is_none())
    }
}

/// A model type read from a row; implemented once for both backends (`from_row.rs`).
pub(crate) trait FromRow: Sized + Send + 'static {
    /// The table the row comes from (named in errors).
    const TABLE: &'static str;

    /// A column that is never NULL in a row of this type: a page statement's row whose `KEY`
    /// is NULL is the empty side of `total LEFT JOIN page` (no item).
    const KEY: &'static str;

    /// Reads the row.
    ///
    /// # Errors
    /// Other (bad data) when a column is missing, NULL where required, or of another type.
    fn from_row(row: &dyn Row) -> Result<Self>;
}

/// A value read from one column; see [`Columns::get`].
pub(crate) trait FromColumn: Sized {
    /// Reads `table.column` of `row`.
    ///
    /// # Errors
    /// Other (bad data) for a NULL where a value is required or a value of another type.
    fn from_column(row: &dyn Row, table: &str, column: &str) -> Result<Self>;
}

/// A type one column holds; `T` is required, `Option<T>` nullable.
pub(crate) trait Column: Sized {
    /// The column's value, `None` for NULL.
    ///
    /// # Errors
    /// Other (bad data) for a value of another type.
    fn nullable(row: &dyn Row, table: &str, column: &str) -> Result<Option<Self>>;
}

impl<T: Column> FromColumn for T {
    fn from_column(row: &dyn Row, table: &str, column: &str) -> Result<Self> {
        T::nullable(row, table, column)?.ok_or_else(|| Error::bad_data(table, column, "unexpected NULL"))
    }
}

impl<T: Column> FromColumn for Option<T> {
    fn from_column(row: &dyn Row, table: &str, column: &str) -> Result<Self> {
        T::nullable(row, table, column)
    }
}

/// `Column` for the types each driver reads itself.
macro_rules! driver_columns {
    ($($ty:ty => $method:ident),+ $(,)?) => {$(
        impl Column for $ty {
            fn nullable(row: &dyn Row, table: &str, column: &str) -> Result<Option<Self>> {
                row.$method(table, column)
            }
        }
    )+};
}

driver_columns! {
    String => text,
    i64 => int,
    f64 => float,
    bool => flag,
    Timestamp => timestamp,
    Value => json,
}

impl<E: StringEnum> Column for E {
    fn nullable(row: &dyn Row, table: &str, column: &str) -> Result<Option<Self>> {
        row.text(table, column)?
            .map(|raw| {
                raw.parse()
                    .map_err(|_| Error::bad_data(table, column, format!("value {raw:?} is outside the enumeration")))
            })
            .transpose()
    }
}
