//! The two encodings the tool writes.
//!
//! * **Canonical** JSON as securesystemslib's `encode_canonical` produces it (tuf-format.md
//!   §2.1): keys sorted by code point, no whitespace, only `\` and `"` escaped, every other
//!   character raw UTF-8, integers only. This is what gets hashed and signed.
//! * **Pretty**, byte for byte python-tuf's file layout: `json.dumps(indent=1,
//!   separators=(",", ": "), sort_keys=True)` with its default ASCII escaping and no trailing
//!   newline. Writing the same layout as python-tuf lets the tool reproduce its vectors exactly.
//!
//! Both are driven by one `ToJson` trait so the typed model is walked the same way for each.

use super::json::Value;
use std::collections::BTreeMap;

/// Something that can write itself as JSON.
pub trait ToJson {
    fn write_json(&self, out: &mut JsonOut);
}

/// An output buffer in one of the two encodings.
pub struct JsonOut {
    buf: Vec<u8>,
    pretty: bool,
    level: usize,
}

impl JsonOut {
    pub fn canonical() -> Self {
        JsonOut { buf: Vec::new(), pretty: false, level: 0 }
    }
    pub fn pretty() -> Self {
        JsonOut { buf: Vec::new(), pretty: true, level: 0 }
    }
    /// Canonical encoding into `buf` (cleared first), to reuse one buffer for many small
    /// encodings.
    pub fn canonical_reusing(mut buf: Vec<u8>) -> Self {
        buf.clear();
        JsonOut { buf, pretty: false, level: 0 }
    }
    pub fn with_capacity(mut self, n: usize) -> Self {
        self.buf.reserve(n);
        self
    }
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    pub fn int(&mut self, v: i64) {
        write_int(&mut self.buf, v);
    }
    pub fn bool(&mut self, v: bool) {
        self.buf.extend_from_slice(if v { b"true" } else { b"false" });
    }
    pub fn null(&mut self) {
        self.buf.extend_from_slice(b"null");
    }

    pub fn str(&mut self, s: &str) {
        if self.pretty { write_str_ascii(&mut self.buf, s) } else { write_str_canonical(&mut self.buf, s) }
    }

    fn newline(&mut self) {
        self.buf.push(b'\n');
        self.buf.resize(self.buf.len() + self.level, b' ');
    }

    /// Writes an object whose members the caller yields **already sorted by key**.
    pub fn object<'b, I>(&mut self, members: I)
    where
        I: IntoIterator<Item = (&'b str, &'b dyn ToJson)>,
    {
        self.buf.push(b'{');
        self.level += 1;
        let mut first = true;
        for (k, v) in members {
            if !first {
                self.buf.push(b',');
            }
            first = false;
            if self.pretty {
                self.newline();
            }
            self.str(k);
            self.buf.extend_from_slice(if self.pretty { b": " } else { b":" });
            v.write_json(self);
        }
        self.level -= 1;
        if self.pretty && !first {
            self.newline();
        }
        self.buf.push(b'}');
    }

    /// Writes an object from unsorted members (a struct's fields plus its unknown fields).
    pub fn object_unsorted(&mut self, mut members: Vec<(&str, &dyn ToJson)>) {
        members.sort_unstable_by(|a, b| a.0.cmp(b.0));
        self.object(members)
    }

    /// Writes a struct: its known members (any order; `None` = absent) merged with its
    /// unknown fields, without allocating (this runs once per key and role, 400,000 times
    /// for a 100,000-project role).
    pub fn fields(&mut self, known: &mut [(&str, Option<&dyn ToJson>)], extra: &BTreeMap<String, Value>) {
        known.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut known = known.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).peekable();
        let mut extra = extra.iter().map(|(k, v)| (k.as_str(), v as &dyn ToJson)).peekable();
        self.object(std::iter::from_fn(move || match (known.peek(), extra.peek()) {
            (Some(a), Some(b)) if b.0 < a.0 => extra.next(),
            (Some(_), _) => known.next(),
            (None, _) => extra.next(),
        }))
    }

    pub fn array<'b, I>(&mut self, items: I)
    where
        I: IntoIterator<Item = &'b dyn ToJson>,
    {
        self.buf.push(b'[');
        self.level += 1;
        let mut first = true;
        for v in items {
            if !first {
                self.buf.push(b',');
            }
            first = false;
            if self.pretty {
                self.newline();
            }
            v.write_json(self);
        }
        self.level -= 1;
        if self.pretty && !first {
            self.newline();
        }
        self.buf.push(b']');
    }
}

/// Small stack buffer for integer formatting without allocation.
struct IntBuf {
    bytes: [u8; 24],
    start: usize,
}
impl IntBuf {
    fn as_bytes_mut(&mut self) -> &[u8] {
        &self.bytes[self.start..]
    }
}
pub(crate) fn write_int(buf: &mut Vec<u8>, v: i64) {
    buf.extend_from_slice(itoa_buf(v).as_bytes_mut());
}

fn itoa_buf(v: i64) -> IntBuf {
    let mut bytes = [0u8; 24];
    let mut i = bytes.len();
    let neg = v < 0;
    let mut n = v.unsigned_abs();
    loop {
        i -= 1;
        bytes[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        bytes[i] = b'-';
    }
    IntBuf { bytes, start: i }
}

pub(crate) fn write_str_canonical(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    let bytes = s.as_bytes();
    // Almost every string has nothing to escape: one branch-free pass, then one copy.
    if bytes.iter().fold(0u8, |a, &b| a | u8::from(b == b'"') | u8::from(b == b'\\')) == 0 {
        buf.extend_from_slice(bytes);
        buf.push(b'"');
        return;
    }
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'"' || b == b'\\' {
            buf.extend_from_slice(&bytes[run..i]);
            buf.push(b'\\');
            buf.push(b);
            run = i + 1;
        }
    }
    buf.extend_from_slice(&bytes[run..]);
    buf.push(b'"');
}

/// Python `json.dumps(ensure_ascii=True)` string escaping.
fn write_str_ascii(buf: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    fn u_escape(buf: &mut Vec<u8>, u: u16) {
        buf.extend_from_slice(b"\\u");
        for shift in [12, 8, 4, 0] {
            buf.push(HEX[((u >> shift) & 0xf) as usize]);
        }
    }
    buf.push(b'"');
    // Fast path: printable ASCII without '"' or '\\' (hex keys, ids, names) is copied as is.
    let special = s.bytes().fold(0u8, |a, b| a | u8::from(!(0x20..0x7f).contains(&b)) | u8::from(b == b'"') | u8::from(b == b'\\'));
    if special == 0 {
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => buf.extend_from_slice(b"\\\""),
            '\\' => buf.extend_from_slice(b"\\\\"),
            '\n' => buf.extend_from_slice(b"\\n"),
            '\r' => buf.extend_from_slice(b"\\r"),
            '\t' => buf.extend_from_slice(b"\\t"),
            '\u{8}' => buf.extend_from_slice(b"\\b"),
            '\u{c}' => buf.extend_from_slice(b"\\f"),
            ' '..='~' => buf.push(c as u8),
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    u_escape(buf, *u);
                }
            }
        }
    }
    buf.push(b'"');
}

impl ToJson for Value {
    fn write_json(&self, out: &mut JsonOut) {
        match self {
            Value::Null => out.null(),
            Value::Bool(b) => out.bool(*b),
            Value::Int(i) => out.int(*i),
            Value::Str(s) => out.str(s),
            Value::Array(a) => out.array(a.iter().map(|v| v as &dyn ToJson)),
            Value::Object(m) => m.write_json(out),
        }
    }
}

impl<T: ToJson> ToJson for BTreeMap<String, T> {
    fn write_json(&self, out: &mut JsonOut) {
        out.object(self.iter().map(|(k, v)| (k.as_str(), v as &dyn ToJson)))
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn write_json(&self, out: &mut JsonOut) {
        out.array(self.iter().map(|v| v as &dyn ToJson))
    }
}

impl ToJson for String {
    fn write_json(&self, out: &mut JsonOut) {
        out.str(self)
    }
}

impl ToJson for std::borrow::Cow<'_, str> {
    fn write_json(&self, out: &mut JsonOut) {
        out.str(self)
    }
}

impl ToJson for str {
    fn write_json(&self, out: &mut JsonOut) {
        out.str(self)
    }
}

impl ToJson for u64 {
    fn write_json(&self, out: &mut JsonOut) {
        // The model keeps every integer within ±(2^53-1), so this never truncates.
        out.int(*self as i64)
    }
}

impl ToJson for bool {
    fn write_json(&self, out: &mut JsonOut) {
        out.bool(*self)
    }
}

/// Canonical bytes of a value: what is hashed for keyids and signed for signatures.
pub fn canonical(v: &dyn ToJson) -> Vec<u8> {
    let mut out = JsonOut::canonical();
    v.write_json(&mut out);
    out.into_bytes()
}

/// Canonical bytes with a capacity hint, for large roles.
pub fn canonical_sized(v: &dyn ToJson, hint: usize) -> Vec<u8> {
    let mut out = JsonOut::canonical().with_capacity(hint);
    v.write_json(&mut out);
    out.into_bytes()
}

/// python-tuf's pretty file bytes with a capacity hint, for large roles.
pub fn pretty_sized(v: &dyn ToJson, hint: usize) -> Vec<u8> {
    let mut out = JsonOut::pretty().with_capacity(hint);
    v.write_json(&mut out);
    out.into_bytes()
}

/// python-tuf's pretty file bytes.
pub fn pretty(v: &dyn ToJson) -> Vec<u8> {
    let mut out = JsonOut::pretty();
    v.write_json(&mut out);
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tuf::json::parse_value;

    #[test]
    fn canonical_escapes_only_quote_and_backslash() {
        let v = parse_value(br#"{"b":"\u0001\n\u00e9\"\\","a":[1,-2,{}],"A":null}"#).unwrap();
        assert_eq!(canonical(&v), "{\"A\":null,\"a\":[1,-2,{}],\"b\":\"\u{1}\n\u{e9}\\\"\\\\\"}".as_bytes());
    }

    #[test]
    fn pretty_matches_python_layout() {
        // json.dumps({"b":["é",1],"a":{},"c":[],"d":{"x":True}}, indent=1, separators=(",", ": "), sort_keys=True)
        let v = parse_value("{\"b\":[\"é\u{1F600}\u{7f}\",1],\"a\":{},\"c\":[],\"d\":{\"x\":true}}".as_bytes()).unwrap();
        let want = "{\n \"a\": {},\n \"b\": [\n  \"\\u00e9\\ud83d\\ude00\\u007f\",\n  1\n ],\n \"c\": [],\n \"d\": {\n  \"x\": true\n }\n}";
        assert_eq!(String::from_utf8(pretty(&v)).unwrap(), want);
    }

    #[test]
    fn integers_format_like_python() {
        for v in [0i64, 7, -7, 1 << 53, -(1 << 53), i64::MIN + 1] {
            let mut out = JsonOut::canonical();
            out.int(v);
            assert_eq!(out.into_bytes(), v.to_string().into_bytes());
        }
    }
}
