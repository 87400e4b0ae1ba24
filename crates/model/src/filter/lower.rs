//! The parsed tree to a checked `Expr`: functions and fields resolved, literals converted to
//! what each field holds, LangSmith's paired names (`metadata_key`/`metadata_value`,
//! `feedback_key`/`feedback_score` inside one `and`) joined. Every refusal names its place.

use super::fields::{resolve, FIELDS};
use super::parse::{Node, NodeKind};
use super::time::{parse_duration_ns, parse_timestamp_ns};
use super::{Expr, Field, FieldKind, FilterError, Op, Value};
use crate::span::SpanType;
use crate::trace_search::{MAX_QUERY_CHARS, MIN_SEARCH_CHARS};

struct Lowering<'a> {
    text: &'a str,
}

fn op_of(name: &str) -> Option<Op> {
    Some(match name {
        "eq" => Op::Eq,
        "neq" => Op::Neq,
        "gt" => Op::Gt,
        "gte" => Op::Gte,
        "lt" => Op::Lt,
        "lte" => Op::Lte,
        _ => return None,
    })
}

const FUNCTIONS: &str = "and, or, not, eq, neq, gt, gte, lt, lte, in, has, search";

/// The paired names, only meaningful as `eq(...)` inside an `and` (or alone).
const PAIRED: &[&str] = &[
    "metadata_key",
    "metadata_value",
    "feedback_key",
    "feedback_score",
];

impl Lowering<'_> {
    fn error(&self, node: &Node, message: impl Into<String>) -> FilterError {
        FilterError::at(self.text, node.start, node.end, message)
    }

    fn expr(&self, node: &Node) -> Result<Expr, FilterError> {
        let NodeKind::Call(function, args) = &node.kind else {
            return Err(self.error(node, "expected a call such as eq(name, \"x\") or and(...)"));
        };
        match function.as_str() {
            "and" | "or" => {
                if args.is_empty() {
                    return Err(
                        self.error(node, format!("{function}() needs at least one condition"))
                    );
                }
                let mut items = Vec::new();
                let mut rest: Vec<&Node> = args.iter().collect();
                if function == "and" {
                    if let Some(joined) = self.pair(&mut rest, "metadata_key", "metadata_value")? {
                        items.push(joined);
                    }
                    if let Some(joined) = self.pair(&mut rest, "feedback_key", "feedback_score")? {
                        items.push(joined);
                    }
                }
                for arg in rest {
                    items.push(self.expr(arg)?);
                }
                Ok(if function == "and" {
                    Expr::And(items)
                } else {
                    Expr::Or(items)
                })
            }
            "not" => match args.as_slice() {
                [inner] => Ok(Expr::Not(Box::new(self.expr(inner)?))),
                _ => Err(self.error(node, "not() takes one condition")),
            },
            "search" => match args.as_slice() {
                [arg @ Node {
                    kind: NodeKind::Text(t),
                    ..
                }] if !t.trim().is_empty() => self.search(arg, t),
                _ => Err(self.error(
                    node,
                    "search() takes one non-empty string: search(\"refund\")",
                )),
            },
            "has" => {
                let [field_node, value] = self.two(node, args)?;
                let field = self.field(field_node)?;
                if field.kind() != FieldKind::TextSet {
                    return Err(self.error(field_node, "has() takes tags: has(tags, \"beta\")"));
                }
                Ok(Expr::Has {
                    field,
                    value: self.text_of(value)?,
                })
            }
            "in" => {
                let [field_node, list] = self.two(node, args)?;
                let field = self.field(field_node)?;
                let NodeKind::List(items) = &list.kind else {
                    return Err(
                        self.error(list, "in() takes a list: in(run_type, [\"llm\", \"tool\"])")
                    );
                };
                if let Field::Attr(_) = field {
                    // Each value decides how it compares (a number numerically, text as text).
                    let alternatives = items
                        .iter()
                        .map(|i| self.compare(field.clone(), Op::Eq, i))
                        .collect::<Result<_, FilterError>>()?;
                    return Ok(Expr::Or(alternatives));
                }
                if field.kind() == FieldKind::TextSet {
                    let alternatives = items
                        .iter()
                        .map(|i| {
                            Ok(Expr::Has {
                                field: field.clone(),
                                value: self.text_of(i)?,
                            })
                        })
                        .collect::<Result<_, FilterError>>()?;
                    return Ok(Expr::Or(alternatives));
                }
                let values = items
                    .iter()
                    .map(|i| self.value(&field, i))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Expr::In { field, values })
            }
            name => {
                let Some(op) = op_of(name) else {
                    return Err(self.error(
                        node,
                        format!("unknown function {name}(): use one of {FUNCTIONS}"),
                    ));
                };
                let [field_node, value] = self.two(node, args)?;
                if let NodeKind::Ident(f) = &field_node.kind {
                    if PAIRED.contains(&f.as_str()) {
                        return self.paired_alone(node, f, op, value);
                    }
                }
                let field = self.field(field_node)?;
                self.compare(field, op, value)
            }
        }
    }

    /// The text searched for, as the stores compare it (trimmed, lowercased), at least
    /// `MIN_SEARCH_CHARS` long and at most `MAX_QUERY_CHARS`.
    fn search(&self, node: &Node, text: &str) -> Result<Expr, FilterError> {
        let needle = text.trim().to_lowercase();
        let chars = needle.chars().count();
        if chars < MIN_SEARCH_CHARS {
            return Err(self.error(
                node,
                format!("search() needs at least {MIN_SEARCH_CHARS} characters, not {chars}"),
            ));
        }
        if chars > MAX_QUERY_CHARS {
            return Err(self.error(
                node,
                format!("search() takes at most {MAX_QUERY_CHARS} characters"),
            ));
        }
        Ok(Expr::Search(needle))
    }

    fn compare(&self, field: Field, op: Op, value: &Node) -> Result<Expr, FilterError> {
        match field.kind() {
            FieldKind::TextSet => {
                let has = Expr::Has {
                    field,
                    value: self.text_of(value)?,
                };
                match op {
                    Op::Eq => Ok(has),
                    Op::Neq => Ok(Expr::Not(Box::new(has))),
                    _ => Err(self.error(value, "tags compare only with eq, neq or has")),
                }
            }
            FieldKind::Attr => Ok(Expr::Compare {
                field,
                op,
                value: self.attr_value(value)?,
            }),
            FieldKind::Bool if !matches!(op, Op::Eq | Op::Neq) => Err(self.error(
                value,
                "this field is true or false: compare it with eq or neq",
            )),
            _ if field == Field::Type && !matches!(op, Op::Eq | Op::Neq) => {
                Err(self.error(value, "run_type compares only with eq, neq or in"))
            }
            _ => {
                let value = self.value(&field, value)?;
                Ok(Expr::Compare { field, op, value })
            }
        }
    }

    fn two<'n>(&self, node: &Node, args: &'n [Node]) -> Result<[&'n Node; 2], FilterError> {
        match args {
            [a, b] => Ok([a, b]),
            _ => Err(self.error(node, "this function takes a field and a value")),
        }
    }

    fn field(&self, node: &Node) -> Result<Field, FilterError> {
        let NodeKind::Ident(name) = &node.kind else {
            return Err(self.error(node, "expected a field name here, such as name or run_type"));
        };
        resolve(name).ok_or_else(|| {
            let near: Vec<&str> = FIELDS
                .iter()
                .map(|f| f.name)
                .filter(|f| f.starts_with(name.get(..1).unwrap_or("")))
                .collect();
            let hint = if near.is_empty() {
                String::new()
            } else {
                format!(" (did you mean {}?)", near.join(", "))
            };
            self.error(
                node,
                format!(
                    "unknown field {name:?}{hint}; a tag is tag.<key> (tag.env), any span \
                     attribute attr.<key> (attr.http.method)"
                ),
            )
        })
    }

    fn text_of(&self, node: &Node) -> Result<String, FilterError> {
        match &node.kind {
            NodeKind::Text(t) => Ok(t.clone()),
            NodeKind::Number(n) => Ok(crate::format::plain(*n)),
            NodeKind::Bool(b) => Ok(b.to_string()),
            _ => Err(self.error(node, "expected a string here")),
        }
    }

    /// The literal as the field holds it. Null is the field's empty value: "" for text, 0
    /// for numbers, false for flags (`eq(error, null)` is "no error").
    fn value(&self, field: &Field, node: &Node) -> Result<Value, FilterError> {
        let null = matches!(node.kind, NodeKind::Null);
        let value = match field.kind() {
            FieldKind::Attr => self.attr_value(node)?,
            FieldKind::Text | FieldKind::TextSet => Value::Text(if null {
                String::new()
            } else {
                self.text_of(node)?
            }),
            FieldKind::Bool => Value::Bool(match &node.kind {
                NodeKind::Null => false,
                NodeKind::Bool(b) => *b,
                NodeKind::Number(n) => *n != 0.0,
                NodeKind::Text(t) if *field == Field::Error => match t.as_str() {
                    "error" => true,
                    "success" | "ok" => false,
                    _ => return Err(self.error(node, "status is \"error\" or \"success\"")),
                },
                _ => return Err(self.error(node, "expected true or false")),
            }),
            FieldKind::Float => match &node.kind {
                NodeKind::Null => Value::Float(0.0),
                NodeKind::Number(n) => Value::Float(*n),
                NodeKind::Text(t) => Value::Float(
                    t.trim()
                        .trim_start_matches('$')
                        .parse()
                        .ok()
                        .filter(|n: &f64| n.is_finite())
                        .ok_or_else(|| self.error(node, format!("{t:?} is not a number")))?,
                ),
                _ => return Err(self.error(node, "expected a number")),
            },
            FieldKind::Int => Value::Int(self.int_value(field, node)?),
        };
        Ok(value)
    }

    /// An attribute's literal: a number compares numerically (`Value::Float`), anything else
    /// as the attribute's text (`attr::attr_text`: flags as `true`/`false`, null as missing).
    fn attr_value(&self, node: &Node) -> Result<Value, FilterError> {
        Ok(match &node.kind {
            NodeKind::Number(n) => Value::Float(*n),
            NodeKind::Null => Value::Text(String::new()),
            _ => Value::Text(self.text_of(node)?),
        })
    }

    fn int_value(&self, field: &Field, node: &Node) -> Result<i64, FilterError> {
        match (field, &node.kind) {
            (_, NodeKind::Null) if *field != Field::Type => Ok(0),
            (Field::Type, NodeKind::Text(t)) => SpanType::parse(t)
                .map(|t| i64::from(t.code()))
                .ok_or_else(|| {
                    let known: Vec<&str> = SpanType::ALL.iter().map(|t| t.as_str()).collect();
                    self.error(
                        node,
                        format!("unknown run type {t:?}: one of {}", known.join(", ")),
                    )
                }),
            (Field::Latency, NodeKind::Number(n)) => parse_duration_ns(&n.to_string())
                .ok_or_else(|| self.error(node, "this latency is out of range")),
            (Field::Latency, NodeKind::Text(t)) => parse_duration_ns(t).ok_or_else(|| {
                self.error(
                    node,
                    format!("{t:?} is not a duration such as \"2s\" or \"500ms\""),
                )
            }),
            (Field::Start | Field::End, NodeKind::Text(t)) => {
                parse_timestamp_ns(t).ok_or_else(|| {
                    self.error(
                        node,
                        format!("{t:?} is not a time such as \"2026-12-01T10:00:00Z\""),
                    )
                })
            }
            (Field::Start | Field::End, NodeKind::Number(n)) => {
                // Unix seconds (or milliseconds, when too large to be seconds).
                let secs = if n.abs() > 1e11 { n / 1000.0 } else { *n };
                Ok((secs * 1e9) as i64)
            }
            (Field::Type | Field::Start | Field::End | Field::Latency, _) => {
                Err(self.error(node, "expected a string here"))
            }
            (_, NodeKind::Number(n)) if n.fract() == 0.0 && n.abs() < 9e18 => Ok(*n as i64),
            (_, NodeKind::Text(t)) => t
                .trim()
                .parse()
                .map_err(|_| self.error(node, format!("{t:?} is not a whole number"))),
            _ => Err(self.error(node, "expected a whole number")),
        }
    }

    /// Pulls `eq(a, ..)` and the comparison on `b` out of an `and`'s arguments and joins them:
    /// `and(eq(metadata_key, "k"), eq(metadata_value, "v"))` is tag k equal to v.
    fn pair(
        &self,
        args: &mut Vec<&Node>,
        key_name: &str,
        value_name: &str,
    ) -> Result<Option<Expr>, FilterError> {
        let find = |args: &Vec<&Node>, wanted: &str| {
            args.iter().position(|n| match &n.kind {
                NodeKind::Call(f, a) => {
                    op_of(f).is_some()
                        && matches!(a.first().map(|x| &x.kind), Some(NodeKind::Ident(i)) if i == wanted)
                }
                _ => false,
            })
        };
        let (Some(k), Some(v)) = (find(args, key_name), find(args, value_name)) else {
            return Ok(None);
        };
        let (key_node, value_node) = (args[k], args[v]);
        args.retain(|n| !std::ptr::eq(*n, key_node) && !std::ptr::eq(*n, value_node));
        let (NodeKind::Call(kf, ka), NodeKind::Call(vf, va)) = (&key_node.kind, &value_node.kind)
        else {
            return Ok(None);
        };
        if kf != "eq" || ka.len() != 2 {
            return Err(self.error(
                key_node,
                format!("{key_name} takes eq({key_name}, \"...\")"),
            ));
        }
        let key = self.text_of(&ka[1])?;
        let Some(op) = op_of(vf).filter(|_| va.len() == 2) else {
            return Err(self.error(value_node, "expected a comparison"));
        };
        if key_name == "metadata_key" {
            self.compare(Field::Tag(key), op, &va[1]).map(Some)
        } else {
            Ok(Some(Expr::Feedback {
                key,
                score: Some((op, self.score(&va[1])?)),
            }))
        }
    }

    fn score(&self, node: &Node) -> Result<f64, FilterError> {
        match &node.kind {
            NodeKind::Number(n) => Ok(*n),
            NodeKind::Bool(b) => Ok(f64::from(u8::from(*b))),
            _ => Err(self.error(node, "feedback_score compares with a number")),
        }
    }

    /// `eq(metadata_key, "k")` alone: the tag is present; `eq(metadata_value, "v")` alone: any
    /// tag has the value; `eq(feedback_key, "k")` alone: the span has such feedback.
    fn paired_alone(
        &self,
        node: &Node,
        name: &str,
        op: Op,
        value: &Node,
    ) -> Result<Expr, FilterError> {
        let positive = match op {
            Op::Eq => true,
            Op::Neq => false,
            _ if name == "feedback_score" => true,
            _ => return Err(self.error(node, format!("{name} compares only with eq or neq"))),
        };
        let expr = match name {
            "metadata_key" => Expr::TagExists(self.text_of(value)?),
            "metadata_value" => Expr::Has {
                field: Field::AnyTagValue,
                value: self.text_of(value)?,
            },
            "feedback_key" => Expr::Feedback {
                key: self.text_of(value)?,
                score: None,
            },
            _ => {
                return Err(self.error(
                    node,
                    "feedback_score goes with eq(feedback_key, \"...\") in one and()",
                ))
            }
        };
        Ok(if positive {
            expr
        } else {
            Expr::Not(Box::new(expr))
        })
    }
}

pub(super) fn lower(text: &str, tree: &Node) -> Result<Expr, FilterError> {
    Lowering { text }.expr(tree)
}
