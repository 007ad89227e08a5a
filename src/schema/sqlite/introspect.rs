//! Reads a SQLite schema back from its catalog (`sqlite_master` and the table-valued pragmas).
//! CHECK constraints are not in any pragma: they are taken from the stored CREATE TABLE text.

use std::collections::BTreeMap;

use rusqlite::Connection;

use crate::Result;
use crate::schema::history::HISTORY_TABLE;
use crate::schema::model::{ColumnModel, ForeignKeyModel, IndexModel, SchemaModel, TableModel, collapse_whitespace};

/// The tables of `schema` (`main` or an attached name), without the history table and live
/// sync's capture tables (`_synthlab_sync_*`).
pub(crate) fn introspect(conn: &Connection, schema: &str) -> Result<SchemaModel> {
    let mut stmt = conn.prepare(&format!(
        "SELECT name, sql FROM \"{schema}\".sqlite_master
         WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> ?1
           AND name NOT LIKE '\\_synthlab\\_sync\\_%' ESCAPE '\\' ORDER BY name"
    ))?;
    let tables: Vec<(String, String)> = stmt
        .query_map([HISTORY_TABLE], |row| {
            Ok((row.get(0)?, row.get::<_, Option<String>>(1)?.unwrap_or_default()))
        })?
        .collect::<std::result::Result<_, _>>()?;
    let mut model = SchemaModel::default();
    for (name, sql) in &tables {
        model.tables.insert(name.clone(), table(conn, schema, name, sql)?);
    }
    // A foreign key that names no columns refers to the parent's primary key.
    let primary_keys: BTreeMap<String, Vec<String>> = model
        .tables
        .iter()
        .map(|(n, t)| (n.clone(), t.primary_key.clone()))
        .collect();
    for table in model.tables.values_mut() {
        table.foreign_keys = std::mem::take(&mut table.foreign_keys)
            .into_iter()
            .map(|mut fk| {
                if fk.referenced_columns.iter().all(String::is_empty) {
                    fk.referenced_columns = primary_keys.get(&fk.references).cloned().unwrap_or_default();
                }
                fk
            })
            .collect();
    }
    Ok(model)
}

fn table(conn: &Connection, schema: &str, name: &str, sql: &str) -> Result<TableModel> {
    let mut table = TableModel::default();
    let mut stmt =
        conn.prepare("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1, ?2) ORDER BY cid")?;
    let mut pk: Vec<(i64, String)> = Vec::new();
    let rows = stmt.query_map([name, schema], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, bool>(2)?,
            row.get::<_, Option<String>>(3)?,
            row.get::<_, i64>(4)?,
        ))
    })?;
    for row in rows {
        let (column, data_type, not_null, default, pk_position) = row?;
        if pk_position > 0 {
            pk.push((pk_position, column.clone()));
        }
        table.columns.push(ColumnModel {
            name: column,
            data_type: data_type.to_ascii_uppercase(),
            not_null,
            default: default.map(|d| collapse_whitespace(&d)),
            collation: None,
        });
    }
    pk.sort();
    table.primary_key = pk.into_iter().map(|(_, c)| c).collect();

    let mut stmt = conn.prepare(
        "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete
         FROM pragma_foreign_key_list(?1, ?2) ORDER BY id, seq",
    )?;
    let mut fks: BTreeMap<i64, ForeignKeyModel> = BTreeMap::new();
    let rows = stmt.query_map([name, schema], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, Option<String>>(3)?,
            row.get::<_, String>(4)?,
            row.get::<_, String>(5)?,
        ))
    })?;
    for row in rows {
        let (id, parent, from, to, on_update, on_delete) = row?;
        let fk = fks.entry(id).or_insert_with(|| ForeignKeyModel {
            columns: Vec::new(),
            references: parent,
            referenced_columns: Vec::new(),
            on_delete: on_delete.to_ascii_uppercase(),
            on_update: on_update.to_ascii_uppercase(),
        });
        fk.columns.push(from);
        fk.referenced_columns.push(to.unwrap_or_default());
    }
    table.foreign_keys = fks.into_values().collect();

    let mut stmt = conn.prepare("SELECT name, \"unique\", origin FROM pragma_index_list(?1, ?2)")?;
    let indexes: Vec<(String, bool, String)> = stmt
        .query_map([name, schema], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect::<std::result::Result<_, _>>()?;
    for (index, unique, origin) in indexes {
        let mut stmt =
            conn.prepare("SELECT name, \"desc\" FROM pragma_index_xinfo(?1, ?2) WHERE key = 1 ORDER BY seqno")?;
        let columns: Vec<(Option<String>, bool)> = stmt
            .query_map([&index, schema], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<std::result::Result<_, _>>()?;
        match origin.as_str() {
            "u" => {
                table
                    .unique
                    .insert(columns.into_iter().map(|(c, _)| c.unwrap_or_default()).collect());
            }
            "c" => {
                let sql: Option<String> = conn.query_row(
                    &format!("SELECT sql FROM \"{schema}\".sqlite_master WHERE type = 'index' AND name = ?1"),
                    [&index],
                    |row| row.get(0),
                )?;
                let columns = columns
                    .into_iter()
                    .map(|(c, desc)| {
                        let c = c.unwrap_or_else(|| "<expression>".to_owned());
                        if desc { format!("{c} DESC") } else { c }
                    })
                    .collect();
                table.indexes.insert(
                    index,
                    IndexModel {
                        columns,
                        unique,
                        predicate: sql.as_deref().and_then(index_predicate),
                    },
                );
            }
            _ => {}
        }
    }
    table.checks = check_constraints(sql).into_iter().collect();
    Ok(table)
}

/// The WHERE clause of a partial index.
fn index_predicate(sql: &str) -> Option<String> {
    let tokens = tokens(sql);
    let position = tokens.iter().position(|t| t.eq_ignore_ascii_case("WHERE"))?;
    Some(collapse_whitespace(&tokens[position + 1..].join(" ")))
}

/// The bodies of every `CHECK (...)` in a CREATE TABLE statement, whitespace collapsed.
pub(crate) fn check_constraints(sql: &str) -> Vec<String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            quote @ ('\'' | '"' | '`') => {
                i += 1;
                while i < chars.len() && chars[i] != quote {
                    i += 1;
                }
                i += 1;
            }
            '[' => {
                while i < chars.len() && chars[i] != ']' {
                    i += 1;
                }
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if word.eq_ignore_ascii_case("CHECK") {
                    let mut j = i;
                    while j < chars.len() && chars[j].is_whitespace() {
                        j += 1;
                    }
                    if chars.get(j) == Some(&'(')
                        && let Some(end) = matching_paren(&chars, j)
                    {
                        let body: String = chars[j + 1..end].iter().collect();
                        out.push(collapse_whitespace(&body));
                        i = end + 1;
                    }
                }
            }
            _ => i += 1,
        }
    }
    out
}

fn matching_paren(chars: &[char], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < chars.len() {
        match chars[i] {
            '\'' | '"' => {
                let quote = chars[i];
                i += 1;
                while i < chars.len() && chars[i] != quote {
                    i += 1;
                }
            }
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Splits SQL into words, keeping quoted strings whole (enough to find keywords).
fn tokens(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match quote {
            Some(q) => {
                current.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                current.push(c);
                quote = Some(c);
            }
            None if c.is_whitespace() => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            None => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_are_found_in_create_table_text() {
        let sql = "CREATE TABLE t (a TEXT CHECK (a IN ('x','y)')), b INT check(b >= 0), 'check' TEXT,\n  CHECK ((a) IS NOT NULL))";
        assert_eq!(
            check_constraints(sql),
            vec!["a IN ('x','y)')", "b >= 0", "(a) IS NOT NULL"]
        );
        assert_eq!(
            index_predicate("CREATE INDEX i ON t (a) WHERE a IS NOT NULL").as_deref(),
            Some("a IS NOT NULL")
        );
    }
}
