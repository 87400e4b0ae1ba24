//! `TraceFold` as stored: its ranks in a table, each ranked fact as (rank number, value).

use serde::{Deserialize, Serialize};

use super::{Rank, Ranked, RootFacts, TraceFold};

/// `TraceFold` as stored: ranks in a table (`r`), every ranked fact as (rank number, value).
#[derive(Serialize, Deserialize)]
pub(super) struct CompactFold {
    s: i64,
    e: i64,
    n: u64,
    x: u64,
    i: i64,
    o: i64,
    c: f64,
    /// The other spans' usage and whether a model call reports any.
    #[serde(default, skip_serializing_if = "is_zero")]
    oi: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    oo: i64,
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    oc: f64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    mu: bool,
    r: Vec<Rank>,
    /// (rank, name, span type, status, service): the root's span id is its rank's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    root: Option<(usize, String, u8, u8, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first: Option<(usize, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    sv: Vec<(String, usize)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tg: Vec<(String, usize, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ss: Option<(usize, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    us: Option<(usize, String)>,
}

impl From<TraceFold> for CompactFold {
    fn from(f: TraceFold) -> CompactFold {
        let mut table: Vec<Rank> = Vec::new();
        let mut number = |rank: Rank| -> usize {
            match table.iter().position(|r| *r == rank) {
                Some(i) => i,
                None => {
                    table.push(rank);
                    table.len() - 1
                }
            }
        };
        let root = f.root.map(|r| {
            let v = r.value;
            (number(r.rank), v.name, v.span_type, v.status, v.service)
        });
        let first = f.first_name.map(|r| (number(r.rank), r.value));
        let ss = f.session_id.map(|r| (number(r.rank), r.value));
        let us = f.user_id.map(|r| (number(r.rank), r.value));
        let sv = f
            .services
            .into_iter()
            .map(|(name, rank)| (name, number(rank)))
            .collect();
        let tg = f
            .tags
            .into_iter()
            .map(|(key, v)| (key, number(v.rank), v.value))
            .collect();
        CompactFold {
            s: f.start_ns,
            e: f.end_ns,
            n: f.span_count,
            x: f.error_count,
            i: f.input_tokens,
            o: f.output_tokens,
            c: f.cost,
            oi: f.other_input_tokens,
            oo: f.other_output_tokens,
            oc: f.other_cost,
            mu: f.model_usage,
            r: table,
            root,
            first,
            sv,
            tg,
            ss,
            us,
        }
    }
}

impl From<CompactFold> for TraceFold {
    fn from(c: CompactFold) -> TraceFold {
        let rank = |i: usize| {
            c.r.get(i)
                .cloned()
                .unwrap_or(Rank(1, i64::MAX, String::new()))
        };
        let ranked = |(i, value): (usize, String)| Ranked {
            rank: rank(i),
            value,
        };
        TraceFold {
            start_ns: c.s,
            end_ns: c.e,
            span_count: c.n,
            error_count: c.x,
            input_tokens: c.i,
            output_tokens: c.o,
            cost: c.c,
            other_input_tokens: c.oi,
            other_output_tokens: c.oo,
            other_cost: c.oc,
            model_usage: c.mu,
            root: c.root.map(|(i, name, span_type, status, service)| {
                let rank = rank(i);
                Ranked {
                    value: RootFacts {
                        name,
                        span_id: rank.2.clone(),
                        span_type,
                        status,
                        service,
                    },
                    rank,
                }
            }),
            first_name: c.first.map(ranked),
            services: c.sv.into_iter().map(|(s, i)| (s, rank(i))).collect(),
            tags: c
                .tg
                .into_iter()
                .map(|(k, i, value)| {
                    (
                        k,
                        Ranked {
                            rank: rank(i),
                            value,
                        },
                    )
                })
                .collect(),
            session_id: c.ss.map(ranked),
            user_id: c.us.map(ranked),
        }
    }
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

fn is_zero_f64(n: &f64) -> bool {
    *n == 0.0
}
