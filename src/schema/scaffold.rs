//! `migrate new NAME`: the next-numbered up and down scripts of both dialects.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::{Error, ErrorKind, Result};

/// The files [`new_migration`] created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewMigration {
    /// The version number given.
    pub version: i64,
    /// The name given.
    pub name: String,
    /// The four files: SQLite up and down, PostgreSQL up and down.
    pub files: Vec<PathBuf>,
}

const DIALECTS: [(&str, &str, &str); 2] = [("sqlite", "SQLite", "postgres"), ("postgres", "PostgreSQL", "sqlite")];

fn up_template(version: i64, name: &str, dialect: &str, title: &str, other: &str) -> String {
    format!(
        "-- V{version}__{name}, {title} dialect (up).\n\
         -- KEEP EQUIVALENT to migrations/{other}/V{version}__{name}.sql: the same tables, columns, keys,\n\
         -- ON DELETE actions, CHECKs, defaults and indexes, with the type mapping of V1\n\
         -- (TEXT <-> text COLLATE \"C\", timestamp TEXT <-> timestamptz, JSON TEXT <-> jsonb,\n\
         -- INTEGER <-> bigint, REAL <-> double precision). The parity suite compares the two dialects\n\
         -- and `synthlab-db schema check` compares a live database with these files.\n\
         -- Runs in one transaction together with its history row: no BEGIN/COMMIT here.\n\
         {}\
         -- Write the paired down script in migrations/{dialect}/V{version}__{name}.down.sql.\n",
        if dialect == "sqlite" {
            "-- SQLite runs it with foreign keys off: to change a table, rebuild it (CREATE TABLE new_t,\n\
             -- INSERT INTO new_t (columns) SELECT columns FROM t, DROP TABLE t, ALTER TABLE new_t RENAME TO t,\n\
             -- recreate its indexes); rows left without a parent make the migration roll back.\n"
        } else {
            ""
        }
    )
}

fn down_template(version: i64, name: &str, title: &str, other: &str) -> String {
    format!(
        "-- V{version}__{name}, {title} dialect (down): undoes V{version}__{name}.sql exactly, so that\n\
         -- up -> down -> up leaves the same schema and history.\n\
         -- KEEP EQUIVALENT to migrations/{other}/V{version}__{name}.down.sql.\n\
         -- Runs in one transaction together with the removal of the history row: no BEGIN/COMMIT here.\n"
    )
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.contains("__")
}

/// The version of a migration file name (`V<N>__…sql`), if it is one.
fn file_version(file: &str) -> Option<i64> {
    let rest = file.strip_prefix('V')?;
    let (number, tail) = rest.split_once("__")?;
    (tail.ends_with(".sql") && !number.is_empty()).then_some(())?;
    number.parse().ok()
}

/// Creates `V<next>__<name>.sql` and `V<next>__<name>.down.sql` in `<dir>/sqlite` and
/// `<dir>/postgres`, from templates that remind the author to keep the dialects equivalent.
/// The next version is one above the highest found in either folder.
///
/// # Errors
/// InvalidInput for a name other than lowercase ASCII letters, digits and single
/// underscores starting with a letter (at most 64); NotFound when `<dir>/sqlite` or
/// `<dir>/postgres` does not exist; Conflict when a file to create already exists.
pub fn new_migration(dir: &Path, name: &str) -> Result<NewMigration> {
    if !valid_name(name) {
        return Err(Error::invalid_input(format!(
            "invalid migration name {name:?}: use lowercase letters, digits and single underscores, \
             starting with a letter (at most 64 characters), e.g. add_experiment_tags"
        )));
    }
    let mut highest = 0;
    for (dialect, _, _) in DIALECTS {
        let folder = dir.join(dialect);
        let entries = std::fs::read_dir(&folder).map_err(|e| {
            Error::new(
                ErrorKind::NotFound,
                format!(
                    "cannot read {} ({e}): run from the project root or pass --dir",
                    folder.display()
                ),
            )
        })?;
        for entry in entries.flatten() {
            if let Some(version) = entry.file_name().to_str().and_then(file_version) {
                highest = highest.max(version);
            }
        }
    }
    let version = highest + 1;
    let mut files = Vec::new();
    for (dialect, title, other) in DIALECTS {
        for (path, text) in [
            (
                dir.join(dialect).join(format!("V{version}__{name}.sql")),
                up_template(version, name, dialect, title, other),
            ),
            (
                dir.join(dialect).join(format!("V{version}__{name}.down.sql")),
                down_template(version, name, title, other),
            ),
        ] {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|e| Error::new(ErrorKind::Conflict, format!("cannot create {}: {e}", path.display())))?;
            file.write_all(text.as_bytes())
                .map_err(|e| Error::other(format!("cannot write {}: {e}", path.display())))?;
            files.push(path);
        }
    }
    Ok(NewMigration {
        version,
        name: name.to_owned(),
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions() {
        assert!(valid_name("add_tags"));
        assert!(valid_name("v2_fix"));
        for bad in ["", "Add", "1st", "a-b", "a b", "a__b", "tags;drop", &"x".repeat(65)] {
            assert!(!valid_name(bad), "{bad:?}");
        }
        assert_eq!(file_version("V12__x.sql"), Some(12));
        assert_eq!(file_version("V3__x.down.sql"), Some(3));
        assert_eq!(file_version("README.md"), None);
    }
}
