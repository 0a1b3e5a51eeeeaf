//! YAML as `kubectl get -o yaml` prints it.
//!
//! kubectl turns an object into JSON and the JSON into YAML with
//! sigs.k8s.io/yaml, whose encoder is a fork of go-yaml v2 (gopkg.in/yaml.v2,
//! a port of libyaml's emitter). What follows its rules, with the file each
//! comes from:
//! - `encode.go` (`stringv`): a string goes plain when, read back plain, it
//!   would still be a string (not null, a boolean of YAML 1.1, a number, a
//!   timestamp, a merge key or a base-60 float); a string with a line
//!   break goes as a literal block; anything else double-quoted;
//! - `emitterc.go` (`yaml_emitter_analyze_scalar`,
//!   `yaml_emitter_select_scalar_style`): plain text that starts with an
//!   indicator, holds `: ` or ` #`, or has space at an end is single-quoted
//!   instead; text with a tab or another unprintable character, or a space
//!   next to a line break, is double-quoted with escapes;
//! - `sorter.go` (`keyList.Less`): mapping keys in natural order, digits by
//!   value (`a9` before `a10`), other characters before letters;
//! - the emitter's defaults: two-space indentation, a sequence inside a
//!   mapping not indented, `{}` and `[]` for empty collections, and lines
//!   folded at 80 columns: a value's plain or quoted text breaks at the
//!   first space past column 80 and goes on two columns in (yaml.v2 2.4
//!   went back to folding; sigs.k8s.io/yaml#68 and #116 show it in
//!   kubectl's encoder).

use serde_json::{Map, Value};

/// The document for `value`, ending with a newline.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => block_map(&mut out, map, 0, false),
        Value::Array(items) if !items.is_empty() => block_seq(&mut out, items, 0, false),
        Value::String(s) => string_value(&mut out, s, 0),
        other => {
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
    out
}

/// A mapping's entries at `indent`; with `inline`, the first starts where
/// the cursor is (after a sequence's `- `).
fn block_map(out: &mut String, map: &Map<String, Value>, indent: usize, inline: bool) {
    let mut keys: Vec<&String> = map.keys().collect();
    crate::order::sort_by(&mut keys, |a, b| natural_order(a, b));
    for (i, key) in keys.into_iter().enumerate() {
        if i > 0 || !inline {
            pad(out, indent);
        }
        scalar(out, key, style_of(key, true), None);
        out.push(':');
        value_after(out, &map[key.as_str()], indent, true);
    }
}

/// A sequence's items at `indent`, each `- `; with `inline`, the first
/// starts where the cursor is.
fn block_seq(out: &mut String, items: &[Value], indent: usize, inline: bool) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !inline {
            pad(out, indent);
        }
        out.push('-');
        value_after(out, item, indent, false);
    }
}

/// What follows `key:` or `-`: a nested block on the next lines, the first
/// entry of a mapping or sequence item on the same line, or a scalar.
fn value_after(out: &mut String, value: &Value, indent: usize, in_map: bool) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            if in_map {
                out.push('\n');
                block_map(out, map, indent + 2, false);
            } else {
                out.push(' ');
                block_map(out, map, indent + 2, true);
            }
        }
        // go-yaml does not indent a sequence that is a mapping's value.
        Value::Array(items) if !items.is_empty() => {
            if in_map {
                out.push('\n');
                block_seq(out, items, indent, false);
            } else {
                out.push(' ');
                block_seq(out, items, indent + 2, true);
            }
        }
        Value::String(s) => {
            out.push(' ');
            string_value(out, s, indent + 2);
        }
        other => {
            out.push(' ');
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

/// The longest line the emitter writes before it folds (`best_width`).
const WIDTH: usize = 80;

/// A string value and its line's end: a literal block, or one scalar
/// whose continuation lines (if it folds) start at `indent`.
fn string_value(out: &mut String, s: &str, indent: usize) {
    match style_of(s, false) {
        Style::Literal => literal(out, s, indent),
        style => {
            scalar(out, s, style, Some(indent));
            out.push('\n');
        }
    }
}

/// A scalar in a flow style, written as libyaml's writers write it
/// (`yaml_emitter_write_plain_scalar` and the quoted ones). With a
/// continuation `indent` it folds: at a space, once the line is past
/// `WIDTH` columns, a break and `indent` spaces stand for it. Keys (`None`)
/// never fold.
fn scalar(out: &mut String, s: &str, style: Style, fold: Option<usize>) {
    let mut column = out.rsplit('\n').next().map_or(0, |line| line.chars().count());
    let (breaks, indent) = (fold.is_some(), fold.unwrap_or(0));
    let chars: Vec<char> = s.chars().collect();
    let put = |out: &mut String, text: &str, column: &mut usize| {
        out.push_str(text);
        *column += text.chars().count();
    };
    match style {
        Style::Plain | Style::Single => {
            let single = style == Style::Single;
            if single {
                put(out, "'", &mut column);
            }
            let mut spaces = false;
            for (i, &c) in chars.iter().enumerate() {
                if c == ' ' {
                    let next_is_space = chars.get(i + 1) == Some(&' ');
                    let inside = !single || (i > 0 && i + 1 < chars.len());
                    if breaks && !spaces && column > WIDTH && !next_is_space && inside {
                        out.push('\n');
                        pad(out, indent);
                        column = indent;
                    } else {
                        put(out, " ", &mut column);
                    }
                    spaces = true;
                } else {
                    let mut buf = [0u8; 4];
                    put(out, if single && c == '\'' { "''" } else { c.encode_utf8(&mut buf) }, &mut column);
                    spaces = false;
                }
            }
            if single {
                put(out, "'", &mut column);
            }
        }
        Style::Double => {
            put(out, "\"", &mut column);
            let mut spaces = false;
            for (i, &c) in chars.iter().enumerate() {
                if breaks && c == ' ' && !spaces && column > WIDTH && i > 0 && i + 1 < chars.len() {
                    out.push('\n');
                    pad(out, indent);
                    column = indent;
                    if chars[i + 1] == ' ' {
                        put(out, "\\", &mut column);
                    }
                    spaces = true;
                    continue;
                }
                let text = escaped(c);
                spaces = c == ' ';
                put(out, &text, &mut column);
            }
            put(out, "\"", &mut column);
        }
        Style::Literal => unreachable!("literal blocks are written by `literal`"),
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// A value that is not a string on one line: a scalar, `{}` or `[]`.
fn inline(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) => float(f),
            _ => n.to_string(),
        },
        Value::String(s) => s.clone(),
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)` as yaml.v2's `floatv` writes
/// it: the shortest digits, in exponent form below 1e-4 or from 1e6 up
/// (for the shortest form Go decides with a precision of 6: `1e+06`).
fn float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        format!("{f}")
    }
}

/// The style go-yaml picks for a string (a key is a simple key: on one
/// line, never a block).
fn style_of(s: &str, key: bool) -> Style {
    let a = Analysis::of(s);
    if s.contains('\n') {
        return if a.block_allowed && !key { Style::Literal } else { Style::Double };
    }
    let plain = resolves_to_str(s) && !is_base60_float(s);
    let mut style = if plain { Style::Plain } else { Style::Double };
    if style == Style::Plain && (!a.block_plain_allowed || (s.is_empty() && key)) {
        style = Style::Single;
    }
    if style == Style::Single && !a.single_quoted_allowed {
        style = Style::Double;
    }
    style
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
    /// `|`: written unless a line ends in a space or holds a character
    /// that must be escaped (`block_allowed`).
    Literal,
}

/// `|`, `|-` or `|+` (and `2` when the text starts with a space or a
/// break), then each line at `indent`; empty lines stay empty.
fn literal(out: &mut String, s: &str, indent: usize) {
    out.push('|');
    if s.starts_with([' ', '\n']) {
        out.push('2');
    }
    if !s.ends_with('\n') {
        out.push('-');
    } else if s == "\n" || s.ends_with("\n\n") {
        out.push('+');
    }
    out.push('\n');
    for piece in s.split_inclusive('\n') {
        if piece != "\n" {
            pad(out, indent);
        }
        out.push_str(piece);
    }
    if !s.ends_with('\n') {
        out.push('\n');
    }
}

/// One character as a double-quoted scalar holds it.
fn escaped(c: char) -> String {
    let named = match c {
        '\0' => "\\0",
        '\u{7}' => "\\a",
        '\u{8}' => "\\b",
        '\t' => "\\t",
        '\n' => "\\n",
        '\u{b}' => "\\v",
        '\u{c}' => "\\f",
        '\r' => "\\r",
        '\u{1b}' => "\\e",
        '"' => "\\\"",
        '\\' => "\\\\",
        '\u{85}' => "\\N",
        '\u{2028}' => "\\L",
        '\u{2029}' => "\\P",
        _ if printable(c) && c != '\u{feff}' => return c.to_string(),
        _ => {
            let n = c as u32;
            return match n {
                0..=0xff => format!("\\x{n:02X}"),
                0x100..=0xffff => format!("\\u{n:04X}"),
                _ => format!("\\U{n:08X}"),
            };
        }
    };
    named.to_owned()
}

/// go-yaml's `is_printable`: newline, ASCII from space to `~`, and the
/// Basic Multilingual Plane from U+00A0 except surrogates, U+FEFF and
/// U+FFFE/U+FFFF. Tabs and characters beyond the BMP are not.
fn printable(c: char) -> bool {
    let n = c as u32;
    n == 0x0a
        || (0x20..=0x7e).contains(&n)
        || (0xa0..=0xd7ff).contains(&n)
        || ((0xe000..=0xfffd).contains(&n) && n != 0xfeff)
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank(c: Option<char>) -> bool {
    c.is_none_or(|c| c == ' ' || c == '\t' || is_break(c))
}

/// What `yaml_emitter_analyze_scalar` finds in a scalar (the block-context
/// answers; podpath never writes flow style).
struct Analysis {
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

impl Analysis {
    fn of(s: &str) -> Analysis {
        if s.is_empty() {
            return Analysis { block_plain_allowed: true, single_quoted_allowed: true, block_allowed: false };
        }
        let chars: Vec<char> = s.chars().collect();
        let mut block_indicators = s.starts_with("---") || s.starts_with("...");
        let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
            (false, false, false, false);
        let (mut break_space, mut space_break, mut special, mut line_breaks) = (false, false, false, false);
        let (mut previous_space, mut previous_break) = (false, false);
        let mut preceded_by_whitespace = true;
        for (i, &c) in chars.iter().enumerate() {
            let first = i == 0;
            let last = i + 1 == chars.len();
            let followed_by_whitespace = is_blank(chars.get(i + 1).copied());
            if first {
                match c {
                    '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%' | '@' | '`' => {
                        block_indicators = true
                    }
                    '?' | ':' | '-' if followed_by_whitespace => block_indicators = true,
                    _ => {}
                }
            } else {
                match c {
                    ':' if followed_by_whitespace => block_indicators = true,
                    '#' if preceded_by_whitespace => block_indicators = true,
                    _ => {}
                }
            }
            if !printable(c) || c == '\u{feff}' {
                special = true;
            }
            if c == ' ' {
                leading_space |= first;
                trailing_space |= last;
                break_space |= previous_break;
                previous_space = true;
                previous_break = false;
            } else if is_break(c) {
                line_breaks = true;
                leading_break |= first;
                trailing_break |= last;
                space_break |= previous_space;
                previous_space = false;
                previous_break = true;
            } else {
                previous_space = false;
                previous_break = false;
            }
            preceded_by_whitespace = is_blank(Some(c));
        }
        let mut a = Analysis { block_plain_allowed: true, single_quoted_allowed: true, block_allowed: true };
        if leading_space || leading_break || trailing_space || trailing_break {
            a.block_plain_allowed = false;
        }
        if trailing_space {
            a.block_allowed = false;
        }
        if break_space {
            a.block_plain_allowed = false;
            a.single_quoted_allowed = false;
        }
        if space_break || special {
            a.block_plain_allowed = false;
            a.single_quoted_allowed = false;
            a.block_allowed = false;
        }
        if line_breaks || block_indicators {
            a.block_plain_allowed = false;
        }
        a
    }
}

/// Whether go-yaml v2's `resolve` reads the text, written plain, as a
/// string (`resolve.go`: the resolve table and map, then numbers and
/// timestamps for text that starts with a digit or a sign).
fn resolves_to_str(s: &str) -> bool {
    const SPECIAL: &[&str] = &[
        "", "~", "null", "Null", "NULL", "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True",
        "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", ".nan", ".NaN", ".NAN", ".inf",
        ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", "<<",
    ];
    if SPECIAL.contains(&s) {
        return false;
    }
    match s.as_bytes()[0] {
        b'.' => !dot_float(s),
        b'+' | b'-' | b'0'..=b'9' => {
            let plain = s.replace('_', "");
            !(timestamp(s) || go_int(&plain) || yaml_float(&plain) || binary(&plain))
        }
        _ => true,
    }
}

/// Go's `strconv.ParseFloat` on text that starts with `.`: `.5`, `.5e3`.
fn dot_float(s: &str) -> bool {
    let rest = &s[1..];
    let (digits, exp) = rest.split_once(['e', 'E']).map_or((rest, None), |(d, e)| (d, Some(e)));
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && exp_ok
}

/// Go's `strconv.ParseInt(s, 0, 64)` or `ParseUint`: a sign, then `0x`,
/// `0o` or `0b` and digits of that base, a leading `0` and octal digits,
/// or decimal digits, within 64 bits.
fn go_int(s: &str) -> bool {
    let (negative, body) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    let Ok(n) = u64::from_str_radix(digits, radix) else { return false };
    !digits.starts_with(['+', '-']) && (!negative || n <= i64::MAX as u64 + 1)
}

/// yaml.v2's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn yaml_float(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (number, exp) = s.split_once(['e', 'E']).map_or((s, None), |(n, e)| (n, Some(e)));
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let number_ok = match number.split_once('.') {
        Some(("", frac)) => !frac.is_empty() && digits(frac),
        Some((whole, frac)) => !whole.is_empty() && digits(whole) && digits(frac),
        None => !number.is_empty() && digits(number),
    };
    number_ok && exp_ok
}

/// yaml.v2's binary integers (`0b1010`, `-0b1010`), read after `ParseInt`.
fn binary(s: &str) -> bool {
    let body = s.strip_prefix("-0b").or_else(|| s.strip_prefix("0b"));
    body.is_some_and(|b| !b.is_empty() && u64::from_str_radix(b, 2).is_ok())
}

/// yaml.v2's `isBase60Float`: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
fn is_base60_float(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (main, frac) = s.split_once('.').map_or((s, None), |(m, f)| (m, Some(f)));
    if frac.is_some_and(|f| !f.bytes().all(|b| b.is_ascii_digit() || b == b'_')) {
        return false;
    }
    let mut parts = main.split(':');
    let head = parts.next().unwrap_or("");
    if !head.starts_with(|c: char| c.is_ascii_digit()) || !head.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        return false;
    }
    let rest: Vec<&str> = parts.collect();
    !rest.is_empty()
        && rest.iter().all(|p| {
            let b = p.as_bytes();
            match b.len() {
                1 => b[0].is_ascii_digit(),
                2 => (b'0'..=b'5').contains(&b[0]) && b[1].is_ascii_digit(),
                _ => false,
            }
        })
}

/// yaml.v2's `parseTimestamp`: four digits and `-` first, then one of its
/// layouts, `2006-1-2T15:4:5.999999999Z07:00` (or a lower-case `t`),
/// `2006-1-2 15:4:5.999999999` or `2006-1-2`, as Go's `time.Parse` reads
/// them (one- or two-digit fields, values in range).
fn timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let mut p = Cursor { s: b, at: 5 };
    let Some(month) = p.num() else { return false };
    if !p.eat(b'-') {
        return false;
    }
    let Some(day) = p.num() else { return false };
    let year: u32 = s[..4].parse().unwrap_or(0);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&month) || day < 1 || day > days[month as usize - 1] {
        return false;
    }
    if p.done() {
        return true;
    }
    let zoned = match b[p.at] {
        b'T' | b't' => true,
        b' ' => false,
        _ => return false,
    };
    p.at += 1;
    let (Some(h), true, Some(m), true, Some(sec)) = (p.num(), p.eat(b':'), p.num(), p.eat(b':'), p.num()) else {
        return false;
    };
    if h > 23 || m > 59 || sec > 59 {
        return false;
    }
    if p.eat(b'.') {
        let start = p.at;
        while !p.done() && b[p.at].is_ascii_digit() {
            p.at += 1;
        }
        if p.at == start {
            return false;
        }
    }
    if !zoned {
        return p.done();
    }
    if p.eat(b'Z') {
        return p.done();
    }
    if !(p.eat(b'+') || p.eat(b'-')) {
        return false;
    }
    let two = |p: &mut Cursor<'_>| {
        let ok = p.at + 2 <= b.len() && b[p.at..p.at + 2].iter().all(u8::is_ascii_digit);
        p.at += 2;
        ok
    };
    two(&mut p) && p.eat(b':') && two(&mut p) && p.done()
}

struct Cursor<'a> {
    s: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn done(&self) -> bool {
        self.at >= self.s.len()
    }

    fn eat(&mut self, c: u8) -> bool {
        let ok = self.s.get(self.at) == Some(&c);
        self.at += usize::from(ok);
        ok
    }

    /// One or two digits, as Go reads `1`, `2`, `15`, `4` and `5`.
    fn num(&mut self) -> Option<u32> {
        let start = self.at;
        while self.at < self.s.len() && self.at - start < 2 && self.s[self.at].is_ascii_digit() {
            self.at += 1;
        }
        std::str::from_utf8(&self.s[start..self.at]).ok()?.parse().ok()
    }
}

/// yaml.v2's `keyList.Less` for two string keys: equal runes skip; two
/// letters compare as runes; a letter sorts after anything else; runs of
/// digits compare by value, then by length.
fn natural_order(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let less = |a: &[char], b: &[char]| -> bool {
        for i in 0..a.len().min(b.len()) {
            if a[i] == b[i] {
                continue;
            }
            let (al, bl) = (a[i].is_alphabetic(), b[i].is_alphabetic());
            if al && bl {
                return a[i] < b[i];
            }
            if al || bl {
                return bl;
            }
            let (mut an, mut bn): (i64, i64) = (0, 0);
            if a[i] == '0' || b[i] == '0' {
                let mut j = i;
                while j > 0 && a[j - 1].is_ascii_digit() {
                    j -= 1;
                    if a[j] != '0' {
                        an = 1;
                        bn = 1;
                        break;
                    }
                }
            }
            let mut ai = i;
            while ai < a.len() && a[ai].is_ascii_digit() {
                an = an.wrapping_mul(10).wrapping_add(i64::from(a[ai] as u8 - b'0'));
                ai += 1;
            }
            let mut bi = i;
            while bi < b.len() && b[bi].is_ascii_digit() {
                bn = bn.wrapping_mul(10).wrapping_add(i64::from(b[bi] as u8 - b'0'));
                bi += 1;
            }
            if an != bn {
                return an < bn;
            }
            if ai != bi {
                return ai < bi;
            }
            return a[i] < b[i];
        }
        a.len() < b.len()
    };
    let (ac, bc): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if less(&ac, &bc) {
        Ordering::Less
    } else if less(&bc, &ac) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

#[cfg(test)]
mod tests;
