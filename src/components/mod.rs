//! Reusable pieces of the dashboard's pages. Text that comes from traces (span names,
//! services, tag keys and values) is only ever rendered as text nodes or attribute values.

pub mod add_to_queue;
pub mod api_key;
pub mod charts;
pub mod compact_tree;
pub mod conversation;
pub mod copy_button;
pub mod download_button;
pub mod empty_state;
pub mod error_banner;
pub mod feedback;
pub mod filter_bar;
pub mod filter_check;
pub mod filter_input;
pub mod filter_suggest;
pub mod icons;
pub mod json_view;
pub mod lazy;
pub mod live;
pub mod long_text;
pub mod project_switcher;
pub mod remote;
pub mod row_link;
pub mod scope_bar;
pub mod scoped_list;
pub mod service_chip;
pub mod service_graph;
pub mod session_table;
pub mod shortcuts;
pub mod skeleton;
pub mod span_type;
pub mod status_badge;
pub mod tag_chip;
pub mod tag_picker;
pub mod theme_toggle;
