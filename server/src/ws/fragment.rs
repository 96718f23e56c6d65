//! Long text messages as a run of WebSocket fragments (RFC 6455, section 5.4), each at most a
//! given size, which browsers and client libraries join back into one message.
//!
//! Why: tungstenite formats each frame into a per-socket output buffer that keeps the capacity
//! of the largest frame it ever held, for the socket's whole life. Sent whole, one `hello`
//! listing 150 rooms left 10 KB behind in every idle socket; sent in fragments, the buffer holds
//! at most what the writer gathers plus one fragment, whatever the message (see `crate::ws`).
//! The fragments share the message's bytes: nothing is copied to split it.

use bytes::Bytes;
use tungstenite::Message;
use tungstenite::Utf8Bytes;
use tungstenite::protocol::frame::Frame;
use tungstenite::protocol::frame::coding::{Data, OpCode};

/// The messages to send for `text`: itself when it fits in `limit` bytes, otherwise its
/// fragments, the first marked text, the rest continuations, the last final.
pub fn fragments(text: Utf8Bytes, limit: usize) -> Fragments {
    let limit = limit.max(1);
    if text.len() <= limit {
        Fragments::Whole(Some(text))
    } else {
        Fragments::Split {
            bytes: Bytes::from(text),
            sent: 0,
            limit,
        }
    }
}

/// See [`fragments`].
pub enum Fragments {
    Whole(Option<Utf8Bytes>),
    Split {
        bytes: Bytes,
        sent: usize,
        limit: usize,
    },
}

impl Iterator for Fragments {
    type Item = Message;

    fn next(&mut self) -> Option<Message> {
        match self {
            Fragments::Whole(text) => text.take().map(Message::Text),
            Fragments::Split { bytes, sent, limit } => {
                if *sent == bytes.len() {
                    return None;
                }
                let end = (*sent + *limit).min(bytes.len());
                // Cut anywhere, even inside a character: UTF-8 is checked on the joined message.
                let opcode = if *sent == 0 {
                    OpCode::Data(Data::Text)
                } else {
                    OpCode::Data(Data::Continue)
                };
                let frame = Frame::message(bytes.slice(*sent..end), opcode, end == bytes.len());
                *sent = end;
                Some(Message::Frame(frame))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tungstenite::protocol::frame::coding::OpCode;

    /// Each fragment's opcode, finality and text.
    fn described(text: &str, limit: usize) -> Vec<(OpCode, bool, String)> {
        fragments(Utf8Bytes::from(text.to_owned()), limit)
            .map(|message| match message {
                Message::Frame(frame) => {
                    let header = frame.header();
                    let (opcode, fin) = (header.opcode, header.is_final);
                    let text = String::from_utf8_lossy(frame.payload()).into_owned();
                    (opcode, fin, text)
                }
                Message::Text(text) => (OpCode::Data(Data::Text), true, text.as_str().to_owned()),
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_message_that_fits_goes_whole() {
        assert_eq!(
            described("hello", 5),
            [(OpCode::Data(Data::Text), true, "hello".to_owned())]
        );
    }

    #[test]
    fn a_long_message_goes_as_a_text_fragment_then_continuations() {
        assert_eq!(
            described("abcdefghij", 4),
            [
                (OpCode::Data(Data::Text), false, "abcd".to_owned()),
                (OpCode::Data(Data::Continue), false, "efgh".to_owned()),
                (OpCode::Data(Data::Continue), true, "ij".to_owned()),
            ]
        );
    }

    #[test]
    fn fragments_join_back_into_the_message_even_cut_inside_a_character() {
        let text = "ééééé"; // 10 bytes, cut every 3
        let joined: Vec<u8> = fragments(Utf8Bytes::from(text.to_owned()), 3)
            .flat_map(|message| match message {
                Message::Frame(frame) => frame.into_payload().to_vec(),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(String::from_utf8(joined).unwrap(), text);
    }
}
