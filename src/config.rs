//! Which database to use: parse, validate and redact `DATABASE_URL`.
//!
//! The URL is the only place a password enters the program. It is parsed here once; every
//! value that can be displayed, logged or put into an error carries the redacted form only.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::{Error, Result};

/// The embedded default: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://synthlab.db";

/// The URL forms this crate accepts, quoted in configuration errors.
pub const ACCEPTED_FORMS: &str = "sqlite://relative.db, sqlite:///absolute/path.db, sqlite::memory:, \
     postgres://user:password@host:port/database?options, postgresql://…";

const SECRET: &str = "***";

/// A validated database configuration.
// Built once per process; boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum DatabaseConfig {
    /// The legacy SQLite store.
    Sqlite(SqliteConfig),
    /// PostgreSQL.
    Postgres(PostgresConfig),
}

/// Which backend a configuration names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// The legacy SQLite store.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl BackendKind {
    /// `sqlite` or `postgres`.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Sqlite => "sqlite",
            BackendKind::Postgres => "postgres",
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the SQLite database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqliteLocation {
    /// A file (created if missing).
    File(PathBuf),
    /// A private in-memory database (one connection; gone when the store is dropped).
    Memory,
}

/// SQLite settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteConfig {
    /// The database.
    pub location: SqliteLocation,
    /// How long a statement waits for another process's lock before failing
    /// (`?busy_timeout_ms=`, default 5000).
    pub busy_timeout: Duration,
    /// How many read connections run beside the one writer (`?max_readers=`, default 4).
    pub max_readers: usize,
    /// Repository calls at least this long log a warning (`?slow_call_ms=`, default 500).
    pub slow_call: Duration,
}

impl SqliteConfig {
    /// Defaults for `location`, overridden by the environment (see [`ENV_VARIABLES`]).
    fn with_env(location: SqliteLocation, env: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        Ok(SqliteConfig {
            location,
            busy_timeout: Duration::from_millis(env_number(env, "SYNTHLAB_SQLITE_BUSY_TIMEOUT_MS")?.unwrap_or(5000)),
            max_readers: env_number(env, "SYNTHLAB_SQLITE_MAX_READERS")?.unwrap_or(4) as usize,
            slow_call: slow_call_default(env)?,
        })
    }
}

/// How the pool checks a connection before handing it out again (`?pool_recycling=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PoolRecycling {
    /// Only checks that the driver has not seen the connection close (no round trip).
    Fast,
    /// Also runs an empty query on a connection idle for at least `pool_verify_after`, so a
    /// connection the server killed or a restart cut is found and replaced before a call uses
    /// it. The default.
    #[default]
    Verified,
    /// Like `Verified`, and resets session state (`RESET ALL`, `DISCARD TEMP`, …).
    Clean,
}

impl PoolRecycling {
    /// `fast`, `verified` or `clean`.
    pub fn as_str(self) -> &'static str {
        match self {
            PoolRecycling::Fast => "fast",
            PoolRecycling::Verified => "verified",
            PoolRecycling::Clean => "clean",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        match value {
            "fast" => Some(PoolRecycling::Fast),
            "verified" => Some(PoolRecycling::Verified),
            "clean" => Some(PoolRecycling::Clean),
            _ => None,
        }
    }
}

/// `sslmode`, spelled and meant as libpq does (`allow` is not supported).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    /// Plain TCP only.
    Disable,
    /// TLS if the server offers it, else plain; falls back to plain when the TLS attempt fails
    /// (handshake or server refusal), as libpq does. The default.
    #[default]
    Prefer,
    /// TLS or nothing; the certificate is not checked, unless `sslrootcert` is given (then it
    /// behaves as `verify-ca`, as libpq does).
    Require,
    /// TLS, and the server certificate must chain to `sslrootcert`.
    VerifyCa,
    /// As `verify-ca`, and the certificate must name the host connected to.
    VerifyFull,
}

impl SslMode {
    /// The libpq spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        match value {
            "disable" => Some(SslMode::Disable),
            "prefer" => Some(SslMode::Prefer),
            "require" => Some(SslMode::Require),
            "verify-ca" => Some(SslMode::VerifyCa),
            "verify-full" => Some(SslMode::VerifyFull),
            _ => None,
        }
    }
}

/// TLS settings of a PostgreSQL connection (file paths only; files are read when connecting).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsConfig {
    /// `sslmode` (default `prefer`).
    pub mode: SslMode,
    /// `sslrootcert`: PEM file of the certificate authorities trusted for the server.
    pub root_cert: Option<PathBuf>,
    /// `sslcert`: PEM file of the client certificate (chain), with `sslkey`.
    pub client_cert: Option<PathBuf>,
    /// `sslkey`: PEM file of the client's private key (never printed, only its path).
    pub client_key: Option<PathBuf>,
}

impl TlsConfig {
    /// Whether the server certificate is checked against `sslrootcert` (chain only).
    pub fn verifies_chain(&self) -> bool {
        match self.mode {
            SslMode::VerifyCa | SslMode::VerifyFull => true,
            SslMode::Prefer | SslMode::Require => self.root_cert.is_some(),
            SslMode::Disable => false,
        }
    }

    /// Whether the server certificate must also name the host.
    pub fn verifies_host(&self) -> bool {
        self.mode == SslMode::VerifyFull
    }
}

/// PostgreSQL settings; the password never leaves this struct except to the driver.
#[derive(Clone)]
pub struct PostgresConfig {
    pub(crate) driver: tokio_postgres::Config,
    /// Maximum number of pooled connections (`?pool_max_size=`, default 16).
    pub pool_max_size: usize,
    /// How long a call waits for a free pooled connection (`?pool_timeout=` seconds, default 30).
    pub pool_timeout: Duration,
    /// How long opening a new pooled connection may take, TCP and startup together
    /// (`?pool_create_timeout=` seconds, default: `connect_timeout`).
    pub pool_create_timeout: Duration,
    /// How long checking an idle connection before reuse may take (`?pool_recycle_timeout=`
    /// seconds, default 5).
    pub pool_recycle_timeout: Duration,
    /// How an idle connection is checked before reuse (`?pool_recycling=`, default `verified`).
    pub pool_recycling: PoolRecycling,
    /// With `verified`: connections idle at least this long get the empty-query check; busier
    /// ones only the driver's closed check (`?pool_verify_after_ms=`, default 1000; 0 checks
    /// every checkout).
    pub pool_verify_after: Duration,
    /// TLS (`sslmode`, `sslrootcert`, `sslcert`, `sslkey`).
    pub tls: TlsConfig,
    /// Repository calls at least this long log a warning (`?slow_call_ms=`, default 500).
    pub slow_call: Duration,
    /// A transaction pooler (PgBouncer, `pool_mode = transaction`) sits in front of the server
    /// (`?pgbouncer=true`, env `SYNTHLAB_PGBOUNCER=1`): no named prepared statements, no
    /// session state between transactions.
    pub pgbouncer: bool,
    redacted: String,
}

impl PostgresConfig {
    /// The URL with its password replaced by `***`.
    pub fn redacted_url(&self) -> &str {
        &self.redacted
    }

    /// The server's host and port as the URL names them (the first, if several).
    pub fn host_port(&self) -> (String, u16) {
        let host = match self.driver.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(name)) => name.clone(),
            #[cfg(unix)]
            Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
            None => "localhost".to_owned(),
        };
        (host, self.driver.get_ports().first().copied().unwrap_or(5432))
    }

    /// The user name the URL gives, if any.
    pub fn user(&self) -> Option<&str> {
        self.driver.get_user()
    }

    /// The database name (`postgres` when the URL names none).
    pub fn dbname(&self) -> &str {
        self.driver.get_dbname().unwrap_or("postgres")
    }

    /// Sets `application_name`, shown by the server in `pg_stat_activity`.
    pub fn set_application_name(&mut self, name: &str) {
        self.driver.application_name(name);
    }

    /// Sets the server-side `options` (for example `-c search_path=…`).
    pub fn set_options(&mut self, options: &str) {
        self.driver.options(options);
    }

    /// The same server and credentials with another database name.
    pub fn with_dbname(&self, dbname: &str) -> PostgresConfig {
        let mut copy = self.clone();
        copy.driver.dbname(dbname);
        // The printable form is itself a parsed (and redacted) URL: change its path only.
        if let Ok(mut shown) = url::Url::parse(&self.redacted) {
            shown.set_path(&format!("/{}", percent_encode(dbname)));
            copy.redacted = shown.to_string();
        }
        copy
    }
}

impl fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("url", &self.redacted)
            .field("pool_max_size", &self.pool_max_size)
            .field("pool_timeout", &self.pool_timeout)
            .field("pool_create_timeout", &self.pool_create_timeout)
            .field("pool_recycle_timeout", &self.pool_recycle_timeout)
            .field("pool_recycling", &self.pool_recycling)
            .field("pool_verify_after", &self.pool_verify_after)
            .field("tls", &self.tls)
            .field("slow_call", &self.slow_call)
            .field("pgbouncer", &self.pgbouncer)
            .finish()
    }
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseConfig::Sqlite(c) => f.debug_tuple("Sqlite").field(c).finish(),
            DatabaseConfig::Postgres(c) => f.debug_tuple("Postgres").field(c).finish(),
        }
    }
}

impl fmt::Display for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted_url())
    }
}

impl DatabaseConfig {
    /// Which backend this configuration selects.
    pub fn backend(&self) -> BackendKind {
        match self {
            DatabaseConfig::Sqlite(_) => BackendKind::Sqlite,
            DatabaseConfig::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// The URL with any password replaced by `***`; safe to print and log.
    pub fn redacted_url(&self) -> String {
        match self {
            DatabaseConfig::Sqlite(c) => match &c.location {
                SqliteLocation::Memory => "sqlite::memory:".to_owned(),
                SqliteLocation::File(path) if path.is_absolute() => {
                    format!("sqlite://{}", path.display())
                }
                SqliteLocation::File(path) => format!("sqlite://{}", path.display()),
            },
            DatabaseConfig::Postgres(c) => c.redacted.clone(),
        }
    }

    /// A SQLite configuration for a file path with default settings.
    pub fn sqlite_file(path: impl Into<PathBuf>) -> Self {
        DatabaseConfig::Sqlite(SqliteConfig {
            location: SqliteLocation::File(path.into()),
            busy_timeout: Duration::from_millis(5000),
            max_readers: 4,
            slow_call: crate::observe::DEFAULT_SLOW_CALL,
        })
    }

    /// Repository calls at least this long log a warning.
    pub fn slow_call(&self) -> Duration {
        match self {
            DatabaseConfig::Sqlite(c) => c.slow_call,
            DatabaseConfig::Postgres(c) => c.slow_call,
        }
    }

    /// Parses `raw` with settings missing from the URL taken from `env` (a lookup such as
    /// `std::env::var`), then from the defaults. [`FromStr`] uses the process environment.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Config`] for a malformed URL, an unknown option or a bad value.
    pub fn parse_with_env(raw: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let raw = raw.trim();
        let scheme = raw.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("sqlite") => parse_sqlite(raw, env),
            Some("postgres" | "postgresql") => parse_postgres(raw, env),
            _ => Err(Error::config(format!(
                "unsupported database URL '{}': accepted forms are {ACCEPTED_FORMS}",
                redact_url(raw)
            ))),
        }
    }

    /// Chooses the database: `explicit` (the `--database-url` flag), else env `DATABASE_URL`,
    /// else legacy env `SYNTHLAB_DB_PATH` (a SQLite file path), else the same two names in
    /// `./.env`, else [`DEFAULT_DATABASE_URL`]. Settings the URL leaves out (see
    /// [`ENV_VARIABLES`]) come from the environment, then `./.env`. Returns the configuration
    /// and where it came from.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Config`] when the chosen value is not an accepted URL.
    pub fn resolve(explicit: Option<&str>) -> Result<(DatabaseConfig, &'static str)> {
        let dotenv = read_dotenv();
        let lookup = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .map(|v| (v, false))
                .or_else(|| dotenv.get(name).cloned().map(|v| (v, true)))
        };
        // Settings the URL does not give come from the environment, then from `.env`.
        let setting = |name: &str| lookup(name).map(|(value, _)| value);
        if let Some(url) = explicit {
            return Ok((DatabaseConfig::parse_with_env(url, &setting)?, "--database-url"));
        }
        if let Some((url, from_file)) = lookup("DATABASE_URL") {
            let origin = if from_file { ".env DATABASE_URL" } else { "DATABASE_URL" };
            return Ok((DatabaseConfig::parse_with_env(&url, &setting)?, origin));
        }
        if let Some((path, from_file)) = lookup("SYNTHLAB_DB_PATH") {
            let origin = if from_file {
                ".env SYNTHLAB_DB_PATH"
            } else {
                "SYNTHLAB_DB_PATH"
            };
            let config = SqliteConfig::with_env(SqliteLocation::File(path.into()), &setting)?;
            return Ok((DatabaseConfig::Sqlite(config), origin));
        }
        Ok((
            DatabaseConfig::parse_with_env(DEFAULT_DATABASE_URL, &setting)?,
            "default",
        ))
    }
}

/// Reads `./.env` if present, without touching the process environment.
pub(crate) fn read_dotenv() -> HashMap<String, String> {
    std::fs::read_to_string(".env")
        .map(|text| parse_dotenv(&text))
        .unwrap_or_default()
}

/// The `NAME=value` lines of a `.env` file. Blank lines and `#` comments are skipped, an
/// `export ` prefix is allowed, a value in matching single or double quotes is taken without
/// them, an unquoted value ends at ` #`. Values are literal (no `$VAR` expansion, no escapes);
/// a line of another shape is skipped; a later line wins.
fn parse_dotenv(text: &str) -> HashMap<String, String> {
    let mut vars = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        if line.starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let value = value.trim();
        let value = match value.chars().next() {
            Some(quote @ ('"' | '\'')) => match value[1..].find(quote) {
                Some(end) => &value[1..=end],
                None => continue,
            },
            _ => value.split_once(" #").map_or(value, |(v, _)| v).trim_end(),
        };
        vars.insert(name.to_owned(), value.to_owned());
    }
    vars
}

impl FromStr for DatabaseConfig {
    type Err = Error;

    /// Parses a URL; settings it does not give come from the environment, then the defaults.
    fn from_str(raw: &str) -> Result<Self> {
        DatabaseConfig::parse_with_env(raw, &|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }
}

fn config_error(raw: &str, why: impl fmt::Display) -> Error {
    Error::config(format!(
        "malformed database URL '{}': {why} (accepted forms: {ACCEPTED_FORMS})",
        redact_url(raw)
    ))
}

/// Every environment variable the configuration reads (beside `DATABASE_URL` and
/// `SYNTHLAB_DB_PATH`), each used only when the URL does not set the same option.
pub const ENV_VARIABLES: &[(&str, &str)] = &[
    ("SYNTHLAB_POOL_MAX_SIZE", "pool_max_size"),
    ("SYNTHLAB_POOL_TIMEOUT", "pool_timeout"),
    ("SYNTHLAB_POOL_CREATE_TIMEOUT", "pool_create_timeout"),
    ("SYNTHLAB_POOL_RECYCLE_TIMEOUT", "pool_recycle_timeout"),
    ("SYNTHLAB_POOL_RECYCLING", "pool_recycling"),
    ("SYNTHLAB_POOL_VERIFY_AFTER_MS", "pool_verify_after_ms"),
    ("SYNTHLAB_SQLITE_BUSY_TIMEOUT_MS", "busy_timeout_ms"),
    ("SYNTHLAB_SQLITE_MAX_READERS", "max_readers"),
    ("SYNTHLAB_SLOW_CALL_MS", "slow_call_ms"),
    ("SYNTHLAB_PGBOUNCER", "pgbouncer"),
];

/// The allowed range of every numeric option, by URL option name (environment variables use
/// the range of the option they stand for, see [`ENV_VARIABLES`]). Numbers are bounded when
/// parsed, so a huge value is a configuration error instead of an overflow or a huge
/// allocation later on.
pub const NUMBER_RANGES: &[(&str, u64, u64)] = &[
    ("pool_max_size", 1, 10_000),
    ("pool_timeout", 0, 86_400),
    ("pool_create_timeout", 0, 86_400),
    ("pool_recycle_timeout", 0, 86_400),
    ("pool_verify_after_ms", 0, 86_400_000),
    ("connect_timeout", 0, 86_400),
    ("slow_call_ms", 0, 86_400_000),
    ("busy_timeout_ms", 0, 86_400_000),
    ("max_readers", 0, 256),
    ("keepalives", 0, 1),
    ("keepalives_idle", 0, 86_400),
    ("keepalives_interval", 0, 86_400),
    ("keepalives_retries", 0, 1_000),
    ("tcp_user_timeout", 0, 86_400_000),
    ("port", 1, 65_535),
    ("shadow_budget_ms", 0, 86_400_000),
];

/// `value` as a whole number within the range [`NUMBER_RANGES`] gives `option`; `what` names
/// the setting in the error (an option or an environment variable).
pub(crate) fn bounded_number(option: &str, what: &str, value: &str) -> std::result::Result<u64, String> {
    let (min, max) = NUMBER_RANGES
        .iter()
        .find(|(name, _, _)| *name == option)
        .map_or((0, u64::MAX), |(_, min, max)| (*min, *max));
    match value.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "{what} must be a whole number from {min} to {max}, got '{}'",
            shorten_value(value)
        )),
    }
}

/// A value as quoted in an error: at most 40 characters.
fn shorten_value(value: &str) -> String {
    let mut out: String = value.chars().take(40).collect();
    if out.len() < value.len() {
        out.push('…');
    }
    out
}

fn env_number(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Result<Option<u64>> {
    let option = ENV_VARIABLES
        .iter()
        .find(|(var, _)| *var == name)
        .map_or(name, |(_, option)| option);
    match env(name) {
        None => Ok(None),
        Some(value) => bounded_number(option, &format!("environment variable {name}"), &value)
            .map(Some)
            .map_err(Error::config),
    }
}

fn slow_call_default(env: &dyn Fn(&str) -> Option<String>) -> Result<Duration> {
    Ok(env_number(env, crate::observe::SLOW_CALL_ENV)?
        .map(Duration::from_millis)
        .unwrap_or(crate::observe::DEFAULT_SLOW_CALL))
}

fn parse_sqlite(raw: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<DatabaseConfig> {
    let rest = &raw["sqlite:".len()..];
    let (target, query) = match rest.split_once('?') {
        Some((target, query)) => (target, Some(query)),
        None => (rest, None),
    };
    let location = if target == ":memory:" || target == "//:memory:" {
        SqliteLocation::Memory
    } else if let Some(path) = target.strip_prefix("//") {
        if path.is_empty() {
            return Err(config_error(raw, "the SQLite URL names no file"));
        }
        SqliteLocation::File(PathBuf::from(path))
    } else {
        return Err(config_error(
            raw,
            "a SQLite URL starts with sqlite:// or is sqlite::memory:",
        ));
    };
    let mut config = SqliteConfig::with_env(location, env)?;
    for (key, value) in query.map(parse_query).unwrap_or_default() {
        match key.as_str() {
            "busy_timeout_ms" => config.busy_timeout = Duration::from_millis(parse_number(raw, &key, &value)?),
            "max_readers" => config.max_readers = parse_number(raw, &key, &value)? as usize,
            "slow_call_ms" => config.slow_call = Duration::from_millis(parse_number(raw, &key, &value)?),
            _ => {
                return Err(config_error(
                    raw,
                    format!("unknown SQLite option '{key}' (known: busy_timeout_ms, max_readers, slow_call_ms)"),
                ));
            }
        }
    }
    Ok(DatabaseConfig::Sqlite(config))
}

/// Options passed through to tokio-postgres as they are.
const DRIVER_OPTIONS: &[&str] = &[
    "application_name",
    "options",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_retries",
    "tcp_user_timeout",
    "target_session_attrs",
    "user",
    "dbname",
    "host",
    "hostaddr",
    "port",
    "password",
];

const KNOWN_POSTGRES_OPTIONS: &str = "sslmode, sslrootcert, sslcert, sslkey, connect_timeout, pool_max_size, \
     pool_timeout, pool_create_timeout, pool_recycle_timeout, pool_recycling, pool_verify_after_ms, slow_call_ms, application_name, \
     options, keepalives, keepalives_idle, keepalives_interval, keepalives_retries, tcp_user_timeout, \
     target_session_attrs, hostaddr, pgbouncer";

fn parse_postgres(raw: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<DatabaseConfig> {
    let url = url::Url::parse(raw).map_err(|e| config_error(raw, e))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(config_error(raw, "a PostgreSQL URL needs a host"));
    }
    // An `@` after the host, or a fragment, is a password with an unencoded `/`, `?` or `#`
    // far more often than a database name: refuse instead of connecting somewhere unintended.
    let no_userinfo = url.username().is_empty() && url.password().is_none();
    let at_in_query = url.query_pairs().any(|(k, v)| {
        let at_may_belong = match k.as_ref() {
            "password" | "user" => true,
            "application_name" | "options" => !no_userinfo,
            _ => false,
        };
        k.contains('@') || (v.contains('@') && !at_may_belong)
    });
    if url.path().contains('@') || url.fragment().is_some() || at_in_query {
        return Err(config_error(
            raw,
            "an '@' after the host or a '#' in the URL: percent-encode '/', '?', '#' and '@' \
             in the user name and password (%2F, %3F, %23, %40)",
        ));
    }
    let env_recycling = match env("SYNTHLAB_POOL_RECYCLING") {
        None => None,
        Some(value) => Some(PoolRecycling::parse(value.trim()).ok_or_else(|| {
            Error::config(format!(
                "environment variable SYNTHLAB_POOL_RECYCLING must be fast, verified or clean, got '{value}'"
            ))
        })?),
    };
    let mut pool_max_size = env_number(env, "SYNTHLAB_POOL_MAX_SIZE")?.unwrap_or(16) as usize;
    let mut pool_timeout = Duration::from_secs(env_number(env, "SYNTHLAB_POOL_TIMEOUT")?.unwrap_or(30));
    let mut pool_create_timeout = env_number(env, "SYNTHLAB_POOL_CREATE_TIMEOUT")?.map(Duration::from_secs);
    let mut pool_recycle_timeout = Duration::from_secs(env_number(env, "SYNTHLAB_POOL_RECYCLE_TIMEOUT")?.unwrap_or(5));
    let mut pool_recycling = env_recycling.unwrap_or_default();
    let mut pool_verify_after =
        Duration::from_millis(env_number(env, "SYNTHLAB_POOL_VERIFY_AFTER_MS")?.unwrap_or(1000));
    let mut slow_call = slow_call_default(env)?;
    let mut tls = TlsConfig::default();
    let mut connect_timeout = Duration::from_secs(10);
    let mut pgbouncer = match env("SYNTHLAB_PGBOUNCER") {
        None => false,
        Some(value) => parse_switch(&value).ok_or_else(|| {
            Error::config(format!(
                "environment variable SYNTHLAB_PGBOUNCER must be 1/0 or true/false, got '{value}'"
            ))
        })?,
    };
    let mut driver_query: Vec<(String, String)> = Vec::new();
    for (key, value) in url.query_pairs() {
        let (key, value) = (key.into_owned(), value.into_owned());
        match key.as_str() {
            "pool_max_size" => pool_max_size = parse_number(raw, &key, &value)? as usize,
            "pool_timeout" => pool_timeout = Duration::from_secs(parse_number(raw, &key, &value)?),
            "pool_create_timeout" => pool_create_timeout = Some(Duration::from_secs(parse_number(raw, &key, &value)?)),
            "pool_recycle_timeout" => pool_recycle_timeout = Duration::from_secs(parse_number(raw, &key, &value)?),
            "pool_recycling" => {
                pool_recycling = PoolRecycling::parse(&value).ok_or_else(|| {
                    config_error(
                        raw,
                        format!("unsupported pool_recycling '{value}' (supported: fast, verified, clean)"),
                    )
                })?;
            }
            "pool_verify_after_ms" => pool_verify_after = Duration::from_millis(parse_number(raw, &key, &value)?),
            "slow_call_ms" => slow_call = Duration::from_millis(parse_number(raw, &key, &value)?),
            "connect_timeout" => connect_timeout = Duration::from_secs(parse_number(raw, &key, &value)?),
            "pgbouncer" => {
                pgbouncer = parse_switch(&value)
                    .ok_or_else(|| config_error(raw, format!("pgbouncer must be true or false, got '{value}'")))?;
            }
            "sslmode" => {
                tls.mode = SslMode::parse(&value).ok_or_else(|| {
                    config_error(
                        raw,
                        format!(
                            "unsupported sslmode '{value}' (supported: disable, prefer, require, verify-ca, verify-full)"
                        ),
                    )
                })?;
            }
            "sslrootcert" if value == "system" => {
                return Err(config_error(
                    raw,
                    "sslrootcert=system is not supported: give the path of a PEM file of the trusted CAs",
                ));
            }
            "sslrootcert" => tls.root_cert = Some(PathBuf::from(value)),
            "sslcert" => tls.client_cert = Some(PathBuf::from(value)),
            "sslkey" => tls.client_key = Some(PathBuf::from(value)),
            known if DRIVER_OPTIONS.contains(&known) => {
                if NUMBER_RANGES.iter().any(|(name, _, _)| *name == known) {
                    parse_number(raw, &key, &value)?;
                }
                driver_query.push((key, value));
            }
            _ => {
                return Err(config_error(
                    raw,
                    format!("unknown PostgreSQL option '{key}' (known: {KNOWN_POSTGRES_OPTIONS})"),
                ));
            }
        }
    }
    if pgbouncer && pool_recycling == PoolRecycling::Clean {
        return Err(config_error(
            raw,
            "pool_recycling=clean resets session state, which a transaction pooler does not keep: use verified or fast with pgbouncer=true",
        ));
    }
    if matches!(tls.mode, SslMode::VerifyCa | SslMode::VerifyFull) && tls.root_cert.is_none() {
        return Err(config_error(
            raw,
            format!(
                "sslmode={} needs sslrootcert=<PEM file of the trusted CA>",
                tls.mode.as_str()
            ),
        ));
    }
    if tls.client_cert.is_some() != tls.client_key.is_some() {
        return Err(config_error(
            raw,
            "sslcert and sslkey go together: give both or neither",
        ));
    }
    // tokio-postgres knows disable / prefer / require only: certificate checks are the TLS
    // connector's job (backend::postgres::tls), so verify-* reach the driver as `require`.
    let driver_sslmode = match tls.mode {
        SslMode::Disable => "disable",
        SslMode::Prefer => "prefer",
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => "require",
    };
    let mut driver_url = url.clone();
    driver_url
        .set_scheme("postgres")
        .map_err(|_| config_error(raw, "bad scheme"))?;
    // Percent-encoded (never `+` for a space: tokio-postgres does not read `+` as a space).
    driver_query.push(("sslmode".to_owned(), driver_sslmode.to_owned()));
    driver_query.push(("connect_timeout".to_owned(), connect_timeout.as_secs().to_string()));
    // The connect path's defaults, unless the URL sets them: a name the server shows in
    // pg_stat_activity, and keepalives that find a dead peer in about two minutes (not the
    // operating system's two hours).
    for (option, default) in CONNECTION_DEFAULTS {
        if !driver_query.iter().any(|(key, _)| key == option) {
            driver_query.push(((*option).to_owned(), (*default).to_owned()));
        }
    }
    let query: Vec<String> = driver_query
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect();
    driver_url.set_query(Some(&query.join("&")));
    let driver = tokio_postgres::Config::from_str(driver_url.as_str()).map_err(|e| config_error(raw, e))?;
    Ok(DatabaseConfig::Postgres(PostgresConfig {
        driver,
        pool_max_size,
        pool_timeout,
        pool_create_timeout: pool_create_timeout.unwrap_or(connect_timeout),
        pool_recycle_timeout,
        pool_recycling,
        pool_verify_after,
        tls,
        slow_call,
        pgbouncer,
        redacted: printable_url(&url),
    }))
}

/// Driver options every connection gets unless the URL gives its own.
const CONNECTION_DEFAULTS: &[(&str, &str)] = &[
    ("application_name", "synthlab-db"),
    ("keepalives_idle", "60"),
    ("keepalives_interval", "10"),
    ("keepalives_retries", "5"),
];

/// `true`/`1`/`yes`/`on` or `false`/`0`/`no`/`off` (case-insensitive).
fn parse_switch(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (pair.to_owned(), String::new()),
        })
        .collect()
}

fn parse_number(raw: &str, key: &str, value: &str) -> Result<u64> {
    bounded_number(key, &format!("option '{key}'"), value).map_err(|why| config_error(raw, why))
}

/// Whether a percent-encoded query key means `password` (any case, any encoding).
fn is_password_key(key: &str) -> bool {
    url::form_urlencoded::parse(key.as_bytes())
        .next()
        .is_some_and(|(k, _)| k.eq_ignore_ascii_case("password"))
}

/// The query with the value of every `password` parameter replaced by `***`; other pairs are
/// kept as written.
fn redact_query(query: &str) -> String {
    query.split('&').map(redact_pair).collect::<Vec<_>>().join("&")
}

/// One `key=value` pair, its value replaced by `***` when the key means `password`.
fn redact_pair(pair: &str) -> String {
    match pair.split_once('=') {
        Some((k, _)) if is_password_key(k) => format!("{k}={SECRET}"),
        None if is_password_key(pair) => format!("{pair}={SECRET}"),
        _ => pair.to_owned(),
    }
}

/// The printable form of a parsed URL: its password and every `password` parameter replaced
/// by `***`, no fragment. Built from the parsed URL, so it shows exactly what the program
/// understood (and so never a part of a password that the parser took for something else).
fn printable_url(url: &url::Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some(SECRET));
    }
    if let Some(query) = url.query() {
        shown.set_query(Some(&redact_query(query)));
    }
    shown.set_fragment(None);
    shown.to_string()
}

/// Hides the secrets of a URL given as text, for errors about URLs that may not parse: the
/// value of every `password` parameter (raw or percent-encoded key, wherever a `?` or `&`
/// starts one), then everything between `://` and the last `@` (where a password with an
/// unencoded `/`, `?` or `#` may hide).
pub fn redact_url(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut copied = 0;
    for (at, _) in raw.match_indices(['?', '&']) {
        if at < copied {
            continue;
        }
        let pair = &raw[at + 1..];
        let pair = &pair[..pair.find(['&', '#']).unwrap_or(pair.len())];
        if let Some((key, _)) = pair.split_once('=')
            && is_password_key(key)
        {
            let value_start = at + 1 + key.len() + 1;
            out.push_str(&raw[copied..value_start]);
            out.push_str(SECRET);
            copied = at + 1 + pair.len();
        }
    }
    out.push_str(&raw[copied..]);
    if let Some(scheme_end) = out.find("://") {
        let authority_start = scheme_end + 3;
        if let Some(at) = out[authority_start..].rfind('@') {
            out.replace_range(authority_start..authority_start + at, SECRET);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_lines_are_read_literally() {
        let vars = parse_dotenv(
            "# comment\n\nDATABASE_URL=postgres://u:p@h/db?sslmode=require # the server\n\
             export SYNTHLAB_POOL_MAX_SIZE = 8\nQUOTED=\"a # b\"\nSINGLE='$HOME'\nbroken line\n\
             UNCLOSED=\"x\nEMPTY=\nDATABASE_URL=sqlite://later.db\n",
        );
        assert_eq!(vars.get("DATABASE_URL").map(String::as_str), Some("sqlite://later.db"));
        assert_eq!(vars.get("SYNTHLAB_POOL_MAX_SIZE").map(String::as_str), Some("8"));
        assert_eq!(vars.get("QUOTED").map(String::as_str), Some("a # b"));
        assert_eq!(vars.get("SINGLE").map(String::as_str), Some("$HOME"));
        assert_eq!(vars.get("EMPTY").map(String::as_str), Some(""));
        assert!(!vars.contains_key("UNCLOSED"));
        assert_eq!(vars.len(), 5, "{vars:?}");
        let first = parse_dotenv("DATABASE_URL=postgres://u:p@h/db?sslmode=require # the server\n");
        assert_eq!(
            first.get("DATABASE_URL").map(String::as_str),
            Some("postgres://u:p@h/db?sslmode=require")
        );
    }

    #[test]
    fn sqlite_forms_are_accepted() {
        let rel: DatabaseConfig = "sqlite://relative.db".parse().expect("relative");
        let abs: DatabaseConfig = "sqlite:///tmp/abs.db".parse().expect("absolute");
        let mem: DatabaseConfig = "sqlite::memory:".parse().expect("memory");
        match (rel, abs, mem) {
            (DatabaseConfig::Sqlite(r), DatabaseConfig::Sqlite(a), DatabaseConfig::Sqlite(m)) => {
                assert_eq!(r.location, SqliteLocation::File("relative.db".into()));
                assert_eq!(a.location, SqliteLocation::File("/tmp/abs.db".into()));
                assert_eq!(m.location, SqliteLocation::Memory);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn postgres_forms_and_options_are_accepted() {
        for url in [
            "postgres://u:pw@localhost:5432/db",
            "postgresql://u@localhost/db?sslmode=disable&connect_timeout=2&pool_max_size=4&pool_timeout=3",
        ] {
            let config: DatabaseConfig = url.parse().expect(url);
            assert_eq!(config.backend(), BackendKind::Postgres);
        }
        let DatabaseConfig::Postgres(pg) = "postgresql://u@h/db?pool_max_size=4&pool_timeout=3"
            .parse()
            .expect("pg")
        else {
            panic!("not postgres")
        };
        assert_eq!(pg.pool_max_size, 4);
        assert_eq!(pg.pool_timeout, Duration::from_secs(3));
        assert_eq!(pg.driver.get_connect_timeout(), Some(&Duration::from_secs(10)));
    }

    #[test]
    fn unknown_scheme_is_a_config_error_naming_the_accepted_forms() {
        let err = "mysql://x".parse::<DatabaseConfig>().expect_err("refused");
        assert_eq!(err.kind(), crate::ErrorKind::Config);
        assert!(err.to_string().contains("sqlite://"), "{err}");
        assert!(err.to_string().contains("postgres://"), "{err}");
        for bad in [
            "",
            "synthlab.db",
            "sqlite:/x",
            "postgres://",
            "postgres://h/db?bogus=1",
            "postgres://h/db?sslmode=maybe",
        ] {
            let err = bad.parse::<DatabaseConfig>().expect_err(bad);
            assert_eq!(err.kind(), crate::ErrorKind::Config, "{bad}");
        }
    }

    #[test]
    fn password_never_appears_in_display_debug_or_errors() {
        let url = "postgres://user:hunter2@127.0.0.1:5432/db?password=hunter2";
        let config: DatabaseConfig = url.parse().expect("valid");
        for shown in [config.to_string(), format!("{config:?}"), config.redacted_url()] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("***"), "{shown}");
        }
        for bad in [
            "postgres://user:hunter2@/db?x=1",
            "postgres://user:hunter2@h/db?bogus=1",
            "mysql://user:hunter2@h/db",
        ] {
            let err = bad.parse::<DatabaseConfig>().expect_err(bad);
            assert!(!err.to_string().contains("hunter2"), "{err}");
            assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
        }
    }

    #[test]
    fn with_dbname_swaps_the_database() {
        let DatabaseConfig::Postgres(pg) = "postgres://u:pw@h:1/one?sslmode=disable".parse().expect("pg") else {
            panic!("not postgres")
        };
        let two = pg.with_dbname("two");
        assert_eq!(two.dbname(), "two");
        assert_eq!(two.redacted_url(), "postgres://u:***@h:1/two?sslmode=disable");
    }

    fn pg(raw: &str, env: &dyn Fn(&str) -> Option<String>) -> PostgresConfig {
        match DatabaseConfig::parse_with_env(raw, env).expect(raw) {
            DatabaseConfig::Postgres(pg) => pg,
            other => panic!("not postgres: {other:?}"),
        }
    }

    #[test]
    fn pool_settings_come_from_the_url_then_the_environment_then_defaults() {
        let none = |_: &str| None;
        let defaults = pg("postgres://h/db", &none);
        assert_eq!(defaults.pool_max_size, 16);
        assert_eq!(defaults.pool_timeout, Duration::from_secs(30));
        assert_eq!(defaults.pool_create_timeout, Duration::from_secs(10));
        assert_eq!(defaults.pool_recycle_timeout, Duration::from_secs(5));
        assert_eq!(defaults.pool_recycling, PoolRecycling::Verified);
        assert_eq!(defaults.pool_verify_after, Duration::from_millis(1000));
        assert_eq!(defaults.tls.mode, SslMode::Prefer);
        let env = |name: &str| match name {
            "SYNTHLAB_POOL_MAX_SIZE" => Some("8".to_owned()),
            "SYNTHLAB_POOL_TIMEOUT" => Some("3".to_owned()),
            "SYNTHLAB_POOL_CREATE_TIMEOUT" => Some("4".to_owned()),
            "SYNTHLAB_POOL_RECYCLE_TIMEOUT" => Some("1".to_owned()),
            "SYNTHLAB_POOL_RECYCLING" => Some("fast".to_owned()),
            "SYNTHLAB_POOL_VERIFY_AFTER_MS" => Some("20".to_owned()),
            _ => None,
        };
        let from_env = pg("postgres://h/db", &env);
        assert_eq!(from_env.pool_verify_after, Duration::from_millis(20));
        assert_eq!(
            pg("postgres://h/db?pool_verify_after_ms=0", &env).pool_verify_after,
            Duration::ZERO
        );
        assert_eq!(from_env.pool_max_size, 8);
        assert_eq!(from_env.pool_timeout, Duration::from_secs(3));
        assert_eq!(from_env.pool_create_timeout, Duration::from_secs(4));
        assert_eq!(from_env.pool_recycle_timeout, Duration::from_secs(1));
        assert_eq!(from_env.pool_recycling, PoolRecycling::Fast);
        let url_wins = pg(
            "postgres://h/db?pool_max_size=2&pool_timeout=9&pool_create_timeout=7&pool_recycle_timeout=6&pool_recycling=clean&connect_timeout=3",
            &env,
        );
        assert_eq!(url_wins.pool_max_size, 2);
        assert_eq!(url_wins.pool_timeout, Duration::from_secs(9));
        assert_eq!(url_wins.pool_create_timeout, Duration::from_secs(7));
        assert_eq!(url_wins.pool_recycle_timeout, Duration::from_secs(6));
        assert_eq!(url_wins.pool_recycling, PoolRecycling::Clean);
        assert_eq!(url_wins.driver.get_connect_timeout(), Some(&Duration::from_secs(3)));
        // A space written as `+` (form encoding) or `%20` reaches the server as a space.
        for options in ["-c+search_path%3Dabc", "-c%20search_path=abc"] {
            let config = pg(&format!("postgres://h/db?options={options}"), &none);
            assert_eq!(config.driver.get_options(), Some("-c search_path=abc"), "{options}");
        }
        let create_follows_connect = pg("postgres://h/db?connect_timeout=2", &none);
        assert_eq!(create_follows_connect.pool_create_timeout, Duration::from_secs(2));
        for bad in ["pool_recycling=sometimes", "pool_max_size=0", "pool_timeout=-1"] {
            let err = DatabaseConfig::parse_with_env(&format!("postgres://h/db?{bad}"), &none).expect_err(bad);
            assert_eq!(err.kind(), crate::ErrorKind::Config, "{bad}");
        }
        let bad_env = |name: &str| (name == "SYNTHLAB_POOL_MAX_SIZE").then(|| "many".to_owned());
        let err = DatabaseConfig::parse_with_env("postgres://h/db", &bad_env).expect_err("bad env");
        assert!(err.to_string().contains("SYNTHLAB_POOL_MAX_SIZE"), "{err}");
    }

    #[test]
    fn sqlite_settings_come_from_the_url_then_the_environment() {
        let env = |name: &str| match name {
            "SYNTHLAB_SQLITE_BUSY_TIMEOUT_MS" => Some("1234".to_owned()),
            "SYNTHLAB_SQLITE_MAX_READERS" => Some("2".to_owned()),
            _ => None,
        };
        let DatabaseConfig::Sqlite(from_env) = DatabaseConfig::parse_with_env("sqlite://a.db", &env).expect("env")
        else {
            panic!("not sqlite")
        };
        assert_eq!(from_env.busy_timeout, Duration::from_millis(1234));
        assert_eq!(from_env.max_readers, 2);
        let DatabaseConfig::Sqlite(url) =
            DatabaseConfig::parse_with_env("sqlite://a.db?busy_timeout_ms=9&max_readers=1", &env).expect("url")
        else {
            panic!("not sqlite")
        };
        assert_eq!(url.busy_timeout, Duration::from_millis(9));
        assert_eq!(url.max_readers, 1);
    }

    #[test]
    fn sslmodes_map_to_the_driver_and_to_certificate_checks() {
        let none = |_: &str| None;
        for (mode, driver, chain, host) in [
            ("disable", tokio_postgres::config::SslMode::Disable, false, false),
            ("prefer", tokio_postgres::config::SslMode::Prefer, false, false),
            ("require", tokio_postgres::config::SslMode::Require, false, false),
            ("verify-ca", tokio_postgres::config::SslMode::Require, true, false),
            ("verify-full", tokio_postgres::config::SslMode::Require, true, true),
        ] {
            let root = if mode.starts_with("verify") {
                "&sslrootcert=/ca.pem"
            } else {
                ""
            };
            let config = pg(&format!("postgres://h/db?sslmode={mode}{root}"), &none);
            assert_eq!(config.tls.mode.as_str(), mode);
            assert_eq!(config.driver.get_ssl_mode(), driver, "{mode}");
            assert_eq!(config.tls.verifies_chain(), chain, "{mode}");
            assert_eq!(config.tls.verifies_host(), host, "{mode}");
        }
        // libpq: require with a root certificate checks the chain, as verify-ca.
        let require_with_root = pg("postgres://h/db?sslmode=require&sslrootcert=/ca.pem", &none);
        assert!(require_with_root.tls.verifies_chain() && !require_with_root.tls.verifies_host());
        let client = pg("postgres://h/db?sslmode=require&sslcert=/c.pem&sslkey=/k.pem", &none);
        assert_eq!(client.tls.client_key.as_deref(), Some(std::path::Path::new("/k.pem")));
        for bad in [
            "sslmode=verify-full",
            "sslmode=verify-ca",
            "sslmode=allow",
            "sslrootcert=system",
            "sslcert=/c.pem",
            "sslkey=/k.pem",
        ] {
            let err =
                DatabaseConfig::parse_with_env(&format!("postgres://u:hunter2@h/db?{bad}"), &none).expect_err(bad);
            assert_eq!(err.kind(), crate::ErrorKind::Config, "{bad}");
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn numbers_out_of_range_are_config_errors_naming_the_range() {
        let none = |_: &str| None;
        for (url, range) in [
            ("postgres://h/db?pool_max_size=18446744073709551615", "from 1 to 10000"),
            ("postgres://h/db?pool_max_size=18446744073709551616", "from 1 to 10000"),
            ("postgres://h/db?pool_max_size=100000000000", "from 1 to 10000"),
            ("postgres://h/db?pool_max_size=0", "from 1 to 10000"),
            ("postgres://h/db?pool_timeout=18446744073709551615", "from 0 to 86400"),
            ("postgres://h/db?connect_timeout=99999999999", "from 0 to 86400"),
            ("postgres://h/db?keepalives_idle=99999999999", "from 0 to 86400"),
            ("postgres://h/db?port=70000", "from 1 to 65535"),
            ("sqlite://a.db?max_readers=18446744073709551615", "from 0 to 256"),
            (
                "sqlite://a.db?busy_timeout_ms=18446744073709551615",
                "from 0 to 86400000",
            ),
            ("sqlite://a.db?slow_call_ms=-1", "from 0 to 86400000"),
        ] {
            let err = DatabaseConfig::parse_with_env(url, &none).expect_err(url);
            assert_eq!(err.kind(), crate::ErrorKind::Config, "{url}");
            assert!(err.to_string().contains(range), "{url}: {err}");
        }
        for (var, value) in [
            ("SYNTHLAB_POOL_MAX_SIZE", "100000000000"),
            ("SYNTHLAB_SQLITE_MAX_READERS", "18446744073709551615"),
            ("SYNTHLAB_SQLITE_BUSY_TIMEOUT_MS", "18446744073709551615"),
            ("SYNTHLAB_SLOW_CALL_MS", "18446744073709551616"),
        ] {
            let env = |name: &str| (name == var).then(|| value.to_owned());
            let url = if var.contains("SQLITE") {
                "sqlite://a.db"
            } else {
                "postgres://h/db"
            };
            let err = DatabaseConfig::parse_with_env(url, &env).expect_err(var);
            assert_eq!(err.kind(), crate::ErrorKind::Config, "{var}");
            assert!(
                err.to_string().contains(var) && err.to_string().contains(" to "),
                "{err}"
            );
        }
        for (option, _, _) in NUMBER_RANGES {
            assert!(
                bounded_number(option, option, "18446744073709551616").is_err(),
                "{option}"
            );
        }
    }

    #[test]
    fn passwords_with_url_delimiters_never_print() {
        let none = |_: &str| None;
        for url in [
            "postgres://u:ab/cd@h/db",
            "postgres://u:12/cd@h/db",
            "postgres://u:ab?cd@h/db",
            "postgres://u:12?cd@h/db",
            "postgres://u:ab#cd@h/db",
            "postgres://u:12#cd@h/db",
            "postgres://u:12?x=cd@h/db",
        ] {
            let err = DatabaseConfig::parse_with_env(url, &none).expect_err(url);
            for shown in [err.to_string(), format!("{err:?}")] {
                assert!(!shown.contains("cd"), "{url}: {shown}");
            }
        }
        for (url, shown) in [
            ("postgres://u:a%2Fb@h/db", "postgres://u:***@h/db"),
            ("postgres://u@h/db?%70assword=cd", "postgres://u@h/db?%70assword=***"),
            (
                "postgres://u@h/db?PASSWORD=cd&sslmode=disable",
                "?PASSWORD=***&sslmode=disable",
            ),
            ("postgres://h/db?password=c@d", "postgres://h/db?password=***"),
        ] {
            let config = match DatabaseConfig::parse_with_env(url, &none) {
                Ok(config) => config.to_string(),
                Err(err) => err.to_string(),
            };
            assert!(
                config.contains(shown) && !config.contains("cd") && !config.contains("c@d"),
                "{url}: {config}"
            );
        }
        assert_eq!(
            redact_url("postgres://u:a/b?c#d@h/db?x=1&password=p@q&%70assword=r"),
            "postgres://***@h/db?x=1&password=***&%70assword=***"
        );
    }

    mod redaction_properties {
        use super::super::*;
        use proptest::prelude::*;

        /// Printable ASCII and some non-ASCII characters.
        fn password_char() -> impl Strategy<Value = char> {
            prop_oneof![
                10 => (0x20u8..0x7f).prop_map(char::from),
                1 => prop::sample::select(vec!['é', 'ß', '€', '中', '😀', '\u{a0}', 'Ω']),
            ]
        }

        fn password() -> impl Strategy<Value = String> {
            prop::collection::vec(password_char(), 6..24).prop_map(|chars| chars.into_iter().collect())
        }

        /// How the password is given.
        #[derive(Debug, Clone, Copy)]
        enum Form {
            RawUserinfo,
            EncodedUserinfo,
            EncodedParameter,
            EncodedKeyParameter,
            RawParameter,
        }

        fn form() -> impl Strategy<Value = Form> {
            prop::sample::select(vec![
                Form::RawUserinfo,
                Form::EncodedUserinfo,
                Form::EncodedParameter,
                Form::EncodedKeyParameter,
                Form::RawParameter,
            ])
        }

        fn url_with(password: &str, form: Form) -> String {
            let encoded = percent_encode(password);
            match form {
                Form::RawUserinfo => format!("postgres://u:{password}@h:5432/db?sslmode=disable"),
                Form::EncodedUserinfo => format!("postgres://u:{encoded}@h:5432/db?sslmode=disable"),
                Form::EncodedParameter => format!("postgres://u@h:5432/db?sslmode=disable&password={encoded}"),
                Form::EncodedKeyParameter => format!("postgres://u@h:5432/db?sslmode=disable&%70assword={encoded}"),
                // A raw query value cannot hold `&`, `#`, `%` or `+` (they mean something there).
                Form::RawParameter => format!(
                    "postgres://u@h:5432/db?sslmode=disable&password={}",
                    password.replace(['&', '#', '%', '+'], "x")
                ),
            }
        }

        /// Every 4-character piece of the password (a partial leak shows one).
        fn pieces(password: &str) -> Vec<String> {
            let chars: Vec<char> = password.chars().collect();
            chars.windows(4).map(|w| w.iter().collect()).collect()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]
            #[test]
            fn no_form_of_a_password_is_ever_printed(password in password(), form in form()) {
                let raw = url_with(&password, form);
                let none = |_: &str| None;
                let mut shown = vec![redact_url(&raw)];
                match DatabaseConfig::parse_with_env(&raw, &none) {
                    Ok(config) => {
                        shown.push(config.to_string());
                        shown.push(format!("{config:?}"));
                        if let DatabaseConfig::Postgres(pg) = &config {
                            let expected = match form {
                                Form::RawUserinfo | Form::EncodedUserinfo => "postgres://u:***@h:5432/db?sslmode=disable",
                                Form::EncodedParameter | Form::RawParameter => "postgres://u@h:5432/db?sslmode=disable&password=***",
                                Form::EncodedKeyParameter => "postgres://u@h:5432/db?sslmode=disable&%70assword=***",
                            };
                            prop_assert_eq!(pg.redacted_url(), expected);
                            shown.push(pg.with_dbname("other").redacted_url().to_owned());
                            shown.push(format!("{pg:?}"));
                        }
                    }
                    Err(err) => {
                        shown.push(err.to_string());
                        shown.push(format!("{err:?}"));
                    }
                }
                for text in &shown {
                    prop_assert!(!text.contains(&password), "{raw} shown as {text}");
                    prop_assert!(!text.contains(&percent_encode(&password)), "{raw} shown as {text}");
                    for piece in pieces(&password) {
                        prop_assert!(!text.contains(&piece), "{raw}: piece {piece:?} shown in {text}");
                    }
                }
            }
        }
    }

    mod no_panic {
        use super::super::*;
        use proptest::prelude::*;

        /// URL-shaped text: schemes, delimiters, options and numbers in any order.
        fn urlish() -> impl Strategy<Value = String> {
            let token = prop::sample::select(vec![
                "postgres://",
                "postgresql://",
                "sqlite://",
                "sqlite:",
                ":memory:",
                "sqlite::memory:",
                "u",
                ":",
                "@",
                "/",
                "?",
                "&",
                "#",
                "=",
                "%",
                "%4",
                "%40",
                "%ZZ",
                "[",
                "]",
                "[::1]",
                "h",
                "5432",
                "99999999999",
                "pool_max_size",
                "max_readers",
                "busy_timeout_ms",
                "sslmode",
                "verify-full",
                "password",
                "%70assword",
                "options",
                "-c",
                "+",
                " ",
                "é",
                "😀",
                "host",
                "hostaddr",
                "port",
                "0",
                "18446744073709551616",
            ]);
            prop::collection::vec(token, 0..24).prop_map(|tokens| tokens.concat())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(3000))]
            #[test]
            fn arbitrary_text_gives_a_config_or_a_config_error(text in ".*", tokens in urlish(), env_value in ".*") {
                for input in [text, tokens] {
                    let env = |_: &str| Some(env_value.clone());
                    let none = |_: &str| None;
                    for result in [DatabaseConfig::parse_with_env(&input, &none), DatabaseConfig::parse_with_env(&input, &env)] {
                        match result {
                            Ok(config) => {
                                let _ = (config.to_string(), format!("{config:?}"));
                                if let DatabaseConfig::Postgres(pg) = &config {
                                    let _ = pg.with_dbname("x");
                                }
                            }
                            Err(err) => prop_assert_eq!(err.kind(), crate::ErrorKind::Config, "{:?}: {}", input, err),
                        }
                    }
                    let _ = redact_url(&input);
                }
            }
        }
    }

    #[test]
    fn pgbouncer_comes_from_the_url_then_the_environment_and_refuses_clean_recycling() {
        let none = |_: &str| None;
        assert!(!pg("postgres://h/db", &none).pgbouncer);
        assert!(pg("postgres://h/db?pgbouncer=true", &none).pgbouncer);
        let on = |name: &str| (name == "SYNTHLAB_PGBOUNCER").then(|| "1".to_owned());
        assert!(pg("postgres://h/db", &on).pgbouncer);
        assert!(!pg("postgres://h/db?pgbouncer=false", &on).pgbouncer, "the URL wins");
        for bad in ["pgbouncer=maybe", "pgbouncer=true&pool_recycling=clean"] {
            let err =
                DatabaseConfig::parse_with_env(&format!("postgres://u:hunter2@h/db?{bad}"), &none).expect_err(bad);
            assert_eq!(err.kind(), crate::ErrorKind::Config, "{bad}");
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
        let bad_env = |name: &str| (name == "SYNTHLAB_PGBOUNCER").then(|| "sometimes".to_owned());
        let err = DatabaseConfig::parse_with_env("postgres://h/db", &bad_env).expect_err("bad env");
        assert!(err.to_string().contains("SYNTHLAB_PGBOUNCER"), "{err}");
    }

    #[test]
    fn connections_get_a_name_and_keepalives_unless_the_url_sets_them() {
        let none = |_: &str| None;
        let defaults = pg("postgres://h:6432/db", &none);
        assert_eq!(defaults.driver.get_application_name(), Some("synthlab-db"));
        assert_eq!(defaults.driver.get_keepalives_idle(), Duration::from_secs(60));
        assert_eq!(defaults.host_port(), ("h".to_owned(), 6432));
        let own = pg("postgres://h/db?application_name=worker&keepalives_idle=5", &none);
        assert_eq!(own.driver.get_application_name(), Some("worker"));
        assert_eq!(own.driver.get_keepalives_idle(), Duration::from_secs(5));
        assert_eq!(own.host_port(), ("h".to_owned(), 5432));
    }
}
