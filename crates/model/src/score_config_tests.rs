use serde_json::json;

use super::*;

fn config(key: &str, kind: ScoreKind) -> ScoreConfig {
    ScoreConfig {
        id: format!("id-{key}"),
        project: "p".into(),
        key: key.into(),
        kind,
        description: String::new(),
        comment_asked: false,
        created_ms: 0,
        modified_ms: 0,
    }
}

fn satisfaction() -> ScoreConfig {
    config(
        "user_satisfaction",
        ScoreKind::Numeric {
            min: 1.0,
            max: 5.0,
            step: Some(1.0),
        },
    )
}

fn correctness() -> ScoreConfig {
    config(
        "correctness",
        ScoreKind::Categorical {
            categories: vec![
                Category {
                    label: "correct".into(),
                    score: 1.0,
                },
                Category {
                    label: "partly".into(),
                    score: 0.5,
                },
                Category {
                    label: "wrong".into(),
                    score: 0.0,
                },
            ],
        },
    )
}

#[test]
fn numeric_scores_stay_in_range_and_on_steps() {
    let c = satisfaction();
    assert_eq!(check_feedback(&c, Some(1.0), None), Ok(1.0));
    assert_eq!(check_feedback(&c, Some(5.0), None), Ok(5.0));
    assert_eq!(check_feedback(&c, None, Some(&json!(3))), Ok(3.0));
    assert_eq!(
        check_feedback(&c, Some(7.0), None),
        Err("user_satisfaction must be a number from 1 to 5 in steps of 1 (got 7)".into())
    );
    assert!(check_feedback(&c, Some(2.5), None)
        .unwrap_err()
        .contains("in steps of 1 (got 2.5)"));
    assert!(check_feedback(&c, None, None)
        .unwrap_err()
        .ends_with("(got no score)"));
    assert!(check_feedback(&c, None, Some(&json!("great"))).is_err());
    // Steps that are not exact in binary still land on their values.
    let tenths = config(
        "q",
        ScoreKind::Numeric {
            min: 0.0,
            max: 1.0,
            step: Some(0.1),
        },
    );
    assert_eq!(
        check_feedback(&tenths, Some(0.1 + 0.2), None),
        Ok(0.1 + 0.2)
    );
    assert!(check_feedback(&tenths, Some(0.35), None).is_err());
    let any = config(
        "r",
        ScoreKind::Numeric {
            min: 0.0,
            max: 1.0,
            step: None,
        },
    );
    assert_eq!(check_feedback(&any, Some(0.123), None), Ok(0.123));
    assert_eq!(
        check_feedback(&any, Some(-0.5), None),
        Err("r must be a number from 0 to 1 (got -0.5)".into())
    );
}

#[test]
fn categories_are_named_by_score_or_label_and_stored_as_their_score() {
    let c = correctness();
    assert_eq!(check_feedback(&c, Some(0.5), None), Ok(0.5));
    assert_eq!(check_feedback(&c, None, Some(&json!("wrong"))), Ok(0.0));
    assert_eq!(
        check_feedback(&c, Some(1.0), Some(&json!("correct"))),
        Ok(1.0)
    );
    assert_eq!(check_feedback(&c, None, Some(&json!(0.5))), Ok(0.5));
    assert_eq!(
        check_feedback(&c, Some(0.7), None),
        Err("correctness must be one of: correct (1), partly (0.5), wrong (0) (got 0.7)".into())
    );
    assert!(check_feedback(&c, None, Some(&json!("nearly")))
        .unwrap_err()
        .contains("(got \"nearly\")"));
    let mismatch = check_feedback(&c, Some(1.0), Some(&json!("wrong"))).unwrap_err();
    assert!(
        mismatch.contains("the score 1 with the value \"wrong\""),
        "{mismatch}"
    );
    assert_eq!(c.kind.label(0.5), "partly");
    assert_eq!(c.kind.label(0.25), "0.25");
}

#[test]
fn booleans_are_thumbs() {
    let c = config("helpful", ScoreKind::Boolean);
    assert_eq!(check_feedback(&c, Some(1.0), None), Ok(1.0));
    assert_eq!(check_feedback(&c, None, Some(&json!(false))), Ok(0.0));
    assert_eq!(check_feedback(&c, Some(0.0), Some(&json!(false))), Ok(0.0));
    assert_eq!(
        check_feedback(&c, Some(0.5), None),
        Err(
            "helpful must be thumbs up or down: a score of 1 or 0 (or true/false) (got 0.5)".into()
        )
    );
    assert!(check_feedback(&c, Some(1.0), Some(&json!(false))).is_err());
    assert!(check_feedback(&c, None, Some(&json!("yes"))).is_err());
}

#[test]
fn keys_without_a_config_pass_unless_the_project_wants_configured_keys_only() {
    let mut list = ScoreConfigList {
        configs: vec![correctness(), satisfaction()],
        settings: ScoreSettings::default(),
    };
    assert_eq!(list.check("anything", Some(42.0), None), Ok(Some(42.0)));
    assert_eq!(list.check("anything", None, None), Ok(None));
    assert_eq!(
        list.check("correctness", None, Some(&json!("partly"))),
        Ok(Some(0.5))
    );
    list.settings.configured_keys_only = true;
    assert_eq!(
        list.check("anything", Some(1.0), None),
        Err(
            "feedback key \"anything\" has no score config, and this project accepts configured \
             keys only: correctness, user_satisfaction"
                .into()
        )
    );
    assert_eq!(
        list.check("user_satisfaction", Some(4.0), None),
        Ok(Some(4.0))
    );
    assert_eq!(
        list.named_scores("correctness"),
        [
            (0.0, "wrong".to_string()),
            (0.5, "partly".to_string()),
            (1.0, "correct".to_string())
        ]
    );
    assert!(list.named_scores("user_satisfaction").is_empty());
    assert!(list.named_scores("anything").is_empty());
    assert_eq!(
        list.find("id-correctness").map(|c| c.key.as_str()),
        Some("correctness")
    );
    assert_eq!(
        list.find("correctness").map(|c| c.id.as_str()),
        Some("id-correctness")
    );
}

#[test]
fn configs_are_checked_before_they_are_stored() {
    let new = |key: &str, kind: ScoreKind| NewScoreConfig {
        key: key.into(),
        kind,
        description: String::new(),
        comment_asked: false,
    };
    let numeric = |min, max, step| ScoreKind::Numeric { min, max, step };
    let cats = |pairs: &[(&str, f64)]| ScoreKind::Categorical {
        categories: pairs
            .iter()
            .map(|(label, score)| Category {
                label: (*label).into(),
                score: *score,
            })
            .collect(),
    };
    assert_eq!(
        check_config(&new("q", numeric(1.0, 5.0, Some(1.0)))),
        Ok(())
    );
    assert_eq!(
        check_config(&new("q", numeric(0.0, 1.0, Some(0.1)))),
        Ok(())
    );
    assert_eq!(check_config(&new("q", ScoreKind::Boolean)), Ok(()));
    assert_eq!(
        check_config(&new("q", cats(&[("good", 1.0), ("bad", 0.0)]))),
        Ok(())
    );
    for (bad, why) in [
        (new("", ScoreKind::Boolean), "key must be 1 to"),
        (new(" q", ScoreKind::Boolean), "without spaces"),
        (new("q", numeric(5.0, 1.0, None)), "min below a finite max"),
        (new("q", numeric(0.0, f64::INFINITY, None)), "finite max"),
        (new("q", numeric(1.0, 5.0, Some(0.0))), "positive number"),
        (
            new("q", numeric(1.0, 5.0, Some(1.5))),
            "whole number of steps",
        ),
        (new("q", cats(&[("only", 1.0)])), "2 to 20 categories"),
        (
            new("q", cats(&[("a", 1.0), ("a", 0.0)])),
            "two categories are named",
        ),
        (new("q", cats(&[("a", 1.0), ("b", 1.0)])), "same score"),
        (new("q", cats(&[("a", 1.0), ("", 0.0)])), "labels must be"),
    ] {
        let err = check_config(&bad).unwrap_err();
        assert!(err.contains(why), "{bad:?}: {err}");
    }
}

#[test]
fn the_wire_form_is_flat_with_a_type() {
    let c = satisfaction();
    let wire = serde_json::to_value(&c).unwrap();
    assert_eq!(wire["type"], "numeric");
    assert_eq!(wire["min"], 1.0);
    assert_eq!(wire["step"], 1.0);
    let back: ScoreConfig = serde_json::from_value(wire).unwrap();
    assert_eq!(back, c);
    let new: NewScoreConfig = serde_json::from_value(json!({
        "key": "correctness", "type": "categorical",
        "categories": [{"label": "correct", "score": 1}, {"label": "wrong", "score": 0}],
        "comment_asked": true
    }))
    .unwrap();
    assert!(new.comment_asked);
    assert!(matches!(new.kind, ScoreKind::Categorical { ref categories } if categories.len() == 2));
}

#[test]
fn step_buttons_list_each_value_when_few() {
    let c = satisfaction();
    assert_eq!(c.kind.steps(10), Some(vec![1.0, 2.0, 3.0, 4.0, 5.0]));
    assert_eq!(c.kind.steps(4), None);
    let any = ScoreKind::Numeric {
        min: 0.0,
        max: 1.0,
        step: None,
    };
    assert_eq!(any.steps(10), None);
}
