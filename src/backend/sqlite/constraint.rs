//! The name of the constraint a SQLite write broke, spelled as PostgreSQL names it, so that
//! [`crate::Error::constraint`] is the same on both backends.
//!
//! Our migrations leave constraints unnamed (SQLite could not rename them in legacy files
//! later), so PostgreSQL names them by its own rules: `<table>_pkey`, `<table>_<columns>_key`
//! (UNIQUE), `<table>_<columns>_fkey`, `<table>_<column>_check` (a CHECK over one column, else
//! `<table>_check`; repeats numbered 1, 2, …) and, for NOT NULL, `<table>_<column>_not_null`
//! (PostgreSQL 18's name; older servers give none, see `backend::postgres::error`). Here the
//! same rules run over the live SQLite schema:
//! - UNIQUE / PRIMARY KEY / NOT NULL: SQLite's message names the table and columns;
//! - CHECK: the message quotes the expression, looked up among the CHECKs of the table the
//!   failing statement writes;
//! - FOREIGN KEY: SQLite says nothing more, so the failing statement (recorded with its bound
//!   values by the trace hook) runs again inside a savepoint with foreign keys deferred, and
//!   `PRAGMA foreign_key_check` names the key it breaks; the savepoint is rolled back.
//!
//! A test compares these names with PostgreSQL's catalog for every constraint of the schema.

use std::collections::BTreeSet;

use rusqlite::{Connection, ffi};

use crate::schema::sqlite::introspect::check_constraints;

/// The PostgreSQL-style name of the constraint `err` reports, if it is a constraint failure
/// and the name can be found. `statement` is the failing statement with its values inlined.
pub(crate) fn name(conn: &Connection, err: &rusqlite::Error, statement: Option<&str>) -> Option<String> {
    let rusqlite::Error::SqliteFailure(native, message) = err else {
        return None;
    };
    let detail = message.as_deref().unwrap_or_default();
    match native.extended_code {
        ffi::SQLITE_CONSTRAINT_PRIMARYKEY => table_and_columns(detail).map(|(table, _)| format!("{table}_pkey")),
        ffi::SQLITE_CONSTRAINT_UNIQUE => unique(conn, detail),
        ffi::SQLITE_CONSTRAINT_NOTNULL => {
            table_and_columns(detail).map(|(table, columns)| format!("{table}_{}_not_null", columns.join("_")))
        }
        ffi::SQLITE_CONSTRAINT_CHECK => check(conn, detail, written_table(statement?)?.as_str()),
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => foreign_key(conn, statement?),
        _ => None,
    }
}

/// `UNIQUE constraint failed: t.a, t.b` → (`t`, [`a`, `b`]).
fn table_and_columns(detail: &str) -> Option<(String, Vec<String>)> {
    let list = detail.split_once(": ")?.1;
    let mut table = None;
    let mut columns = Vec::new();
    for item in list.split(", ") {
        let (t, c) = item.split_once('.')?;
        if table.get_or_insert_with(|| t.to_owned()) != t {
            return None;
        }
        columns.push(c.to_owned());
    }
    Some((table?, columns))
}

/// A UNIQUE failure: the unique index over those columns names it (an explicit index by its
/// own name, a UNIQUE constraint as `<table>_<columns>_key`).
fn unique(conn: &Connection, detail: &str) -> Option<String> {
    if let Some(index) = detail
        .split_once("index '")
        .and_then(|(_, rest)| rest.strip_suffix('\''))
    {
        return Some(index.to_owned());
    }
    let (table, columns) = table_and_columns(detail)?;
    let mut stmt = conn
        .prepare("SELECT name, origin FROM pragma_index_list(?1) WHERE \"unique\" = 1")
        .ok()?;
    let indexes: Vec<(String, String)> = stmt
        .query_map([&table], |row| Ok((row.get(0)?, row.get(1)?)))
        .ok()?
        .collect::<Result<_, _>>()
        .ok()?;
    for (index, origin) in indexes {
        let mut stmt = conn
            .prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")
            .ok()?;
        let indexed: Vec<String> = stmt
            .query_map([&index], |row| row.get(0))
            .ok()?
            .collect::<Result<_, _>>()
            .ok()?;
        if indexed == columns {
            return Some(match origin.as_str() {
                "pk" => format!("{table}_pkey"),
                "u" => format!("{table}_{}_key", columns.join("_")),
                _ => index,
            });
        }
    }
    Some(format!("{table}_{}_key", columns.join("_")))
}

/// The columns of `table`.
fn columns(conn: &Connection, table: &str) -> Option<Vec<String>> {
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
        .ok()?;
    stmt.query_map([table], |row| row.get(0))
        .ok()?
        .collect::<Result<_, _>>()
        .ok()
}

/// The identifiers of an SQL expression (outside string literals).
fn identifiers(expression: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = expression.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            for d in chars.by_ref() {
                if d == '\'' {
                    break;
                }
            }
        } else if c == '"' {
            let word: String = chars.by_ref().take_while(|d| *d != '"').collect();
            out.push(word);
        } else if c.is_ascii_alphabetic() || c == '_' {
            let mut word = String::from(c);
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_alphanumeric() || **d == '_') {
                word.push(*d);
                chars.next();
            }
            out.push(word);
        }
    }
    out
}

/// The names PostgreSQL gives the CHECKs of `table`, in order: `<table>_<column>_check` for
/// a CHECK over one column, else `<table>_check`, repeats numbered.
fn check_names(table: &str, checks: &[String], columns: &[String]) -> Vec<String> {
    let mut used = BTreeSet::new();
    checks
        .iter()
        .map(|check| {
            let referenced: BTreeSet<String> = identifiers(check)
                .into_iter()
                .filter(|word| columns.iter().any(|c| c.eq_ignore_ascii_case(word)))
                .map(|word| word.to_ascii_lowercase())
                .collect();
            let base = match referenced.iter().next() {
                Some(column) if referenced.len() == 1 => format!("{table}_{column}_check"),
                _ => format!("{table}_check"),
            };
            let mut name = base.clone();
            for n in 1.. {
                if used.insert(name.clone()) {
                    break;
                }
                name = format!("{base}{n}");
            }
            name
        })
        .collect()
}

/// A CHECK failure: the reported expression among the CHECKs of `table` (or the name SQLite
/// reports for a named CHECK).
fn check(conn: &Connection, detail: &str, table: &str) -> Option<String> {
    let reported = detail
        .split_once(": ")?
        .1
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let sql: String = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |row| row.get(0),
        )
        .ok()?;
    let checks = check_constraints(&sql);
    let names = check_names(table, &checks, &columns(conn, table)?);
    match checks.iter().position(|c| *c == reported) {
        Some(at) => names.into_iter().nth(at),
        None if identifiers(&reported) == [reported.clone()] => Some(reported),
        None => None,
    }
}

/// The table an INSERT, UPDATE, DELETE or REPLACE writes (our own statements only).
pub(crate) fn written_table(statement: &str) -> Option<String> {
    let words: Vec<String> = identifiers(statement.split('(').next().unwrap_or(statement));
    let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let at = match upper.first()?.as_str() {
        "INSERT" | "REPLACE" => upper.iter().position(|w| w == "INTO")? + 1,
        "DELETE" => upper.iter().position(|w| w == "FROM")? + 1,
        "UPDATE" => match upper.get(1).map(String::as_str) {
            Some("OR") => 3,
            _ => 1,
        },
        _ => return None,
    };
    words.get(at).cloned()
}

/// Violations `PRAGMA foreign_key_check` reports for `tables`: (table, rowid, key id).
fn violations(conn: &Connection, tables: &[String]) -> rusqlite::Result<BTreeSet<(String, i64, i64)>> {
    let mut out = BTreeSet::new();
    for table in tables {
        let mut stmt = conn.prepare("SELECT \"table\", rowid, fkid FROM pragma_foreign_key_check(?1)")?;
        let rows = stmt.query_map([table], |row| {
            Ok((row.get(0)?, row.get::<_, Option<i64>>(1)?.unwrap_or(0), row.get(2)?))
        })?;
        for row in rows {
            out.insert(row?);
        }
    }
    Ok(out)
}

/// A FOREIGN KEY failure: `statement` runs again with foreign keys deferred inside a savepoint
/// (rolled back), and the new violation names the key.
fn foreign_key(conn: &Connection, statement: &str) -> Option<String> {
    let table = written_table(statement)?;
    // The statement's table as a child, and the tables whose keys point at it.
    let mut candidates = vec![table.clone()];
    let mut stmt = conn
        .prepare(
            "SELECT m.name FROM sqlite_master m, pragma_foreign_key_list(m.name) f \
             WHERE m.type = 'table' AND f.\"table\" = ?1 AND m.name <> ?1",
        )
        .ok()?;
    let referencing: Vec<String> = stmt
        .query_map([&table], |row| row.get(0))
        .ok()?
        .collect::<Result<_, _>>()
        .ok()?;
    candidates.extend(referencing);
    candidates.dedup();
    let before = violations(conn, &candidates).ok()?;
    conn.execute_batch("SAVEPOINT synthlab_fk_diagnosis; PRAGMA defer_foreign_keys = ON")
        .ok()?;
    let after = (|| {
        let mut stmt = conn.prepare(statement)?;
        let mut rows = stmt.raw_query();
        while rows.next()?.is_some() {}
        drop(rows);
        violations(conn, &candidates)
    })();
    let _ = conn.execute_batch(
        "ROLLBACK TO synthlab_fk_diagnosis; RELEASE synthlab_fk_diagnosis; PRAGMA defer_foreign_keys = OFF",
    );
    let (child, _, fkid) = after.ok()?.difference(&before).next()?.clone();
    let mut stmt = conn
        .prepare("SELECT \"from\" FROM pragma_foreign_key_list(?1) WHERE id = ?2 ORDER BY seq")
        .ok()?;
    let columns: Vec<String> = stmt
        .query_map(rusqlite::params![child, fkid], |row| row.get(0))
        .ok()?
        .collect::<Result<_, _>>()
        .ok()?;
    Some(format!("{child}_{}_fkey", columns.join("_")))
}

/// The name of every constraint of the schema, by the rules above (for the test that compares
/// them with PostgreSQL's catalog).
#[cfg(all(test, feature = "parity"))]
fn all_names(conn: &Connection) -> rusqlite::Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let mut stmt =
        conn.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'")?;
    let tables: Vec<(String, String)> = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (table, sql) in tables {
        let has_key: bool = conn.query_row(
            "SELECT count(*) > 0 FROM pragma_table_info(?1) WHERE pk > 0",
            [&table],
            |row| row.get(0),
        )?;
        if has_key {
            out.insert(format!("{table}_pkey"));
        }
        let mut stmt = conn.prepare("SELECT name FROM pragma_index_list(?1) WHERE origin = 'u'")?;
        let uniques: Vec<String> = stmt.query_map([&table], |row| row.get(0))?.collect::<Result<_, _>>()?;
        for index in uniques {
            let mut stmt = conn.prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")?;
            let columns: Vec<String> = stmt.query_map([&index], |row| row.get(0))?.collect::<Result<_, _>>()?;
            out.insert(format!("{table}_{}_key", columns.join("_")));
        }
        let mut stmt = conn.prepare("SELECT id, group_concat(\"from\", '_') FROM (SELECT * FROM pragma_foreign_key_list(?1) ORDER BY id, seq) GROUP BY id")?;
        let keys: Vec<String> = stmt.query_map([&table], |row| row.get(1))?.collect::<Result<_, _>>()?;
        out.extend(keys.into_iter().map(|columns| format!("{table}_{columns}_fkey")));
        let columns = columns(conn, &table).unwrap_or_default();
        out.extend(check_names(&table, &check_constraints(&sql), &columns));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names derived from the SQLite schema are the names PostgreSQL's catalog holds for
    /// the same migrations: every primary key, UNIQUE, foreign key and CHECK.
    #[cfg(feature = "parity")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_names_match_the_postgresql_catalog() {
        use crate::BackendKind;
        use crate::schema::MigrationSet;

        let mut sqlite = Connection::open_in_memory().expect("memory");
        crate::schema::sqlite::up(&mut sqlite, &MigrationSet::embedded(BackendKind::Sqlite), None).expect("migrate");
        let derived = all_names(&sqlite).expect("names");

        let url = std::env::var("PARITY_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let mut client = crate::pg::connect_url(&url)
            .await
            .expect("the parity server (PARITY_DATABASE_URL) answers");
        let schema = format!("hardening_names_{}", std::process::id());
        client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path TO {schema}"
            ))
            .await
            .expect("schema");
        crate::schema::postgres::up(&mut client, &MigrationSet::embedded(BackendKind::Postgres), None)
            .await
            .expect("migrate");
        let catalog: BTreeSet<String> = client
            .query(
                "SELECT conname::text FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
                 WHERE n.nspname = $1 AND c.contype IN ('p', 'u', 'f', 'c')",
                &[&schema],
            )
            .await
            .expect("catalog")
            .iter()
            .map(|row| row.get(0))
            .collect();
        client
            .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .await
            .expect("cleanup");
        assert!(catalog.len() > 40, "{catalog:?}");
        let missing: Vec<&String> = catalog.difference(&derived).collect();
        assert!(
            missing.is_empty(),
            "PostgreSQL names SQLite does not derive: {missing:?}"
        );
        // SQLite alone checks that JSON text is JSON (PostgreSQL's jsonb is JSON by type).
        let json_checks: BTreeSet<String> = {
            let mut stmt = sqlite
                .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
                .expect("tables");
            let tables: Vec<(String, String)> = stmt
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("rows");
            tables
                .iter()
                .flat_map(|(table, sql)| {
                    let checks = check_constraints(sql);
                    let names = check_names(table, &checks, &columns(&sqlite, table).unwrap_or_default());
                    checks
                        .into_iter()
                        .zip(names)
                        .filter(|(check, _)| check.contains("json_valid("))
                        .map(|(_, name)| name)
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        let extra: BTreeSet<String> = derived.difference(&catalog).cloned().collect();
        assert_eq!(extra, json_checks, "SQLite names PostgreSQL does not have");
    }

    #[test]
    fn statements_name_the_table_they_write() {
        for (sql, table) in [
            ("INSERT INTO experiments (id) VALUES ('x')", "experiments"),
            ("INSERT OR IGNORE INTO \"synths\" (id) VALUES (1)", "synths"),
            ("UPDATE explorations SET status = 'x'", "explorations"),
            ("UPDATE OR REPLACE t SET a = 1", "t"),
            ("DELETE FROM synth_groups WHERE id = 'g'", "synth_groups"),
            ("REPLACE INTO analysis_cache(a) VALUES (1)", "analysis_cache"),
        ] {
            assert_eq!(written_table(sql).as_deref(), Some(table), "{sql}");
        }
        assert_eq!(written_table("SELECT 1"), None);
    }

    #[test]
    fn check_names_follow_postgresql() {
        let columns = ["a".to_owned(), "b".to_owned()];
        let checks = [
            "a IN ('b','c')".to_owned(),
            "length(b) <= 4".to_owned(),
            "a < b".to_owned(),
            "a > 0".to_owned(),
        ];
        assert_eq!(
            check_names("t", &checks, &columns),
            ["t_a_check", "t_b_check", "t_check", "t_a_check1"]
        );
    }
}
