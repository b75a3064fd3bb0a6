//! The storage of FIFO and LIFO queues: a deque kept in fixed-size blocks, like CPython's
//! `collections.deque`, so that a long queue costs about one pointer per item (a doubling
//! `VecDeque` may hold twice the room it uses) and a drained queue gives its memory back.
//!
//! Items are pushed at the back and popped at either end. Every block but the back one is full
//! up to its front (FIFO pops shrink the front block; LIFO pops shrink the back one). The back
//! block grows by doubling up to `BLOCK` items, so a short queue allocates no more than it needs;
//! one emptied block is kept aside for reuse, so a queue that hovers around a block boundary
//! does not allocate on every push.

use std::collections::VecDeque;

/// Items per block: 8 KiB of pointers, allocated once per 1024 items.
pub const BLOCK: usize = 1024;

pub struct Chunked<T> {
    /// Never holds an empty block, except a lone back block kept for the next push.
    blocks: VecDeque<VecDeque<T>>,
    /// An emptied block, kept for reuse.
    spare: Option<VecDeque<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Chunked<T> {
    pub const fn new() -> Self {
        Chunked { blocks: VecDeque::new(), spare: None, len: 0 }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    pub fn push_back(&mut self, item: T) {
        match self.blocks.back_mut() {
            Some(b) if b.len() < BLOCK => b.push_back(item),
            _ => self.push_new_block(item),
        }
        self.len += 1;
    }

    #[cold]
    fn push_new_block(&mut self, item: T) {
        let mut b = match self.spare.take() {
            Some(b) => b,
            // The first block grows as needed; later ones are allocated at full size at once.
            None if self.blocks.is_empty() => VecDeque::new(),
            None => VecDeque::with_capacity(BLOCK),
        };
        b.push_back(item);
        self.blocks.push_back(b);
    }

    #[inline]
    pub fn pop_front(&mut self) -> Option<T> {
        let b = self.blocks.front_mut()?;
        let item = b.pop_front()?;
        self.len -= 1;
        if b.is_empty() && self.blocks.len() > 1 {
            self.retire_front();
        }
        Some(item)
    }

    #[inline]
    pub fn pop_back(&mut self) -> Option<T> {
        let b = self.blocks.back_mut()?;
        let item = b.pop_back()?;
        self.len -= 1;
        if b.is_empty() && self.blocks.len() > 1 {
            self.retire_back();
        }
        Some(item)
    }

    #[cold]
    fn retire_front(&mut self) {
        let b = self.blocks.pop_front();
        self.keep_spare(b);
    }

    #[cold]
    fn retire_back(&mut self) {
        let b = self.blocks.pop_back();
        self.keep_spare(b);
    }

    fn keep_spare(&mut self, b: Option<VecDeque<T>>) {
        if let Some(b) = b {
            if b.capacity() >= BLOCK && self.spare.is_none() {
                self.spare = Some(b);
            }
        }
    }

    /// Front to back.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.blocks.iter().flat_map(|b| b.iter())
    }

    /// Takes every item out (front to back), leaving the deque empty and its memory freed.
    pub fn take_all(&mut self) -> Vec<T> {
        let out: Vec<T> = std::mem::take(self).into_iter().collect();
        out
    }

    /// Bytes allocated for item slots (for tests and memory accounting).
    pub fn allocated_bytes(&self) -> usize {
        let slots: usize =
            self.blocks.iter().map(|b| b.capacity()).sum::<usize>() + self.spare.as_ref().map_or(0, |b| b.capacity());
        slots * std::mem::size_of::<T>() + self.blocks.capacity() * std::mem::size_of::<VecDeque<T>>()
    }
}

impl<T> IntoIterator for Chunked<T> {
    type Item = T;
    type IntoIter = std::iter::Flatten<std::collections::vec_deque::IntoIter<VecDeque<T>>>;
    fn into_iter(self) -> Self::IntoIter {
        self.blocks.into_iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_across_blocks() {
        let mut d = Chunked::new();
        for i in 0..(3 * BLOCK + 7) {
            d.push_back(i);
        }
        assert_eq!(d.len(), 3 * BLOCK + 7);
        assert!(d.iter().copied().eq(0..3 * BLOCK + 7));
        for i in 0..(3 * BLOCK + 7) {
            assert_eq!(d.pop_front(), Some(i));
        }
        assert_eq!(d.pop_front(), None);
        assert!(d.is_empty());
    }

    #[test]
    fn lifo_across_blocks() {
        let mut d = Chunked::new();
        for i in 0..(2 * BLOCK + 3) {
            d.push_back(i);
        }
        for i in (0..(2 * BLOCK + 3)).rev() {
            assert_eq!(d.pop_back(), Some(i));
        }
        assert_eq!(d.pop_back(), None);
        d.push_back(42);
        assert_eq!(d.pop_back(), Some(42));
    }

    #[test]
    fn interleaved_fifo_keeps_order() {
        let mut d = Chunked::new();
        let (mut next_in, mut next_out) = (0usize, 0usize);
        for round in 0..50 {
            for _ in 0..(round * 97 % 1500) {
                d.push_back(next_in);
                next_in += 1;
            }
            for _ in 0..(round * 53 % 1200) {
                match d.pop_front() {
                    Some(x) => {
                        assert_eq!(x, next_out);
                        next_out += 1;
                    }
                    None => assert_eq!(next_in, next_out),
                }
            }
            assert_eq!(d.len(), next_in - next_out);
            assert!(d.iter().copied().eq(next_out..next_in));
        }
    }

    #[test]
    fn drained_queue_frees_blocks() {
        let mut d = Chunked::new();
        for i in 0..(10 * BLOCK) {
            d.push_back(i);
        }
        let full = d.allocated_bytes();
        assert!(full <= 10 * BLOCK * 8 + 4096, "{full} bytes for {} items", 10 * BLOCK);
        while d.pop_front().is_some() {}
        assert!(d.allocated_bytes() <= 2 * BLOCK * 8 + 1024);
        assert_eq!(d.take_all(), Vec::<usize>::new());
    }

    #[test]
    fn take_all_in_order() {
        let mut d = Chunked::new();
        for i in 0..(BLOCK + 5) {
            d.push_back(i);
        }
        d.pop_front();
        assert!(d.take_all().into_iter().eq(1..BLOCK + 5));
        assert_eq!(d.len(), 0);
        assert_eq!(d.pop_front(), None);
    }
}
