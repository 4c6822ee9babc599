//! Two pieces of work on two cores, without ever failing for want of a thread.

use std::sync::{Mutex, PoisonError};

/// Runs `a` here and `b` on a helper thread, and returns both results. They run one after
/// the other when `parallel` is false or no thread can be started: the work and the
/// results are the same, only the wall time differs. A panic in `b` is resumed here.
pub fn both<A: Send, B: Send>(parallel: bool, a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B) {
    if !parallel {
        return (a(), b());
    }
    // `b` sits where either the helper or, when none starts, this thread takes it from.
    let slot = Mutex::new(Some(b));
    let take = || slot.lock().unwrap_or_else(PoisonError::into_inner).take().expect("taken once");
    std::thread::scope(|s| match std::thread::Builder::new().spawn_scoped(s, || take()()) {
        Ok(helper) => {
            let ra = a();
            (ra, helper.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
        }
        Err(_) => (a(), take()()),
    })
}

#[cfg(test)]
mod tests {
    use super::both;

    #[test]
    fn both_returns_both_results_in_order() {
        for parallel in [false, true] {
            let (a, b) = both(parallel, || "here", || std::thread::current().id());
            assert_eq!(a, "here");
            assert_eq!(b == std::thread::current().id(), !parallel, "parallel {parallel}");
        }
    }

    #[test]
    #[should_panic(expected = "from the helper")]
    fn a_panic_in_the_helper_reaches_the_caller() {
        both(true, || (), || panic!("from the helper"));
    }
}
