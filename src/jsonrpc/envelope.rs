//! Reading a body's JSON-RPC envelope straight from its bytes: the members JSON-RPC gives meaning
//! to (`jsonrpc`, `id`, `method`, `params`, `result`, `error`) are taken as they come and every
//! other member is skipped unread. Parsing the whole body into a `Value` first cost a tree node
//! and a `String` per member name and per string on every request; only `params` (and a
//! response's `result`/`error`) are still kept as values, since handlers read them as such.
//!
//! Nothing here judges the envelope: a member of the wrong type is kept as such, so the caller
//! refuses it with the same words as a message that was parsed into a `Value`. As in a `Value`'s
//! object, a member that appears twice keeps its last value.

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;

/// The members of one message object that JSON-RPC gives meaning to, as sent.
#[derive(Debug, Default)]
pub(crate) struct Envelope {
    pub id: Option<Value>,
    /// Whether `jsonrpc` is there and is exactly the string `"2.0"`.
    pub version_ok: bool,
    pub method: Option<Text>,
    pub params: Option<Value>,
    pub result: Option<Value>,
    pub error: Option<Value>,
}

/// A member that must be a string: the string, or the fact that it was something else.
#[derive(Debug, PartialEq)]
pub(crate) enum Text {
    Str(String),
    NotStr,
}

/// A whole body: one message, a batch, or a value that is neither (never a message).
#[derive(Debug)]
pub(crate) enum Raw {
    Message(Envelope),
    /// Each element, `None` where it is not an object.
    Batch(Vec<Option<Envelope>>),
    NotObject,
}

/// Parses a body; the error is the JSON syntax error (the body is not JSON at all).
pub(crate) fn read(bytes: &[u8]) -> Result<Raw, serde_json::Error> {
    serde_json::from_slice(bytes)
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Raw, D::Error> {
        d.deserialize_any(RawVisitor { top: true })
    }
}

/// One element of a batch: a message object, or `None` for anything else (read and dropped; an
/// array inside a batch is not a batch).
struct Element(Option<Envelope>);

impl<'de> Deserialize<'de> for Element {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Element, D::Error> {
        match d.deserialize_any(RawVisitor { top: false })? {
            Raw::Message(e) => Ok(Element(Some(e))),
            _ => Ok(Element(None)),
        }
    }
}

/// A body (`top`) or an element of a batch.
struct RawVisitor {
    top: bool,
}

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Raw, A::Error> {
        members(map).map(Raw::Message)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        if !self.top {
            return skip_seq(seq).map(|()| Raw::NotObject);
        }
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(Element(e)) = seq.next_element()? {
            items.push(e);
        }
        Ok(Raw::Batch(items))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Raw, E> {
        Ok(Raw::NotObject)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Raw, E> {
        Ok(Raw::NotObject)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Raw, E> {
        Ok(Raw::NotObject)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Raw, E> {
        Ok(Raw::NotObject)
    }
    fn visit_str<E>(self, _: &str) -> Result<Raw, E> {
        Ok(Raw::NotObject)
    }
    fn visit_unit<E>(self) -> Result<Raw, E> {
        Ok(Raw::NotObject)
    }
}

/// The members of a message object; member names are borrowed from the body where they can be.
fn members<'de, A: MapAccess<'de>>(mut map: A) -> Result<Envelope, A::Error> {
    let mut env = Envelope::default();
    while let Some(Name(name)) = map.next_key()? {
        match name {
            Key::Id => env.id = Some(map.next_value()?),
            Key::Jsonrpc => env.version_ok = map.next_value::<TextOf>()?.0 == Some(Seen::Version),
            Key::Method => {
                env.method = Some(match map.next_value::<TextOf>()?.0 {
                    Some(Seen::Owned(s)) => Text::Str(s),
                    Some(Seen::Version) => Text::Str("2.0".to_owned()),
                    None => Text::NotStr,
                })
            }
            Key::Params => env.params = Some(map.next_value()?),
            Key::Result => env.result = Some(map.next_value()?),
            Key::Error => env.error = Some(map.next_value()?),
            Key::Other => {
                map.next_value::<IgnoredAny>()?;
            }
        }
    }
    Ok(env)
}

fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn skip_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

#[derive(Clone, Copy)]
enum Key {
    Id,
    Jsonrpc,
    Method,
    Params,
    Result,
    Error,
    Other,
}

/// A member's name, recognised without copying it.
struct Name(Key);

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Name, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Name;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Name, E> {
                Ok(Name(match s {
                    "id" => Key::Id,
                    "jsonrpc" => Key::Jsonrpc,
                    "method" => Key::Method,
                    "params" => Key::Params,
                    "result" => Key::Result,
                    "error" => Key::Error,
                    _ => Key::Other,
                }))
            }
        }
        d.deserialize_str(V)
    }
}

#[derive(PartialEq)]
enum Seen {
    /// The string `"2.0"`, recognised without a copy.
    Version,
    Owned(String),
}

/// A member that should be a string: `Some` when it is one (the version is not copied), `None`
/// when it is any other value (read and dropped).
struct TextOf(Option<Seen>);

impl<'de> Deserialize<'de> for TextOf {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TextOf, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = TextOf;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_str<E>(self, s: &str) -> Result<TextOf, E> {
        Ok(TextOf(Some(if s == "2.0" {
            Seen::Version
        } else {
            Seen::Owned(s.to_owned())
        })))
    }
    fn visit_string<E>(self, s: String) -> Result<TextOf, E> {
        Ok(TextOf(Some(if s == "2.0" {
            Seen::Version
        } else {
            Seen::Owned(s)
        })))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TextOf, A::Error> {
        skip_map(map).map(|()| TextOf(None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<TextOf, A::Error> {
        skip_seq(seq).map(|()| TextOf(None))
    }
    fn visit_bool<E>(self, _: bool) -> Result<TextOf, E> {
        Ok(TextOf(None))
    }
    fn visit_i64<E>(self, _: i64) -> Result<TextOf, E> {
        Ok(TextOf(None))
    }
    fn visit_u64<E>(self, _: u64) -> Result<TextOf, E> {
        Ok(TextOf(None))
    }
    fn visit_f64<E>(self, _: f64) -> Result<TextOf, E> {
        Ok(TextOf(None))
    }
    fn visit_unit<E>(self) -> Result<TextOf, E> {
        Ok(TextOf(None))
    }
}
