//! The errors both backends give for misuse of units of work (`Store::transaction`), so that
//! a caller sees the same error whichever backend runs the unit.

use crate::Error;

/// The error of a call inside a unit of work that an earlier failed call aborted.
pub(crate) fn aborted() -> Error {
    Error::other("unit of work aborted by an earlier failed call; it was rolled back")
}

/// The error of starting a unit of work inside another.
pub(crate) fn nested() -> Error {
    Error::invalid_input("nested units of work are not supported: call repositories on the outer unit's store")
}
