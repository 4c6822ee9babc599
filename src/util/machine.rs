//! What every `--json` object shares: `schema` (its name and version, e.g.
//! `"tuf-ceremony-keygen/1"`, documented in `docs/<name>-json.md` and
//! `docs/schemas/<name>.schema.json`) and `tool` (the program that wrote it). Keys are printed
//! sorted (serde_json's map is ordered), through `util::text::json_for_output`.

use serde_json::Value;

/// `"tuf-ceremony <version>"`.
pub const TOOL: &str = concat!("tuf-ceremony ", env!("CARGO_PKG_VERSION"));

/// `body` (a JSON object) with `schema` and `tool` set.
pub fn envelope(schema: &str, mut body: Value) -> Value {
    if let Value::Object(m) = &mut body {
        m.insert("schema".into(), schema.into());
        m.insert("tool".into(), TOOL.into());
    }
    body
}

/// A time as every report writes it: `YYYY-MM-DDTHH:MM:SSZ`.
pub fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
