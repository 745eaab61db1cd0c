//! `_ext.Select_` values, and typed selections built from generated field names.

use std::fmt;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::call::FunctionInput;

/// An `_ext.Select_` value: the selection object of the `@select_` header, such as
/// `{"->": {"Ok_": ["field"]}, "struct.Point": ["x"]}`. Kept as JSON; the server
/// validates its shape against the schema. [`Selection`] builds one from typed field
/// names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Select(pub Map<String, Value>);

/// Where the fields of a struct or of a union's tag go in a selection object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    /// A field of a struct: `{"struct.Point": [..]}`.
    Struct(&'static str),
    /// A field of one tag of a union: `{"union.Shape": {"Circle": [..]}}`.
    Tag {
        /// The union's schema key, `union.Shape`.
        union: &'static str,
        /// The tag, `Circle`.
        tag: &'static str,
    },
}

/// A generated enum of the field names of a struct or a union's tag
/// (`select::Point::X`), which [`Selection::fields`] lists.
pub trait SelectField: Copy {
    /// The part of the selection object these fields go in.
    const SECTION: Section;

    /// The field's key as the schema spells it, `!` included (`label!`).
    fn wire(self) -> &'static str;
}

/// A generated enum of the field names of one function's `Ok_` result
/// (`select::GetPointOk::Point`), which [`Selection::ok`] lists.
pub trait ResultField: Copy {
    /// The input type of the function whose result has these fields.
    type Function: FunctionInput;

    /// The field's key as the schema spells it, `!` included (`next!`).
    fn wire(self) -> &'static str;
}

/// A typed `@select_` for the function whose input is `I`: which fields of its `Ok_`
/// result, and of the structs and union tags in it, the response keeps.
///
/// ```ignore
/// let selection = Selection::<api::EchoInput>::new()
///     .ok([api::select::EchoOk::Tree])
///     .fields([api::select::Node::Label, api::select::Node::Children]);
/// ```
///
/// A type the selection does not name keeps all its fields, wherever it appears in the
/// result; one it names keeps only the fields listed (none, for an empty list). Field
/// names come from the generated enums, so a misspelt one does not compile, nor does
/// another function's result field; a struct or union the function's result cannot
/// hold is the server's to refuse (`ErrorInvalidRequestHeaders_`), as for any
/// `@select_`.
pub struct Selection<I> {
    /// Each section named so far with its fields, in the order first named; `None` is
    /// the `Ok_` result.
    sections: Vec<(Option<Section>, Vec<&'static str>)>,
    function: PhantomData<fn() -> I>,
}

impl<I: FunctionInput> Selection<I> {
    /// A selection that keeps everything.
    pub fn new() -> Self {
        Self {
            sections: Vec::new(),
            function: PhantomData,
        }
    }

    /// Keeps `fields` of the function's `Ok_` result (besides any listed before).
    /// Listing none keeps none: [`ok_none`](Self::ok_none).
    #[must_use]
    pub fn ok<F, Fs>(self, fields: Fs) -> Self
    where
        F: ResultField<Function = I>,
        Fs: IntoIterator<Item = F>,
    {
        self.add(None, fields.into_iter().map(F::wire))
    }

    /// Keeps none of the `Ok_` result's fields (besides any listed before): `.ok([])`
    /// without naming the field type.
    #[must_use]
    pub fn ok_none(self) -> Self {
        self.add(None, std::iter::empty())
    }

    /// Keeps `fields` of their struct or union tag (besides any listed before).
    /// Listing none keeps none of the type's: `.fields::<select::Point, _>([])`.
    #[must_use]
    pub fn fields<F, Fs>(self, fields: Fs) -> Self
    where
        F: SelectField,
        Fs: IntoIterator<Item = F>,
    {
        self.add(Some(F::SECTION), fields.into_iter().map(F::wire))
    }

    fn add(mut self, section: Option<Section>, fields: impl Iterator<Item = &'static str>) -> Self {
        let index = match self.sections.iter().position(|(s, _)| *s == section) {
            Some(index) => index,
            None => {
                self.sections.push((section, Vec::new()));
                self.sections.len() - 1
            }
        };
        let list = &mut self.sections[index].1;
        for wire in fields {
            if !list.contains(&wire) {
                list.push(wire);
            }
        }
        self
    }

    /// The selection object, as the `@select_` header carries it.
    pub fn to_select(&self) -> Select {
        let mut select = Map::new();
        for (section, fields) in &self.sections {
            let list = Value::from(fields.clone());
            let (key, tag) = match *section {
                None => ("->", "Ok_"),
                Some(Section::Struct(name)) => {
                    select.insert(name.into(), list);
                    continue;
                }
                Some(Section::Tag { union, tag }) => (union, tag),
            };
            let by_tag = select
                .entry(key)
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(by_tag) = by_tag {
                by_tag.insert(tag.into(), list);
            }
        }
        Select(select)
    }
}

impl<I: FunctionInput> Default for Selection<I> {
    fn default() -> Self {
        Self::new()
    }
}

impl<I> Clone for Selection<I> {
    fn clone(&self) -> Self {
        Self {
            sections: self.sections.clone(),
            function: PhantomData,
        }
    }
}

impl<I> PartialEq for Selection<I> {
    fn eq(&self, other: &Self) -> bool {
        self.sections == other.sections
    }
}

impl<I: FunctionInput> fmt::Debug for Selection<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Selection")
            .field("function", &I::NAME)
            .field("sections", &self.sections)
            .finish()
    }
}

impl<I: FunctionInput> From<Selection<I>> for Select {
    fn from(selection: Selection<I>) -> Select {
        selection.to_select()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Serialize, Deserialize)]
    struct EchoInput {}

    impl FunctionInput for EchoInput {
        const NAME: &'static str = "fn.echo";
        const RESULT_TAGS: &'static [&'static str] = &["Ok_"];
        type Output = Value;
    }

    macro_rules! fields {
        ($name:ident, $section:expr, $($variant:ident => $wire:literal),*) => {
            #[derive(Clone, Copy)]
            enum $name { $($variant),* }
            impl SelectField for $name {
                const SECTION: Section = $section;
                fn wire(self) -> &'static str {
                    match self { $(Self::$variant => $wire),* }
                }
            }
        };
    }

    #[derive(Clone, Copy)]
    enum EchoOk {
        Point,
        Shape,
    }

    impl ResultField for EchoOk {
        type Function = EchoInput;
        fn wire(self) -> &'static str {
            match self {
                Self::Point => "point",
                Self::Shape => "shape!",
            }
        }
    }

    fields!(Point, Section::Struct("struct.Point"), X => "x", Y => "y");
    fields!(
        ShapeCircle,
        Section::Tag { union: "union.Shape", tag: "Circle" },
        Center => "center",
        Radius => "radius"
    );

    #[test]
    fn each_section_goes_where_the_protocol_reads_it() {
        let selection = Selection::<EchoInput>::new()
            .ok([EchoOk::Shape, EchoOk::Point])
            .fields([Point::X])
            .fields([ShapeCircle::Radius, ShapeCircle::Center]);
        assert_eq!(
            Value::Object(selection.to_select().0),
            json!({
                "->": {"Ok_": ["shape!", "point"]},
                "struct.Point": ["x"],
                "union.Shape": {"Circle": ["radius", "center"]}
            })
        );
    }

    #[test]
    fn fields_add_up_once_each_and_an_empty_list_keeps_none() {
        let selection = Selection::<EchoInput>::new()
            .fields([Point::Y, Point::Y])
            .fields([Point::X, Point::Y])
            .fields::<ShapeCircle, _>([]);
        assert_eq!(
            serde_json::to_value(selection.to_select()).unwrap(),
            json!({"struct.Point": ["y", "x"], "union.Shape": {"Circle": []}})
        );
        assert_eq!(
            Selection::<EchoInput>::default().to_select(),
            Select::default()
        );
    }
}
