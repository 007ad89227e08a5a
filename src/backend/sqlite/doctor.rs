//! SQLite facts for `synthlab-db doctor`.

use rusqlite::Connection;

use super::SqliteDb;
use crate::config::SqliteLocation;
use crate::doctor::Check;
use crate::{DatabaseConfig, Result};

struct Facts {
    version: String,
    journal_mode: String,
    foreign_keys: bool,
    busy_timeout_ms: i64,
    quick_check: Vec<String>,
}

fn gather(conn: &Connection) -> Result<Facts> {
    let pragma_text = |name: &str| conn.query_row(&format!("PRAGMA {name}"), [], |row| row.get::<_, String>(0));
    let mut stmt = conn.prepare("PRAGMA quick_check(5)")?;
    let quick_check = stmt
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(Facts {
        version: conn.query_row("SELECT sqlite_version()", [], |row| row.get(0))?,
        journal_mode: pragma_text("journal_mode")?,
        foreign_keys: conn.query_row("PRAGMA foreign_keys", [], |row| row.get::<_, i64>(0))? == 1,
        busy_timeout_ms: conn.query_row("PRAGMA busy_timeout", [], |row| row.get(0))?,
        quick_check,
    })
}

/// Appends file, journal mode, foreign keys, busy timeout and integrity facts.
pub(crate) async fn checks(db: &SqliteDb, config: &DatabaseConfig, checks: &mut Vec<Check>) {
    let DatabaseConfig::Sqlite(config) = config else {
        return;
    };
    let is_file = match &config.location {
        SqliteLocation::Memory => {
            checks.push(Check::ok("file", "in memory (gone when the process ends)"));
            false
        }
        SqliteLocation::File(path) => {
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            checks.push(Check::ok("file", format!("{} ({size} bytes)", path.display())));
            true
        }
    };
    let facts = match db.read(gather).await {
        Ok(facts) => facts,
        Err(err) => {
            checks.push(Check::problem(
                "sqlite",
                "unknown",
                format!("cannot read the pragmas: {err}"),
            ));
            return;
        }
    };
    checks.push(Check::ok(
        "sqlite",
        format!(
            "SQLite {}, {} read connection(s) beside one writer",
            facts.version, config.max_readers
        ),
    ));
    let journal = format!("journal mode {}", facts.journal_mode);
    checks.push(if is_file && !facts.journal_mode.eq_ignore_ascii_case("wal") {
        Check::problem("journal", journal, "not WAL: readers and the writer block each other")
    } else {
        Check::ok("journal", journal)
    });
    checks.push(if facts.foreign_keys {
        Check::ok("foreign keys", "on")
    } else {
        Check::problem(
            "foreign keys",
            "off",
            "foreign keys are not enforced on this connection",
        )
    });
    let busy = format!(
        "{} ms (configured {} ms)",
        facts.busy_timeout_ms,
        db.busy_timeout().as_millis()
    );
    checks.push(if facts.busy_timeout_ms > 0 {
        Check::ok("busy timeout", busy)
    } else {
        Check::problem(
            "busy timeout",
            busy,
            "0 ms: a concurrent writer makes calls fail with `database is locked`",
        )
    });
    checks.push(if facts.quick_check == ["ok"] {
        Check::ok("integrity", "quick_check ok")
    } else {
        Check::problem(
            "integrity",
            facts.quick_check.join("; "),
            "PRAGMA quick_check found damage: restore from a backup",
        )
    });
}
