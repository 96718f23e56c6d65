//! Turning a text frame into a command, and every way it can be wrong into its error event.

use protocol::{ClientCommand, ErrorCode, RequestId, ServerEvent};
use serde::Deserialize;

/// Parses a command; a frame that is not one becomes the error event to answer it with (boxed:
/// the rare path should not make every parse result as big as the largest event).
pub fn command(text: &str) -> Result<ClientCommand, Box<ServerEvent>> {
    serde_json::from_str(text).map_err(|err| {
        /// Just enough of any frame to echo its request id on an error.
        #[derive(Deserialize)]
        struct Envelope {
            request_id: Option<RequestId>,
        }
        let request_id = serde_json::from_str::<Envelope>(text)
            .ok()
            .and_then(|envelope| envelope.request_id);
        let detail = err.to_string();
        let code = if err.is_syntax() || err.is_eof() || !text.trim_start().starts_with('{') {
            ErrorCode::MalformedJson
        } else if detail.starts_with("unknown variant")
            || detail.starts_with("missing field `type`")
        {
            ErrorCode::UnknownCommand
        } else {
            ErrorCode::InvalidCommand
        };
        Box::new(error(request_id, code, &detail))
    })
}

pub fn error(request_id: Option<RequestId>, code: ErrorCode, message: &str) -> ServerEvent {
    ServerEvent::Error {
        request_id,
        code,
        message: message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(text: &str) -> (Option<RequestId>, ErrorCode) {
        match command(text).map_err(|event| *event) {
            Err(ServerEvent::Error {
                request_id, code, ..
            }) => (request_id, code),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn every_bad_frame_gets_its_own_code() {
        assert_eq!(code_of("not json"), (None, ErrorCode::MalformedJson));
        assert_eq!(code_of("[1,2]"), (None, ErrorCode::MalformedJson));
        assert_eq!(
            code_of(r#"{"type":"shout","request_id":4}"#),
            (Some(RequestId(4)), ErrorCode::UnknownCommand)
        );
        assert_eq!(
            code_of(r#"{"request_id":5}"#),
            (Some(RequestId(5)), ErrorCode::UnknownCommand)
        );
        assert_eq!(
            code_of(r#"{"type":"ping","request_id":"six"}"#),
            (None, ErrorCode::InvalidCommand)
        );
        assert_eq!(
            code_of(r#"{"type":"send","request_id":7,"room_id":"x","body":"hi"}"#),
            (Some(RequestId(7)), ErrorCode::InvalidCommand)
        );
        assert_eq!(
            code_of(r#"{"type":"send","request_id":8,"room_id":1}"#),
            (Some(RequestId(8)), ErrorCode::InvalidCommand)
        );
    }
}
