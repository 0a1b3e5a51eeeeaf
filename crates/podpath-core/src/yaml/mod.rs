//! The located document model: one YAML (or JSON) document parsed once into
//! a tree whose every node knows its line and column.
//!
//! Everything that reads a manifest reads this tree: the loader takes
//! `apiVersion` and `kind` from it, [`de`] types it into the Kubernetes
//! objects through one serde deserializer, and a diagnostic that names a
//! field (`spec.ports[0].port`) is moved to that field's place with
//! [`Node::find`]. Scalars keep their text and whether they were quoted;
//! what a plain scalar means (null, a boolean, a number, a string) is
//! resolved when it is read, by the YAML 1.2 core schema.
//!
//! The parser is saphyr's (pure Rust, YAML 1.2, spans on every event); the
//! tree and the limits that keep the page responsive are ours.

pub mod de;
pub mod emit;

use std::fmt;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span};

/// A place in a document's text: 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mark {
    pub line: u32,
    pub column: u32,
}

impl Mark {
    fn of(span: &Span) -> Mark {
        Mark { line: span.start.line() as u32, column: span.start.col() as u32 + 1 }
    }
}

/// One node of a document, with where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub mark: Mark,
    pub kind: Kind,
}

/// What a node holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    /// Entries in document order; the key keeps its own place, which is
    /// where a diagnostic about the field points.
    Map(Vec<(Node, Node)>),
}

/// A scalar as written, with how it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    pub text: String,
    /// Plain scalars are resolved by the core schema; quoted and block
    /// scalars, and those tagged `!!str`, are always strings.
    pub style: Style,
}

/// Whether a scalar's text is to be resolved, and to what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    /// Quoted, block or `!!str`: a string whatever it looks like.
    Str,
    /// Tagged `!!int`, `!!bool`, `!!float` or `!!null`: resolved as plain
    /// text is, the tag only documents it.
    Tagged,
}

/// What a plain scalar is, by the YAML 1.2 core schema (as serde_yaml,
/// PyYAML's safe loader in 1.2 mode and Go's yaml.v3 read it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Resolved<'a> {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer above `i64::MAX`.
    Uint(u64),
    Float(f64),
    Str(&'a str),
}

impl Scalar {
    /// The scalar's value.
    pub fn resolve(&self) -> Resolved<'_> {
        if self.style == Style::Str {
            return Resolved::Str(&self.text);
        }
        resolve_plain(&self.text)
    }
}

fn resolve_plain(text: &str) -> Resolved<'_> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "true" | "True" | "TRUE" => return Resolved::Bool(true),
        "false" | "False" | "FALSE" => return Resolved::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Resolved::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        _ => {}
    }
    let (negative, digits) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let radix = |prefix: &str, radix: u32| {
        let rest = digits.strip_prefix(prefix)?;
        if rest.is_empty() || negative || text.starts_with('+') {
            return None;
        }
        u64::from_str_radix(rest, radix).ok()
    };
    if let Some(n) = radix("0x", 16).or_else(|| radix("0o", 8)) {
        return int(n, false);
    }
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(n) = digits.parse::<u64>() {
            return int(n, negative);
        }
        // Too long for 64 bits: YAML still calls it a number.
        if let Ok(f) = text.parse::<f64>() {
            return Resolved::Float(f);
        }
    }
    if is_float(digits) {
        if let Ok(f) = text.parse::<f64>() {
            return Resolved::Float(f);
        }
    }
    Resolved::Str(text)
}

fn int(n: u64, negative: bool) -> Resolved<'static> {
    match (negative, i64::try_from(n)) {
        (false, Ok(i)) => Resolved::Int(i),
        (false, Err(_)) => Resolved::Uint(n),
        (true, _) if n <= i64::MAX as u64 + 1 => Resolved::Int((n as i128).wrapping_neg() as i64),
        (true, _) => Resolved::Float(-(n as f64)),
    }
}

/// `( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`, the
/// core schema's float without its sign.
fn is_float(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    let mut i = 0;
    let whole = digits(&mut i);
    let mut frac = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        frac = digits(&mut i);
    }
    if whole == 0 && frac == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

impl Node {
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            Kind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            Kind::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The text of a scalar that reads as a string (not null, a number or
    /// a boolean).
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar(s) => match s.resolve() {
                Resolved::Str(t) => Some(t),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar(s) if s.resolve() == Resolved::Null)
    }

    /// The entry of a mapping whose key is `key`: the key node and the value.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(k, v)| (k, v))
    }

    /// The value under `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// Where the field a path names is written: `spec.ports[0].port` is
    /// the key `port` of the first item of `spec.ports`. A path that runs
    /// past what is written (a defaulted field, `ports[]` without an index)
    /// stops at the deepest place that exists, so a diagnostic lands on
    /// the nearest line the user wrote.
    pub fn find(&self, path: &str) -> Mark {
        let mut node = self;
        let mut mark = self.mark;
        for seg in segments(path) {
            let next = match seg {
                Seg::Key(k) => node.entry(k).map(|(key, value)| (key.mark, value)),
                Seg::Index(i) => node.as_seq().and_then(|items| items.get(i)).map(|n| (n.mark, n)),
                Seg::Any => None,
            };
            let Some((at, child)) = next else { break };
            mark = at;
            node = child;
        }
        mark
    }

    /// What the node is, in words, for messages.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            Kind::Seq(_) => "a sequence",
            Kind::Map(_) => "a mapping",
            Kind::Scalar(s) => match s.resolve() {
                Resolved::Null => "nothing",
                Resolved::Bool(_) => "a boolean",
                Resolved::Int(_) | Resolved::Uint(_) | Resolved::Float(_) => "a number",
                Resolved::Str(_) => "a string",
            },
        }
    }
}

/// One step of a field path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
    /// `[]`: some item, the API server's way of not saying which.
    Any,
}

fn segments(path: &str) -> impl Iterator<Item = Seg<'_>> {
    path.split('.').filter(|p| !p.is_empty()).flat_map(|part| {
        let (key, rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        let key = (!key.is_empty()).then_some(Seg::Key(key));
        let indexes = rest
            .split('[')
            .filter(|r| !r.is_empty())
            .map(|r| r.trim_end_matches(']').parse().map_or(Seg::Any, Seg::Index));
        key.into_iter().chain(indexes)
    })
}

/// Why a document could not be parsed, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub mark: Mark,
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The deepest nesting read: deeper input is refused, not walked.
pub const MAX_DEPTH: usize = 128;

/// How many nodes aliases may add to a document beyond those written, at
/// least; past it (a "billion laughs" of anchors) the document is refused.
const MIN_ALIAS_BUDGET: usize = 10_000;

/// Parses one YAML document (the text of one `---` section; a JSON text is
/// YAML). An empty document is a null scalar. Lines are counted from
/// `first_line`, the document's line in its file.
pub fn parse(text: &str, first_line: u32) -> Result<Node, Error> {
    let shift = |m: Mark| Mark { line: m.line + first_line - 1, ..m };
    if let Some(e) = control_character(text) {
        return Err(Error { mark: shift(e.mark), ..e });
    }
    let mut builder = Builder::new(text.len());
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| scan_error(&e, first_line))?;
        builder.event(event, &span).map_err(|e| Error { mark: shift(e.mark), ..e })?;
        if builder.documents > 1 {
            return Err(Error {
                mark: shift(Mark::of(&span)),
                message: "more than one document in a section; separate documents with a `---` line".into(),
            });
        }
    }
    let mut root = builder.root.unwrap_or(Node {
        mark: Mark { line: 1, column: 1 },
        kind: Kind::Scalar(Scalar { text: String::new(), style: Style::Plain }),
    });
    shift_all(&mut root, first_line - 1);
    Ok(root)
}

fn shift_all(node: &mut Node, by: u32) {
    node.mark.line += by;
    match &mut node.kind {
        Kind::Scalar(_) => {}
        Kind::Seq(items) => items.iter_mut().for_each(|n| shift_all(n, by)),
        Kind::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            shift_all(k, by);
            shift_all(v, by);
        }),
    }
}

fn scan_error(e: &ScanError, first_line: u32) -> Error {
    let m = e.marker();
    Error {
        mark: Mark { line: m.line() as u32 + first_line - 1, column: m.col() as u32 + 1 },
        message: e.info().to_owned(),
    }
}

/// YAML text may hold no C0 control character but tab, newline and
/// carriage return, nor DEL (YAML 1.2 §5.1, the printable set).
fn control_character(text: &str) -> Option<Error> {
    let (index, _) = text.char_indices().find(|(_, c)| {
        let c = *c as u32;
        (c < 0x20 && !matches!(c, 0x09 | 0x0a | 0x0d)) || c == 0x7f || (0x80..0xa0).contains(&c) && c != 0x85
    })?;
    let before = &text[..index];
    let line = before.matches('\n').count() as u32 + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
    Some(Error {
        mark: Mark { line, column },
        message: format!("control characters are not allowed at position {}", before.chars().count()),
    })
}

/// Builds the tree from the parser's events.
struct Builder {
    stack: Vec<Open>,
    anchors: Vec<(usize, Node)>,
    root: Option<Node>,
    documents: usize,
    alias_budget: usize,
}

/// A collection being filled, and a mapping's key waiting for its value.
struct Open {
    node: Node,
    anchor: usize,
    key: Option<Node>,
}

impl Builder {
    fn new(text_len: usize) -> Self {
        Builder {
            stack: Vec::new(),
            anchors: Vec::new(),
            root: None,
            documents: 0,
            alias_budget: MIN_ALIAS_BUDGET.max(text_len * 4),
        }
    }

    fn event(&mut self, event: Event<'_>, span: &Span) -> Result<(), Error> {
        let mark = Mark::of(span);
        match event {
            Event::DocumentStart(_) => self.documents += 1,
            Event::Scalar(text, style, anchor, tag) => {
                let style = match (style, tag.as_deref()) {
                    (_, Some(t)) if core_tag(t) == Some("str") => Style::Str,
                    (ScalarStyle::Plain, Some(t)) if core_tag(t).is_some() => Style::Tagged,
                    (ScalarStyle::Plain, _) => Style::Plain,
                    _ => Style::Str,
                };
                let node = Node { mark, kind: Kind::Scalar(Scalar { text: text.into_owned(), style }) };
                self.close(node, anchor)?;
            }
            Event::SequenceStart(anchor, _) => self.open(Node { mark, kind: Kind::Seq(Vec::new()) }, anchor)?,
            Event::MappingStart(anchor, _) => self.open(Node { mark, kind: Kind::Map(Vec::new()) }, anchor)?,
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(open) = self.stack.pop() {
                    self.close(open.node, open.anchor)?;
                }
            }
            Event::Alias(id) => {
                let Some((_, node)) = self.anchors.iter().rev().find(|(a, _)| *a == id) else {
                    return Err(Error { mark, message: "unknown anchor".into() });
                };
                let size = count(node);
                if size > self.alias_budget {
                    return Err(Error { mark, message: "repetition limit exceeded".into() });
                }
                self.alias_budget -= size;
                let node = Node { mark, ..node.clone() };
                self.close(node, 0)?;
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
        Ok(())
    }

    fn open(&mut self, node: Node, anchor: usize) -> Result<(), Error> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(Error { mark: node.mark, message: "recursion limit exceeded".into() });
        }
        self.stack.push(Open { node, anchor, key: None });
        Ok(())
    }

    /// A finished node: the value of the collection it is in, or the root.
    fn close(&mut self, node: Node, anchor: usize) -> Result<(), Error> {
        if anchor != 0 {
            self.anchors.push((anchor, node.clone()));
        }
        let Some(parent) = self.stack.last_mut() else {
            self.root = Some(node);
            return Ok(());
        };
        match &mut parent.node.kind {
            Kind::Seq(items) => items.push(node),
            Kind::Map(entries) => match parent.key.take() {
                None => parent.key = Some(node),
                Some(key) => entries.push((key, node)),
            },
            Kind::Scalar(_) => unreachable!("only collections are opened"),
        }
        Ok(())
    }
}

fn count(node: &Node) -> usize {
    match &node.kind {
        Kind::Scalar(_) => 1,
        Kind::Seq(items) => 1 + items.iter().map(count).sum::<usize>(),
        Kind::Map(entries) => 1 + entries.iter().map(|(k, v)| count(k) + count(v)).sum::<usize>(),
    }
}

/// The suffix of a tag of the core schema (`!!str` → `str`).
fn core_tag(tag: &saphyr_parser::Tag) -> Option<&str> {
    let core = tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!";
    (core && matches!(tag.suffix.as_str(), "str" | "int" | "bool" | "float" | "null")).then_some(tag.suffix.as_str())
}

#[cfg(test)]
mod tests;
