//! [`JsonText`]: how a server function's answer crosses the wire. JSON, as server_fn's own
//! `codec::Json` (Leptos's default) writes it, but read in the browser as text.
//!
//! That codec reads an answer from bytes (`serde_json::from_slice`). Everything else the page
//! reads is text: the socket's events, and the resources the server rendered into the page. The
//! WASM therefore held serde_json's decoder twice, once for bytes and once for text, for every
//! type a server function returns. Reading the answer as text took 7,062 bytes off the WASM's
//! gzip (`BENCHMARKS.md`, twenty-eighth session).

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::Serialize;
use serde::de::{DeserializeOwned, Error as _};

/// A server function's answer as JSON in the body of a `POST`'s response: the `output` of every
/// `#[server]` in [`crate::api`].
pub type JsonText = Post<JsonTextEncoding>;

/// The encoding behind [`JsonText`].
pub struct JsonTextEncoding;

impl ContentType for JsonTextEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonTextEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonTextEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, serde_json::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonTextEncoding {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, serde_json::Error> {
        let text = std::str::from_utf8(&bytes).map_err(serde_json::Error::custom)?;
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::JsonTextEncoding;
    use leptos::server_fn::{Bytes, Decodes, Encodes};
    use protocol::{RoomId, RoomInfo, RoomKind};

    #[test]
    fn an_answer_reads_back_as_it_was_written() {
        let rooms = vec![RoomInfo {
            id: RoomId(4),
            title: "Café \"quoted\" ☕".into(),
            kind: RoomKind::Closed,
            created_by: None,
        }];
        let bytes = <JsonTextEncoding as Encodes<Vec<RoomInfo>>>::encode(&rooms).unwrap();
        assert_eq!(bytes, serde_json::to_vec(&rooms).unwrap());
        let read: Vec<RoomInfo> = JsonTextEncoding::decode(bytes).unwrap();
        assert_eq!(read, rooms);
    }

    #[test]
    fn an_answer_that_is_not_utf8_is_an_error() {
        let broken = Bytes::from_static(b"[\"\xff\"]");
        let read: Result<Vec<String>, _> = JsonTextEncoding::decode(broken);
        assert!(read.is_err());
    }
}
