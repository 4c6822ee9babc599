//! A strict, pull-style JSON reader for TUF metadata.
//!
//! Why not serde_json: TUF signatures are computed over a re-serialization of the parsed
//! document, so anything a parser silently accepts and then drops or changes (a duplicate
//! key, `1.0` for `1`, an integer above 2^53 that go-tuf turns into a float) becomes a
//! signature that verifies in one client and not in another. This reader refuses all of
//! those, reports the JSON path of the problem, and lets the typed layer build its structs
//! directly from the bytes without an intermediate tree (a 48 MB `claimed` role stays small
//! in memory). Errors collect their path while unwinding, so the success path pays nothing.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

/// Largest integer every client reads exactly: go-tuf decodes unknown fields through
/// float64 (tuf-format.md §1.9), so anything beyond ±(2^53 - 1) may change under it.
pub const MAX_SAFE_INT: i64 = (1 << 53) - 1;

/// Nesting deeper than this is refused rather than risking the stack on hostile input.
const MAX_DEPTH: usize = 64;

/// A JSON value as kept for fields the typed model does not know (unknown fields are
/// signed, so they must survive a round trip exactly). Objects are sorted maps because
/// the only two encodings we write (canonical and python-tuf's pretty form) both sort keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Array(Vec<Value>),
    Object(BTreeMap<String, Value>),
}

/// Unknown fields of an object, in key order.
pub type Fields = BTreeMap<String, Value>;

/// One step of a JSON path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A JSON path such as `$.signed.delegations.roles[3].name`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JsonPath(pub Vec<Seg>);

impl JsonPath {
    pub fn root() -> Self {
        JsonPath(Vec::new())
    }
    pub fn key(mut self, k: impl Into<String>) -> Self {
        self.0.push(Seg::Key(k.into()));
        self
    }
    pub fn index(mut self, i: usize) -> Self {
        self.0.push(Seg::Index(i));
        self
    }
    /// Parses the textual form written by `Display` (keys made of `[A-Za-z0-9_-]` only use dots).
    pub fn parse(text: &str) -> Self {
        let mut p = JsonPath::root();
        let rest = text.strip_prefix('$').unwrap_or(text);
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '.' => {
                    let mut k = String::new();
                    while let Some(&n) = chars.peek() {
                        if n == '.' || n == '[' {
                            break;
                        }
                        k.push(n);
                        chars.next();
                    }
                    p.0.push(Seg::Key(k));
                }
                '[' => {
                    let mut inner = String::new();
                    for n in chars.by_ref() {
                        if n == ']' {
                            break;
                        }
                        inner.push(n);
                    }
                    match inner.parse::<usize>() {
                        Ok(i) => p.0.push(Seg::Index(i)),
                        Err(_) => p.0.push(Seg::Key(inner.trim_matches('"').to_string())),
                    }
                }
                _ => {}
            }
        }
        p
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("$")?;
        for s in &self.0 {
            match s {
                Seg::Key(k) if !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') => write!(f, ".{k}")?,
                Seg::Key(k) => write!(f, "[{k:?}]")?,
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// What is wrong, without where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonErrorKind {
    #[error("not valid UTF-8")]
    NotUtf8,
    #[error("JSON syntax error: {0}")]
    Syntax(String),
    #[error("duplicate object key {0:?} (clients disagree on which copy wins)")]
    DuplicateKey(String),
    #[error("floating-point number {0} (TUF canonical JSON has integers only)")]
    Float(String),
    #[error("integer {0} outside ±(2^53-1), which go-tuf cannot represent exactly")]
    IntegerOutOfRange(String),
    #[error("nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("expected {expected}, found {found}")]
    WrongType { expected: &'static str, found: &'static str },
    #[error("missing required field {0:?}")]
    MissingField(&'static str),
    #[error("unknown field {0:?} here would be dropped by tough, breaking its signature check")]
    UnsafeUnknownField(String),
    #[error("{0}")]
    Invalid(String),
}

/// A parse error with the JSON path and byte offset where it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    pub path: JsonPath,
    pub offset: Option<usize>,
    pub kind: JsonErrorKind,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at {}", self.path)?;
        if let Some(o) = self.offset {
            write!(f, " (byte {o})")?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl std::error::Error for JsonError {}

impl JsonError {
    pub fn new(kind: JsonErrorKind) -> Self {
        JsonError { path: JsonPath::root(), offset: None, kind }
    }
    pub fn invalid(msg: impl Into<String>) -> Self {
        Self::new(JsonErrorKind::Invalid(msg.into()))
    }
    /// Prepends a path segment while the error unwinds out of a container.
    fn within(mut self, seg: Seg) -> Self {
        self.path.0.insert(0, seg);
        self
    }
    pub fn within_key(self, key: &str) -> Self {
        self.within(Seg::Key(key.to_string()))
    }
    pub fn within_index(self, i: usize) -> Self {
        self.within(Seg::Index(i))
    }
}

pub type Result<T> = std::result::Result<T, JsonError>;

/// The kind of the next value, for type errors and dispatch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Bool => "a boolean",
            Kind::Number => "a number",
            Kind::String => "a string",
            Kind::Array => "an array",
            Kind::Object => "an object",
        }
    }
}

/// Pull reader over a complete document held in memory.
pub struct Reader<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    depth: usize,
    tap: Option<Tap<'a>>,
}

/// Canonical JSON written while a value is read (see [`Reader::start_tap`]).
///
/// Why: a signature covers the canonical form of `signed`. Producing those bytes from the
/// tokens as they are read, instead of re-encoding the finished model, lets a 48 MB role be
/// hashed on a second core while it is still being parsed. The bytes are the canonical
/// encoding of exactly the tokens the model is built from, so the two cannot disagree on
/// content; they can only disagree on member order, because canonical JSON sorts keys and a
/// file need not. The tap therefore checks at every object that the keys arrive in strictly
/// ascending order (every file python-tuf or this tool writes) and otherwise gives up: the
/// caller then encodes the model instead.
struct Tap<'a> {
    out: Vec<u8>,
    chunk: usize,
    /// Takes a full piece and returns an empty buffer to go on with (a recycled one: fresh
    /// megabyte buffers would each cost page faults).
    sink: Box<dyn FnMut(Vec<u8>) -> Vec<u8> + 'a>,
    /// Per open object: the previous key, to check the ascending order.
    last_keys: Vec<Option<Cow<'a, str>>>,
    /// Per open container: whether a member or element was written (for the comma).
    started: Vec<bool>,
    /// Cleared for good at the first member out of order.
    sorted: bool,
    /// A key and its colon were just written: the value that follows takes no comma.
    after_key: bool,
}

impl Tap<'_> {
    /// Before a value: the comma that separates it from the previous array element.
    #[inline]
    fn element(&mut self) {
        if std::mem::take(&mut self.after_key) {
            return;
        }
        if let Some(started) = self.started.last_mut() {
            if *started {
                self.out.push(b',');
            }
            *started = true;
        }
    }

    fn open(&mut self, byte: u8, object: bool) {
        self.out.push(byte);
        self.started.push(false);
        if object {
            self.last_keys.push(None);
        }
    }

    fn close(&mut self, byte: u8, object: bool) {
        self.out.push(byte);
        self.started.pop();
        if object {
            self.last_keys.pop();
        }
    }

    fn flush_if_full(&mut self) {
        if self.out.len() >= self.chunk {
            let full = std::mem::take(&mut self.out);
            self.out = (self.sink)(full);
            self.out.clear();
        }
    }
}

impl<'a> Reader<'a> {
    /// Validates UTF-8 once up front so string slices need no further checks.
    pub fn new(bytes: &'a [u8]) -> Result<Self> {
        let text = std::str::from_utf8(bytes).map_err(|e| JsonError { path: JsonPath::root(), offset: Some(e.valid_up_to()), kind: JsonErrorKind::NotUtf8 })?;
        if text.starts_with('\u{feff}') {
            return Err(JsonError { path: JsonPath::root(), offset: Some(0), kind: JsonErrorKind::Syntax("byte-order mark before the document".into()) });
        }
        Ok(Reader { s: bytes, text, pos: 0, depth: 0, tap: None })
    }

    /// From the next value on, writes the canonical JSON of what is read and hands it to
    /// `sink` in pieces of at least `chunk` bytes, until [`Reader::end_tap`]. `sink` returns
    /// the buffer to fill next (its contents are discarded).
    pub fn start_tap(&mut self, chunk: usize, sink: Box<dyn FnMut(Vec<u8>) -> Vec<u8> + 'a>) {
        let chunk = chunk.max(1);
        self.tap =
            Some(Tap { out: Vec::with_capacity(chunk + chunk / 8), chunk, sink, last_keys: Vec::new(), started: Vec::new(), sorted: true, after_key: false });
    }

    /// Hands the last piece to the sink and says whether everything it was given is the
    /// canonical form of the value read (`false`: keys out of order somewhere; the pieces
    /// are then to be thrown away). `None` when no tap was started.
    pub fn end_tap(&mut self) -> Option<bool> {
        let mut tap = self.tap.take()?;
        if tap.sorted && !tap.out.is_empty() {
            (tap.sink)(std::mem::take(&mut tap.out));
        }
        Some(tap.sorted)
    }

    /// The tap, while it is producing canonical bytes.
    #[inline]
    fn live_tap(&mut self) -> Option<&mut Tap<'a>> {
        self.tap.as_mut().filter(|t| t.sorted)
    }

    fn err(&self, kind: JsonErrorKind) -> JsonError {
        JsonError { path: JsonPath::root(), offset: Some(self.pos), kind }
    }

    fn syntax(&self, msg: &str) -> JsonError {
        self.err(JsonErrorKind::Syntax(msg.to_string()))
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(&b) = self.s.get(self.pos) {
            if b == b' ' || b == b'\n' || b == b'\r' || b == b'\t' {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// Requires that nothing but whitespace follows the top-level value.
    pub fn finish(mut self) -> Result<()> {
        self.skip_ws();
        if self.pos != self.s.len() {
            return Err(self.syntax("trailing characters after the JSON document"));
        }
        Ok(())
    }

    pub fn peek_kind(&mut self) -> Result<Kind> {
        self.skip_ws();
        match self.s.get(self.pos) {
            None => Err(self.syntax("unexpected end of input")),
            Some(b'{') => Ok(Kind::Object),
            Some(b'[') => Ok(Kind::Array),
            Some(b'"') => Ok(Kind::String),
            Some(b't') | Some(b'f') => Ok(Kind::Bool),
            Some(b'n') => Ok(Kind::Null),
            Some(b'-') | Some(b'0'..=b'9') => Ok(Kind::Number),
            Some(_) => Err(self.syntax("expected a JSON value")),
        }
    }

    fn expect_kind(&mut self, want: Kind) -> Result<()> {
        let got = self.peek_kind()?;
        if got != want {
            return Err(self.err(JsonErrorKind::WrongType { expected: want.name(), found: got.name() }));
        }
        Ok(())
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(JsonErrorKind::TooDeep));
        }
        Ok(())
    }

    /// Reads an object, calling `f` once per member with the reader positioned at its value.
    /// `f` must consume the value. Duplicate detection is the caller's job (a struct checks
    /// its slots, a map checks its insert), which keeps large maps from paying twice.
    pub fn object(&mut self, mut f: impl FnMut(&mut Self, Cow<'a, str>) -> Result<()>) -> Result<()> {
        self.expect_kind(Kind::Object)?;
        self.enter()?;
        if let Some(t) = self.live_tap() {
            t.element();
            t.open(b'{', true);
        }
        self.pos += 1;
        self.skip_ws();
        if self.s.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            self.depth -= 1;
            if let Some(t) = self.live_tap() {
                t.close(b'}', true);
            }
            return Ok(());
        }
        loop {
            self.skip_ws();
            if self.s.get(self.pos) != Some(&b'"') {
                return Err(self.syntax("expected a string object key"));
            }
            let key = self.str_raw()?;
            self.skip_ws();
            if self.s.get(self.pos) != Some(&b':') {
                return Err(self.syntax("expected ':' after object key"));
            }
            self.pos += 1;
            if let Some(t) = self.live_tap() {
                tap_key(t, &key);
            }
            let key_for_err = key.clone();
            f(self, key).map_err(|e| e.within_key(&key_for_err))?;
            if let Some(t) = self.live_tap() {
                t.flush_if_full();
            }
            self.skip_ws();
            match self.s.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    self.depth -= 1;
                    if let Some(t) = self.live_tap() {
                        t.close(b'}', true);
                    }
                    return Ok(());
                }
                _ => return Err(self.syntax("expected ',' or '}' in object")),
            }
        }
    }

    /// Reads an array, calling `f` once per element with its index.
    pub fn array(&mut self, mut f: impl FnMut(&mut Self, usize) -> Result<()>) -> Result<()> {
        self.expect_kind(Kind::Array)?;
        self.enter()?;
        if let Some(t) = self.live_tap() {
            t.element();
            t.open(b'[', false);
        }
        self.pos += 1;
        self.skip_ws();
        if self.s.get(self.pos) == Some(&b']') {
            self.pos += 1;
            self.depth -= 1;
            if let Some(t) = self.live_tap() {
                t.close(b']', false);
            }
            return Ok(());
        }
        let mut i = 0;
        loop {
            f(self, i).map_err(|e| e.within_index(i))?;
            if let Some(t) = self.live_tap() {
                t.flush_if_full();
            }
            i += 1;
            self.skip_ws();
            match self.s.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    self.depth -= 1;
                    if let Some(t) = self.live_tap() {
                        t.close(b']', false);
                    }
                    return Ok(());
                }
                _ => return Err(self.syntax("expected ',' or ']' in array")),
            }
        }
    }

    /// Reads a string, borrowing from the input when it has no escapes.
    pub fn str(&mut self) -> Result<Cow<'a, str>> {
        self.expect_kind(Kind::String)?;
        let v = self.str_raw()?;
        if let Some(t) = self.live_tap() {
            t.element();
            tap_str(&mut t.out, &v);
        }
        Ok(v)
    }

    pub fn string(&mut self) -> Result<String> {
        Ok(self.str()?.into_owned())
    }

    fn str_raw(&mut self) -> Result<Cow<'a, str>> {
        debug_assert_eq!(self.s[self.pos], b'"');
        self.pos += 1;
        let start = self.pos;
        // Skip 8 bytes at a time while none is '"', '\\' or a control character (most of a
        // metadata file is hex inside strings), then finish byte by byte.
        self.pos += plain_prefix(&self.s[self.pos..]);
        // Fast path: scan to the closing quote; fall back to unescaping on the first '\'.
        while let Some(&b) = self.s.get(self.pos) {
            match b {
                b'"' => {
                    let out = &self.text[start..self.pos];
                    self.pos += 1;
                    return Ok(Cow::Borrowed(out));
                }
                b'\\' => return self.str_escaped(start).map(Cow::Owned),
                0x00..=0x1f => return Err(self.syntax("unescaped control character in string")),
                _ => self.pos += 1,
            }
        }
        Err(self.syntax("unterminated string"))
    }

    fn str_escaped(&mut self, start: usize) -> Result<String> {
        let mut out = String::from(&self.text[start..self.pos]);
        loop {
            let Some(&b) = self.s.get(self.pos) else {
                return Err(self.syntax("unterminated string"));
            };
            match b {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    self.pos += 1;
                    let Some(&e) = self.s.get(self.pos) else {
                        return Err(self.syntax("unterminated escape"));
                    };
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&hi) {
                                if self.s.get(self.pos) != Some(&b'\\') || self.s.get(self.pos + 1) != Some(&b'u') {
                                    return Err(self.syntax("lone UTF-16 surrogate in \\u escape"));
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.syntax("lone UTF-16 surrogate in \\u escape"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else if (0xDC00..0xE000).contains(&hi) {
                                return Err(self.syntax("lone UTF-16 surrogate in \\u escape"));
                            } else {
                                hi
                            };
                            out.push(char::from_u32(c).ok_or_else(|| self.syntax("invalid \\u escape"))?);
                        }
                        _ => return Err(self.syntax("invalid escape sequence")),
                    }
                }
                0x00..=0x1f => return Err(self.syntax("unescaped control character in string")),
                _ => {
                    // Copy the run up to the next quote or backslash in one go.
                    let run_start = self.pos;
                    while let Some(&c) = self.s.get(self.pos) {
                        if c == b'"' || c == b'\\' || c < 0x20 {
                            break;
                        }
                        self.pos += 1;
                    }
                    out.push_str(&self.text[run_start..self.pos]);
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32> {
        let Some(digits) = self.s.get(self.pos..self.pos + 4) else {
            return Err(self.syntax("truncated \\u escape"));
        };
        let mut v = 0u32;
        for &d in digits {
            let n = (d as char).to_digit(16).ok_or_else(|| self.syntax("invalid hex digit in \\u escape"))?;
            v = v * 16 + n;
        }
        self.pos += 4;
        Ok(v)
    }

    /// Reads an integer within ±(2^53 - 1); floats and exponents are refused.
    pub fn int(&mut self) -> Result<i64> {
        self.expect_kind(Kind::Number)?;
        let start = self.pos;
        if self.s[self.pos] == b'-' {
            self.pos += 1;
        }
        let digits_start = self.pos;
        while matches!(self.s.get(self.pos), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        if self.pos == digits_start {
            return Err(self.syntax("expected digits"));
        }
        if self.s[digits_start] == b'0' && self.pos - digits_start > 1 {
            return Err(self.syntax("leading zero in number"));
        }
        if matches!(self.s.get(self.pos), Some(b'.' | b'e' | b'E')) {
            while matches!(self.s.get(self.pos), Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')) {
                self.pos += 1;
            }
            let lit = self.text[start..self.pos].to_string();
            self.pos = start;
            return Err(self.err(JsonErrorKind::Float(lit)));
        }
        let lit = &self.text[start..self.pos];
        match lit.parse::<i64>() {
            Ok(v) if (-MAX_SAFE_INT..=MAX_SAFE_INT).contains(&v) => {
                if let Some(t) = self.live_tap() {
                    t.element();
                    super::encode::write_int(&mut t.out, v); // the value, not the literal: `-0` is `0`
                }
                Ok(v)
            }
            _ => {
                let lit = lit.to_string();
                self.pos = start;
                Err(self.err(JsonErrorKind::IntegerOutOfRange(lit)))
            }
        }
    }

    pub fn bool(&mut self) -> Result<bool> {
        self.expect_kind(Kind::Bool)?;
        let v = if self.s[self.pos..].starts_with(b"true") {
            self.pos += 4;
            true
        } else if self.s[self.pos..].starts_with(b"false") {
            self.pos += 5;
            false
        } else {
            return Err(self.syntax("invalid literal"));
        };
        if let Some(t) = self.live_tap() {
            t.element();
            t.out.extend_from_slice(if v { b"true" } else { b"false" });
        }
        Ok(v)
    }

    pub fn null(&mut self) -> Result<()> {
        self.expect_kind(Kind::Null)?;
        if !self.s[self.pos..].starts_with(b"null") {
            return Err(self.syntax("invalid literal"));
        }
        self.pos += 4;
        if let Some(t) = self.live_tap() {
            t.element();
            t.out.extend_from_slice(b"null");
        }
        Ok(())
    }

    /// Reads any value into a `Value` tree (for unknown fields).
    pub fn value(&mut self) -> Result<Value> {
        Ok(match self.peek_kind()? {
            Kind::Null => {
                self.null()?;
                Value::Null
            }
            Kind::Bool => Value::Bool(self.bool()?),
            Kind::Number => Value::Int(self.int()?),
            Kind::String => Value::Str(self.string()?),
            Kind::Array => {
                let mut v = Vec::new();
                self.array(|r, _| {
                    v.push(r.value()?);
                    Ok(())
                })?;
                Value::Array(v)
            }
            Kind::Object => {
                let mut m = BTreeMap::new();
                self.object(|r, k| insert_unique(&mut m, k, r.value()?))?;
                Value::Object(m)
            }
        })
    }

    /// Finds the string value of a top-level member of the object at the cursor without
    /// consuming anything (used to learn `_type` before choosing the typed parser; in
    /// sorted files `_type` is the first key, so this stops at once).
    pub fn peek_member_str(&mut self, name: &str) -> Result<Option<String>> {
        let save_pos = self.pos;
        let save_depth = self.depth;
        let tap = self.tap.take(); // what is only looked at is not written
        let mut found = None;
        let res = self.object(|r, k| {
            if found.is_none() && k == name {
                let kind = r.peek_kind()?;
                if kind != Kind::String {
                    return Err(r.err(JsonErrorKind::WrongType { expected: Kind::String.name(), found: kind.name() }));
                }
                found = Some(r.string()?);
                // Stop scanning: an error with this marker unwinds out of `object`.
                return Err(JsonError::new(JsonErrorKind::Invalid("\0found".into())));
            }
            r.value().map(|_| ())
        });
        self.pos = save_pos;
        self.depth = save_depth;
        self.tap = tap;
        match res {
            Ok(()) => Ok(found),
            Err(e) if e.kind == JsonErrorKind::Invalid("\0found".into()) => Ok(found),
            Err(e) => Err(e),
        }
    }
}

/// Writes an object key (with its comma and colon), or stops the tap when the key does not
/// sort after the previous one (canonical JSON sorts by code point, which for UTF-8 is byte
/// order; an equal key is a duplicate, refused by the typed layer anyway).
#[allow(clippy::ptr_arg)] // the Cow is kept (cloned cheaply when borrowed), not only read
fn tap_key<'a>(t: &mut Tap<'a>, key: &Cow<'a, str>) {
    let last = t.last_keys.last_mut().expect("a key is only read inside an object");
    if last.as_deref().is_some_and(|prev| prev.as_bytes() >= key.as_bytes()) {
        t.sorted = false;
        return;
    }
    *last = Some(key.clone());
    t.element();
    tap_str(&mut t.out, key);
    t.out.push(b':');
    t.after_key = true;
}

/// A string in canonical form. A borrowed string was read without escapes, so it holds no
/// `"` or `\\` and is copied as it stands; an unescaped one is escaped again.
#[inline]
#[allow(clippy::ptr_arg)] // borrowed or owned is what says whether the string needs escaping
fn tap_str(out: &mut Vec<u8>, s: &Cow<'_, str>) {
    match s {
        Cow::Borrowed(raw) => {
            out.push(b'"');
            out.extend_from_slice(raw.as_bytes());
            out.push(b'"');
        }
        Cow::Owned(unescaped) => super::encode::write_str_canonical(out, unescaped),
    }
}

/// Length of the leading run of whole 8-byte words holding no '"', '\\' or byte below
/// 0x20 (SWAR: a flagged word may be a false positive above a real match, never a miss,
/// and the caller rescans it byte by byte).
#[inline]
fn plain_prefix(s: &[u8]) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
    let mut n = 0;
    for w in s.chunks_exact(8) {
        let x = u64::from_le_bytes(w.try_into().unwrap());
        let stop = has_zero(x ^ (LO * b'"' as u64)) | has_zero(x ^ (LO * b'\\' as u64)) | (x.wrapping_sub(LO * 0x20) & !x & HI);
        if stop != 0 {
            break;
        }
        n += 8;
    }
    n
}

/// Builds a map from members read in document order, refusing a repeated key (with the
/// same error and path as `insert_unique`). Keys in ascending order (every file python-tuf
/// or this tool writes) are bulk-loaded into full B-tree nodes: one-by-one insertion in
/// ascending order leaves nodes about half full, which for 100,000 delegated keys costs
/// ~12 MB and a key comparison per level.
pub fn map_from_members<V>(members: Vec<(String, V)>) -> Result<BTreeMap<String, V>> {
    if members.windows(2).all(|w| w[0].0 < w[1].0) {
        return Ok(members.into_iter().collect());
    }
    let mut m = BTreeMap::new();
    for (k, v) in members {
        let path_key = k.clone();
        insert_unique(&mut m, Cow::Owned(k), v).map_err(|e| e.within_key(&path_key))?;
    }
    Ok(m)
}

/// Inserts into a map, refusing a key that is already there.
pub fn insert_unique<V>(m: &mut BTreeMap<String, V>, k: Cow<'_, str>, v: V) -> Result<()> {
    use std::collections::btree_map::Entry;
    match m.entry(k.into_owned()) {
        Entry::Vacant(e) => {
            e.insert(v);
            Ok(())
        }
        Entry::Occupied(e) => Err(JsonError::new(JsonErrorKind::DuplicateKey(e.key().clone()))),
    }
}

/// Parses a whole document into a `Value`.
pub fn parse_value(bytes: &[u8]) -> Result<Value> {
    let mut r = Reader::new(bytes)?;
    let v = r.value()?;
    r.finish()?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> JsonErrorKind {
        parse_value(s.as_bytes()).unwrap_err().kind
    }

    #[test]
    fn accepts_plain_documents() {
        let v = parse_value(br#" {"a": [1, -2, true, false, null, "x\u00e9\ud83d\ude00"], "b": {}} "#).unwrap();
        let Value::Object(m) = v else { panic!() };
        assert_eq!(m.len(), 2);
        assert_eq!(m["a"], Value::Array(vec![Value::Int(1), Value::Int(-2), Value::Bool(true), Value::Bool(false), Value::Null, Value::Str("xé😀".into())]));
    }

    #[test]
    fn refuses_what_clients_disagree_on() {
        assert!(matches!(kind(r#"{"a":1,"a":2}"#), JsonErrorKind::DuplicateKey(_)));
        assert!(matches!(kind("1.0"), JsonErrorKind::Float(_)));
        assert!(matches!(kind("1e3"), JsonErrorKind::Float(_)));
        assert!(matches!(kind("9007199254740992"), JsonErrorKind::IntegerOutOfRange(_)));
        assert_eq!(parse_value(b"9007199254740991").unwrap(), Value::Int(MAX_SAFE_INT));
        assert!(matches!(kind("\"\\ud800\""), JsonErrorKind::Syntax(_)));
        assert!(matches!(kind("\"a\nb\""), JsonErrorKind::Syntax(_)));
        assert!(matches!(kind("01"), JsonErrorKind::Syntax(_)));
        assert!(matches!(kind("{} x"), JsonErrorKind::Syntax(_)));
        assert!(matches!(kind(&"[".repeat(100)), JsonErrorKind::TooDeep));
    }

    #[test]
    fn errors_carry_the_path() {
        let e = parse_value(br#"{"signed":{"roles":[{"x":1},{"x":1.5}]}}"#).unwrap_err();
        assert_eq!(e.path.to_string(), "$.signed.roles[1].x");
        assert_eq!(JsonPath::parse("$.signed.roles[1].x"), e.path);
    }

    #[test]
    fn word_at_a_time_string_scan_stops_at_every_special_byte() {
        // A quote, an escape, a control character or non-ASCII text at every offset
        // around the 8-byte words the fast scan skips.
        for len in 0..40 {
            let a = "a".repeat(len);
            let s = |doc: String| parse_value(doc.as_bytes());
            assert_eq!(s(format!("[\"{a}\",\"x\"]")).unwrap(), Value::Array(vec![Value::Str(a.clone()), Value::Str("x".into())]));
            assert_eq!(s(format!("[\"{a}\\\"{a}\"]")).unwrap(), Value::Array(vec![Value::Str(format!("{a}\"{a}"))]));
            assert_eq!(s(format!("[\"{a}é{a}\"]")).unwrap(), Value::Array(vec![Value::Str(format!("{a}é{a}"))]));
            assert!(matches!(s(format!("[\"{a}\u{1}{a}\"]")).unwrap_err().kind, JsonErrorKind::Syntax(_)));
            assert!(matches!(s(format!("[\"{a}")).unwrap_err().kind, JsonErrorKind::Syntax(_)));
        }
    }

    #[test]
    fn bulk_loaded_maps_keep_duplicate_errors() {
        let sorted: Vec<(String, i64)> = (0..100).map(|i| (format!("{i:03}"), i)).collect();
        assert_eq!(map_from_members(sorted).unwrap().len(), 100);
        let unsorted = vec![("b".to_string(), 1), ("a".to_string(), 2), ("b".to_string(), 3)];
        let e = map_from_members(unsorted).unwrap_err();
        assert_eq!(e.kind, JsonErrorKind::DuplicateKey("b".into()));
        assert_eq!(e.path.to_string(), "$.b");
        assert_eq!(map_from_members(vec![("b".to_string(), 1), ("a".to_string(), 2)]).unwrap().len(), 2);
    }

    #[test]
    fn peek_member_finds_type_anywhere() {
        let doc = br#"{"z":[1,{"_type":"no"}],"_type":"root"}"#;
        let mut r = Reader::new(doc).unwrap();
        assert_eq!(r.peek_member_str("_type").unwrap().as_deref(), Some("root"));
        // The cursor did not move: the whole value still parses.
        assert!(matches!(r.value().unwrap(), Value::Object(_)));
    }
}
