//! From LangSmith's UUIDs to Skein's hex ids and back.
//!
//! | LangSmith | Skein | how |
//! | --- | --- | --- |
//! | `trace_id` (the root run's UUID) | trace id, 32 hex | the UUID's 32 hex digits, lowercase |
//! | run `id`, `parent_run_id` | span id, 16 hex | the first 8 bytes of SHA-256 over the UUID's 16 bytes |
//! | project (`session_name`) | project name | as is; its UUID (`session_id`) is UUIDv5 of `skein:project:<name>` in the URL namespace |
//!
//! In Python, the span id of a run is `hashlib.sha256(uuid.UUID(run_id).bytes).hexdigest()[:16]`.
//! A hash rather than the UUID's low 64 bits, because those are not random in every UUID
//! version (a UUIDv1's low bits are the clock sequence and MAC address, the same for every run
//! of a process); with 64 hashed bits two runs of one trace collide with a probability of about
//! n²/2⁶⁵, nil for any real trace. The run's own UUID stays in the span's attributes
//! (`langsmith.run_id`), so every answer to the SDK names runs by their UUID, and a lookup by
//! UUID (`GET /runs/{id}`, feedback's `run_id`) hashes it and checks that attribute.
//!
//! Spans that did not come from LangSmith (OTLP) have no run UUID; they are shown to the SDK
//! with a synthetic one, sixteen zero hex digits followed by the span id. Such runs are listed
//! with their project or trace (`list_runs`), but not read by id: finding a span by its id
//! alone would cost every OTLP write an index (see `SpanStore::pieced_spans`).

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The tenant every Skein project belongs to, as far as the SDK can tell.
pub const TENANT_ID: Uuid = Uuid::nil();

/// A run, trace, feedback or project UUID as LangSmith clients write it (hyphenated or not,
/// any case). The nil UUID is refused: it would map to Skein's invalid all-zero trace id.
pub fn parse_uuid(text: &str) -> Option<Uuid> {
    Uuid::parse_str(text.trim()).ok().filter(|u| !u.is_nil())
}

/// The Skein trace id of a LangSmith trace.
pub fn trace_hex(trace: &Uuid) -> String {
    trace.simple().to_string()
}

/// The LangSmith trace UUID of a Skein trace id (the inverse of `trace_hex`).
pub fn trace_uuid(trace_hex: &str) -> Option<Uuid> {
    Uuid::try_parse(trace_hex).ok()
}

/// The Skein span id of a LangSmith run.
pub fn span_hex(run: &Uuid) -> String {
    let digest = Sha256::digest(run.as_bytes());
    let mut id = [0u8; 8];
    id.copy_from_slice(&digest[..8]);
    // All zeros is OTLP's "no span"; a 2⁻⁶⁴ chance, but a span must never be invalid.
    if id == [0; 8] {
        id[7] = 1;
    }
    skein_model::span::to_hex(&id)
}

/// The UUID the SDK sees for a project.
pub fn project_uuid(name: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("skein:project:{name}").as_bytes(),
    )
}

/// The run UUID shown for a span that has none of its own (it came through OTLP).
pub fn synthetic_run_id(span_hex: &str) -> Uuid {
    Uuid::try_parse(&format!("{:0>32}", span_hex)).unwrap_or_else(|_| Uuid::nil())
}

/// The span id inside a synthetic run UUID, if it is one.
pub fn synthetic_span(run: &Uuid) -> Option<String> {
    let bytes = run.as_bytes();
    (bytes[..8] == [0; 8]).then(|| skein_model::span::to_hex(&bytes[8..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_ids_are_the_documented_hash() {
        // hashlib.sha256(uuid.UUID("01a20c28-9de7-7b5d-8818-498ab6782bfd").bytes).hexdigest()[:16]
        let run = parse_uuid("01a20c28-9de7-7b5d-8818-498ab6782bfd").unwrap();
        assert_eq!(span_hex(&run), "4f5e6a7783e2b7af");
        assert_eq!(trace_hex(&run), "01a20c289de77b5d8818498ab6782bfd");
        assert_eq!(trace_uuid(&trace_hex(&run)), Some(run));
        assert!(skein_model::span::is_valid_hex_id(&span_hex(&run), 16));
    }

    #[test]
    fn uuids_in_any_spelling_and_never_nil() {
        let a = parse_uuid("01A20C28-9DE7-7B5D-8818-498AB6782BFD").unwrap();
        let b = parse_uuid("01a20c289de77b5d8818498ab6782bfd").unwrap();
        assert_eq!(a, b);
        assert_eq!(parse_uuid("00000000-0000-0000-0000-000000000000"), None);
        assert_eq!(parse_uuid("not-a-uuid"), None);
    }

    #[test]
    fn project_uuids_are_stable_v5() {
        let id = project_uuid("wire-test");
        assert_eq!(id.get_version_num(), 5);
        assert_eq!(id, project_uuid("wire-test"));
        assert_ne!(id, project_uuid("default"));
    }

    #[test]
    fn synthetic_run_ids_round_trip() {
        let id = synthetic_run_id("36ab34dd62b95159");
        assert_eq!(id.to_string(), "00000000-0000-0000-36ab-34dd62b95159");
        assert_eq!(synthetic_span(&id).as_deref(), Some("36ab34dd62b95159"));
        assert_eq!(
            synthetic_span(&parse_uuid("01a20c28-9de7-7b5d-8818-498ab6782bfd").unwrap()),
            None
        );
    }
}
