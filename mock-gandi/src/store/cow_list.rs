//! The list every per-domain collection (snapshots, DNSSEC keys, transfer settings) is kept
//! in: shared between states until one of them changes it (copy-on-write), and nothing
//! allocated while it is empty, so that ten thousand domains without any cost nothing.

use std::sync::Arc;

use serde::Serialize;

#[derive(Debug, Clone)]
pub struct CowList<T>(Option<Arc<Vec<T>>>);

impl<T> Default for CowList<T> {
    fn default() -> Self {
        Self(None)
    }
}

impl<T> std::ops::Deref for CowList<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }
}

impl<T: Clone> CowList<T> {
    /// The list to change: made on the first write, copied if another state shares it.
    pub fn make_mut(&mut self) -> &mut Vec<T> {
        Arc::make_mut(self.0.get_or_insert_with(Default::default))
    }
}

impl<T: Serialize> Serialize for CowList<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

impl<T: PartialEq> PartialEq for CowList<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Eq> Eq for CowList<T> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_list_holds_nothing_and_a_write_copies_only_a_shared_list() {
        let mut a: CowList<u8> = CowList::default();
        assert!(a.is_empty() && a.0.is_none());
        a.make_mut().push(1);
        let mut b = a.clone();
        b.make_mut().push(2);
        assert_eq!((&*a, &*b), (&[1][..], &[1, 2][..]));
    }
}
