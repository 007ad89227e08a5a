//! The follower: installs capture, initialises the target once, then applies batch after
//! batch, each committed in PostgreSQL with its checkpoint.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::FutureExt;

use super::apply::{Stuck, apply, stuck_error};
use super::batch::{Batch, ExtraKey, Plans, Reach, read_batch};
use super::capture::text_key;
use super::metrics::{Counters, SyncCounters};
use super::state::{self, Advance, SyncState};
use super::{Source, SyncOptions, initial, now_unix, specs};
use crate::backend::sqlite::capture::CapturedTable;
use crate::copy::bad_row::{BadRow, QuarantineWriter};
use crate::copy::pg::{Target, quote};
use crate::copy::source::ScanOrder;
use crate::copy::{CopyObserver, OnError, plan_for};
use crate::{Error, ErrorKind, Result};

/// Records applied between two prunes at most (pruning also runs every few seconds).
const PRUNE_EVERY_CHANGES: i64 = 2000;
/// Records deleted per prune transaction at most.
const PRUNE_ROWS: i64 = 5000;
/// How long pruning waits for the legacy writer's lock before trying again later.
const PRUNE_LOCK_WAIT: Duration = Duration::from_millis(200);
/// Rounds of re-reading a batch before giving up.
const MAX_RETRIES: usize = 8;

/// Progress callbacks of the follower (the CLI draws a display or prints summary lines).
pub trait SyncObserver: CopyObserver {
    /// The initial copy committed.
    fn initial_done(&self, report: &super::InitialReport) {
        let _ = report;
    }
    /// A batch committed.
    fn batch(&self, report: &BatchReport, counters: &SyncCounters) {
        let _ = (report, counters);
    }
    /// Nothing pending at this poll.
    fn idle(&self, counters: &SyncCounters) {
        let _ = counters;
    }
}

impl SyncObserver for crate::copy::Silent {}

/// What [`Follower::start`] found and did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StartReport {
    /// Capture objects were created in the legacy file by this start.
    pub capture_created: bool,
    /// The legacy file's capture id.
    pub source_id: String,
    /// Migrations applied to the target.
    pub migrations: Vec<String>,
    /// The initial copy, when this start made it.
    pub initial: Option<super::InitialReport>,
}

/// One committed batch.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BatchReport {
    /// Records after this position…
    pub after: i64,
    /// …up to this one.
    pub upto: i64,
    /// Records applied.
    pub records: u64,
    /// Rows inserted or updated.
    pub upserted: u64,
    /// Rows deleted.
    pub deleted: u64,
    /// Bad rows quarantined.
    pub quarantined: u64,
    /// Times the batch was read again up to the newest record.
    pub snapshot_retries: u32,
    /// Wall time.
    pub seconds: f64,
}

/// The in-process follower (see the module doc of [`crate::sync`]).
pub struct Follower {
    options: SyncOptions,
    source: Source,
    plans: Arc<Plans>,
    target: Target,
    state: SyncState,
    quarantine: Option<QuarantineWriter>,
    counters: Arc<Counters>,
    pruned_at: i64,
    last_prune: Instant,
    pruning: Option<tokio::task::JoinHandle<()>>,
}

/// A handle on a follower's counters, readable while it runs.
#[derive(Clone)]
pub struct CountersHandle(Arc<Counters>);

impl CountersHandle {
    /// The current figures.
    pub fn snapshot(&self) -> SyncCounters {
        self.0.snapshot()
    }
}

pub(crate) fn abort_error(row: &BadRow, after: i64) -> Error {
    Error::new(
        ErrorKind::Check,
        format!(
            "bad row in {} ({}), column {}: {}; nothing after position {after} was applied \
             (fix the row in the legacy file, or run with --on-error quarantine)",
            row.table,
            row.key_text(),
            row.column,
            row.reason
        ),
    )
}

/// Installs what is missing of capture on the given tables of the file.
pub(crate) async fn install_on(
    source: &Source,
    tables: Vec<&'static str>,
    lock_wait: Duration,
) -> Result<(super::CaptureInfo, bool)> {
    source
        .capture(move |c| {
            let captured: Vec<CapturedTable<'_>> = specs()
                .iter()
                .filter(|s| tables.contains(&s.name))
                .map(|s| CapturedTable {
                    name: s.name,
                    key: s.key,
                })
                .collect();
            c.install(&captured, lock_wait)
        })
        .await
}

impl Follower {
    /// Opens the legacy file, installs capture where missing, connects and migrates the target,
    /// and makes the initial copy when the target has no sync state yet.
    ///
    /// # Errors
    /// NotFound for a missing file; InvalidInput for a file without legacy tables; Conflict
    /// when the target follows another file or holds rows without sync state (unless
    /// `force`); Check when a bad row stops the initial copy (abort mode); Unavailable when
    /// the target cannot be reached or the legacy file stays locked.
    pub async fn start(options: SyncOptions, observer: &dyn SyncObserver) -> Result<(Follower, StartReport)> {
        let source = Source::open(&options.source).await?;
        let layout = source
            .read(|s| {
                let mut layout = HashMap::new();
                for spec in specs() {
                    if let Some(table) = s.table(spec.name)? {
                        layout.insert(spec.name, table.columns);
                    }
                }
                Ok(layout)
            })
            .await?;
        if layout.is_empty() {
            return Err(Error::invalid_input(format!(
                "{} has none of the legacy tables: is it a SynthLab file?",
                options.source.display()
            )));
        }
        let present: HashSet<String> = layout.keys().map(|t| (*t).to_owned()).collect();
        let plans = Plans {
            plans: specs()
                .iter()
                .map(|spec| {
                    layout
                        .get(spec.name)
                        .map(|columns| plan_for(spec, columns, &present, ScanOrder::Natural))
                })
                .collect(),
        };
        for plan in plans.plans.iter().flatten() {
            if let Some(err) = crate::copy::read::missing_required(plan.spec, plan) {
                return Err(err);
            }
        }
        let lock_wait = options.lock_wait;
        let (info, capture_created) = install_on(&source, layout.keys().copied().collect(), lock_wait).await?;
        let mut target = Target::connect(&options.target).await?;
        let migrations = target.prepare_schema(true).await?.iter().map(|m| m.label()).collect();
        let existing = state::read(&target).await?;
        let needs_initial = match &existing {
            None => true,
            Some(state) if options.force => {
                tracing::warn!(
                    followed = %state.source_path,
                    "--force: emptying the target and starting over from {}",
                    options.source.display()
                );
                let old = state.target_id.clone();
                source.capture(move |c| c.forget_follower(&old, lock_wait)).await?;
                true
            }
            Some(state) if state.source_id == info.source_id => false,
            Some(state) => {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    format!(
                        "the target follows another legacy file ({}, capture id {}), not {} (capture id {}): \
                         refusing to mix them; --force empties the target's tables ({}) and starts over from this file",
                        state.source_path,
                        state.source_id,
                        options.source.display(),
                        info.source_id,
                        specs().iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        };
        let plans = Arc::new(plans);
        let mut initial_report = None;
        if needs_initial {
            let report =
                initial::initial_copy(&options, &source, &plans, &mut target, &info.source_id, observer).await?;
            observer.initial_done(&report);
            initial_report = Some(report);
        }
        let state = state::read(&target)
            .await?
            .ok_or_else(|| Error::other("the target has no sync state after the initial copy"))?;
        let counters = Arc::new(Counters::new());
        counters.positions(info.max_seq.max(state.applied), state.applied, 0.0);
        let follower = Follower {
            pruned_at: state.applied,
            state,
            options,
            source,
            plans,
            target,
            quarantine: None,
            counters,
            last_prune: Instant::now(),
            pruning: None,
        };
        Ok((
            follower,
            StartReport {
                capture_created,
                source_id: info.source_id,
                migrations,
                initial: initial_report,
            },
        ))
    }

    /// The follower's figures.
    pub fn counters(&self) -> SyncCounters {
        self.counters.snapshot()
    }

    /// A handle to read the counters while [`Follower::follow`] runs.
    pub fn counters_handle(&self) -> CountersHandle {
        CountersHandle(self.counters.clone())
    }

    /// The checkpoint as this follower last committed or read it.
    pub fn state(&self) -> &SyncState {
        &self.state
    }

    async fn read(&self, reach: Reach, extra: Vec<ExtraKey>) -> Result<Batch> {
        let plans = self.plans.clone();
        let applied = self.state.applied;
        self.source
            .read(move |s| read_batch(s, &plans, applied, reach, &extra))
            .await
    }

    /// Rows of a stuck batch whose parent is neither in the target nor in the batch: their
    /// parent was a bad row, so they are bad too (as `copy` says).
    async fn orphans_of_bad_rows(&self, batch: &Batch, stuck: &Stuck) -> Result<Vec<ExtraKey>> {
        let mut out = Vec::new();
        for (t, row) in &stuck.rows {
            let spec = &specs()[*t];
            for (fk, value) in spec.foreign_keys.iter().zip(&row.parents) {
                let Some(value) = value else { continue };
                let Some(parent) = specs().iter().position(|s| s.name == fk.parent) else {
                    continue;
                };
                let in_batch = batch.tables[parent]
                    .upserts
                    .iter()
                    .any(|r| r.key.len() == 1 && r.key[0] == *value);
                if in_batch {
                    continue;
                }
                let exists: bool = self
                    .target
                    .client
                    .query_one(
                        &format!(
                            "SELECT EXISTS (SELECT 1 FROM {} WHERE {} = $1)",
                            quote(fk.parent),
                            quote(fk.parent_column)
                        ),
                        &[value],
                    )
                    .await?
                    .try_get(0)?;
                if !exists {
                    out.push(ExtraKey {
                        table: *t,
                        key: text_key(&row.key),
                        bad_reason: Some((
                            fk.column.to_owned(),
                            format!("orphan: its parent {} row '{value}' is a bad row", fk.parent),
                        )),
                    });
                    break;
                }
            }
        }
        Ok(out)
    }

    fn write_bad_rows(&mut self, batch: &Batch) -> Result<()> {
        if batch.bad.is_empty() {
            return Ok(());
        }
        if self.options.on_error == OnError::Abort {
            return Err(abort_error(&batch.bad[0], self.state.applied));
        }
        if self.quarantine.is_none() {
            self.quarantine = Some(QuarantineWriter::open(&self.options.quarantine_path())?);
        }
        if let Some(writer) = self.quarantine.as_mut() {
            for row in &batch.bad {
                writer.write(row)?;
            }
            writer.flush()?;
        }
        Ok(())
    }

    /// Applies one batch (at most `batch_changes` records). Returns None when nothing was
    /// pending.
    ///
    /// # Errors
    /// Check when a bad row arrives in abort mode (nothing of the batch is applied); Conflict
    /// or ForeignKey when PostgreSQL refuses the batch in every order; Unavailable when a
    /// connection is lost (nothing of the batch is committed; run again).
    pub async fn step(&mut self) -> Result<Option<BatchReport>> {
        let started = Instant::now();
        let mut reach = Reach::Cut(self.options.batch_changes.max(1));
        let mut extra: Vec<ExtraKey> = Vec::new();
        let mut retries = 0u32;
        loop {
            let batch = self.read(reach, extra.clone()).await?;
            if batch.upto <= batch.after && extra.is_empty() {
                self.counters.positions(batch.captured, self.state.applied, 0.0);
                return Ok(None);
            }
            if self.options.on_error == OnError::Abort
                && let Some(row) = batch.bad.first()
            {
                return Err(abort_error(row, self.state.applied));
            }
            let read_ms = started.elapsed().as_secs_f64() * 1e3;
            let outcome = self.apply_locked(&batch).await;
            tracing::debug!(
                after = batch.after,
                upto = batch.upto,
                records = batch.records,
                read_ms,
                apply_ms = started.elapsed().as_secs_f64() * 1e3 - read_ms,
                "sync batch"
            );
            let stuck = match outcome {
                Ok(Ok(Some(advance))) => {
                    let lag = batch.next_captured_at.map_or(0.0, |at| (now_unix() - at).max(0.0));
                    self.counters.positions(batch.captured, advance.applied, lag);
                    self.counters.batch(
                        advance.changes,
                        advance.upserted,
                        advance.deleted,
                        advance.quarantined,
                        now_unix(),
                    );
                    self.maybe_prune().await;
                    return Ok(Some(BatchReport {
                        after: batch.after,
                        upto: batch.upto,
                        records: batch.records,
                        upserted: advance.upserted,
                        deleted: advance.deleted,
                        quarantined: advance.quarantined,
                        snapshot_retries: retries,
                        seconds: started.elapsed().as_secs_f64(),
                    }));
                }
                Ok(Ok(None)) => {
                    // Another follower moved the checkpoint: continue from there.
                    let _ = self.target.exec("ROLLBACK").await;
                    if let Some(state) = state::read(&self.target).await? {
                        self.state = state;
                    }
                    extra.clear();
                    continue;
                }
                Ok(Err(stuck)) => {
                    let _ = self.target.exec("ROLLBACK").await;
                    stuck
                }
                Err(err) => {
                    let _ = self.target.exec("ROLLBACK").await;
                    return Err(err);
                }
            };
            retries += 1;
            self.counters.snapshot_retry();
            if retries as usize > MAX_RETRIES {
                return Err(stuck_error(stuck));
            }
            if reach != Reach::Full {
                reach = Reach::Full;
                continue;
            }
            let orphans = self.orphans_of_bad_rows(&batch, &stuck).await?;
            if orphans.is_empty() {
                return Err(stuck_error(stuck));
            }
            extra.extend(orphans);
        }
    }

    /// Inside BEGIN: lock the checkpoint, apply, advance, commit. `Ok(Ok(None))`: another
    /// follower moved the checkpoint first.
    async fn apply_locked(&mut self, batch: &Batch) -> Result<std::result::Result<Option<Advance>, Stuck>> {
        // Pipelined: both requests leave at once, BEGIN first (a simple query, sent on the first
        // poll), then the lock's statement (one round trip less).
        let (begun, locked) = tokio::join!(self.target.exec("BEGIN"), state::lock(&self.target));
        begun?;
        let Some(current) = locked? else {
            return Err(Error::other("the target's sync state disappeared"));
        };
        if current.applied != self.state.applied || current.source_id != self.state.source_id {
            return Ok(Ok(None));
        }
        let applied = match apply(&self.target, batch).await? {
            Ok(applied) => applied,
            Err(stuck) => return Ok(Err(stuck)),
        };
        self.write_bad_rows(batch)?;
        let advance = Advance {
            applied: batch.upto,
            changes: batch.records,
            upserted: applied.upserted,
            deleted: applied.deleted,
            quarantined: batch.bad.len() as u64,
        };
        let commit_started = Instant::now();
        state::advance_and_commit(&self.target, advance).await?;
        tracing::trace!(
            ms = commit_started.elapsed().as_secs_f64() * 1e3,
            "sync checkpoint and commit"
        );
        self.state.applied = batch.upto;
        self.state.applied_at = now_unix();
        self.state.applied_changes += advance.changes as i64;
        Ok(Ok(Some(advance)))
    }

    /// Deletes applied records from the change table now and then (short transactions; a
    /// busy legacy writer only postpones it).
    async fn maybe_prune(&mut self) {
        if self.state.applied - self.pruned_at < PRUNE_EVERY_CHANGES
            && self.last_prune.elapsed() < Duration::from_secs(5)
        {
            return;
        }
        self.prune().await;
    }

    /// Records this follower's position in the legacy file and prunes what every follower
    /// applied (skipped when nothing was applied since the last time, or while the previous
    /// prune still waits for the legacy writer's lock). Runs beside the follower: the next
    /// batch does not wait for it.
    async fn prune(&mut self) {
        let applied = self.state.applied;
        if applied == self.pruned_at || self.pruning.as_ref().is_some_and(|p| !p.is_finished()) {
            return;
        }
        self.last_prune = Instant::now();
        self.pruned_at = applied;
        let target_id = self.state.target_id.clone();
        let source = self.source.clone();
        let counters = self.counters.clone();
        self.pruning = Some(tokio::spawn(async move {
            match source
                .capture(move |c| c.record_and_prune(&target_id, applied, PRUNE_ROWS, PRUNE_LOCK_WAIT))
                .await
            {
                Ok(n) => counters.pruned(n),
                Err(err) => tracing::debug!(error = %err, "pruning postponed"),
            }
        }));
    }

    /// Waits for a prune in flight (so a short-lived `sync` records its position before exit).
    async fn settle(&mut self) {
        if let Some(pruning) = self.pruning.take() {
            let _ = pruning.await;
        }
    }

    /// Applies batches until nothing is pending.
    ///
    /// # Errors
    /// As [`Follower::step`].
    pub async fn catch_up(&mut self, observer: &dyn SyncObserver) -> Result<()> {
        while let Some(report) = self.step().await? {
            observer.batch(&report, &self.counters.snapshot());
        }
        self.settle().await;
        self.prune().await;
        self.settle().await;
        observer.idle(&self.counters.snapshot());
        Ok(())
    }

    /// Applies batches and polls (every `poll` when caught up) until `stop` completes; the
    /// batch in hand is always finished first.
    ///
    /// # Errors
    /// As [`Follower::step`].
    pub async fn follow(&mut self, stop: impl Future<Output = ()>, observer: &dyn SyncObserver) -> Result<()> {
        futures_util::pin_mut!(stop);
        loop {
            if (&mut stop).now_or_never().is_some() {
                self.settle().await;
                return Ok(());
            }
            match self.step().await? {
                Some(report) => observer.batch(&report, &self.counters.snapshot()),
                None => {
                    if self.last_prune.elapsed() >= Duration::from_secs(1) {
                        self.prune().await;
                    }
                    observer.idle(&self.counters.snapshot());
                    tokio::select! {
                        () = &mut stop => {
                            self.settle().await;
                            return Ok(());
                        }
                        () = tokio::time::sleep(self.options.poll) => {}
                    }
                }
            }
        }
    }
}
