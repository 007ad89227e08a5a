//! Change capture in the legacy file, in backend-neutral terms: the names of our objects,
//! what a change record holds, and what is installed. The SQL and the rusqlite calls live in
//! `backend::sqlite::capture`.

use crate::copy::convert::Raw;

/// Every object sync adds to the legacy file (and the PostgreSQL state table) starts with this.
pub const OBJECT_PREFIX: &str = "_synthlab_sync_";
/// The change table in the legacy file.
pub const CHANGES_TABLE: &str = "_synthlab_sync_changes";
/// The meta table in the legacy file (source id, capture version, follower positions).
pub const META_TABLE: &str = "_synthlab_sync_meta";
/// Version of the trigger layout.
pub(crate) const CAPTURE_VERSION: &str = "1";

/// Whether a schema object is one of ours (schema checks, adopt and layout recognition skip it).
pub fn is_sync_object(name: &str) -> bool {
    name.starts_with(OBJECT_PREFIX)
}

/// One key column value exactly as SQLite stored it (owned).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum KeyPart {
    /// NULL (also: the unused second part of a one-column key).
    Null,
    /// INTEGER.
    Int(i64),
    /// REAL, by its bits.
    Real(u64),
    /// TEXT bytes.
    Text(Vec<u8>),
    /// BLOB bytes.
    Blob(Vec<u8>),
}

impl KeyPart {
    /// The owned copy of a stored value.
    pub(crate) fn from_raw(raw: Raw<'_>) -> KeyPart {
        match raw {
            Raw::Null => KeyPart::Null,
            Raw::Integer(i) => KeyPart::Int(i),
            Raw::Real(f) => KeyPart::Real(f.to_bits()),
            Raw::Text(t) => KeyPart::Text(t.to_vec()),
            Raw::Blob(b) => KeyPart::Blob(b.to_vec()),
        }
    }

    /// The stored value again.
    pub(crate) fn as_raw(&self) -> Raw<'_> {
        match self {
            KeyPart::Null => Raw::Null,
            KeyPart::Int(i) => Raw::Integer(*i),
            KeyPart::Real(bits) => Raw::Real(f64::from_bits(*bits)),
            KeyPart::Text(t) => Raw::Text(t),
            KeyPart::Blob(b) => Raw::Blob(b),
        }
    }

    /// The key as PostgreSQL text (key columns are text there), if it can be one.
    pub(crate) fn as_text(&self) -> Option<String> {
        match self {
            KeyPart::Text(t) => std::str::from_utf8(t).ok().map(str::to_owned),
            KeyPart::Int(i) => Some(i.to_string()),
            _ => None,
        }
    }
}

/// A primary key: one or two parts (the unused second part is `Null`).
pub(crate) type RowKey = [KeyPart; 2];

/// The key of text parts (as PostgreSQL holds them).
pub(crate) fn text_key(parts: &[String]) -> RowKey {
    let mut key: RowKey = [KeyPart::Null, KeyPart::Null];
    for (slot, part) in key.iter_mut().zip(parts) {
        *slot = KeyPart::Text(part.clone().into_bytes());
    }
    key
}

/// One record of the change table.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    /// Table.
    pub(crate) table: String,
    /// `I`nsert, `U`pdate, `K` (old key of an update that changed it), `D`elete, `R` (a row
    /// a REPLACE may remove).
    #[allow(dead_code)]
    pub(crate) op: char,
    /// The key.
    pub(crate) key: RowKey,
    /// When it was captured (seconds since the Unix epoch).
    pub(crate) captured_at: f64,
}

/// What capture has installed in a legacy file.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CaptureInfo {
    /// Random id of this file's capture (the PostgreSQL state remembers it).
    pub source_id: String,
    /// Trigger layout version.
    pub capture_version: String,
    /// When capture was installed (UTC).
    pub installed_at: String,
    /// `(table, trigger)` pairs; `{"table", "trigger"}` objects in JSON.
    #[serde(serialize_with = "as_trigger_objects")]
    pub triggers: Vec<(String, String)>,
    /// Followers and the position each has applied (pruning keeps what the slowest needs);
    /// `{"follower", "applied"}` objects in JSON.
    #[serde(serialize_with = "as_follower_objects")]
    pub followers: Vec<(String, i64)>,
    /// Oldest record still in the change table (0 when empty).
    pub min_seq: i64,
    /// Newest record (0 when nothing was captured yet).
    pub max_seq: i64,
    /// Records in the change table.
    pub records: u64,
}

fn as_trigger_objects<S: serde::Serializer>(pairs: &[(String, String)], serializer: S) -> Result<S::Ok, S::Error> {
    named_pairs(pairs, ["table", "trigger"], serializer)
}

fn as_follower_objects<S: serde::Serializer>(pairs: &[(String, i64)], serializer: S) -> Result<S::Ok, S::Error> {
    named_pairs(pairs, ["follower", "applied"], serializer)
}

/// Serialises pairs as objects with the two `names`, so that JSON readers need not know the
/// tuple order.
fn named_pairs<A: serde::Serialize, B: serde::Serialize, S: serde::Serializer>(
    pairs: &[(A, B)],
    names: [&'static str; 2],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::{SerializeMap, SerializeSeq};
    struct Pair<'p, A, B>(&'p A, &'p B, [&'static str; 2]);
    impl<A: serde::Serialize, B: serde::Serialize> serde::Serialize for Pair<'_, A, B> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(Some(2))?;
            map.serialize_entry(self.2[0], self.0)?;
            map.serialize_entry(self.2[1], self.1)?;
            map.end()
        }
    }
    let mut seq = serializer.serialize_seq(Some(pairs.len()))?;
    for (a, b) in pairs {
        seq.serialize_element(&Pair(a, b, names))?;
    }
    seq.end()
}

impl CaptureInfo {
    /// The tables that have all three AFTER triggers.
    pub fn captured_tables(&self) -> Vec<String> {
        let mut tables: Vec<String> = self
            .triggers
            .iter()
            .filter(|(table, name)| name.ends_with("_ins") && name == &format!("{OBJECT_PREFIX}{table}_ins"))
            .map(|(table, _)| table.clone())
            .filter(|table| {
                ["upd", "del"].iter().all(|s| {
                    self.triggers
                        .iter()
                        .any(|(_, n)| n == &format!("{OBJECT_PREFIX}{table}_{s}"))
                })
            })
            .collect();
        tables.sort();
        tables
    }
}
