//! A value as SQLite stores it, to write into a legacy file: the one type the legacy-file
//! builder ([`crate::legacy::build_legacy_file`]), the generator (`copy::generate`) and the
//! SQLite writer beneath both (`backend/sqlite/legacy_writer.rs`) share. It names no driver,
//! so the tools depend on the writer and the writer on it, never the other way round.

/// A value as SQLite stores it.
#[derive(Debug, Clone, PartialEq)]
pub enum LegacyValue {
    /// NULL.
    Null,
    /// INTEGER.
    Integer(i64),
    /// REAL.
    Real(f64),
    /// TEXT (may contain NUL).
    Text(String),
    /// TEXT made of exactly these bytes, valid UTF-8 or not (for planting faults).
    Bytes(Vec<u8>),
}

impl From<&str> for LegacyValue {
    fn from(value: &str) -> Self {
        LegacyValue::Text(value.to_owned())
    }
}

impl From<String> for LegacyValue {
    fn from(value: String) -> Self {
        LegacyValue::Text(value)
    }
}

impl From<i64> for LegacyValue {
    fn from(value: i64) -> Self {
        LegacyValue::Integer(value)
    }
}

impl From<f64> for LegacyValue {
    fn from(value: f64) -> Self {
        LegacyValue::Real(value)
    }
}

impl<T: Into<LegacyValue>> From<Option<T>> for LegacyValue {
    fn from(value: Option<T>) -> Self {
        value.map_or(LegacyValue::Null, Into::into)
    }
}
