//! What a down migration would destroy, told apart from what the migrations themselves put
//! there.
//!
//! Each backend runs the down scripts inside its migration transaction and describes the
//! tables before ([`TableData`]) and after ([`TableShape`]); [`losses`] compares the two. Rows
//! identical to a row the up migrations insert (the default synth group) are not data: a
//! freshly migrated database goes down without `--force`. The SQL that counts is written once
//! here ([`count_sql`]); each backend supplies its row-key expression and placeholders.

use std::fmt;

use serde::Serialize;

/// One table as it stands before the down scripts run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableData {
    /// Table name.
    pub(crate) name: String,
    /// Every row.
    pub(crate) rows: u64,
    /// Rows that are not seed rows of the migrations.
    pub(crate) data_rows: u64,
    /// Per column: non-NULL values among those data rows.
    pub(crate) columns: Vec<(String, u64)>,
}

impl TableData {
    /// A table from the values of [`count_sql`]'s row, in its order (`count(i)` reads value
    /// `i`; counts below zero cannot happen and read as 0).
    pub(crate) fn from_counts<E>(
        name: String,
        columns: Vec<String>,
        count: impl Fn(usize) -> Result<i64, E>,
    ) -> Result<Self, E> {
        let read = |i: usize| count(i).map(|n| u64::try_from(n).unwrap_or(0));
        let per_column = (0..columns.len())
            .map(|i| read(i + 2))
            .collect::<Result<Vec<u64>, E>>()?;
        Ok(TableData {
            name,
            rows: read(0)?,
            data_rows: read(1)?,
            columns: columns.into_iter().zip(per_column).collect(),
        })
    }
}

/// One table as it stands after the down scripts ran (inside the transaction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableShape {
    /// Table name.
    pub(crate) name: String,
    /// Every row.
    pub(crate) rows: u64,
    /// Column names.
    pub(crate) columns: Vec<String>,
}

/// How data would be lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "change")]
pub enum Loss {
    /// The table would be dropped with its rows.
    TableDropped,
    /// Rows of the table would be deleted.
    RowsDeleted,
    /// These columns, holding values, would be dropped.
    ColumnsDropped {
        /// The columns.
        columns: Vec<String>,
    },
}

/// Data a down migration would destroy in one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataAtRisk {
    /// Table.
    pub table: String,
    /// Rows (or, for dropped columns, values) that would be lost.
    pub rows: u64,
    /// How.
    #[serde(flatten)]
    pub loss: Loss,
}

impl fmt::Display for DataAtRisk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.loss {
            Loss::TableDropped => write!(f, "{}: {} row(s), table dropped", self.table, self.rows),
            Loss::RowsDeleted => write!(f, "{}: {} row(s) deleted", self.table, self.rows),
            Loss::ColumnsDropped { columns } => write!(
                f,
                "{}: {} value(s) in dropped column(s) {}",
                self.table,
                self.rows,
                columns.join(", ")
            ),
        }
    }
}

/// Compares the tables before and after the down scripts: what holds data before and is gone
/// (or smaller) after.
pub(crate) fn losses(before: &[TableData], after: &[TableShape]) -> Vec<DataAtRisk> {
    let mut out = Vec::new();
    for table in before.iter().filter(|t| t.data_rows > 0) {
        let Some(shape) = after.iter().find(|s| s.name == table.name) else {
            out.push(DataAtRisk {
                table: table.name.clone(),
                rows: table.data_rows,
                loss: Loss::TableDropped,
            });
            continue;
        };
        let deleted = table.rows.saturating_sub(shape.rows).min(table.data_rows);
        if deleted > 0 {
            out.push(DataAtRisk {
                table: table.name.clone(),
                rows: deleted,
                loss: Loss::RowsDeleted,
            });
        }
        let dropped: Vec<&(String, u64)> = table
            .columns
            .iter()
            .filter(|(column, values)| *values > 0 && !shape.columns.contains(column))
            .collect();
        if !dropped.is_empty() {
            out.push(DataAtRisk {
                table: table.name.clone(),
                rows: dropped.iter().map(|(_, values)| *values).max().unwrap_or(0),
                loss: Loss::ColumnsDropped {
                    columns: dropped.iter().map(|(column, _)| column.clone()).collect(),
                },
            });
        }
    }
    out
}

/// Quotes an identifier for both dialects.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The statement counting one table: every row, the data rows (not matching `seed`, a
/// predicate over the row key), and the non-NULL values of each column among the data rows.
/// `from` is the table (with an alias if the key needs one).
pub(crate) fn count_sql(from: &str, columns: &[String], seed: &str) -> String {
    let mut sql = format!("SELECT count(*), count(*) FILTER (WHERE NOT ({seed}))");
    for column in columns {
        sql.push_str(&format!(", count({}) FILTER (WHERE NOT ({seed}))", quote_ident(column)));
    }
    sql.push_str(&format!(" FROM {from}"));
    sql
}

/// A refusal: what would be lost, and how to keep it.
pub(crate) fn refusal(losses: &[DataAtRisk], keep_it: &str) -> crate::Error {
    let listed: Vec<String> = losses.iter().map(|l| format!("  {l}")).collect();
    crate::Error::new(
        crate::ErrorKind::Conflict,
        format!(
            "migrate down would destroy data; nothing was rolled back:\n{}\n{keep_it}",
            listed.join("\n")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(name: &str, rows: u64, data_rows: u64, columns: &[(&str, u64)]) -> TableData {
        TableData {
            name: name.to_owned(),
            rows,
            data_rows,
            columns: columns.iter().map(|(c, n)| ((*c).to_owned(), *n)).collect(),
        }
    }

    fn shape(name: &str, rows: u64, columns: &[&str]) -> TableShape {
        TableShape {
            name: name.to_owned(),
            rows,
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        }
    }

    #[test]
    fn dropped_emptied_and_narrowed_tables_are_losses_seed_rows_are_not() {
        let before = [
            data("kept", 5, 5, &[("id", 5), ("note", 2)]),
            data("seeded", 1, 0, &[("id", 0)]),
            data("dropped", 3, 3, &[("id", 3)]),
            data("emptied", 4, 4, &[("id", 4)]),
            data("narrowed", 2, 2, &[("id", 2), ("gone", 1), ("empty_gone", 0)]),
        ];
        let after = [
            shape("kept", 5, &["id", "note"]),
            shape("emptied", 0, &["id"]),
            shape("narrowed", 2, &["id"]),
        ];
        let found = losses(&before, &after);
        let text: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "dropped: 3 row(s), table dropped",
                "emptied: 4 row(s) deleted",
                "narrowed: 1 value(s) in dropped column(s) gone"
            ],
            "{found:?}"
        );
    }
}
