//! [`Encoded`]: a part of an event that the server encodes once and sends in many frames.
//!
//! Every `hello` lists the rooms everyone may see, the same list for every user. In a connect
//! storm (a restart, a network blip) thousands of greetings are written at once, and encoding
//! that list again for each was most of what serializing them cost (7 % of the server's time
//! with 150 rooms: `BENCHMARKS.md`, twenty-second session). So the server encodes it once per
//! read of it ([`Encoded::encode`]) and the greetings that share the read share the bytes; a
//! client decodes it like any other value. On the wire it is the value's plain JSON: nothing
//! tells the two apart.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use std::fmt;
use std::sync::Arc;

/// A `T` as the wire carries it: held as the value, or as its JSON shared by every frame that
/// carries it. Clones share the JSON.
#[derive(Clone)]
pub struct Encoded<T> {
    form: Form<T>,
}

#[derive(Clone)]
enum Form<T> {
    /// What decoding a frame gives, and what tests build.
    Value(T),
    /// What the server encoded once.
    Json(Arc<RawValue>),
}

impl<T> Encoded<T> {
    /// `value` as it is, to be encoded with the frame that carries it.
    pub fn new(value: T) -> Encoded<T> {
        Encoded {
            form: Form::Value(value),
        }
    }
}

impl<T: Serialize> Encoded<T> {
    /// `value` encoded now, once for every frame that will carry it.
    pub fn encode(value: &T) -> Result<Encoded<T>, serde_json::Error> {
        let json = serde_json::value::to_raw_value(value)?;
        Ok(Encoded {
            form: Form::Json(Arc::from(json)),
        })
    }

    /// The JSON the wire carries.
    fn json(&self) -> Result<String, serde_json::Error> {
        match &self.form {
            Form::Value(value) => serde_json::to_string(value),
            Form::Json(json) => Ok(json.get().to_owned()),
        }
    }
}

impl<T: DeserializeOwned> Encoded<T> {
    /// The value. Only a value the server encoded itself needs decoding here; what a client
    /// receives was decoded with its frame.
    pub fn decode(self) -> Result<T, serde_json::Error> {
        match self.form {
            Form::Value(value) => Ok(value),
            Form::Json(json) => serde_json::from_str(json.get()),
        }
    }
}

impl<T: Serialize> Serialize for Encoded<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.form {
            Form::Value(value) => value.serialize(serializer),
            // serde_json writes a `RawValue`'s text as it is, without encoding it again.
            Form::Json(json) => json.serialize(serializer),
        }
    }
}

// Decoded as the value, not kept as JSON: what decodes a frame is a client, and it wants the
// value.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Encoded<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Encoded::new)
    }
}

/// Two values compare as values; otherwise, equal when the wire would carry the same JSON.
impl<T: Serialize + PartialEq> PartialEq for Encoded<T> {
    fn eq(&self, other: &Self) -> bool {
        match (&self.form, &other.form) {
            (Form::Value(mine), Form::Value(theirs)) => mine == theirs,
            _ => matches!((self.json(), other.json()), (Ok(mine), Ok(theirs)) if mine == theirs),
        }
    }
}

impl<T: Serialize + Eq> Eq for Encoded<T> {}

impl<T: fmt::Debug> fmt::Debug for Encoded<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.form {
            Form::Value(value) => f.debug_tuple("Encoded").field(value).finish(),
            Form::Json(json) => f.debug_tuple("Encoded").field(&json.get()).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::Encoded;
    use crate::{RoomId, RoomInfo, RoomKind};

    fn rooms() -> Vec<RoomInfo> {
        vec![RoomInfo {
            id: RoomId(3),
            title: "Lobby \"quoted\" ☕".into(),
            kind: RoomKind::Open,
            created_by: None,
        }]
    }

    #[test]
    fn encoded_once_goes_on_the_wire_as_the_value_would() {
        let encoded = Encoded::encode(&rooms()).unwrap();
        let plain = Encoded::new(rooms());
        assert_eq!(
            serde_json::to_string(&encoded).unwrap(),
            serde_json::to_string(&plain).unwrap()
        );
        assert_eq!(encoded, plain);
        assert_eq!(encoded.clone().decode().unwrap(), rooms());
    }
}
