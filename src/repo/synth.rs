//! [`SynthRepository`]: synthetic personas, with a structured search.

use async_trait::async_trait;

use crate::Result;
use crate::model::{NewSynth, Page, PageRequest, Synth, SynthSearch, SynthSort};

/// Synths (`synths`).
#[super::repository]
#[async_trait]
pub trait SynthRepository: Send + Sync {
    /// Creates a synth (`version` `2.0.0` when not given, like the column default).
    ///
    /// # Errors
    /// Conflict when the id exists; ForeignKey when the group does not exist.
    #[write]
    async fn create(&self, new: &NewSynth) -> Result<Synth>;

    /// The synth with this id, or `None`.
    #[read]
    async fn get(&self, id: &str) -> Result<Option<Synth>>;

    /// All synths in the given order (ties by id ascending).
    ///
    /// # Errors
    /// InvalidInput for a bad page.
    #[read]
    async fn list(&self, sort: SynthSort, page: PageRequest) -> Result<Page<Synth>> {
        let search = SynthSearch {
            sort,
            ..SynthSearch::default()
        };
        self.search(&search, page).await
    }

    /// The synths of a group, newest first (ties by id ascending).
    ///
    /// # Errors
    /// InvalidInput for a bad page.
    #[read]
    async fn list_by_group(&self, group_id: &str, page: PageRequest) -> Result<Page<Synth>> {
        let search = SynthSearch {
            group_id: Some(group_id.to_owned()),
            ..SynthSearch::default()
        };
        self.search(&search, page).await
    }

    /// Synths matching every criterion of `search` (replaces the legacy raw `where_clause`),
    /// in `search.sort` order. Data filters: `Eq` compares JSON values of the same type
    /// (numbers as double precision, so 30 equals 30.0 but not "30"); ranges match numbers
    /// only (a string, boolean, null or missing value never matches).
    ///
    /// # Errors
    /// InvalidInput for a bad page or filter; caller text never reaches SQL.
    #[read]
    async fn search(&self, search: &SynthSearch, page: PageRequest) -> Result<Page<Synth>>;

    /// Deletes a synth; returns whether it existed.
    #[write]
    async fn delete(&self, id: &str) -> Result<bool>;
}
