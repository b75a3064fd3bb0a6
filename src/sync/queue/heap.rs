//! The storage of priority queues: a binary min-heap in a `Vec`, laid out and compared exactly as
//! CPython's `heapq.heappush`/`heappop` (C `_heapq`) do, so a PriorityQueue hands out equal-priority
//! items in the same order as the stdlib's, and a user's `__lt__` sees the same calls.
//!
//! The comparison is fallible (a Python `<` may raise). Unlike `heapq`, which swaps as it compares
//! and so can leave a half-sifted heap (or drop the popped item) when a comparison raises, both
//! operations here first find where everything goes, comparing only, and then move: a failed
//! comparison leaves the heap exactly as it was.

/// Pushes `item`; on a failed comparison returns it with the error, the heap unchanged.
pub fn push<T, E>(heap: &mut Vec<T>, item: T, mut lt: impl FnMut(&T, &T) -> Result<bool, E>) -> Result<(), (T, E)> {
    // heapq: append, then _siftdown(heap, 0, n): while newitem < parent, move the parent down.
    let mut pos = heap.len();
    while pos > 0 {
        let parent = (pos - 1) >> 1;
        match lt(&item, &heap[parent]) {
            Err(e) => return Err((item, e)),
            Ok(false) => break,
            Ok(true) => pos = parent,
        }
    }
    heap.push(item);
    let mut i = heap.len() - 1;
    while i > pos {
        let parent = (i - 1) >> 1;
        heap.swap(i, parent);
        i = parent;
    }
    Ok(())
}

/// Pops the smallest item (None if empty); on a failed comparison the heap is unchanged.
pub fn pop<T, E>(heap: &mut Vec<T>, mut lt: impl FnMut(&T, &T) -> Result<bool, E>) -> Result<Option<T>, E> {
    let n = heap.len();
    if n <= 1 {
        return Ok(heap.pop());
    }
    // heapq: last = pop(); heap[0] = last; _siftup(heap, 0): move the smaller child up until a
    // leaf, then _siftdown the last item back up from there. Simulated on the untouched heap:
    // while descending, the children compared have not moved; on the way back up, the parent
    // the last item meets at path[j - 1] is the item that moved up from path[j].
    let end = n - 1; // the heap's length once the last item is taken out
    let last = end;
    let mut path: Vec<usize> = Vec::with_capacity(usize::BITS as usize);
    let mut pos = 0;
    path.push(pos);
    while pos < end >> 1 {
        let mut child = 2 * pos + 1;
        if child + 1 < end && !lt(&heap[child], &heap[child + 1])? {
            child += 1;
        }
        pos = child;
        path.push(pos);
    }
    let mut level = path.len() - 1; // where the last item settles, as an index into `path`
    while level > 0 {
        if !lt(&heap[last], &heap[path[level]])? {
            break;
        }
        level -= 1;
    }
    // Apply: the items on path[1..=level] move up one step, the last item goes to path[level].
    let last_item = heap.pop().expect("n >= 2");
    for w in path[..=level].windows(2) {
        heap.swap(w[0], w[1]);
    }
    Ok(Some(std::mem::replace(&mut heap[path[level]], last_item)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok_lt(a: &(i64, usize), b: &(i64, usize)) -> Result<bool, ()> {
        Ok(a.0 < b.0)
    }

    /// heapq's algorithm as written in Lib/heapq.py, swapping as it goes: the reference.
    fn reference_push(heap: &mut Vec<(i64, usize)>, item: (i64, usize)) {
        heap.push(item);
        let mut pos = heap.len() - 1;
        while pos > 0 {
            let parent = (pos - 1) >> 1;
            if heap[pos].0 < heap[parent].0 {
                heap.swap(pos, parent);
                pos = parent;
            } else {
                break;
            }
        }
    }

    #[allow(clippy::nonminimal_bool)] // `not a < b`, as heapq writes it
    fn reference_pop(heap: &mut Vec<(i64, usize)>) -> Option<(i64, usize)> {
        let last = heap.pop()?;
        if heap.is_empty() {
            return Some(last);
        }
        let ret = std::mem::replace(&mut heap[0], last);
        let end = heap.len();
        let mut pos = 0;
        while pos < end >> 1 {
            let mut child = 2 * pos + 1;
            if child + 1 < end && !(heap[child].0 < heap[child + 1].0) {
                child += 1;
            }
            heap.swap(pos, child);
            pos = child;
        }
        while pos > 0 {
            let parent = (pos - 1) >> 1;
            if heap[pos].0 < heap[parent].0 {
                heap.swap(pos, parent);
                pos = parent;
            } else {
                break;
            }
        }
        Some(ret)
    }

    /// A small deterministic generator (no dependency).
    fn lcg(seed: &mut u64) -> u64 {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        *seed >> 33
    }

    #[test]
    fn same_layout_and_order_as_heapq_with_ties() {
        let mut seed = 7;
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for step in 0..20_000usize {
            if lcg(&mut seed) % 3 != 0 {
                let item = ((lcg(&mut seed) % 16) as i64, step); // many equal priorities
                push(&mut ours, item, ok_lt).unwrap();
                reference_push(&mut theirs, item);
            } else {
                assert_eq!(pop(&mut ours, ok_lt).unwrap(), reference_pop(&mut theirs));
            }
            assert_eq!(ours, theirs);
        }
        while let Some(x) = reference_pop(&mut theirs) {
            assert_eq!(pop(&mut ours, ok_lt).unwrap(), Some(x));
        }
        assert_eq!(pop(&mut ours, ok_lt).unwrap(), None);
    }

    #[test]
    fn failed_comparison_leaves_heap_unchanged() {
        let mut seed = 11;
        let mut heap = Vec::new();
        for step in 0..200usize {
            push(&mut heap, ((lcg(&mut seed) % 50) as i64, step), ok_lt).unwrap();
        }
        for fail_at in 0..6 {
            // a push of the smallest item into 200 compares 7 times
            let before = heap.clone();
            let mut calls = 0;
            let failing = |a: &(i64, usize), b: &(i64, usize)| {
                calls += 1;
                if calls > fail_at {
                    Err("boom")
                } else {
                    Ok(a.0 < b.0)
                }
            };
            match push(&mut heap, (-1, 999), failing) {
                Err((item, "boom")) => assert_eq!(item, (-1, 999)),
                other => panic!("push should fail at comparison {fail_at}: {other:?}"),
            }
            assert_eq!(heap, before);
            let mut calls = 0;
            let failing = |a: &(i64, usize), b: &(i64, usize)| {
                calls += 1;
                if calls > fail_at {
                    Err("boom")
                } else {
                    Ok(a.0 < b.0)
                }
            };
            assert_eq!(pop(&mut heap, failing), Err("boom"));
            assert_eq!(heap, before);
        }
        let mut out = Vec::new();
        while let Some(x) = pop(&mut heap, ok_lt).unwrap() {
            out.push(x.0);
        }
        assert!(out.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(out.len(), 200);
    }
}
