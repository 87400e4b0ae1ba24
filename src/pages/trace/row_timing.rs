//! What a span's row shows of the trace's timing, computed from `TraceTiming` (and the
//! critical path, when shown) for the window.

use skein_model::format;
use skein_model::scale::{self, TimeWindow};
use skein_model::timing::{CallRole, CriticalPath, TraceTiming};
use skein_model::TraceSkeleton;

/// What a span's row shows of the trace's timing: its clock-skew adjustment, its part in a
/// call across services, and its stretches on the critical path (bars in the window).
#[derive(Default)]
pub struct RowTiming {
    /// The span's own adjustment (µs; 0 when it only moved with its parent).
    pub skew_us: i64,
    /// Where the span was recorded, when adjusted.
    pub recorded: Option<scale::Bar>,
    pub call: CallRole,
    /// The service on the other side of the call.
    pub peer_service: String,
    /// The network gaps before and after a server span, with their classes.
    pub gaps: Vec<(scale::Bar, &'static str, String)>,
    pub critical: Vec<scale::Bar>,
    pub on_critical: bool,
}

impl RowTiming {
    pub fn of(
        timing: &TraceTiming,
        skeleton: &TraceSkeleton,
        i: usize,
        critical: Option<&CriticalPath>,
        window: TimeWindow,
    ) -> RowTiming {
        let segment = |a: i64, b: i64| window.bar(a as f64, b as f64, 0.0);
        let span = &skeleton.spans[i];
        let skew_us = timing.own_adjustment_us(skeleton, i);
        let recorded = (skew_us != 0)
            .then(|| segment(span.start_us(), span.end_us()))
            .flatten();
        let call = timing.call_role(i);
        let (peer_service, gaps) = match call {
            CallRole::Server { client, .. } => {
                let (client_start, client_end) = timing.extent_us(skeleton, client);
                let (start, end) = timing.extent_us(skeleton, i);
                let mut gaps = Vec::new();
                if start > client_start {
                    let title = format!(
                        "Request over the network: {}",
                        format::signed_duration_ns((start - client_start) * 1_000)
                    );
                    gaps.extend(
                        segment(client_start, start).map(|b| (b, "net-gap request", title)),
                    );
                }
                if client_end > end {
                    let title = format!(
                        "Response over the network: {}",
                        format::signed_duration_ns((client_end - end) * 1_000)
                    );
                    gaps.extend(segment(end, client_end).map(|b| (b, "net-gap response", title)));
                }
                (
                    skeleton.service_of(&skeleton.spans[client]).to_string(),
                    gaps,
                )
            }
            CallRole::Client { server } => (
                skeleton.service_of(&skeleton.spans[server]).to_string(),
                Vec::new(),
            ),
            CallRole::None => (String::new(), Vec::new()),
        };
        let sections = critical.map_or(&[][..], |c| c.sections(i));
        RowTiming {
            skew_us,
            recorded,
            call,
            peer_service,
            gaps,
            critical: sections
                .iter()
                .filter_map(|&(start, end)| segment(start, end))
                .collect(),
            on_critical: !sections.is_empty(),
        }
    }
}
