//! Pagination: a validated request and a page of results.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The largest page a caller may ask for.
pub const MAX_PAGE_SIZE: i64 = 200;

/// A page request: `limit` rows (1 to [`MAX_PAGE_SIZE`]) after skipping `offset` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    /// How many rows at most (1..=200).
    pub limit: i64,
    /// How many rows to skip (≥ 0).
    pub offset: i64,
}

impl PageRequest {
    /// A validated request.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] when `limit` is outside 1..=200 or `offset` is negative.
    pub fn new(limit: i64, offset: i64) -> Result<Self> {
        let page = PageRequest { limit, offset };
        page.validate()?;
        Ok(page)
    }

    /// The first page of `limit` rows.
    ///
    /// # Errors
    /// As [`PageRequest::new`].
    pub fn first(limit: i64) -> Result<Self> {
        Self::new(limit, 0)
    }

    /// Checks the bounds (a request built by hand may be out of range).
    ///
    /// # Errors
    /// As [`PageRequest::new`].
    pub fn validate(&self) -> Result<()> {
        if !(1..=MAX_PAGE_SIZE).contains(&self.limit) {
            return Err(Error::invalid_input(format!(
                "page limit must be between 1 and {MAX_PAGE_SIZE}, got {}",
                self.limit
            )));
        }
        if self.offset < 0 {
            return Err(Error::invalid_input(format!(
                "page offset must not be negative, got {}",
                self.offset
            )));
        }
        Ok(())
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest { limit: 50, offset: 0 }
    }
}

/// One page of results with the total count taken in the same snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The rows of this page, in the listing's order.
    pub items: Vec<T>,
    /// How many rows the whole listing has.
    pub total: i64,
    /// The limit that was asked for.
    pub limit: i64,
    /// The offset that was asked for.
    pub offset: i64,
    /// Whether rows exist after this page.
    pub has_next: bool,
}

impl<T> Page<T> {
    /// Builds a page and computes `has_next` from the total.
    pub fn new(items: Vec<T>, total: i64, request: PageRequest) -> Self {
        let has_next = request.offset.saturating_add(items.len() as i64) < total;
        Page {
            items,
            total,
            limit: request.limit,
            offset: request.offset,
            has_next,
        }
    }
}
