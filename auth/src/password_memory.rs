//! The memory argon2 works in, kept between hashes.
//!
//! argon2 fills `memory_kib` of memory for every hash (19 MiB by default). Allocated
//! afresh each time, that memory went back to the allocator's arena of whichever
//! blocking thread ran the check, not to the system: glibc serves a size it has just
//! freed from its arenas from then on, and each of a dozen arenas came to keep several
//! such buffers. The auth example grew from 11 MB to 616 MB of resident memory over
//! 2,000 failed logins and stayed there, with 1.3 MB in use. Kept here, at most as many
//! buffers as checks run at once are ever allocated.

use std::sync::{Mutex, PoisonError};

use argon2::Block;

/// Buffers of argon2 memory free for the next hash.
#[derive(Debug)]
pub(crate) struct HashMemory {
    free: Mutex<Vec<Vec<Block>>>,
    /// How many buffers are kept once given back; a buffer given back past them is freed.
    keep: usize,
}

impl HashMemory {
    /// Keeps up to `keep` buffers (at least one).
    pub(crate) fn new(keep: usize) -> Self {
        HashMemory {
            free: Mutex::default(),
            keep: keep.max(1),
        }
    }

    /// A buffer of at least `blocks` blocks, one kept if any is free. Its contents are
    /// whatever the last hash left: argon2 writes every block before it reads it.
    pub(crate) fn take(&self, blocks: usize) -> Vec<Block> {
        let kept = self.lock().pop();
        let mut buffer = kept.unwrap_or_default();
        if buffer.len() < blocks {
            buffer.resize(blocks, Block::default());
        }
        buffer
    }

    /// Gives `buffer` back for the next hash.
    pub(crate) fn give_back(&self, buffer: Vec<Block>) {
        let mut free = self.lock();
        if free.len() < self.keep {
            free.push(buffer);
        }
    }

    /// The sizes (in blocks) of the buffers kept: the work of the hashes run so far.
    #[cfg(test)]
    pub(crate) fn kept_sizes(&self) -> Vec<usize> {
        self.lock().iter().map(Vec::len).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<Block>>> {
        self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_and_at_most_keep_are_kept() {
        let memory = HashMemory::new(2);
        let first = memory.take(8);
        let first_at = first.as_ptr();
        memory.give_back(first);
        let again = memory.take(4);
        assert_eq!(again.as_ptr(), first_at, "the kept buffer is taken again");
        assert!(again.len() >= 4);
        let taken: Vec<_> = (0..3).map(|_| memory.take(8)).collect();
        for buffer in taken.into_iter().chain([again]) {
            memory.give_back(buffer);
        }
        assert_eq!(memory.lock().len(), 2);
    }
}
