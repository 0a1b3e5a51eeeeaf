//! The one deserializer: any `Deserialize` type read from a located
//! [`Node`]. Every Kubernetes kind, podpath's settings and the lessons go
//! through it, so serde's code for each type is generated once.
//!
//! An error knows the field path it happened at (`spec.ports[0].port`,
//! written as serde_yaml and the API server write it) and the place of the
//! node that caused it. The path is gathered while the error travels back
//! up, so reading a valid document costs nothing for it.
//!
//! Like serde_yaml, a plain scalar read as a string is its text (`cpu: 1`
//! is the quantity "1"); a quoted scalar read as a number is an error.

use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};

use super::{Kind, Mark, Node, Resolved};

/// A type error, with the field path and the place it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub message: String,
    /// Outermost first once the error is returned.
    path: Vec<PathSeg>,
    pub mark: Option<Mark>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum PathSeg {
    Key(String),
    Index(usize),
}

impl Error {
    /// The field path: `spec.ports[0].port`, empty for the document itself.
    pub fn path(&self) -> String {
        let mut out = String::new();
        for seg in self.path.iter().rev() {
            match seg {
                PathSeg::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                PathSeg::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        out
    }

    fn at(mut self, mark: Mark) -> Self {
        self.mark.get_or_insert(mark);
        self
    }

    fn under(mut self, seg: PathSeg) -> Self {
        self.path.push(seg);
        self
    }
}

/// `PATH: MESSAGE`, as serde_yaml prints its errors.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path();
        if path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{path}: {}", self.message)
        }
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error { message: msg.to_string(), path: Vec::new(), mark: None }
    }
}

/// Reads a `T` from a node.
pub fn from_node<T: DeserializeOwned>(node: &Node) -> Result<T, Error> {
    T::deserialize(Deserializer(node))
}

/// A node as a serde deserializer.
#[derive(Clone, Copy, Debug)]
pub struct Deserializer<'a>(pub &'a Node);

impl<'a> Deserializer<'a> {
    fn scalar(&self) -> Option<Resolved<'a>> {
        match &self.0.kind {
            Kind::Scalar(s) => Some(s.resolve()),
            _ => None,
        }
    }

    /// The error for a node that is not what the visitor wants. Outlined
    /// and reached through `&dyn Expected`, so each type's deserializer
    /// carries one call here instead of a copy of every mismatch.
    #[inline(never)]
    fn mismatch(self, expected: &dyn de::Expected) -> Error {
        Error::invalid_type(unexpected(self.0), expected).at(self.0.mark)
    }

    /// Reads the node as what it is, whatever the visitor asked for (for
    /// `deserialize_any`: `IntOrString`, JSON values).
    fn any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let node = self.0;
        let result = match &node.kind {
            Kind::Scalar(s) => match s.resolve() {
                Resolved::Null => visitor.visit_unit(),
                Resolved::Bool(b) => visitor.visit_bool(b),
                Resolved::Int(i) => visitor.visit_i64(i),
                Resolved::Uint(u) => visitor.visit_u64(u),
                Resolved::Float(f) => visitor.visit_f64(f),
                Resolved::Str(t) => visitor.visit_borrowed_str(t),
            },
            Kind::Seq(items) => visitor.visit_seq(SeqAccess { items: items.iter(), index: 0 }),
            Kind::Map(entries) => visitor.visit_map(MapAccess { entries: entries.iter(), value: None }),
        };
        placed(result, node.mark)
    }

    /// A scalar read as text: a plain scalar's text whatever it resolves
    /// to, except null.
    fn text<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.0.kind {
            Kind::Scalar(s) if s.resolve() != Resolved::Null => {
                placed(visitor.visit_borrowed_str(&s.text), self.0.mark)
            }
            _ => Err(self.mismatch(&visitor)),
        }
    }

    /// An integer: what a number field accepts. The visitor says whether
    /// it fits (`invalid value: integer 70000, expected u16`).
    fn integer<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let result = match self.scalar() {
            Some(Resolved::Int(i)) => visitor.visit_i64(i),
            Some(Resolved::Uint(u)) => visitor.visit_u64(u),
            _ => return Err(self.mismatch(&visitor)),
        };
        placed(result, self.0.mark)
    }

    fn float<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let result = match self.scalar() {
            Some(Resolved::Float(f)) => visitor.visit_f64(f),
            Some(Resolved::Int(i)) => visitor.visit_i64(i),
            Some(Resolved::Uint(u)) => visitor.visit_u64(u),
            _ => return Err(self.mismatch(&visitor)),
        };
        placed(result, self.0.mark)
    }

    fn map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.0.kind {
            Kind::Map(entries) => {
                placed(visitor.visit_map(MapAccess { entries: entries.iter(), value: None }), self.0.mark)
            }
            _ => Err(self.mismatch(&visitor)),
        }
    }

    fn seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.0.kind {
            Kind::Seq(items) => placed(visitor.visit_seq(SeqAccess { items: items.iter(), index: 0 }), self.0.mark),
            _ => Err(self.mismatch(&visitor)),
        }
    }
}

/// A visitor's result, with its error placed at the node if nothing deeper
/// placed it.
fn placed<T>(result: Result<T, Error>, mark: Mark) -> Result<T, Error> {
    match result {
        Ok(v) => Ok(v),
        Err(e) => Err(e.at(mark)),
    }
}

macro_rules! forward {
    ($how:ident: $($method:ident)*) => {
        $(fn $method<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
            self.$how(visitor)
        })*
    };
}

impl<'a> de::Deserializer<'a> for Deserializer<'a> {
    type Error = Error;

    forward! { any: deserialize_any deserialize_bytes deserialize_byte_buf deserialize_unit }
    forward! { integer: deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
    deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128 }
    forward! { float: deserialize_f32 deserialize_f64 }
    forward! { text: deserialize_char deserialize_str deserialize_string deserialize_identifier }
    forward! { map: deserialize_map }
    forward! { seq: deserialize_seq }

    fn deserialize_bool<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.scalar() {
            Some(Resolved::Bool(b)) => placed(visitor.visit_bool(b), self.0.mark),
            _ => Err(self.mismatch(&visitor)),
        }
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.scalar() == Some(Resolved::Null) {
            placed(visitor.visit_none(), self.0.mark)
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit_struct<V: Visitor<'a>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        self.any(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_tuple<V: Visitor<'a>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        self.seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.seq(visitor)
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.map(visitor)
    }

    /// A unit variant is a string (`cni: calico`); a variant with content
    /// is a mapping of one key (`expect: {delivered: …}`).
    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let result = match &self.0.kind {
            Kind::Scalar(s) => visitor.visit_enum(s.text.as_str().into_deserializer()),
            Kind::Map(entries) if entries.len() == 1 => {
                let (key, value) = (&entries[0].0, &entries[0].1);
                visitor.visit_enum(EnumAccess { key, value })
            }
            _ => return Err(self.mismatch(&"a string or a mapping of one key")),
        };
        placed(result, self.0.mark)
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

fn unexpected(node: &Node) -> de::Unexpected<'_> {
    match &node.kind {
        Kind::Seq(_) => de::Unexpected::Seq,
        Kind::Map(_) => de::Unexpected::Map,
        Kind::Scalar(s) => match s.resolve() {
            Resolved::Null => de::Unexpected::Unit,
            Resolved::Bool(b) => de::Unexpected::Bool(b),
            Resolved::Int(i) => de::Unexpected::Signed(i),
            Resolved::Uint(u) => de::Unexpected::Unsigned(u),
            Resolved::Float(f) => de::Unexpected::Float(f),
            Resolved::Str(t) => de::Unexpected::Str(t),
        },
    }
}

struct SeqAccess<'a> {
    items: std::slice::Iter<'a, Node>,
    index: usize,
}

impl<'a> de::SeqAccess<'a> for SeqAccess<'a> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'a>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        let Some(item) = self.items.next() else { return Ok(None) };
        let index = self.index;
        self.index += 1;
        match seed.deserialize(Deserializer(item)) {
            Ok(v) => Ok(Some(v)),
            Err(e) => Err(e.under(PathSeg::Index(index))),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapAccess<'a> {
    entries: std::slice::Iter<'a, (Node, Node)>,
    value: Option<(&'a Node, &'a Node)>,
}

impl<'a> de::MapAccess<'a> for MapAccess<'a> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'a>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.entries.next() else { return Ok(None) };
        self.value = Some((key, value));
        seed.deserialize(Deserializer(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let (key, value) = self.value.take().expect("next_value after next_key");
        match seed.deserialize(Deserializer(value)) {
            Ok(v) => Ok(v),
            Err(e) => Err(under_key(e, key)),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

#[inline(never)]
fn under_key(e: Error, key: &Node) -> Error {
    e.under(PathSeg::Key(key_text(key)))
}

fn key_text(key: &Node) -> String {
    match &key.kind {
        Kind::Scalar(s) => s.text.clone(),
        _ => "?".into(),
    }
}

struct EnumAccess<'a> {
    key: &'a Node,
    value: &'a Node,
}

impl<'a> de::EnumAccess<'a> for EnumAccess<'a> {
    type Error = Error;
    type Variant = VariantAccess<'a>;

    fn variant_seed<V: DeserializeSeed<'a>>(self, seed: V) -> Result<(V::Value, Self::Variant), Error> {
        let variant = seed.deserialize(Deserializer(self.key))?;
        Ok((variant, VariantAccess { key: self.key, value: self.value }))
    }
}

struct VariantAccess<'a> {
    key: &'a Node,
    value: &'a Node,
}

impl<'a> VariantAccess<'a> {
    fn under(&self, e: Error) -> Error {
        e.under(PathSeg::Key(key_text(self.key)))
    }
}

impl<'a> de::VariantAccess<'a> for VariantAccess<'a> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        if self.value.is_null() {
            Ok(())
        } else {
            Err(self.under(Error::custom("expected nothing for a variant without content").at(self.value.mark)))
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'a>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(Deserializer(self.value)).map_err(|e| self.under(e))
    }

    fn tuple_variant<V: Visitor<'a>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_tuple(Deserializer(self.value), len, visitor).map_err(|e| self.under(e))
    }

    fn struct_variant<V: Visitor<'a>>(self, fields: &'static [&'static str], visitor: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_struct(Deserializer(self.value), "", fields, visitor).map_err(|e| self.under(e))
    }
}

use de::Error as _;
