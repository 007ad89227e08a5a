//! Small builders shared by the cases.

#![allow(dead_code)]

use synthlab_db::model::{NewExperiment, Timestamp, parse_legacy};

/// A timestamp from legacy text (panics on a typo in a test).
pub fn ts(text: &str) -> Timestamp {
    parse_legacy(text).unwrap_or_else(|| panic!("bad test timestamp {text}"))
}

/// An experiment with a fixed id and creation time.
pub fn experiment(id: &str, name: &str, created_at: &str) -> NewExperiment {
    NewExperiment {
        id: id.to_owned(),
        name: name.to_owned(),
        hypothesis: format!("hypothesis of {name}"),
        description: None,
        scorecard_data: None,
        created_at: Some(ts(created_at)),
    }
}
