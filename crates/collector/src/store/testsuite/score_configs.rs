//! Score configs and feedback settings.

use std::sync::Arc;

use skein_model::{Category, ScoreConfig, ScoreKind, ScoreSettings};

use crate::store::Store;

fn config(project: &str, key: &str, kind: ScoreKind) -> ScoreConfig {
    ScoreConfig {
        id: format!("sc-{project}-{key}"),
        project: project.into(),
        key: key.into(),
        kind,
        description: format!("what {key} means"),
        comment_asked: key == "correctness",
        created_ms: 1_000,
        modified_ms: 2_000,
    }
}

fn correctness(project: &str) -> ScoreConfig {
    config(
        project,
        "correctness",
        ScoreKind::Categorical {
            categories: vec![
                Category {
                    label: "correct".into(),
                    score: 1.0,
                },
                Category {
                    label: "wrong".into(),
                    score: 0.0,
                },
            ],
        },
    )
}

pub async fn score_configs_are_kept_per_project_by_key(store: Arc<dyn Store>) {
    let empty = store.score_configs("p").await.unwrap();
    assert!(empty.configs.is_empty());
    assert!(!empty.settings.configured_keys_only);

    let satisfaction = config(
        "p",
        "user_satisfaction",
        ScoreKind::Numeric {
            min: 1.0,
            max: 5.0,
            step: Some(1.0),
        },
    );
    store.put_score_config(satisfaction.clone()).await.unwrap();
    store.put_score_config(correctness("p")).await.unwrap();
    store
        .put_score_config(config("q", "helpful", ScoreKind::Boolean))
        .await
        .unwrap();
    let listed = store.score_configs("p").await.unwrap();
    assert_eq!(listed.configs, vec![correctness("p"), satisfaction.clone()]);
    assert_eq!(
        store.score_configs("q").await.unwrap().configs,
        vec![config("q", "helpful", ScoreKind::Boolean)]
    );

    // Putting a key again replaces its config.
    let edited = ScoreConfig {
        kind: ScoreKind::Numeric {
            min: 0.0,
            max: 10.0,
            step: None,
        },
        description: "now out of ten".into(),
        modified_ms: 3_000,
        ..satisfaction.clone()
    };
    store.put_score_config(edited.clone()).await.unwrap();
    let listed = store.score_configs("p").await.unwrap();
    assert_eq!(listed.configs, vec![correctness("p"), edited]);

    // A deletion takes one project's key only, and says whether there was one.
    assert!(store.delete_score_config("p", "correctness").await.unwrap());
    assert!(!store.delete_score_config("p", "correctness").await.unwrap());
    assert!(!store
        .delete_score_config("q", "user_satisfaction")
        .await
        .unwrap());
    let keys = |list: skein_model::ScoreConfigList| -> Vec<String> {
        list.configs.into_iter().map(|c| c.key).collect()
    };
    assert_eq!(
        keys(store.score_configs("p").await.unwrap()),
        ["user_satisfaction"]
    );
    assert_eq!(keys(store.score_configs("q").await.unwrap()), ["helpful"]);

    // A deleted key can be configured again.
    store.put_score_config(correctness("p")).await.unwrap();
    assert_eq!(
        keys(store.score_configs("p").await.unwrap()),
        ["correctness", "user_satisfaction"]
    );
}

pub async fn feedback_settings_are_per_project(store: Arc<dyn Store>) {
    let only = ScoreSettings {
        configured_keys_only: true,
    };
    store.set_score_settings("p", only).await.unwrap();
    assert_eq!(store.score_configs("p").await.unwrap().settings, only);
    assert_eq!(
        store.score_configs("q").await.unwrap().settings,
        ScoreSettings::default()
    );
    store
        .set_score_settings("p", ScoreSettings::default())
        .await
        .unwrap();
    assert!(
        !store
            .score_configs("p")
            .await
            .unwrap()
            .settings
            .configured_keys_only
    );
}
