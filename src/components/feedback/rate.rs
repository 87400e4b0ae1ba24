//! The rating controls for one key: what its score config asks for (a button per category,
//! step buttons or a slider for a number, thumbs for a boolean), or, for a key without a
//! config, thumbs and a free score.

use leptos::html;
use leptos::prelude::*;
use skein_model::format::plain;
use skein_model::{ScoreConfig, ScoreKind};

use super::icons::{ThumbDownIcon, ThumbUpIcon};
use super::score::{js_number_text, parse_score};

/// Most step buttons for a numeric key; a longer range gets a slider.
const MAX_STEP_BUTTONS: usize = 11;

/// The controls for `config` (none: a key without a config). `rate` saves a score; `None`
/// asks the widget to read its free score input.
pub fn controls(
    config: Option<ScoreConfig>,
    rate: Callback<Option<f64>>,
    score_input: NodeRef<html::Input>,
) -> AnyView {
    let Some(config) = config else {
        return view! {
            {thumbs(rate)}
            <span class="muted fb-or">"or"</span>
            <label class="fb-field fb-score">
                <span class="fb-label">"Score"</span>
                // Text, not type=number: a number input reads "" while "0." is typed.
                <input class="input" name="feedback-score" type="text"
                    inputmode="decimal" placeholder="0.8" node_ref=score_input/>
            </label>
            <button type="submit" class="button" name="save-score">"Save score"</button>
        }
        .into_any();
    };
    match config.kind.clone() {
        ScoreKind::Boolean => thumbs(rate).into_any(),
        ScoreKind::Categorical { categories } => {
            let buttons = categories
                .into_iter()
                .enumerate()
                .map(|(i, c)| {
                    let score = c.score;
                    let title = format!("{} (score {})", c.label, plain(score));
                    // Digits 1 to 9 choose the first nine.
                    let shortcut = (i < 9).then(|| (i + 1).to_string());
                    view! {
                        <button type="button" class="button fb-choice" name="rate-category"
                            data-score=plain(score) title=title aria-keyshortcuts=shortcut
                            on:click=move |_| rate.run(Some(score))>{c.label}</button>
                    }
                })
                .collect_view();
            view! { <div class="fb-choices" role="group" aria-label=config.key>{buttons}</div> }
                .into_any()
        }
        ScoreKind::Numeric { min, max, step } => match config.kind.steps(MAX_STEP_BUTTONS) {
            Some(values) => {
                let buttons = values
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let shortcut = (i < 9).then(|| (i + 1).to_string());
                        view! {
                            <button type="button" class="button fb-choice fb-step" name="rate-step"
                                data-score=plain(v) aria-keyshortcuts=shortcut
                                on:click=move |_| rate.run(Some(v))>{plain(v)}</button>
                        }
                    })
                    .collect_view();
                view! { <div class="fb-choices" role="group" aria-label=config.key>{buttons}</div> }
                    .into_any()
            }
            None => slider(min, max, step, rate),
        },
    }
}

fn thumbs(rate: Callback<Option<f64>>) -> impl IntoView {
    view! {
        <div class="fb-thumbs" role="group" aria-label="Quick rating">
            <button type="button" class="button fb-thumb" name="thumbs-up"
                title="Thumbs up (score 1)" aria-label="Thumbs up"
                on:click=move |_| rate.run(Some(1.0))><ThumbUpIcon/></button>
            <button type="button" class="button fb-thumb" name="thumbs-down"
                title="Thumbs down (score 0)" aria-label="Thumbs down"
                on:click=move |_| rate.run(Some(0.0))><ThumbDownIcon/></button>
        </div>
    }
}

/// A range input from `min` to `max` (in `step`s, else in hundredths of the range), starting
/// in the middle, and a button that saves what it shows.
fn slider(min: f64, max: f64, step: Option<f64>, rate: Callback<Option<f64>>) -> AnyView {
    let step_text = step.map_or_else(|| js_number_text((max - min) / 100.0), js_number_text);
    let middle = match step {
        Some(s) => min + ((max - min) / s / 2.0).round() * s,
        None => (min + max) / 2.0,
    };
    let value = RwSignal::new(js_number_text(middle));
    view! {
        <label class="fb-field fb-slider">
            <span class="fb-label">{format!("{} – {}", plain(min), plain(max))}</span>
            <input type="range" name="feedback-slider" min=js_number_text(min)
                max=js_number_text(max) step=step_text prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))/>
            <output class="fb-slider-value">{move || value.get()}</output>
        </label>
        <button type="button" class="button" name="save-score"
            on:click=move |_| rate.run(parse_score(&value.get_untracked()))>"Save score"</button>
    }
    .into_any()
}
