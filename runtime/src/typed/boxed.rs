//! [`Boxed`]: the heap box generated code uses where a schema's types nest too deeply
//! for the compiler.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, DerefMut};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value on the heap, like `Box<T>`, that ends the compiler's walk through the types
/// it holds. rustc checks drop order (drop-check), layouts and `Send`/`Sync` by walking
/// every type a type owns, and stops at its recursion limit (128): a schema whose types
/// hold one another in chains longer than that would not compile. The generator holds
/// a field through `Boxed` where such a chain would grow too long; the walk stops here
/// because the value sits behind a trait object whose `Send + Sync` is proven once, when
/// the value is boxed.
///
/// Read and change it through `Deref`; make one with [`Boxed::new`] or `.into()`.
pub struct Boxed<T: 'static>(Box<dyn Held<T>>);

/// What [`Boxed`] knows of its value: how to reach it, nothing about its fields. Called
/// as `Held::get(&*box)`: `Box<dyn Held<T>>` is itself a `Held<Box<..>>`.
trait Held<T>: Send + Sync {
    fn get(&self) -> &T;
    fn get_mut(&mut self) -> &mut T;
    fn take(self: Box<Self>) -> T;
}

impl<T: Send + Sync> Held<T> for T {
    fn get(&self) -> &T {
        self
    }

    fn get_mut(&mut self) -> &mut T {
        self
    }

    fn take(self: Box<Self>) -> T {
        *self
    }
}

impl<T: Send + Sync + 'static> Boxed<T> {
    /// Moves `value` to the heap.
    pub fn new(value: T) -> Self {
        Boxed(Box::new(value))
    }
}

impl<T: 'static> Boxed<T> {
    /// The value, off the heap.
    pub fn into_inner(self) -> T {
        Held::take(self.0)
    }
}

impl<T: 'static> Deref for Boxed<T> {
    type Target = T;

    fn deref(&self) -> &T {
        Held::get(&*self.0)
    }
}

impl<T: 'static> DerefMut for Boxed<T> {
    fn deref_mut(&mut self) -> &mut T {
        Held::get_mut(&mut *self.0)
    }
}

impl<T: 'static> AsRef<T> for Boxed<T> {
    fn as_ref(&self) -> &T {
        self
    }
}

impl<T: Send + Sync + 'static> From<T> for Boxed<T> {
    fn from(value: T) -> Self {
        Boxed::new(value)
    }
}

impl<T: Clone + Send + Sync + 'static> Clone for Boxed<T> {
    fn clone(&self) -> Self {
        Boxed::new(T::clone(self))
    }
}

impl<T: Default + Send + Sync + 'static> Default for Boxed<T> {
    fn default() -> Self {
        Boxed::new(T::default())
    }
}

impl<T: PartialEq + 'static> PartialEq for Boxed<T> {
    fn eq(&self, other: &Self) -> bool {
        T::eq(self, other)
    }
}

impl<T: Eq + 'static> Eq for Boxed<T> {}

impl<T: Hash + 'static> Hash for Boxed<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        T::hash(self, state);
    }
}

impl<T: fmt::Debug + 'static> fmt::Debug for Boxed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        T::fmt(self, f)
    }
}

impl<T: Serialize + 'static> Serialize for Boxed<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        T::serialize(self, serializer)
    }
}

impl<'de, T: Deserialize<'de> + Send + Sync + 'static> Deserialize<'de> for Boxed<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Boxed::new)
    }
}

#[cfg(test)]
mod tests {
    use super::Boxed;

    #[test]
    fn reads_writes_compares_and_serialises_as_its_value() {
        let mut boxed = Boxed::new(vec![1, 2]);
        boxed.push(3);
        assert_eq!(*boxed, [1, 2, 3]);
        assert_eq!(boxed.clone(), Boxed::from(vec![1, 2, 3]));
        assert_eq!(format!("{boxed:?}"), "[1, 2, 3]");
        assert_eq!(serde_json::to_string(&boxed).unwrap(), "[1,2,3]");
        let read: Boxed<Vec<i64>> = serde_json::from_str("[4]").unwrap();
        assert_eq!(read.into_inner(), [4]);
        assert_eq!(*Boxed::<String>::default(), "");
    }
}
