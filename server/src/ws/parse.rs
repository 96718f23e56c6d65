//! Turning a text frame into a command, and every way it can be wrong into its error event.

use protocol::{ClientCommand, ErrorCode, RequestId, ServerEvent};

/// Parses a command; a frame that is not one becomes the error event to answer it with (boxed:
/// the rare path should not make every parse result as big as the largest event).
///
/// A bad frame is classified by what it holds — JSON at all, an object, a `type` among
/// [`ClientCommand::TYPES`] — never by the wording of serde's error, and the client gets fixed
/// texts of ours: nothing of serde's message (which can quote the frame) reaches it.
pub fn command(text: &str) -> Result<ClientCommand, Box<ServerEvent>> {
    // The common case costs one parse; only a bad frame is looked at again.
    serde_json::from_str(text).map_err(|_| Box::new(classify(text)))
}

/// The error event for a frame that is not a valid command.
fn classify(text: &str) -> ServerEvent {
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(text) else {
        return error(
            None,
            ErrorCode::MalformedJson,
            "A command is a JSON object.",
        );
    };
    let request_id = fields
        .get("request_id")
        .and_then(serde_json::Value::as_u64)
        .map(RequestId);
    match fields.get("type").and_then(serde_json::Value::as_str) {
        None => error(
            request_id,
            ErrorCode::UnknownCommand,
            "A command needs a `type`.",
        ),
        Some(kind) if !ClientCommand::TYPES.contains(&kind) => error(
            request_id,
            ErrorCode::UnknownCommand,
            "No command of that type.",
        ),
        Some(_) => error(
            request_id,
            ErrorCode::InvalidCommand,
            "Fields missing, unknown or of the wrong type for this command.",
        ),
    }
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
    fn no_text_of_the_frame_reaches_the_client() {
        let Err(event) = command(r#"{"type":"send","request_id":1,"room_id":"<script>"}"#) else {
            panic!("not a command");
        };
        let ServerEvent::Error { message, .. } = *event else {
            panic!("an error event");
        };
        assert!(!message.contains("script"), "{message}");
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
