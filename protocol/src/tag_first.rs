//! [`TagFirst`]: reading an enum tagged by a field (`{"type": "hello", ...}`) whose tag comes
//! first, straight from the frame.
//!
//! serde reads an enum declared `#[serde(tag = "type")]` by reading the whole object into a
//! buffer of its own first, since the tag may come last, and then the variant's fields out of
//! that buffer. In the browser that has a price in bytes: every field's type is decoded by code
//! compiled twice, once for the frame and once for the buffer (reading the tag first took
//! 19,815 bytes off the WASM's gzip: `BENCHMARKS.md`, twenty-eighth session). Whisper's server
//! writes the tag before the fields (serde always does), so the page reads the tag, then the
//! variant's fields where they are.
//!
//! [`TagFirst`] wraps a deserializer for the enum's plain, externally tagged reading (serde's
//! `remote` derive of the same variants, as `event.rs` declares it). Where that reading asks
//! for an enum, it reads an object whose first field is the tag, whose value names the
//! variant, and whose other fields are the variant's.
//!
//! Where it differs from serde's own reading, on nothing this server sends:
//! - an object that does not start with the tag is refused. That includes one that went
//!   through a `serde_json::Value`, whose objects sort their keys;
//! - a second tag field is skipped like any field the variant does not know (serde refuses
//!   it);
//! - the array form serde also accepts (`["pong", 1]`) is refused.

use serde::de::value::MapAccessDeserializer;
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IgnoredAny, MapAccess, VariantAccess, Visitor,
};
use std::fmt;

/// A deserializer that reads an enum from an object tagged by its first field, `tag`.
pub(crate) struct TagFirst<D> {
    inner: D,
    tag: &'static str,
}

impl<D> TagFirst<D> {
    pub(crate) fn new(inner: D, tag: &'static str) -> TagFirst<D> {
        TagFirst { inner, tag }
    }
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for TagFirst<D> {
    type Error = D::Error;

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_map(ObjectAsEnum {
            tag: self.tag,
            visitor,
        })
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_any(visitor)
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}

/// Reads the object's first key, which must be the tag, and hands the rest to the enum's
/// visitor as the variant's name and fields.
struct ObjectAsEnum<V> {
    tag: &'static str,
    visitor: V,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for ObjectAsEnum<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object whose first field is `{}`", self.tag)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<V::Value, A::Error> {
        match map.next_key_seed(IsTag(self.tag))? {
            Some(true) => self.visitor.visit_enum(Variant { map }),
            Some(false) => Err(de::Error::custom(format_args!(
                "the first field must be `{}`",
                self.tag
            ))),
            None => Err(de::Error::missing_field(self.tag)),
        }
    }
}

/// Reads a key and tells whether it is the tag, without keeping it.
struct IsTag(&'static str);

impl<'de> DeserializeSeed<'de> for IsTag {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for IsTag {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

/// The rest of the object once its tag's name is read: the tag's value names the variant,
/// the fields after it are the variant's.
struct Variant<A> {
    map: A,
}

impl<'de, A: MapAccess<'de>> EnumAccess<'de> for Variant<A> {
    type Error = A::Error;
    type Variant = Variant<A>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        mut self,
        seed: S,
    ) -> Result<(S::Value, Variant<A>), A::Error> {
        let name = self.map.next_value_seed(seed)?;
        Ok((name, self))
    }
}

impl<'de, A: MapAccess<'de>> VariantAccess<'de> for Variant<A> {
    type Error = A::Error;

    /// `{"type": "done"}`: any other fields are skipped, as serde's own reading skips them.
    fn unit_variant(mut self) -> Result<(), A::Error> {
        while self.map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }

    /// A variant holding one struct reads the object's other fields as that struct's.
    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        seed.deserialize(MapAccessDeserializer::new(self.map))
    }

    /// serde cannot tag a tuple variant by a field either.
    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, A::Error> {
        Err(de::Error::custom(
            "a tuple variant cannot be tagged by a field",
        ))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        visitor.visit_map(self.map)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::TagFirst;
    use serde::{Deserialize, Deserializer, Serialize};

    /// Every kind of variant, declared as `event.rs` declares `ServerEvent`.
    #[derive(Debug, PartialEq, Serialize)]
    #[serde(tag = "type", rename_all = "snake_case")]
    enum Shape {
        Point,
        Circle { radius: u32 },
        Named(Name),
    }

    #[derive(Deserialize)]
    #[serde(remote = "Shape", rename_all = "snake_case")]
    #[allow(dead_code)]
    enum ShapeByType {
        Point,
        Circle { radius: u32 },
        Named(Name),
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Name {
        name: String,
    }

    impl<'de> Deserialize<'de> for Shape {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            ShapeByType::deserialize(TagFirst::new(deserializer, "type"))
        }
    }

    fn read(json: &str) -> Result<Shape, String> {
        serde_json::from_str(json).map_err(|err| err.to_string())
    }

    #[test]
    fn reads_what_serde_writes_for_every_kind_of_variant() {
        for shape in [
            Shape::Point,
            Shape::Circle { radius: 7 },
            Shape::Named(Name {
                name: "a \"quoted\" ☕".into(),
            }),
        ] {
            let json = serde_json::to_string(&shape).unwrap();
            assert!(json.starts_with(r#"{"type":"#), "{json}");
            assert_eq!(read(&json).unwrap(), shape);
        }
    }

    #[test]
    fn skips_fields_it_does_not_know_as_serde_does() {
        assert_eq!(
            read(r#"{"type":"circle","radius":2,"colour":{"r":[1,2]}}"#).unwrap(),
            Shape::Circle { radius: 2 }
        );
        assert_eq!(
            read(r#"{"type":"point","later":true}"#).unwrap(),
            Shape::Point
        );
        // Unlike serde's own reading, which refuses a duplicate field.
        assert_eq!(
            read(r#"{"type":"circle","radius":3,"type":"point"}"#).unwrap(),
            Shape::Circle { radius: 3 }
        );
    }

    #[test]
    fn a_tag_written_with_escapes_is_the_tag() {
        assert_eq!(
            read(r#"{"\u0074ype":"circle","radius":1}"#).unwrap(),
            Shape::Circle { radius: 1 }
        );
    }

    #[test]
    fn refuses_objects_that_do_not_start_with_a_known_tag() {
        let later = read(r#"{"radius":2,"type":"circle"}"#).unwrap_err();
        assert!(later.contains("the first field must be `type`"), "{later}");
        let missing = read("{}").unwrap_err();
        assert!(missing.contains("missing field `type`"), "{missing}");
        let unknown = read(r#"{"type":"square","side":1}"#).unwrap_err();
        assert!(unknown.contains("unknown variant `square`"), "{unknown}");
        let wrong = read(r#"{"type":"circle","radius":"big"}"#).unwrap_err();
        assert!(wrong.contains("invalid type"), "{wrong}");
        let missing_field = read(r#"{"type":"circle"}"#).unwrap_err();
        assert!(
            missing_field.contains("missing field `radius`"),
            "{missing_field}"
        );
        assert!(read(r#"["circle",2]"#).is_err());
        assert!(read(r#"{"type":"circle","radius":2"#).is_err());
    }
}
