//! SynthGroupRepository parity cases.

use synthlab_db::ErrorKind;
use synthlab_db::model::{DEFAULT_SYNTH_GROUP_ID, NewSynth, NewSynthGroup, PageRequest, now};

use crate::support::ts;

fn group(id: &str, name: &str, created_at: &str) -> NewSynthGroup {
    NewSynthGroup {
        id: id.to_owned(),
        name: name.to_owned(),
        description: None,
        created_at: Some(ts(created_at)),
    }
}

fn synth_in(id: &str, group_id: &str, created_at: &str) -> NewSynth {
    NewSynth {
        id: id.to_owned(),
        synth_group_id: Some(group_id.to_owned()),
        nome: format!("Synth {id}"),
        descricao: None,
        link_photo: None,
        avatar_path: None,
        version: None,
        data: None,
        created_at: Some(ts(created_at)),
    }
}

parity!(synth_group_default_exists_and_ensure_default_keeps_it, |db| {
    let repo = db.synth_groups();
    let migrated = repo.get(DEFAULT_SYNTH_GROUP_ID).await?.expect("migration inserts it");
    assert_eq!(migrated.group.name, "Default");
    assert_eq!(migrated.group.created_at, ts("2025-01-01T00:00:00Z"));
    assert_eq!(migrated.synth_count, 0);
    let ensured = repo.ensure_default().await?;
    assert_eq!(
        ensured, migrated.group,
        "an existing default group is returned unchanged"
    );
    assert_eq!(repo.ensure_default().await?, migrated.group);
    assert_eq!(repo.list(PageRequest::first(10)?).await?.total, 1);
    Ok(())
});

parity!(synth_group_ensure_default_recreates_a_missing_default, |db| {
    db.raw(
        "DELETE FROM synth_groups WHERE id = 'grp_00000001';",
        "DELETE FROM synth_groups WHERE id = 'grp_00000001';",
    )
    .await?;
    let repo = db.synth_groups();
    assert!(repo.get(DEFAULT_SYNTH_GROUP_ID).await?.is_none());
    let before = now();
    let created = repo.ensure_default().await?;
    assert_eq!(
        (created.id.as_str(), created.name.as_str()),
        (DEFAULT_SYNTH_GROUP_ID, "Default")
    );
    assert!(created.created_at >= before);
    assert_eq!(repo.get(DEFAULT_SYNTH_GROUP_ID).await?.expect("back").group, created);
    assert_eq!(repo.ensure_default().await?, created, "idempotent");
    Ok(())
});

parity!(synth_group_create_get_counts_and_conflict, |db| {
    let repo = db.synth_groups();
    let mut new = group("grp_a", "Clientes — São Paulo", "2025-03-01T10:00:00.123456+00:00");
    new.description = Some("descrição".into());
    let created = repo.create(&new).await?;
    assert_eq!(created.id, "grp_a");
    assert_eq!(created.name, "Clientes — São Paulo");
    assert_eq!(created.description.as_deref(), Some("descrição"));
    assert_eq!(created.created_at, ts("2025-03-01T10:00:00.123456+00:00"));
    let synths = db.synths();
    synths
        .create(&synth_in("syn_1", "grp_a", "2025-03-02 00:00:00"))
        .await?;
    synths
        .create(&synth_in("syn_2", "grp_a", "2025-03-03 00:00:00"))
        .await?;
    synths
        .create(&synth_in("syn_3", DEFAULT_SYNTH_GROUP_ID, "2025-03-03 00:00:00"))
        .await?;
    let fetched = repo.get("grp_a").await?.expect("exists");
    assert_eq!(fetched.group, created);
    assert_eq!(fetched.synth_count, 2);
    assert_eq!(repo.get(DEFAULT_SYNTH_GROUP_ID).await?.expect("default").synth_count, 1);
    assert!(repo.get("grp_missing").await?.is_none());
    let err = repo
        .create(&group("grp_a", "Other", "2025-01-01 00:00:00"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    // A generated id works too.
    let generated = repo.create(&NewSynthGroup::new("Gerado")).await?;
    assert!(generated.id.starts_with("grp_"));
    Ok(())
});

parity!(synth_group_detail_lists_synths_newest_first, |db| {
    let repo = db.synth_groups();
    repo.create(&group("grp_a", "A", "2025-01-01 00:00:00")).await?;
    repo.create(&group("grp_empty", "Empty", "2025-01-01 00:00:00")).await?;
    let synths = db.synths();
    synths
        .create(&synth_in("syn_old", "grp_a", "2025-02-01 00:00:00"))
        .await?;
    synths
        .create(&synth_in("syn_b", "grp_a", "2025-02-03 00:00:00"))
        .await?;
    synths
        .create(&synth_in("syn_a", "grp_a", "2025-02-03 00:00:00"))
        .await?;
    synths
        .create(&synth_in("syn_other", DEFAULT_SYNTH_GROUP_ID, "2025-02-04 00:00:00"))
        .await?;
    // A legacy SQLite timestamp shape (space, no offset) must sort by instant, not text.
    db.raw(
        "INSERT INTO synths (id, synth_group_id, nome, created_at) VALUES ('syn_legacy', 'grp_a', 'L', '2025-02-02 12:00:00');",
        "INSERT INTO synths (id, synth_group_id, nome, created_at) VALUES ('syn_legacy', 'grp_a', 'L', '2025-02-02 12:00:00+00');",
    )
    .await?;
    let detail = repo.detail("grp_a").await?.expect("exists");
    assert_eq!(detail.group.name, "A");
    let ids: Vec<_> = detail.synths.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["syn_a", "syn_b", "syn_legacy", "syn_old"]);
    assert_eq!(detail.synths[2].created_at, ts("2025-02-02T12:00:00Z"));
    assert_eq!(detail.synths[0], synths.get("syn_a").await?.expect("exists"));
    let empty = repo.detail("grp_empty").await?.expect("exists");
    assert_eq!(empty.group.id, "grp_empty");
    assert!(empty.synths.is_empty());
    assert!(repo.detail("grp_missing").await?.is_none());
    Ok(())
});

parity!(synth_group_list_paginates_newest_first_with_counts, |db| {
    let repo = db.synth_groups();
    // The migrated default group (2025-01-01) takes part in the listing.
    repo.create(&group("grp_c", "C", "2025-05-01 00:00:00")).await?;
    repo.create(&group("grp_b", "B", "2025-05-01 00:00:00")).await?;
    repo.create(&group("grp_d", "D", "2025-04-01 00:00:00")).await?;
    repo.create(&group("grp_e", "E", "2024-12-31 23:59:59")).await?;
    let synths = db.synths();
    synths
        .create(&synth_in("syn_1", "grp_b", "2025-06-01 00:00:00"))
        .await?;
    synths
        .create(&synth_in("syn_2", "grp_b", "2025-06-01 00:00:00"))
        .await?;
    synths
        .create(&synth_in("syn_3", "grp_d", "2025-06-01 00:00:00"))
        .await?;
    let all = repo.list(PageRequest::first(10)?).await?;
    let ids: Vec<_> = all.items.iter().map(|g| g.group.id.as_str()).collect();
    assert_eq!(ids, ["grp_b", "grp_c", "grp_d", DEFAULT_SYNTH_GROUP_ID, "grp_e"]);
    let counts: Vec<_> = all.items.iter().map(|g| g.synth_count).collect();
    assert_eq!(counts, [2, 0, 1, 0, 0]);
    assert_eq!((all.total, all.has_next), (5, false));
    let first = repo.list(PageRequest::new(2, 0)?).await?;
    assert_eq!((first.items.len(), first.total, first.has_next), (2, 5, true));
    assert_eq!(first.items[1].group.id, "grp_c");
    let last = repo.list(PageRequest::new(2, 4)?).await?;
    assert_eq!((last.items.len(), last.total, last.has_next), (1, 5, false));
    assert_eq!(last.items[0].group.id, "grp_e");
    let past = repo.list(PageRequest::new(2, 99)?).await?;
    assert_eq!((past.items.len(), past.total, past.has_next), (0, 5, false));
    for (limit, offset) in [(0, 0), (201, 0), (10, -1)] {
        let err = repo.list(PageRequest { limit, offset }).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{limit}/{offset}");
    }
    Ok(())
});

parity!(synth_group_delete_default_is_invalid_input, |db| {
    let repo = db.synth_groups();
    let err = repo.delete(DEFAULT_SYNTH_GROUP_ID).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(repo.get(DEFAULT_SYNTH_GROUP_ID).await?.is_some());
    Ok(())
});

parity!(synth_group_delete_with_synths_is_foreign_key_not_cascade, |db| {
    let repo = db.synth_groups();
    repo.create(&group("grp_a", "A", "2025-01-01 00:00:00")).await?;
    let synths = db.synths();
    synths
        .create(&synth_in("syn_1", "grp_a", "2025-01-02 00:00:00"))
        .await?;
    synths
        .create(&synth_in("syn_2", "grp_a", "2025-01-03 00:00:00"))
        .await?;
    let err = repo.delete("grp_a").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignKey, "{err}");
    // Refused as a whole: the group and its synths are all still there.
    assert_eq!(repo.get("grp_a").await?.expect("kept").synth_count, 2);
    assert_eq!(
        synths.get("syn_1").await?.expect("kept").synth_group_id.as_deref(),
        Some("grp_a")
    );
    synths.delete("syn_1").await?;
    assert_eq!(repo.delete("grp_a").await.unwrap_err().kind(), ErrorKind::ForeignKey);
    synths.delete("syn_2").await?;
    assert!(repo.delete("grp_a").await?);
    assert!(repo.get("grp_a").await?.is_none());
    Ok(())
});

parity!(synth_group_delete_missing_returns_false, |db| {
    let repo = db.synth_groups();
    repo.create(&group("grp_a", "A", "2025-01-01 00:00:00")).await?;
    assert!(!repo.delete("grp_missing").await?);
    assert!(repo.delete("grp_a").await?);
    assert!(!repo.delete("grp_a").await?);
    Ok(())
});
