//! The encodings a client has learned from the server.
//!
//! The client keeps the encoding the server used last (`current`, used to encode
//! requests) and the one before it (`previous`), and lists both in `@bin_` so that a
//! server switching between two schema versions (a rolling deploy) need not resend its
//! table every time. Older encodings are dropped, but a call in flight keeps those its
//! request listed: the server answers in one of them without resending its table.

use std::sync::Arc;

use crate::binary::BinaryEncoding;

#[derive(Default)]
pub(crate) struct BinaryState {
    current: Option<Arc<BinaryEncoding>>,
    previous: Option<Arc<BinaryEncoding>>,
}

impl BinaryState {
    /// The encodings whose checksums to list in `@bin_`, the one requests are encoded
    /// with first.
    pub(crate) fn known(&self) -> Vec<Arc<BinaryEncoding>> {
        [&self.current, &self.previous]
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    }

    /// The encoding to encode requests with.
    pub(crate) fn current(&self) -> Option<Arc<BinaryEncoding>> {
        self.current.clone()
    }

    /// Records an encoding received in `@enc_`.
    pub(crate) fn learn(&mut self, encoding: BinaryEncoding) {
        let checksum = encoding.checksum();
        self.forget(checksum);
        self.make_current(Arc::new(encoding));
        tracing::debug!(checksum, "learned binary encoding");
    }

    /// The server answered with `checksum`: makes that encoding current and returns it,
    /// or `None` when the client holds it neither here nor in `listed`, the encodings the
    /// call's request listed in `@bin_` (which other calls' answers may since have
    /// pushed out, when servers of more than two versions answer at once).
    pub(crate) fn switch_to(
        &mut self,
        checksum: i64,
        listed: &[Arc<BinaryEncoding>],
    ) -> Option<Arc<BinaryEncoding>> {
        let matches = |slot: &Option<Arc<BinaryEncoding>>| {
            slot.as_ref()
                .is_some_and(|encoding| i64::from(encoding.checksum()) == checksum)
        };
        if matches(&self.current) {
            return self.current.clone();
        }
        if matches(&self.previous) {
            let encoding = self.previous.take()?;
            self.make_current(encoding.clone());
            return Some(encoding);
        }
        let encoding = listed
            .iter()
            .find(|encoding| i64::from(encoding.checksum()) == checksum)?
            .clone();
        self.make_current(encoding.clone());
        Some(encoding)
    }

    /// Drops an encoding the server no longer accepts.
    pub(crate) fn forget(&mut self, checksum: i32) {
        let is_it = |slot: &Option<Arc<BinaryEncoding>>| {
            slot.as_ref()
                .is_some_and(|encoding| encoding.checksum() == checksum)
        };
        if is_it(&self.previous) {
            self.previous = None;
        }
        if is_it(&self.current) {
            self.current = self.previous.take();
        }
    }

    fn make_current(&mut self, encoding: Arc<BinaryEncoding>) {
        if let Some(old) = self.current.replace(encoding) {
            self.previous = Some(old);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl BinaryState {
        fn known_checksums(&self) -> Vec<i64> {
            self.known()
                .iter()
                .map(|encoding| i64::from(encoding.checksum()))
                .collect()
        }
    }

    fn checksums(encodings: &[&BinaryEncoding]) -> Vec<i64> {
        encodings
            .iter()
            .map(|encoding| i64::from(encoding.checksum()))
            .collect()
    }

    fn encoding(name: &str) -> BinaryEncoding {
        BinaryEncoding::from_names([name.to_string()])
    }

    #[test]
    fn learning_keeps_the_current_and_the_previous_encoding() {
        let (a, b, c) = (encoding("a"), encoding("b"), encoding("c"));
        let mut state = BinaryState::default();
        assert!(state.known_checksums().is_empty());
        state.learn(a.clone());
        state.learn(b.clone());
        assert_eq!(state.known_checksums(), checksums(&[&b, &a]));
        state.learn(c.clone());
        assert_eq!(state.known_checksums(), checksums(&[&c, &b]));
        // Relearning the current one changes nothing.
        state.learn(c.clone());
        assert_eq!(state.known_checksums(), checksums(&[&c, &b]));
    }

    #[test]
    fn switching_back_to_the_previous_encoding_swaps_them() {
        let (a, b) = (encoding("a"), encoding("b"));
        let mut state = BinaryState::default();
        state.learn(a.clone());
        state.learn(b.clone());
        let switched = state
            .switch_to(i64::from(a.checksum()), &[])
            .expect("known");
        assert_eq!(*switched, a);
        assert_eq!(state.known_checksums(), checksums(&[&a, &b]));
        assert!(state.switch_to(0, &[]).is_none());
    }

    #[test]
    fn an_encoding_pushed_out_but_listed_by_the_call_becomes_current_again() {
        let (a, b, c) = (encoding("a"), encoding("b"), encoding("c"));
        let mut state = BinaryState::default();
        state.learn(a.clone());
        state.learn(b.clone());
        let listed = state.known();
        state.learn(c.clone());
        assert_eq!(state.known_checksums(), checksums(&[&c, &b]));
        let switched = state.switch_to(i64::from(a.checksum()), &listed);
        assert_eq!(switched.as_deref(), Some(&a));
        assert_eq!(state.known_checksums(), checksums(&[&a, &c]));
    }

    #[test]
    fn forgetting_the_current_encoding_falls_back_to_the_previous() {
        let (a, b) = (encoding("a"), encoding("b"));
        let mut state = BinaryState::default();
        state.learn(a.clone());
        state.learn(b.clone());
        state.forget(b.checksum());
        assert_eq!(state.current().as_deref(), Some(&a));
        state.forget(a.checksum());
        assert!(state.current().is_none());
    }
}
