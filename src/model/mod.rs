//! The data model: plain structs with serde, one file per area, no SQL.
//!
//! JSON columns are [`serde_json::Value`]; timestamps are [`Timestamp`]; enumerated columns
//! are Rust enums whose text is the legacy string stored in the database.

/// Defines an enum stored as one of a fixed set of legacy strings.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $(#[doc = concat!("`", $text, "`")] $(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The legacy string stored in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::Error;

            fn from_str(text: &str) -> crate::Result<Self> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err(crate::Error::invalid_input(format!(
                        "unknown {} '{}' (expected one of: {})",
                        stringify!($name),
                        other,
                        [$($text),+].join(", ")
                    ))),
                }
            }
        }

        impl crate::model::StringEnum for $name {}

        impl crate::model::Input for $name {
            fn checked(&self, _what: &str) -> crate::Result<std::borrow::Cow<'_, Self>> {
                Ok(std::borrow::Cow::Borrowed(self))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// An enumerated column: one of a fixed set of legacy strings, parsed by `FromStr` and
/// written by `Display` (every `string_enum!` type).
pub(crate) trait StringEnum: Copy + std::str::FromStr + std::fmt::Display + Send + Sync + 'static {}

mod analysis;
mod document;
mod experiment;
pub mod id;
mod input;
mod insight;
mod page;
pub(crate) mod portable;
pub(crate) mod replay;
mod research;
mod simulation;
mod synth;
mod time;

pub use analysis::*;
pub use document::*;
pub use experiment::*;
pub use insight::*;
pub use page::*;
pub use research::*;
pub use simulation::*;
pub use synth::*;
pub use time::{Timestamp, now, parse_legacy, parse_legacy_exact, to_canonical, truncate};

mod exploration;
pub use exploration::*;

pub(crate) use input::Input;
/// `#[derive(Input)]`: an input struct checked field by field (see [`Input`]).
pub(crate) use synthlab_db_macros::Input;
