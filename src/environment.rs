//! Every environment variable the project reads — library, binary, tests, benchmarks and
//! scripts — in one list.
//!
//! `tests/ops/environment.rs` keeps it true: a variable read anywhere in the sources or
//! scripts that is not listed here fails it, and so does a listed variable that `.env.example`
//! or the README's table of variables leaves out (or one they name that is not listed).

use crate::cutover::{
    DUAL_STRICT_VAR, POSTGRES_URL_VAR, ROUTE_DEFAULT_VAR, ROUTE_PREFIX, SHADOW_BUDGET_VAR, SQLITE_URL_VAR,
};

/// Who reads a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// The library, so every service linking it (and the binary).
    Library,
    /// The `synthlab-db` binary (and the example service).
    Cli,
    /// The test suite.
    Tests,
    /// A test binary started by its own test as a child process; the test sets it, a person
    /// never does (not documented).
    TestChild,
    /// The benchmarks (`make bench-*`, `examples/bench_*`, `scripts/bench-copy.sh`).
    Benchmarks,
    /// The helper scripts under `scripts/`.
    Scripts,
    /// Set by cargo for build scripts and tests (not documented).
    Cargo,
    /// The operating system's own (not documented).
    System,
}

/// One variable, or a family of variables sharing a prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    /// The name, or the prefix of a family (`SYNTHLAB_ROUTE_`).
    pub name: &'static str,
    /// Whether `name` is a prefix: every variable starting with it belongs to the family.
    pub family: bool,
    /// Who reads it.
    pub reader: Reader,
}

impl Variable {
    /// Whether `.env.example` and the README must document it: everything a person may set.
    pub fn documented(&self) -> bool {
        !matches!(self.reader, Reader::TestChild | Reader::Cargo | Reader::System)
    }

    /// Whether the variable `name` is this one or belongs to this family.
    pub fn covers(&self, name: &str) -> bool {
        if self.family {
            name.starts_with(self.name)
        } else {
            name == self.name
        }
    }
}

const fn one(name: &'static str, reader: Reader) -> Variable {
    Variable {
        name,
        family: false,
        reader,
    }
}

const fn family(prefix: &'static str, reader: Reader) -> Variable {
    Variable {
        name: prefix,
        family: true,
        reader,
    }
}

/// Every environment variable the project reads.
pub const VARIABLES: &[Variable] = &[
    // The database and its settings (`config`): URL, legacy path, then the defaults of URL
    // options (`config::ENV_VARIABLES`).
    one("DATABASE_URL", Reader::Library),
    one("SYNTHLAB_DB_PATH", Reader::Library),
    one("SYNTHLAB_POOL_MAX_SIZE", Reader::Library),
    one("SYNTHLAB_POOL_TIMEOUT", Reader::Library),
    one("SYNTHLAB_POOL_CREATE_TIMEOUT", Reader::Library),
    one("SYNTHLAB_POOL_RECYCLE_TIMEOUT", Reader::Library),
    one("SYNTHLAB_POOL_RECYCLING", Reader::Library),
    one("SYNTHLAB_POOL_VERIFY_AFTER_MS", Reader::Library),
    one("SYNTHLAB_SQLITE_BUSY_TIMEOUT_MS", Reader::Library),
    one("SYNTHLAB_SQLITE_MAX_READERS", Reader::Library),
    one("SYNTHLAB_SLOW_CALL_MS", Reader::Library),
    one("SYNTHLAB_PGBOUNCER", Reader::Library),
    // The cutover's routing (`cutover::config`).
    family(ROUTE_PREFIX, Reader::Library),
    one(ROUTE_DEFAULT_VAR, Reader::Library),
    one(SQLITE_URL_VAR, Reader::Library),
    one(POSTGRES_URL_VAR, Reader::Library),
    one(DUAL_STRICT_VAR, Reader::Library),
    one(SHADOW_BUDGET_VAR, Reader::Library),
    // The binary's log filter.
    one("RUST_LOG", Reader::Cli),
    // Tests.
    one("PARITY_DATABASE_URL", Reader::Tests),
    one("PGBOUNCER", Reader::Tests),
    one("PG_BIN", Reader::Tests),
    one("SYNTHLAB_TEST_SQLITE_FILE", Reader::TestChild),
    one("SYNTHLAB_TEST_SQLITE_TAG", Reader::TestChild),
    one("SYNTHLAB_KILL_CHILD", Reader::TestChild),
    // Benchmarks.
    one("BENCH_DATABASE_URL", Reader::Benchmarks),
    one("BENCH_SECONDS", Reader::Benchmarks),
    one("BENCH_READS", Reader::Benchmarks),
    one("BENCH_WRITES", Reader::Benchmarks),
    one("PGBENCH", Reader::Benchmarks),
    one("BENCH_PG_URL", Reader::Benchmarks),
    one("BENCH_DIR", Reader::Benchmarks),
    one("SCALE", Reader::Benchmarks),
    one("SEED", Reader::Benchmarks),
    // Scripts.
    one("PGPORT", Reader::Scripts),
    one("PG_THROWAWAY_DIR", Reader::Scripts),
    // Not ours: cargo's and the system's.
    one("CARGO_MANIFEST_DIR", Reader::Cargo),
    one("OUT_DIR", Reader::Cargo),
    family("CARGO_BIN_EXE_", Reader::Cargo),
    one("PATH", Reader::System),
];

/// The listed variable or family that `name` belongs to, if any.
pub fn find(name: &str) -> Option<&'static Variable> {
    VARIABLES.iter().find(|v| v.covers(name))
}
