//! The text of a filter to a tree of calls, identifiers and literals, each with where it is in
//! the text. What the names mean is `lower`'s business.

use super::FilterError;

/// How deep calls and lists may nest: far more than a real filter needs, few enough that
/// the recursive passes stay well within a thread's stack.
pub const MAX_DEPTH: usize = 64;

/// A filter's text as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    /// Byte range in the text.
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Call(String, Vec<Node>),
    Ident(String),
    Text(String),
    Number(f64),
    Bool(bool),
    Null,
    List(Vec<Node>),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Number(f64),
    Open,
    Close,
    Comma,
    ListOpen,
    ListClose,
}

struct Lexed {
    token: Token,
    start: usize,
    end: usize,
}

fn is_word_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | ':')
}

fn lex(text: &str) -> Result<Vec<Lexed>, FilterError> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        let single = match c {
            '(' => Some(Token::Open),
            ')' => Some(Token::Close),
            ',' => Some(Token::Comma),
            '[' => Some(Token::ListOpen),
            ']' => Some(Token::ListClose),
            _ => None,
        };
        if let Some(token) = single {
            chars.next();
            out.push(Lexed {
                token,
                start,
                end: start + 1,
            });
            continue;
        }
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' || c == '\'' {
            chars.next();
            let mut value = String::new();
            let end = loop {
                match chars.next() {
                    None => {
                        return Err(FilterError::at(
                            text,
                            start,
                            text.len(),
                            "this string is not closed",
                        ))
                    }
                    Some((i, '\\')) => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, 't')) => value.push('\t'),
                        Some((_, other)) => value.push(other),
                        None => {
                            return Err(FilterError::at(
                                text,
                                i,
                                text.len(),
                                "a lone \\ at the end",
                            ))
                        }
                    },
                    Some((i, q)) if q == c => break i + 1,
                    Some((_, other)) => value.push(other),
                }
            };
            out.push(Lexed {
                token: Token::Text(value),
                start,
                end,
            });
        } else if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' {
            let mut end = start;
            while let Some(&(i, d)) = chars.peek() {
                let exponent_sign = matches!(d, '-' | '+')
                    && i > start
                    && matches!(text.as_bytes()[i - 1], b'e' | b'E');
                if d.is_ascii_digit()
                    || d == '.'
                    || matches!(d, 'e' | 'E')
                    || exponent_sign
                    || i == start
                {
                    end = i + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            let word = &text[start..end];
            let number: f64 = word
                .parse()
                .ok()
                .filter(|n: &f64| n.is_finite())
                .ok_or_else(|| {
                    FilterError::at(text, start, end, format!("{word:?} is not a number"))
                })?;
            out.push(Lexed {
                token: Token::Number(number),
                start,
                end,
            });
        } else if is_word_start(c) {
            let mut end = start;
            while let Some(&(i, d)) = chars.peek() {
                if is_word_char(d) {
                    end = i + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(Lexed {
                token: Token::Word(text[start..end].to_string()),
                start,
                end,
            });
        } else {
            return Err(FilterError::at(
                text,
                start,
                start + c.len_utf8(),
                format!("unexpected {c:?}"),
            ));
        }
    }
    Ok(out)
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Lexed>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Lexed> {
        self.tokens.get(self.pos)
    }

    fn error_here(&self, message: impl Into<String>) -> FilterError {
        match self.peek() {
            Some(t) => FilterError::at(self.text, t.start, t.end, message),
            None => FilterError::at(self.text, self.text.len(), self.text.len(), message),
        }
    }

    fn node(&mut self, depth: usize) -> Result<Node, FilterError> {
        if depth >= MAX_DEPTH {
            return Err(self.error_here(format!("nests deeper than {MAX_DEPTH} levels")));
        }
        let Some(lexed) = self.tokens.get(self.pos) else {
            return Err(self.error_here("the filter ends here: expected a value or a call"));
        };
        let (start, end) = (lexed.start, lexed.end);
        let token = lexed.token.clone();
        self.pos += 1;
        let kind = match token {
            Token::Text(s) => NodeKind::Text(s),
            Token::Number(n) => NodeKind::Number(n),
            Token::Word(w) if self.peek().map(|t| &t.token) == Some(&Token::Open) => {
                self.pos += 1;
                let (args, close) = self.items(depth, Token::Close, &format!("{w}(...)"))?;
                return Ok(Node {
                    kind: NodeKind::Call(w, args),
                    start,
                    end: close,
                });
            }
            Token::Word(w) => match w.as_str() {
                "null" | "None" | "NULL" => NodeKind::Null,
                "true" | "True" => NodeKind::Bool(true),
                "false" | "False" => NodeKind::Bool(false),
                _ => NodeKind::Ident(w),
            },
            Token::ListOpen => {
                let (items, close) = self.items(depth, Token::ListClose, "[...]")?;
                return Ok(Node {
                    kind: NodeKind::List(items),
                    start,
                    end: close,
                });
            }
            Token::Open | Token::Close | Token::Comma | Token::ListClose => {
                self.pos -= 1;
                return Err(self.error_here("expected a value, a field or a call here"));
            }
        };
        Ok(Node { kind, start, end })
    }

    /// Comma-separated items up to `close`; the byte offset after `close`.
    fn items(
        &mut self,
        depth: usize,
        close: Token,
        what: &str,
    ) -> Result<(Vec<Node>, usize), FilterError> {
        let mut items = Vec::new();
        if let Some(t) = self.peek().filter(|t| t.token == close) {
            let end = t.end;
            self.pos += 1;
            return Ok((items, end));
        }
        loop {
            items.push(self.node(depth + 1)?);
            match self.peek() {
                Some(t) if t.token == Token::Comma => self.pos += 1,
                Some(t) if t.token == close => {
                    let end = t.end;
                    self.pos += 1;
                    return Ok((items, end));
                }
                _ => {
                    let closer = if close == Token::Close { ')' } else { ']' };
                    return Err(self.error_here(format!("expected ',' or '{closer}' in {what}")));
                }
            }
        }
    }
}

/// Parses a filter's text into its tree (any names; `lower` checks them).
pub fn parse_tree(text: &str) -> Result<Node, FilterError> {
    let tokens = lex(text)?;
    let mut parser = Parser {
        text,
        tokens,
        pos: 0,
    };
    let node = parser.node(0)?;
    if parser.pos != parser.tokens.len() {
        return Err(parser.error_here("unexpected text after the expression"));
    }
    Ok(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_lists_and_literals_parse_with_their_positions() {
        let node =
            parse_tree(r#"and(eq(name, "a b"), in(x, [1, -2.5e1, 'q']), eq(e, null))"#).unwrap();
        let NodeKind::Call(f, args) = &node.kind else {
            panic!("{node:?}")
        };
        assert_eq!(f, "and");
        assert_eq!(args.len(), 3);
        assert_eq!((args[0].start, args[0].end), (4, 19));
        let NodeKind::Call(_, inner) = &args[1].kind else {
            panic!()
        };
        assert_eq!(
            inner[1].kind,
            NodeKind::List(vec![
                Node {
                    kind: NodeKind::Number(1.0),
                    start: 28,
                    end: 29
                },
                Node {
                    kind: NodeKind::Number(-25.0),
                    start: 31,
                    end: 37
                },
                Node {
                    kind: NodeKind::Text("q".into()),
                    start: 39,
                    end: 42
                },
            ])
        );
    }

    #[test]
    fn errors_point_at_where_the_text_goes_wrong() {
        let e = parse_tree(r#"eq(name, "x""#).unwrap_err();
        assert_eq!(e.offset, 12);
        assert!(e.message.contains("expected ',' or ')'"), "{e}");
        let e = parse_tree(r#"eq(name, "x) "#).unwrap_err();
        assert_eq!(e.offset, 9);
        let e = parse_tree("eq(a, 1) eq(b, 2)").unwrap_err();
        assert_eq!(e.offset, 9);
        let e = parse_tree("eq(é, §)").unwrap_err();
        assert_eq!((e.offset, e.char_offset), (7, 6));
        let deep = "not(".repeat(100) + &")".repeat(100);
        assert!(parse_tree(&deep).is_err());
    }
}
