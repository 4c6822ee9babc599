//! Parsing a metadata file and checking its signatures in one pass, on two cores.
//!
//! Why: for a 48 MB `claimed` role, building the model and hashing the 36 MB of canonical
//! bytes each take about as long as the other, one after the other. Here the reader's tap
//! (`json::Reader::start_tap`) writes the canonical bytes of `signed` while the model is
//! being built, and a second thread feeds them, piece by piece, to a stream verifier for
//! each signature, so the hashing is done by the time parsing ends.
//!
//! The pieces are the canonical encoding of exactly the tokens the model is built from, so
//! they cannot say something the model does not. They are only used when the tap confirms
//! that every object's keys came in canonical (ascending) order; otherwise (go-tuf and
//! tough write struct order) and for small files, the plain path runs: parse, encode the
//! model, check. Both paths return the same `Checked` (tests/stream_parse.rs compares them
//! on every fixture and on thousands of generated documents).

use super::json::{Reader, Result};
use super::metadata::{Metadata, Mode, Signature, SignedHooks};
use super::olpc;
use super::verify::{PendingThreshold, ThresholdCheck};
use std::sync::mpsc::{Sender, channel};

/// A parsed file and the outcome of its signature check.
#[derive(Debug)]
pub struct Checked {
    pub md: Metadata,
    /// `None` when `plan` gave no threshold (e.g. the delegator does not delegate the role).
    pub check: Option<ThresholdCheck>,
    /// The canonical bytes are plainly encoded the same by tough's olpc-cjson
    /// (`olpc::plainly_same`); when `false`, run `olpc::divergences` on `md.signed_bytes()`.
    pub olpc_plain: bool,
    /// The signatures were checked over bytes tapped from the parser (the one-pass path),
    /// not over the re-encoded model.
    pub one_pass: bool,
}

/// Files below this size take the plain path: a thread would cost more than it saves.
const THREADED_FROM: usize = 1 << 20;
/// Size of the pieces handed to the hashing thread.
const PIECE: usize = 1 << 20;

/// Parses `bytes` in `mode` and checks its signatures against the threshold `plan` sets
/// up from them (e.g. `|sigs| verify::pending_delegated(delegator, name, sigs, lenient)`).
/// `plan` may be called twice (once on each path).
pub fn parse_checked<P>(bytes: &[u8], mode: Mode, plan: P) -> Result<Checked>
where
    P: Fn(&[Signature]) -> Option<PendingThreshold> + Sync,
{
    let piece = (bytes.len() >= THREADED_FROM).then_some(PIECE);
    parse_checked_in_pieces(bytes, mode, plan, piece)
}

/// `parse_checked` with the piece size chosen by the caller (`None`: the plain path), so
/// tests can drive the two-thread path with small documents.
pub fn parse_checked_in_pieces<P>(bytes: &[u8], mode: Mode, plan: P, piece: Option<usize>) -> Result<Checked>
where
    P: Fn(&[Signature]) -> Option<PendingThreshold> + Sync,
{
    let Some(piece) = piece else {
        let md = Metadata::from_bytes(bytes, mode)?;
        return Ok(check_model(md, &plan));
    };
    let (md, tapped) = std::thread::scope(|scope| {
        let (tx, rx) = channel::<Msg>();
        let tx_piece = tx.clone();
        let (recycle_tx, recycle_rx) = channel::<Vec<u8>>();
        let plan = &plan;
        let hasher = std::thread::Builder::new().spawn_scoped(scope, move || {
            let mut out = Hashed { planned: false, pending: None, held: Vec::new(), plain: true };
            for msg in rx {
                match msg {
                    Msg::Signatures(sigs) => {
                        out.planned = true;
                        out.pending = plan(&sigs);
                    }
                    Msg::Piece(p) => {
                        out.plain &= olpc::plainly_same(&p);
                        match (&mut out.pending, out.planned) {
                            (None, false) => {
                                out.held.push(p); // signatures come later in the file
                                continue;
                            }
                            (Some(pending), _) => pending.update(&p),
                            (None, true) => {}
                        }
                        let _ = recycle_tx.send(p); // fails only once parsing has ended
                    }
                }
            }
            out
        });
        let Ok(hasher) = hasher else {
            // No thread to be had: the plain path (parse, then encode the model and check).
            return (Metadata::from_bytes(bytes, mode), None);
        };
        let recycled = move |full: Vec<u8>| -> Vec<u8> {
            let capacity = full.capacity();
            let _ = tx_piece.send(Msg::Piece(full));
            recycle_rx.try_recv().unwrap_or_else(|_| Vec::with_capacity(capacity))
        };
        let mut hooks = TapHooks { tx, piece, sink: Some(Box::new(recycled)), sorted: None };
        let md = Metadata::read(bytes, mode, &mut hooks);
        let sorted = hooks.sorted;
        drop(hooks); // closes the channel: the hashing thread finishes
        let hashed = hasher.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (md, (sorted == Some(true)).then_some(hashed))
    });
    let md = md?;
    let Some(hashed) = tapped else {
        return Ok(check_model(md, &plan));
    };
    let check = if hashed.planned {
        hashed.pending.map(PendingThreshold::finish)
    } else {
        plan(&md.signatures).map(|pending| pending.over(hashed.held.iter().map(Vec::as_slice)))
    };
    Ok(Checked { md, check, olpc_plain: hashed.plain, one_pass: true })
}

/// The plain path: encode the model, then check.
fn check_model<P>(md: Metadata, plan: &P) -> Checked
where
    P: Fn(&[Signature]) -> Option<PendingThreshold>,
{
    let canonical = md.signed_bytes();
    let check = plan(&md.signatures).map(|pending| pending.over([canonical.as_slice()]));
    Checked { olpc_plain: olpc::plainly_same(&canonical), md, check, one_pass: false }
}

enum Msg {
    Signatures(Vec<Signature>),
    Piece(Vec<u8>),
}

/// What the hashing thread hands back.
struct Hashed {
    /// The signatures arrived before the first piece and `pending` was set up from them.
    planned: bool,
    pending: Option<PendingThreshold>,
    /// Pieces that arrived before the signatures (files that put `signed` first).
    held: Vec<Vec<u8>>,
    plain: bool,
}

/// Takes a full piece of canonical bytes and hands back an empty buffer for the next one.
type PieceSink<'s> = Box<dyn FnMut(Vec<u8>) -> Vec<u8> + Send + 's>;

/// Starts the reader's tap at `signed` and sends the signatures ahead of it.
struct TapHooks<'s> {
    tx: Sender<Msg>,
    piece: usize,
    /// Sends a full piece to the hashing thread and returns a buffer to fill next.
    sink: Option<PieceSink<'s>>,
    sorted: Option<bool>,
}

impl<'a, 's: 'a> SignedHooks<'a> for TapHooks<'s> {
    fn before_signed(&mut self, r: &mut Reader<'a>, signatures: Option<&[Signature]>) {
        // A send fails only if the hashing thread is gone (it panicked); join reports that.
        if let Some(sigs) = signatures {
            let _ = self.tx.send(Msg::Signatures(sigs.to_vec()));
        }
        // A second `signed` member is refused by the parser; it gets no tap.
        if let Some(sink) = self.sink.take() {
            r.start_tap(self.piece, sink);
        }
    }

    fn after_signed(&mut self, r: &mut Reader<'a>) {
        self.sorted = r.end_tap();
    }
}

#[cfg(test)]
mod tests {
    use super::super::encode::{canonical, pretty};
    use super::super::json::{Reader, Value};
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    /// Reads `doc` with the tap on from the start, in pieces of `chunk` bytes: the value
    /// read, the tapped bytes, and whether the tap vouches for them.
    fn tapped(doc: &[u8], chunk: usize) -> (Value, Vec<u8>, bool) {
        let out = RefCell::new(Vec::new());
        let mut r = Reader::new(doc).unwrap();
        r.start_tap(
            chunk,
            Box::new(|piece: Vec<u8>| {
                out.borrow_mut().extend_from_slice(&piece);
                Vec::new()
            }),
        );
        let v = r.value().unwrap();
        let sorted = r.end_tap().unwrap();
        r.finish().unwrap();
        (v, out.into_inner(), sorted)
    }

    /// A small deterministic generator (no dependency needed for test data).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Strings with what escaping and sorting can get wrong: quotes, backslashes, control
    /// characters, non-ASCII (escaped as \uXXXX by the pretty writer, surrogate pairs too),
    /// shared prefixes.
    fn string(rng: &mut Rng) -> String {
        const PARTS: [&str; 12] = ["a", "b", "ab", "\"", "\\", "\n", "\u{1}", "é", "😀", "/", " ", "project-0001"];
        (0..rng.below(5)).map(|_| PARTS[rng.below(PARTS.len() as u64) as usize]).collect()
    }

    fn value(rng: &mut Rng, depth: u32) -> Value {
        match rng.below(if depth > 3 { 4 } else { 6 }) {
            0 => Value::Null,
            1 => Value::Bool(rng.below(2) == 1),
            2 => Value::Int(rng.next() as i64 % (1 << 40)),
            3 => Value::Str(string(rng)),
            4 => Value::Array((0..rng.below(4)).map(|_| value(rng, depth + 1)).collect()),
            _ => Value::Object((0..rng.below(5)).map(|_| (string(rng), value(rng, depth + 1))).collect::<BTreeMap<_, _>>()),
        }
    }

    #[test]
    fn tapped_bytes_are_the_canonical_form_of_what_was_read() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for i in 0..3000 {
            let v = value(&mut rng, 0);
            let chunk = [1, 7, 64, 1 << 20][i % 4];
            // The pretty form is sorted and escapes everything non-ASCII, so the tap sees
            // escapes it must undo; the canonical form is valid input too unless it holds
            // a raw control character (canonical JSON does not escape them).
            let mut docs = vec![pretty(&v)];
            if !canonical(&v).iter().any(|&b| b < 0x20) {
                docs.push(canonical(&v));
            }
            for doc in docs {
                let (read, bytes, sorted) = tapped(&doc, chunk);
                assert_eq!(read, v);
                assert!(sorted, "sorted input: {}", String::from_utf8_lossy(&doc));
                assert_eq!(String::from_utf8(bytes).unwrap(), String::from_utf8(canonical(&v)).unwrap());
            }
        }
    }

    #[test]
    fn the_tap_gives_up_on_keys_out_of_canonical_order() {
        for doc in [r#"{"b":1,"a":2}"#, r#"{"a":{"y":1,"x":2}}"#, r#"[{"a":1},{"a":1,"B":2}]"#] {
            let (_, _, sorted) = tapped(doc.as_bytes(), 1);
            assert!(!sorted, "{doc}");
        }
        // Byte order, not case-insensitive or escaped order: "B" < "a", "\"" sorts as '"'.
        for doc in [r#"{"B":1,"a":2}"#, r#"{"\"":1,"a":2}"#, r#"{"a":1,"a\u0000":2}"#] {
            let (_, _, sorted) = tapped(doc.as_bytes(), 1);
            assert!(sorted, "{doc}");
        }
    }

    #[test]
    fn the_tap_writes_values_not_literals() {
        let (_, bytes, _) = tapped(br#"{ "a" : -0, "b" : "\/\u0041" , "c":[ ] ,"d":{ }}"#, 1);
        assert_eq!(bytes, br#"{"a":0,"b":"/A","c":[],"d":{}}"#);
    }
}
