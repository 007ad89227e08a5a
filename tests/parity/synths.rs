//! SynthRepository parity cases.

use serde_json::{Value, json};
use synthlab_db::ErrorKind;
use synthlab_db::model::{
    DEFAULT_SYNTH_GROUP_ID, DataCondition, DataFilter, JsonPath, NewSynth, NewSynthGroup, Page, PageRequest,
    SortDirection, Synth, SynthSearch, SynthSort, SynthSortColumn,
};

use crate::harness::TestDb;
use crate::support::ts;

fn synth(id: &str, nome: &str, created_at: &str) -> NewSynth {
    NewSynth {
        id: id.to_owned(),
        synth_group_id: Some(DEFAULT_SYNTH_GROUP_ID.to_owned()),
        nome: nome.to_owned(),
        descricao: None,
        link_photo: None,
        avatar_path: None,
        version: None,
        data: None,
        created_at: Some(ts(created_at)),
    }
}

fn with_data(id: &str, data: Value) -> NewSynth {
    NewSynth {
        data: Some(data),
        ..synth(id, id, "2025-01-01 00:00:00")
    }
}

fn ids(page: &Page<Synth>) -> Vec<&str> {
    page.items.iter().map(|s| s.id.as_str()).collect()
}

fn sort(column: SynthSortColumn, direction: SortDirection) -> SynthSort {
    SynthSort { column, direction }
}

fn filter(path: &str, condition: DataCondition) -> DataFilter {
    DataFilter {
        path: JsonPath::parse(path).expect("valid test path"),
        condition,
    }
}

/// Ids of the synths matching `filters` (ids ascending).
async fn matching(db: &TestDb, filters: Vec<DataFilter>) -> anyhow::Result<Vec<String>> {
    let search = SynthSearch {
        data: filters,
        sort: sort(SynthSortColumn::Id, SortDirection::Asc),
        ..Default::default()
    };
    let page = db.synths().search(&search, PageRequest::first(200)?).await?;
    Ok(page.items.into_iter().map(|s| s.id).collect())
}

/// Ids (ascending, comma-separated) of the synths whose name contains `needle`.
async fn name_matches(db: &TestDb, needle: String) -> anyhow::Result<String> {
    let search = SynthSearch {
        name_contains: Some(needle),
        sort: sort(SynthSortColumn::Id, SortDirection::Asc),
        ..Default::default()
    };
    Ok(ids(&db.synths().search(&search, PageRequest::first(50)?).await?).join(","))
}

async fn create_group(db: &TestDb, id: &str) -> anyhow::Result<()> {
    db.synth_groups()
        .create(&NewSynthGroup {
            id: id.to_owned(),
            name: id.to_owned(),
            description: None,
            created_at: Some(ts("2025-01-01 00:00:00")),
        })
        .await?;
    Ok(())
}

parity!(synth_create_then_get_round_trips, |db| {
    let mut new = synth("syn_1", "Maria Conceição", "2025-12-01T10:00:00.123456+00:00");
    new.descricao = Some("Persona: 🚀 early adopter".into());
    new.link_photo = Some("https://example.com/p.png".into());
    new.avatar_path = Some("avatars/syn_1.png".into());
    new.version = Some("3.1.0".into());
    new.data = Some(json!({
        "demografia": {"idade": 34, "renda": 1.5, "cidade": "São Paulo"},
        "big": 9007199254740993_i64,
        "tiny": -0.0001,
        "tags": ["a", null, true],
        "z": {}, "a": []
    }));
    let created = db.synths().create(&new).await?;
    let fetched = db.synths().get("syn_1").await?.expect("exists");
    assert_eq!(created, fetched);
    assert_eq!(fetched.nome, "Maria Conceição");
    assert_eq!(fetched.version.as_deref(), Some("3.1.0"));
    assert_eq!(fetched.data, new.data);
    assert_eq!(fetched.created_at, ts("2025-12-01T10:00:00.123456+00:00"));
    assert_eq!(fetched.synth_group_id.as_deref(), Some(DEFAULT_SYNTH_GROUP_ID));
    assert!(db.synths().get("syn_missing").await?.is_none());
    Ok(())
});

parity!(synth_create_defaults_version_and_allows_no_group, |db| {
    let mut new = synth("syn_1", "Sem grupo", "2025-01-01 00:00:00");
    new.synth_group_id = None;
    let created = db.synths().create(&new).await?;
    assert_eq!(created.version.as_deref(), Some("2.0.0"), "like the column default");
    assert_eq!(created.synth_group_id, None);
    assert_eq!(created.data, None);
    assert_eq!(db.synths().get("syn_1").await?.expect("exists"), created);
    let generated = db.synths().create(&NewSynth::new("Gerado")).await?;
    assert!(generated.id.starts_with("synth_"));
    assert_eq!(generated.synth_group_id.as_deref(), Some(DEFAULT_SYNTH_GROUP_ID));
    Ok(())
});

parity!(synth_create_duplicate_id_is_conflict, |db| {
    db.synths().create(&synth("syn_1", "A", "2025-01-01 00:00:00")).await?;
    let err = db
        .synths()
        .create(&synth("syn_1", "B", "2025-01-02 00:00:00"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert_eq!(db.synths().get("syn_1").await?.expect("kept").nome, "A");
    Ok(())
});

parity!(synth_create_in_missing_group_is_foreign_key, |db| {
    let mut new = synth("syn_1", "A", "2025-01-01 00:00:00");
    new.synth_group_id = Some("grp_missing".into());
    let err = db.synths().create(&new).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignKey, "{err}");
    assert!(db.synths().get("syn_1").await?.is_none());
    Ok(())
});

/// Five synths with ties, NULLs and non-ASCII text in the sortable columns.
async fn sort_fixture(db: &TestDb) -> anyhow::Result<()> {
    create_group(db, "grp_b").await?;
    let repo = db.synths();
    let mut s1 = synth("syn_1", "Bruno", "2025-01-03 00:00:00");
    s1.version = Some("1.0".into());
    let mut s2 = synth("syn_2", "ana", "2025-01-01 00:00:00");
    s2.descricao = Some("z".into());
    s2.synth_group_id = Some("grp_b".into());
    let mut s3 = synth("syn_3", "Ávila", "2025-01-02 00:00:00");
    s3.descricao = Some("A".into());
    s3.version = Some("10.0".into());
    s3.synth_group_id = None;
    let mut s4 = synth("syn_4", "Bruno", "2025-01-02 00:00:00");
    s4.synth_group_id = Some("grp_b".into());
    let mut s5 = synth("syn_5", "carla", "2025-01-03 00:00:00");
    s5.descricao = Some("b".into());
    for new in [s1, s2, s3, s4, s5] {
        repo.create(&new).await?;
    }
    db.raw(
        "UPDATE synths SET version = NULL WHERE id IN ('syn_2', 'syn_5');",
        "UPDATE synths SET version = NULL WHERE id IN ('syn_2', 'syn_5');",
    )
    .await?;
    Ok(())
}

parity!(synth_list_sorts_by_every_whitelisted_column, |db| {
    use SortDirection::{Asc, Desc};
    use SynthSortColumn::*;
    sort_fixture(db).await?;
    let expected: [(SynthSortColumn, SortDirection, [&str; 5]); 12] = [
        (CreatedAt, Asc, ["syn_2", "syn_3", "syn_4", "syn_1", "syn_5"]),
        (CreatedAt, Desc, ["syn_1", "syn_5", "syn_3", "syn_4", "syn_2"]),
        (Nome, Asc, ["syn_1", "syn_4", "syn_2", "syn_5", "syn_3"]),
        (Nome, Desc, ["syn_3", "syn_5", "syn_2", "syn_1", "syn_4"]),
        (Id, Asc, ["syn_1", "syn_2", "syn_3", "syn_4", "syn_5"]),
        (Id, Desc, ["syn_5", "syn_4", "syn_3", "syn_2", "syn_1"]),
        (Version, Asc, ["syn_2", "syn_5", "syn_1", "syn_3", "syn_4"]),
        (Version, Desc, ["syn_4", "syn_3", "syn_1", "syn_2", "syn_5"]),
        (GroupId, Asc, ["syn_3", "syn_1", "syn_5", "syn_2", "syn_4"]),
        (GroupId, Desc, ["syn_2", "syn_4", "syn_1", "syn_5", "syn_3"]),
        (Descricao, Asc, ["syn_1", "syn_4", "syn_3", "syn_5", "syn_2"]),
        (Descricao, Desc, ["syn_2", "syn_5", "syn_3", "syn_1", "syn_4"]),
    ];
    assert_eq!(
        expected.len(),
        SynthSortColumn::ALL.len() * 2,
        "every column, both directions"
    );
    for (column, direction, want) in expected {
        let page = db
            .synths()
            .list(sort(column, direction), PageRequest::first(10)?)
            .await?;
        assert_eq!(ids(&page), want, "{column} {direction}");
        assert_eq!(page.total, 5);
    }
    // The default sort is newest first.
    let default = db.synths().list(SynthSort::default(), PageRequest::first(10)?).await?;
    assert_eq!(ids(&default), ["syn_1", "syn_5", "syn_3", "syn_4", "syn_2"]);
    Ok(())
});

parity!(synth_list_nulls_first_ascending_last_descending, |db| {
    let repo = db.synths();
    for (id, version, descricao) in [
        ("syn_a", Some("2.0.0"), None),
        ("syn_b", None, Some("x")),
        ("syn_c", Some("1.0.0"), Some("y")),
        ("syn_d", None, None),
    ] {
        let mut new = synth(id, id, "2025-01-01 00:00:00");
        new.version = version.map(str::to_owned);
        new.descricao = descricao.map(str::to_owned);
        repo.create(&new).await?;
    }
    db.raw(
        "UPDATE synths SET version = NULL WHERE id IN ('syn_b', 'syn_d');",
        "UPDATE synths SET version = NULL WHERE id IN ('syn_b', 'syn_d');",
    )
    .await?;
    let page = PageRequest::first(10)?;
    let list = |column, direction| repo.list(sort(column, direction), page);
    let version_asc = list(SynthSortColumn::Version, SortDirection::Asc).await?;
    assert_eq!(ids(&version_asc), ["syn_b", "syn_d", "syn_c", "syn_a"]);
    assert_eq!(version_asc.items[0].version, None);
    let version_desc = list(SynthSortColumn::Version, SortDirection::Desc).await?;
    assert_eq!(ids(&version_desc), ["syn_a", "syn_c", "syn_b", "syn_d"]);
    let descricao_asc = list(SynthSortColumn::Descricao, SortDirection::Asc).await?;
    assert_eq!(ids(&descricao_asc), ["syn_a", "syn_d", "syn_b", "syn_c"]);
    let descricao_desc = list(SynthSortColumn::Descricao, SortDirection::Desc).await?;
    assert_eq!(ids(&descricao_desc), ["syn_c", "syn_b", "syn_a", "syn_d"]);
    Ok(())
});

parity!(synth_list_orders_names_by_bytes, |db| {
    let repo = db.synths();
    for (id, nome) in [
        ("syn_1", "é"),
        ("syn_2", "ana"),
        ("syn_3", "B"),
        ("syn_4", "Zoe"),
        ("syn_5", "a"),
        ("syn_6", "Émile"),
    ] {
        repo.create(&synth(id, nome, "2025-01-01 00:00:00")).await?;
    }
    let page = PageRequest::first(10)?;
    let asc = repo.list(sort(SynthSortColumn::Nome, SortDirection::Asc), page).await?;
    let names: Vec<_> = asc.items.iter().map(|s| s.nome.as_str()).collect();
    // Byte order (SQLite BINARY, PostgreSQL "C"), not the ICU en-US order of the test database.
    assert_eq!(names, ["B", "Zoe", "a", "ana", "Émile", "é"]);
    let desc = repo
        .list(sort(SynthSortColumn::Nome, SortDirection::Desc), page)
        .await?;
    let names: Vec<_> = desc.items.iter().map(|s| s.nome.as_str()).collect();
    assert_eq!(names, ["é", "Émile", "ana", "a", "Zoe", "B"]);
    Ok(())
});

parity!(synth_list_paginates_with_total_and_has_next, |db| {
    let repo = db.synths();
    for i in 0..5 {
        repo.create(&synth(
            &format!("syn_{i}"),
            "S",
            &format!("2025-01-0{} 00:00:00", i + 1),
        ))
        .await?;
    }
    let by_id = sort(SynthSortColumn::Id, SortDirection::Asc);
    let first = repo.list(by_id, PageRequest::new(2, 0)?).await?;
    assert_eq!(ids(&first), ["syn_0", "syn_1"]);
    assert_eq!(
        (first.total, first.has_next, first.limit, first.offset),
        (5, true, 2, 0)
    );
    let middle = repo.list(by_id, PageRequest::new(2, 2)?).await?;
    assert_eq!(ids(&middle), ["syn_2", "syn_3"]);
    assert!(middle.has_next);
    let last = repo.list(by_id, PageRequest::new(2, 4)?).await?;
    assert_eq!((ids(&last), last.total, last.has_next), (vec!["syn_4"], 5, false));
    let past = repo.list(by_id, PageRequest::new(2, 50)?).await?;
    assert_eq!((past.items.len(), past.total, past.has_next), (0, 5, false));
    for (limit, offset) in [(0, 0), (201, 0), (-1, 0), (10, -1)] {
        let bad = PageRequest { limit, offset };
        assert_eq!(repo.list(by_id, bad).await.unwrap_err().kind(), ErrorKind::InvalidInput);
        assert_eq!(
            repo.search(&SynthSearch::default(), bad).await.unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            repo.list_by_group(DEFAULT_SYNTH_GROUP_ID, bad)
                .await
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidInput
        );
    }
    Ok(())
});

parity!(synth_list_by_group_newest_first_mixed_timestamp_shapes, |db| {
    create_group(db, "grp_b").await?;
    let repo = db.synths();
    repo.create(&synth("syn_x", "X", "2025-06-01T10:00:00Z")).await?;
    let mut tie_b = synth("syn_tie_b", "T", "2025-06-01T09:00:00Z");
    tie_b.synth_group_id = Some("grp_b".into());
    repo.create(&tie_b).await?;
    let mut tie_a = synth("syn_tie_a", "T", "2025-06-01T09:00:00Z");
    tie_a.synth_group_id = Some("grp_b".into());
    repo.create(&tie_a).await?;
    // Legacy SQLite shapes: text order would put "2025-06-01 12:00:00" before "…T09…".
    db.raw(
        "INSERT INTO synths (id, synth_group_id, nome, created_at) VALUES
           ('syn_space', 'grp_b', 'S', '2025-06-01 12:00:00'),
           ('syn_offset', 'grp_b', 'O', '2025-06-01T13:00:00+02:00');",
        "INSERT INTO synths (id, synth_group_id, nome, created_at) VALUES
           ('syn_space', 'grp_b', 'S', '2025-06-01 12:00:00+00'),
           ('syn_offset', 'grp_b', 'O', '2025-06-01T11:00:00+00');",
    )
    .await?;
    let page = repo.list_by_group("grp_b", PageRequest::first(10)?).await?;
    assert_eq!(ids(&page), ["syn_space", "syn_offset", "syn_tie_a", "syn_tie_b"]);
    assert_eq!(page.total, 4);
    assert_eq!(page.items[1].created_at, ts("2025-06-01T11:00:00Z"));
    let second = repo.list_by_group("grp_b", PageRequest::new(3, 3)?).await?;
    assert_eq!(
        (ids(&second), second.total, second.has_next),
        (vec!["syn_tie_b"], 4, false)
    );
    let other = repo.list_by_group("grp_missing", PageRequest::first(10)?).await?;
    assert_eq!((other.items.len(), other.total), (0, 0));
    // Sorting the whole table by created_at uses the instant as well.
    let all = repo
        .list(
            sort(SynthSortColumn::CreatedAt, SortDirection::Asc),
            PageRequest::first(10)?,
        )
        .await?;
    assert_eq!(
        ids(&all),
        ["syn_tie_a", "syn_tie_b", "syn_x", "syn_offset", "syn_space"]
    );
    Ok(())
});

parity!(synth_search_name_is_ascii_case_insensitive_and_literal, |db| {
    let repo = db.synths();
    for (id, nome) in [
        ("syn_1", "JOÃO Silva"),
        ("syn_2", "joão silva"),
        ("syn_3", "Joana"),
        ("syn_4", "100% real"),
        ("syn_5", "a_b"),
        ("syn_6", "axb"),
        ("syn_7", "ÉLISE"),
    ] {
        repo.create(&synth(id, nome, "2025-01-01 00:00:00")).await?;
    }
    let find = |needle: &str| name_matches(db, needle.to_owned());
    assert_eq!(find("silva").await?, "syn_1,syn_2");
    assert_eq!(find("SILVA").await?, "syn_1,syn_2");
    assert_eq!(find("jo").await?, "syn_1,syn_2,syn_3");
    // Non-ASCII letters compare exactly: Ã is not ã.
    assert_eq!(find("joão").await?, "syn_2");
    assert_eq!(find("JOÃO").await?, "syn_1");
    assert_eq!(find("joÃo").await?, "syn_1");
    assert_eq!(find("élise").await?, "");
    assert_eq!(find("Élise").await?, "syn_7");
    // LIKE wildcards are plain characters.
    assert_eq!(find("%").await?, "syn_4");
    assert_eq!(find("a_b").await?, "syn_5");
    assert_eq!(find("_").await?, "syn_5");
    assert_eq!(find("").await?, "syn_1,syn_2,syn_3,syn_4,syn_5,syn_6,syn_7");
    Ok(())
});

parity!(synth_search_equality_compares_json_values, |db| {
    let repo = db.synths();
    for (id, data) in [
        ("syn_int", json!({"idade": 30})),
        ("syn_float", json!({"idade": 30.0})),
        ("syn_text", json!({"idade": "30"})),
        ("syn_one", json!({"idade": 1})),
        ("syn_true", json!({"idade": true})),
        ("syn_false", json!({"idade": false})),
        ("syn_null", json!({"idade": null})),
        ("syn_missing", json!({"outra": 30})),
        ("syn_half", json!({"idade": 1.5})),
        ("syn_big", json!({"idade": 123456789012_i64})),
        ("syn_word", json!({"idade": "trinta e um", "nome": "Ünal"})),
    ] {
        repo.create(&with_data(id, data)).await?;
    }
    repo.create(&synth("syn_nodata", "N", "2025-01-01 00:00:00")).await?;
    let eq = |value: Value| vec![filter("idade", DataCondition::Eq(value))];
    assert_eq!(matching(db, eq(json!(30))).await?, ["syn_float", "syn_int"]);
    assert_eq!(matching(db, eq(json!(30.0))).await?, ["syn_float", "syn_int"]);
    assert_eq!(matching(db, eq(json!("30"))).await?, ["syn_text"]);
    assert_eq!(matching(db, eq(json!(1))).await?, ["syn_one"], "true is not 1");
    assert_eq!(matching(db, eq(json!(true))).await?, ["syn_true"]);
    assert_eq!(
        matching(db, eq(json!(false))).await?,
        ["syn_false"],
        "false is not 0 or null"
    );
    assert_eq!(
        matching(db, eq(json!(null))).await?,
        ["syn_null"],
        "missing is not null"
    );
    assert_eq!(matching(db, eq(json!(1.5))).await?, ["syn_half"]);
    assert_eq!(matching(db, eq(json!(123456789012_i64))).await?, ["syn_big"]);
    assert_eq!(matching(db, eq(json!("trinta e um"))).await?, ["syn_word"]);
    assert!(
        matching(db, eq(json!("Trinta e um"))).await?.is_empty(),
        "strings compare exactly"
    );
    assert_eq!(
        matching(db, vec![filter("nome", DataCondition::Eq(json!("Ünal")))]).await?,
        ["syn_word"]
    );
    assert!(
        matching(db, vec![filter("nome", DataCondition::Eq(json!("ünal")))])
            .await?
            .is_empty()
    );
    Ok(())
});

parity!(synth_search_numeric_ranges_match_numbers_only, |db| {
    let repo = db.synths();
    for (id, data) in [
        ("syn_18", json!({"idade": 18})),
        ("syn_30", json!({"idade": 30})),
        ("syn_45", json!({"idade": 45.5})),
        ("syn_neg", json!({"idade": -2.25})),
        ("syn_text", json!({"idade": "40"})),
        ("syn_word", json!({"idade": "abc"})),
        ("syn_bool", json!({"idade": true})),
        ("syn_null", json!({"idade": null})),
        ("syn_obj", json!({"idade": {"valor": 50}})),
        ("syn_missing", json!({})),
    ] {
        repo.create(&with_data(id, data)).await?;
    }
    repo.create(&synth("syn_nodata", "N", "2025-01-01 00:00:00")).await?;
    let range = |condition| vec![filter("idade", condition)];
    assert_eq!(
        matching(db, range(DataCondition::Gte(30.0))).await?,
        ["syn_30", "syn_45"]
    );
    assert_eq!(matching(db, range(DataCondition::Gt(30.0))).await?, ["syn_45"]);
    assert_eq!(
        matching(db, range(DataCondition::Lte(30.0))).await?,
        ["syn_18", "syn_30", "syn_neg"]
    );
    assert_eq!(matching(db, range(DataCondition::Lt(18.0))).await?, ["syn_neg"]);
    assert_eq!(matching(db, range(DataCondition::Gt(45.4999))).await?, ["syn_45"]);
    assert!(matching(db, range(DataCondition::Gt(1000.0))).await?.is_empty());
    // Between, as two filters.
    assert_eq!(
        matching(
            db,
            vec![
                filter("idade", DataCondition::Gte(18.0)),
                filter("idade", DataCondition::Lt(45.5))
            ]
        )
        .await?,
        ["syn_18", "syn_30"]
    );
    // The parsed form gives the same answer.
    assert_eq!(
        matching(db, vec![DataFilter::parse("idade >= 30")?]).await?,
        ["syn_30", "syn_45"]
    );
    Ok(())
});

parity!(synth_search_nested_paths_and_combined_criteria, |db| {
    create_group(db, "grp_b").await?;
    let repo = db.synths();
    let people = [
        (
            "syn_1",
            "Ana Souza",
            "grp_b",
            json!({"demografia": {"idade": 30, "sexo": "feminino", "endereco": {"cidade": "São Paulo"}}}),
        ),
        (
            "syn_2",
            "Bia Souza",
            "grp_b",
            json!({"demografia": {"idade": 52, "sexo": "feminino", "endereco": {"cidade": "Recife"}}}),
        ),
        (
            "syn_3",
            "Caio Souza",
            "grp_b",
            json!({"demografia": {"idade": 41, "sexo": "masculino", "endereco": {"cidade": "São Paulo"}}}),
        ),
        (
            "syn_4",
            "Dora Souza",
            DEFAULT_SYNTH_GROUP_ID,
            json!({"demografia": {"idade": 35, "sexo": "feminino", "endereco": {"cidade": "São Paulo"}}}),
        ),
        (
            "syn_5",
            "Eva Lima",
            "grp_b",
            json!({"demografia": {"idade": 33, "sexo": "feminino", "endereco": {"cidade": "São Paulo"}}}),
        ),
        ("syn_6", "Fábio Souza", "grp_b", json!({"demografia": "desconhecida"})),
    ];
    for (id, nome, group, data) in people {
        let mut new = synth(id, nome, "2025-01-01 00:00:00");
        new.synth_group_id = Some(group.to_owned());
        new.data = Some(data);
        repo.create(&new).await?;
    }
    assert_eq!(
        matching(
            db,
            vec![filter(
                "demografia.endereco.cidade",
                DataCondition::Eq(json!("São Paulo"))
            )]
        )
        .await?,
        ["syn_1", "syn_3", "syn_4", "syn_5"]
    );
    // A path through a string, or past a leaf, matches nothing and raises nothing.
    assert!(
        matching(db, vec![filter("demografia.idade.valor", DataCondition::Gte(0.0))])
            .await?
            .is_empty()
    );
    assert!(
        matching(db, vec![filter("demografia.nada.mais", DataCondition::Eq(json!(null)))])
            .await?
            .is_empty()
    );
    let search = SynthSearch {
        group_id: Some("grp_b".into()),
        name_contains: Some("SOUZA".into()),
        data: vec![
            DataFilter::parse("demografia.sexo = feminino")?,
            DataFilter::parse("demografia.endereco.cidade = \"São Paulo\"")?,
            DataFilter::parse("demografia.idade > 29.5")?,
        ],
        sort: sort(SynthSortColumn::Nome, SortDirection::Desc),
    };
    let found = repo.search(&search, PageRequest::first(10)?).await?;
    assert_eq!(ids(&found), ["syn_1"]);
    assert_eq!(found.total, 1);
    // Sort and paging apply to the matches only.
    let group_only = SynthSearch {
        group_id: Some("grp_b".into()),
        data: vec![DataFilter::parse("demografia.idade >= 30")?],
        sort: sort(SynthSortColumn::Nome, SortDirection::Desc),
        ..Default::default()
    };
    let first = repo.search(&group_only, PageRequest::new(2, 0)?).await?;
    assert_eq!(
        (ids(&first), first.total, first.has_next),
        (vec!["syn_5", "syn_3"], 4, true)
    );
    let rest = repo.search(&group_only, PageRequest::new(2, 2)?).await?;
    assert_eq!((ids(&rest), rest.has_next), (vec!["syn_2", "syn_1"], false));
    let past = repo.search(&group_only, PageRequest::new(2, 10)?).await?;
    assert_eq!((past.items.len(), past.total), (0, 4));
    Ok(())
});

parity!(synth_search_rejects_injection_and_bad_filters, |db| {
    let repo = db.synths();
    repo.create(&with_data("syn_1", json!({"a": 1}))).await?;
    for path in [
        "a'; DROP TABLE synths; --",
        "a..b",
        "",
        "$.a",
        "a[0]",
        "a.",
        ".a",
        "1a",
        "a b",
        "a\"b",
    ] {
        let err = JsonPath::parse(path).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{path:?}");
        let err = DataFilter::parse(&format!("{path} = 1")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{path:?}");
    }
    // A path built through serde skips JsonPath::parse: the repository checks it again.
    for segments in [
        json!(["a'; DROP TABLE synths; --"]),
        json!(["a\"]'); DROP TABLE synths; --"]),
        json!(["a.b"]),
        json!(["$"]),
        json!([]),
        json!(["a", ""]),
    ] {
        let path: JsonPath = serde_json::from_value(segments.clone())?;
        let search = SynthSearch {
            data: vec![DataFilter {
                path,
                condition: DataCondition::Eq(json!(1)),
            }],
            ..Default::default()
        };
        let err = repo.search(&search, PageRequest::first(10)?).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{segments}");
    }
    // Non-scalar equality values and non-finite bounds.
    for condition in [
        DataCondition::Eq(json!({"x": 1})),
        DataCondition::Eq(json!([1])),
        DataCondition::Gte(f64::NAN),
        DataCondition::Lt(f64::INFINITY),
    ] {
        let search = SynthSearch {
            data: vec![filter("a", condition.clone())],
            ..Default::default()
        };
        let err = repo.search(&search, PageRequest::first(10)?).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{condition:?}");
    }
    for expression in ["a >= abc", "a", "a =", "a <> 1", "a >= NaN"] {
        assert_eq!(
            DataFilter::parse(expression).unwrap_err().kind(),
            ErrorKind::InvalidInput,
            "{expression}"
        );
    }
    // Text that looks like SQL in a value or a name needle is just text.
    let hostile = SynthSearch {
        name_contains: Some("'; DROP TABLE synths; --".into()),
        data: vec![filter("a", DataCondition::Eq(json!("1' OR '1'='1")))],
        ..Default::default()
    };
    assert_eq!(repo.search(&hostile, PageRequest::first(10)?).await?.total, 0);
    // The table is intact.
    let all = repo.list(SynthSort::default(), PageRequest::first(10)?).await?;
    assert_eq!(ids(&all), ["syn_1"]);
    assert_eq!(
        matching(db, vec![filter("a", DataCondition::Eq(json!(1)))]).await?,
        ["syn_1"]
    );
    Ok(())
});

parity!(synth_delete_reports_whether_removed, |db| {
    let repo = db.synths();
    repo.create(&synth("syn_1", "A", "2025-01-01 00:00:00")).await?;
    repo.create(&synth("syn_2", "B", "2025-01-01 00:00:00")).await?;
    assert!(repo.delete("syn_1").await?);
    assert!(repo.get("syn_1").await?.is_none());
    assert!(!repo.delete("syn_1").await?);
    assert!(!repo.delete("syn_missing").await?);
    let rest = repo.list(SynthSort::default(), PageRequest::first(10)?).await?;
    assert_eq!((ids(&rest), rest.total), (vec!["syn_2"], 1));
    let group = db.synth_groups().get(DEFAULT_SYNTH_GROUP_ID).await?.expect("default");
    assert_eq!(group.synth_count, 1);
    Ok(())
});

parity!(synth_search_text_with_nul_is_invalid_input, |db| {
    let search = SynthSearch {
        name_contains: Some("a\u{0}".into()),
        ..SynthSearch::default()
    };
    let err = db.synths().search(&search, PageRequest::first(10)?).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    Ok(())
});
