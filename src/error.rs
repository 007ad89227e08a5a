//! One error type for both backends.
//!
//! Every failure a caller can see is an [`Error`] whose [`Error::kind`] says what went wrong in
//! backend-neutral terms. The backends classify their native errors (SQLite extended result
//! codes, PostgreSQL SQLSTATE codes) into these kinds in `backend::*::error`; message text is
//! never parsed. Messages never contain a password: URLs are only ever shown redacted.

use std::fmt;

/// What kind of failure an [`Error`] is; identical on both backends for the same situation.
/// New kinds may be added: match with a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The row the call needs does not exist (or is soft-deleted).
    NotFound,
    /// A unique or primary key constraint refused the write; or the state of the database
    /// refuses the operation (a history that does not match this build, a down migration that
    /// would destroy data).
    Conflict,
    /// A foreign key constraint refused the write (missing parent, or children still exist).
    ForeignKey,
    /// A CHECK or NOT NULL constraint refused the write (enum value, length, range).
    Check,
    /// The caller's input was refused before reaching the database (bad page size, unsafe
    /// search path, unknown sort column, malformed value).
    InvalidInput,
    /// The database could not be reached or the connection was lost; retrying may succeed.
    Unavailable,
    /// The transaction lost a race with another one (PostgreSQL: deadlock or serialization
    /// failure; SQLite: a read snapshot outdated by another writer) and was rolled back:
    /// running the whole transaction again is expected to succeed.
    Retryable,
    /// The configuration (URL, environment) is invalid.
    Config,
    /// Anything else, including data in the store that the model cannot represent.
    Other,
}

impl ErrorKind {
    /// A short stable name, used in messages and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::ForeignKey => "foreign key violation",
            ErrorKind::Check => "check violation",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Unavailable => "database unavailable",
            ErrorKind::Retryable => "transaction conflict (retry it)",
            ErrorKind::Config => "configuration error",
            ErrorKind::Other => "error",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The error of every fallible call in this crate.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    constraint: Option<String>,
    source: Option<Source>,
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with a message for humans.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            constraint: None,
            source: None,
        }
    }

    /// Attaches the underlying cause.
    pub fn with_source(mut self, source: impl Into<Source>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The constraint that refused the write (Conflict, ForeignKey, Check), by the name
    /// PostgreSQL gives it — the same on both backends: `<table>_pkey`,
    /// `<table>_<columns>_key`, `<table>_<columns>_fkey`, `<table>_<column>_check`,
    /// `<table>_<column>_not_null`. `None` for other errors, or when it cannot be told.
    pub fn constraint(&self) -> Option<&str> {
        self.constraint.as_deref()
    }

    /// Names the constraint that refused the write (the backends' error classification).
    pub(crate) fn with_constraint(mut self, name: impl Into<String>) -> Self {
        self.constraint = Some(name.into());
        self
    }

    /// The human-readable message (without the kind prefix).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Shorthand for [`ErrorKind::NotFound`].
    pub fn not_found(what: impl fmt::Display) -> Self {
        Error::new(ErrorKind::NotFound, format!("{what} not found"))
    }

    /// Shorthand for [`ErrorKind::InvalidInput`].
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidInput, message)
    }

    /// Shorthand for [`ErrorKind::Config`].
    pub fn config(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config, message)
    }

    /// Shorthand for [`ErrorKind::Other`].
    pub fn other(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Other, message)
    }

    /// A stored value the model cannot represent (legacy data outside the contract).
    pub fn bad_data(table: &str, column: &str, detail: impl fmt::Display) -> Self {
        Error::new(
            ErrorKind::Other,
            format!("unreadable value in {table}.{column}: {detail}"),
        )
    }

    /// Prefixes the message with context (for example the table or operation).
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    /// `kind: message`; for [`ErrorKind::Other`] the message alone (its kind says nothing).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::Other => f.write_str(&self.message),
            kind => write!(f, "{kind}: {}", self.message),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|s| s as &(dyn std::error::Error + 'static))
    }
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        Error::new(ErrorKind::InvalidInput, format!("invalid JSON: {err}")).with_source(err)
    }
}
