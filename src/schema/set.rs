//! A set of migrations of one dialect: refinery's up scripts with their paired down scripts.
//!
//! The embedded sets come from `migrations/<dialect>/V<N>__<name>.sql` (embedded by refinery)
//! and `V<N>__<name>.down.sql` beside them (embedded by `build.rs`; refinery's file-name
//! pattern ignores them). Tests build ad-hoc sets with [`MigrationSet::new`].

use crate::{BackendKind, Error, Result};

mod embedded {
    pub(crate) mod sqlite {
        refinery::embed_migrations!("migrations/sqlite");
    }
    pub(crate) mod postgres {
        refinery::embed_migrations!("migrations/postgres");
    }
    pub(crate) mod down {
        include!(concat!(env!("OUT_DIR"), "/down_migrations.rs"));
    }
}

/// One migration: its up script and, when it can be rolled back, its down script.
#[derive(Debug, Clone)]
pub struct MigrationScript {
    migration: refinery::Migration,
    down: Option<String>,
}

impl MigrationScript {
    /// A migration from its file stem (`V<N>__<name>`), up SQL and optional down SQL.
    ///
    /// # Errors
    /// InvalidInput when the stem does not follow refinery's `V<N>__<name>` pattern.
    pub fn new(stem: &str, up: &str, down: Option<&str>) -> Result<Self> {
        let migration = refinery::Migration::unapplied(stem, up)
            .map_err(|e| Error::invalid_input(format!("invalid migration name {stem:?}: {e}")))?;
        if migration.prefix().to_string() != "V" {
            return Err(Error::invalid_input(format!(
                "migration {stem:?} is unversioned: only V<N>__<name> migrations are supported"
            )));
        }
        Ok(MigrationScript {
            migration,
            down: down.map(str::to_owned),
        })
    }

    /// Version number.
    pub fn version(&self) -> i64 {
        i64::from(self.migration.version())
    }

    /// Name (the part of the file name after `V<N>__`).
    pub fn name(&self) -> &str {
        self.migration.name()
    }

    /// The up SQL.
    pub fn up_sql(&self) -> &str {
        self.migration.sql().unwrap_or_default()
    }

    /// The down SQL, when this migration has a down script.
    pub fn down_sql(&self) -> Option<&str> {
        self.down.as_deref()
    }

    /// refinery's checksum of the up script (name, version and SQL), as stored in the history.
    pub fn checksum(&self) -> u64 {
        self.migration.checksum()
    }

    /// `V<N>__<name>`.
    pub fn label(&self) -> String {
        format!("V{}__{}", self.version(), self.name())
    }

    pub(crate) fn refinery(&self) -> &refinery::Migration {
        &self.migration
    }
}

/// The migrations of one dialect, ordered by version.
#[derive(Debug, Clone)]
pub struct MigrationSet {
    dialect: BackendKind,
    scripts: Vec<MigrationScript>,
}

impl MigrationSet {
    /// The migrations embedded in this build for `dialect`.
    pub fn embedded(dialect: BackendKind) -> MigrationSet {
        let (runner, downs) = match dialect {
            BackendKind::Sqlite => (embedded::sqlite::migrations::runner(), embedded::down::SQLITE),
            BackendKind::Postgres => (embedded::postgres::migrations::runner(), embedded::down::POSTGRES),
        };
        let mut scripts: Vec<MigrationScript> = runner
            .get_migrations()
            .iter()
            .map(|m| {
                let stem = format!("V{}__{}", m.version(), m.name());
                let down = downs.iter().find(|(s, _)| *s == stem).map(|(_, sql)| (*sql).to_owned());
                MigrationScript {
                    migration: m.clone(),
                    down,
                }
            })
            .collect();
        scripts.sort_by_key(MigrationScript::version);
        MigrationSet { dialect, scripts }
    }

    /// An ad-hoc set (tests, tools).
    ///
    /// # Errors
    /// InvalidInput when two scripts share a version.
    pub fn new(dialect: BackendKind, mut scripts: Vec<MigrationScript>) -> Result<MigrationSet> {
        scripts.sort_by_key(MigrationScript::version);
        if let Some(pair) = scripts.windows(2).find(|w| w[0].version() == w[1].version()) {
            return Err(Error::invalid_input(format!(
                "two migrations share version {}: {} and {}",
                pair[0].version(),
                pair[0].label(),
                pair[1].label()
            )));
        }
        Ok(MigrationSet { dialect, scripts })
    }

    /// The dialect these scripts are written in.
    pub fn dialect(&self) -> BackendKind {
        self.dialect
    }

    /// The scripts, oldest first.
    pub fn scripts(&self) -> &[MigrationScript] {
        &self.scripts
    }

    /// The script of `version`.
    pub fn get(&self, version: i64) -> Option<&MigrationScript> {
        self.scripts.iter().find(|s| s.version() == version)
    }

    /// The highest version of the set (0 when empty).
    pub fn latest_version(&self) -> i64 {
        self.scripts.last().map_or(0, MigrationScript::version)
    }

    /// The same set without the migrations above `version`.
    pub fn up_to(&self, version: i64) -> MigrationSet {
        MigrationSet {
            dialect: self.dialect,
            scripts: self
                .scripts
                .iter()
                .filter(|s| s.version() <= version)
                .cloned()
                .collect(),
        }
    }

    /// A refinery runner over the up scripts.
    pub(crate) fn runner(&self) -> refinery::Runner {
        let migrations: Vec<refinery::Migration> = self.scripts.iter().map(|s| s.refinery().clone()).collect();
        refinery::Runner::new(&migrations)
    }
}

#[cfg(test)]
mod tests {
    /// `build.rs` output names the down scripts relative to `CARGO_MANIFEST_DIR`, never by the
    /// absolute path of one checkout (a target directory shared by two checkouts would then
    /// compile one against the other's files, and fail once that checkout is gone).
    #[test]
    fn generated_down_table_holds_no_absolute_path() {
        let generated = include_str!(concat!(env!("OUT_DIR"), "/down_migrations.rs"));
        assert!(!generated.contains(env!("CARGO_MANIFEST_DIR")), "{generated}");
        let includes = generated.matches("include_str!(").count();
        assert!(includes >= 2, "{generated}");
        assert_eq!(
            generated
                .matches("include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/migrations/")
                .count(),
            includes,
            "{generated}"
        );
    }
}
