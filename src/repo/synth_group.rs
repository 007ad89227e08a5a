//! [`SynthGroupRepository`]: named groups of synths.

use async_trait::async_trait;

use crate::Result;
use crate::model::{NewSynthGroup, Page, PageRequest, SynthGroup, SynthGroupDetail, SynthGroupWithCount};

/// Synth groups (`synth_groups`). The default group `grp_00000001` always exists.
#[super::repository]
#[async_trait]
pub trait SynthGroupRepository: Send + Sync {
    /// Creates the default group (`grp_00000001`, "Default", created now) if it is missing
    /// and returns it.
    #[write]
    async fn ensure_default(&self) -> Result<SynthGroup>;

    /// Creates a group.
    ///
    /// # Errors
    /// Conflict when the id exists.
    #[write]
    async fn create(&self, new: &NewSynthGroup) -> Result<SynthGroup>;

    /// The group with the number of its synths, or `None`.
    #[read]
    async fn get(&self, id: &str) -> Result<Option<SynthGroupWithCount>>;

    /// The group with its synths (newest first, ties by id ascending), or `None`.
    #[read]
    async fn detail(&self, id: &str) -> Result<Option<SynthGroupDetail>>;

    /// Groups with synth counts, newest first (ties by id ascending).
    ///
    /// # Errors
    /// InvalidInput for a bad page.
    #[read]
    async fn list(&self, page: PageRequest) -> Result<Page<SynthGroupWithCount>>;

    /// Deletes a group; returns whether it existed.
    ///
    /// # Errors
    /// InvalidInput for the default group; ForeignKey while synths still belong to it.
    #[write]
    async fn delete(&self, id: &str) -> Result<bool>;
}
