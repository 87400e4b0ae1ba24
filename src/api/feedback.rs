//! Feedback on spans (`/api/v1/feedback`) and the project's score configs
//! (`/api/v1/score-configs`, `/api/v1/score-settings`).

use skein_model::{
    Feedback, FeedbackList, FeedbackUpdate, NewFeedback, NewScoreConfig, ScoreConfig,
    ScoreConfigList, ScoreSettings,
};

use super::{check, get, send, send_json, ApiError};
use crate::links;

/// `GET /api/v1/feedback?trace_id=`: every feedback record on a trace's spans.
pub async fn trace_feedback(project: &str, trace_id: &str) -> Result<Vec<Feedback>, ApiError> {
    let list: FeedbackList = get(links::api_feedback(project, None, Some(trace_id))).await?;
    Ok(list.feedback)
}

fn feedback_url(project: &str, id: Option<&str>) -> String {
    links::api_feedback(project, id, None)
}

/// `POST /api/v1/feedback`: 201 and the stored record.
pub async fn create_feedback(project: &str, new: &NewFeedback) -> Result<Feedback, ApiError> {
    send_json("POST", feedback_url(project, None), new).await
}

/// `PATCH /api/v1/feedback/{id}`: the record as changed.
pub async fn update_feedback(
    project: &str,
    id: &str,
    update: &FeedbackUpdate,
) -> Result<Feedback, ApiError> {
    send_json("PATCH", feedback_url(project, Some(id)), update).await
}

/// `DELETE /api/v1/feedback/{id}`: 204.
pub async fn delete_feedback(project: &str, id: &str) -> Result<(), ApiError> {
    let response = send("DELETE", &feedback_url(project, Some(id)), None).await?;
    check(&response).await
}

/// The project's configs and settings.
pub async fn score_configs(project: &str) -> Result<ScoreConfigList, ApiError> {
    get(links::api_score_configs(project, None)).await
}

/// `POST`: 201 and the stored config.
pub async fn create_score_config(
    project: &str,
    new: &NewScoreConfig,
) -> Result<ScoreConfig, ApiError> {
    send_json("POST", links::api_score_configs(project, None), new).await
}

/// `PUT /{id}`: the config as changed.
pub async fn update_score_config(
    project: &str,
    id: &str,
    new: &NewScoreConfig,
) -> Result<ScoreConfig, ApiError> {
    send_json("PUT", links::api_score_configs(project, Some(id)), new).await
}

/// `DELETE /{id}`: 204.
pub async fn delete_score_config(project: &str, id: &str) -> Result<(), ApiError> {
    let response = send("DELETE", &links::api_score_configs(project, Some(id)), None).await?;
    check(&response).await
}

pub async fn set_score_settings(
    project: &str,
    settings: &ScoreSettings,
) -> Result<ScoreSettings, ApiError> {
    send_json("PUT", links::api_score_settings(project), settings).await
}
