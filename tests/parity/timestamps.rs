//! Timestamps outside the years 1–9999 are refused as InvalidInput on both backends (SQLite
//! would write `+10000-…` text that neither `julianday` nor Python reads; PostgreSQL refuses
//! some of them); the edges of the range round trip.

use chrono::{TimeZone, Utc};
use synthlab_db::ErrorKind;
use synthlab_db::model::{ExecutionChanges, NewResearchExecution, NewSynth, NewSynthGroup, Timestamp};

use crate::support::experiment;

/// Out of range: year 10000, year 0 (1 BC), a negative year, chrono's extremes.
fn out_of_range() -> Vec<Timestamp> {
    vec![
        Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(0, 12, 31, 23, 59, 59).unwrap(),
        Utc.with_ymd_and_hms(-4713, 11, 24, 0, 0, 0).unwrap(),
        chrono::DateTime::<Utc>::MAX_UTC,
        chrono::DateTime::<Utc>::MIN_UTC,
    ]
}

parity!(timestamps_outside_years_1_to_9999_are_invalid_input, |db| {
    for (n, at) in out_of_range().into_iter().enumerate() {
        let mut new = experiment(&format!("exp_{n}"), "Out of range", "2025-01-01 00:00:00");
        new.created_at = Some(at);
        let err = db.experiments().create(&new).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{at:?}: {err}");

        let mut group = NewSynthGroup::new("Group");
        group.created_at = Some(at);
        let err = db.synth_groups().create(&group).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{at:?}: {err}");

        let mut synth = NewSynth::new("Ana");
        synth.created_at = Some(at);
        let err = db.synths().create(&synth).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{at:?}: {err}");

        let mut execution = NewResearchExecution::new("Topic", 1);
        execution.started_at = Some(at);
        let err = db.research().create_execution(&execution).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{at:?}: {err}");
    }
    assert!(db.experiments().get("exp_0").await?.is_none(), "nothing was written");

    let execution = db
        .research()
        .create_execution(&NewResearchExecution::new("Topic", 1))
        .await?;
    let changes = ExecutionChanges {
        completed_at: Some(Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap()),
        ..Default::default()
    };
    let err = db
        .research()
        .update_execution(&execution.exec_id, &changes)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    Ok(())
});

parity!(timestamps_at_the_edges_of_the_range_round_trip, |db| {
    let first = Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap();
    let last = Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap() + chrono::Duration::microseconds(999_999);
    for (id, at) in [("exp_first", first), ("exp_last", last)] {
        let mut new = experiment(id, "Edge", "2025-01-01 00:00:00");
        new.created_at = Some(at);
        db.experiments().create(&new).await?;
        let stored = db.experiments().get(id).await?.expect("stored");
        assert_eq!(stored.created_at, at);
    }
    Ok(())
});
