//! Sessions and users: a user's requests (traces) grouped by the session they belong to, with
//! aggregates over them.
//!
//! A trace belongs to a session and a user through the ids ingest derives per span
//! (`session.id`, `gen_ai.conversation.id`, `user.id`, `enduser.id`, LangSmith metadata
//! `session_id`, `thread_id`, `conversation_id`, `user_id`); the root span's ids win.
//!
//! - `types`: the wire types of `GET /api/v1/sessions`, `/sessions/{id}`, `/users`, `/users/{id}`,
//!   and the order of a session's requests;
//! - `query`: their query-string form (`SessionQuery`, `SessionSort`) and a page's `Scope`;
//! - `cursor`: the lists' cursors;
//! - `conversation`: the text of a conversation turn, read from a span's input or output;
//! - `timeline`: the marks on a session's timeline.

mod conversation;
mod cursor;
mod query;
mod timeline;
mod types;

pub use crate::recent::RecentRange;
pub use conversation::{cut, turn_text, Side};
pub use cursor::{CursorKey, GroupCursor};
pub use query::{Scope, SessionQuery, SessionSort};
pub use timeline::{offset_label, timeline_ticks, TimelineTick};
pub use types::{
    headline_feedback_key, order_requests, sequence_of, SessionDetail, SessionPage, SessionRequest,
    SessionSummary, TraceAggregate, TurnText, UserDetail, UserPage, UserSummary, MAX_TURN_CHARS,
    SEQUENCE_TAG,
};
