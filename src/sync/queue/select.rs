//! Waiting on several queues at once (`rthreading.queue.select`): the queue side.
//!
//! A selecting thread registers one shared `park::Waiter` in every queue it waits on
//! (`park::Watchers`: each queue's `selectors`, in its state, under its mutex), then looks at each queue and, if
//! none holds an item, parks on that waiter. Whatever may let a get succeed or make it fail (a
//! put, a shutdown, a reset, the hand-over to compatibility mode) notifies every registered
//! selector of that queue, as well as one plain getter, as before. A selector never receives an
//! item: woken, it takes one itself under the queue's mutex (`get_locked`, like any getter), so
//! an item goes to exactly one taker whatever the race between selectors and plain getters;
//! the wake-up that finds nothing (another taker was first) just parks again. Waking every
//! selector of a queue (not one) is what keeps this free of lost wake-ups without handing
//! items over: a selector that goes elsewhere cannot swallow the only notification. The
//! waiter's flag is the "selected" token of crossbeam's `Context::try_select` in the simple
//! form this needs: the first notification wins, later ones find it set.
//!
//! Lock order: a queue's mutex, then a waiter's (`notify` under the queue's mutex); a waiter
//! never takes a queue's mutex while holding its own.

#[cfg(test)]
use crate::sync::park::Waiter;
#[cfg(test)]
use crate::sync::prim::Arc;

/// The select loop as the Python layer runs it, over core queues of `u64`, for the tests: take
/// from the first queue (from `start`, rotating) that has an item; else park until notified.
#[cfg(test)]
fn select_take(qs: &[&super::Queue<u64>], start: usize) -> (usize, u64) {
    use super::GetError;
    let no_cmp = |_: &u64, _: &u64| -> Result<bool, std::convert::Infallible> { Ok(false) };
    let w = Waiter::new();
    for q in qs {
        q.state().lock().selectors.register(&w);
    }
    let found = loop {
        let mut found = None;
        for k in 0..qs.len() {
            let i = (start + k) % qs.len();
            let mut s = qs[i].state().lock();
            match qs[i].get_locked(&mut s, no_cmp) {
                Ok(x) => {
                    found = Some((i, x));
                    break;
                }
                Err(GetError::Empty | GetError::ShutDown) => {}
                Err(GetError::Compare(e)) => match e {},
            }
        }
        if let Some(f) = found {
            break f;
        }
        assert!(w.park(None));
    };
    for q in qs {
        q.state().lock().selectors.unregister(&w);
    }
    found
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::super::{Order, Queue};
    use super::*;
    use std::convert::Infallible;
    use std::time::Duration;

    fn put(q: &Queue<u64>, x: u64) {
        let mut s = q.state().lock();
        q.put_locked(&mut s, x, |_, _| Ok::<_, Infallible>(false)).unwrap();
    }

    #[test]
    fn selector_woken_by_any_queue_and_unregistered() {
        let a = Arc::new(Queue::new(Order::Fifo, None));
        let b = Arc::new(Queue::new(Order::Fifo, None));
        put(&a, 1);
        assert_eq!(select_take(&[&a, &b], 1), (0, 1));
        let (a2, b2) = (a.clone(), b.clone());
        let t = std::thread::spawn(move || select_take(&[&a2, &b2], 0));
        while b.state().lock().selectors.is_empty() {
            std::thread::sleep(Duration::from_millis(1));
        }
        put(&b, 7);
        assert_eq!(t.join().unwrap(), (1, 7));
        assert!(a.state().lock().selectors.is_empty() && b.state().lock().selectors.is_empty());
    }
}

/// Model checks (`make loom`): a put racing a selector's registration and scan is never lost,
/// and an item goes to exactly one of a selector and a plain getter.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::super::{GetError, Order, Queue};
    use super::*;
    use loom::thread;
    use std::convert::Infallible;

    fn put(q: &Queue<u64>, x: u64) {
        let mut s = q.state().lock();
        q.put_locked(&mut s, x, |_, _| Ok::<_, Infallible>(false)).unwrap();
    }

    #[test]
    fn loom_select_no_lost_wakeup() {
        loom::model(|| {
            let a = Arc::new(Queue::new(Order::Fifo, None));
            let b = Arc::new(Queue::new(Order::Fifo, None));
            let b2 = b.clone();
            let t = thread::spawn(move || put(&b2, 5));
            assert_eq!(select_take(&[&a, &b], 0), (1, 5));
            t.join().unwrap();
        });
    }

    /// Two items, a selector and a plain getter (a try, then the queue's own wait): each item
    /// is taken exactly once.
    #[test]
    fn loom_select_exactly_once_with_a_getter() {
        loom::model(|| {
            let a = Arc::new(Queue::new(Order::Fifo, None));
            let b = Arc::new(Queue::new(Order::Fifo, None));
            let a2 = a.clone();
            let getter = thread::spawn(move || loop {
                let mut s = a2.state().lock();
                match a2.get_locked(&mut s, |_, _| Ok::<_, Infallible>(false)) {
                    Ok(x) => return x,
                    Err(GetError::Empty) => {
                        drop(s);
                        assert!(a2.wait_not_empty(None));
                    }
                    Err(_) => unreachable!(),
                }
            });
            let (a3, b3) = (a.clone(), b.clone());
            let selector = thread::spawn(move || select_take(&[&a3, &b3], 1).1);
            put(&a, 1);
            put(&a, 2);
            let mut got = [getter.join().unwrap(), selector.join().unwrap()];
            got.sort_unstable();
            assert_eq!(got, [1, 2]);
        });
    }
}
