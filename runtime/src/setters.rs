//! The builder-style setters of the options structs, here and in `telepact-auth`.

/// Writes one `#[must_use]` setter per listed field of an options struct:
/// `field: Type` takes a `Type`; `field: into Type` takes any `impl Into<Type>`.
/// The structs are `#[non_exhaustive]`, so other crates build one from its `Default`
/// (or constructor) and these setters.
#[doc(hidden)]
#[macro_export]
macro_rules! __option_setters {
    (@fields) => {};
    (@fields $field:ident: into $value:ty $(, $($rest:tt)*)?) => {
        #[doc = concat!("Sets the `", stringify!($field), "` field.")]
        #[must_use]
        pub fn $field(mut self, $field: impl Into<$value>) -> Self {
            self.$field = $field.into();
            self
        }
        $crate::__option_setters!(@fields $($($rest)*)?);
    };
    (@fields $field:ident: $value:ty $(, $($rest:tt)*)?) => {
        #[doc = concat!("Sets the `", stringify!($field), "` field.")]
        #[must_use]
        pub fn $field(mut self, $field: $value) -> Self {
            self.$field = $field;
            self
        }
        $crate::__option_setters!(@fields $($($rest)*)?);
    };
    ($options:ident { $($fields:tt)* }) => {
        /// Builder-style setters, one per field.
        impl $options {
            $crate::__option_setters!(@fields $($fields)*);
        }
    };
}
