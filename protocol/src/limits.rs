//! Every size limit, in one place: the server enforces them, the database schema is sized by
//! them (`migration`), the forms carry them as `maxlength`/`minlength`, and the texts that
//! explain a refusal are written from them. Characters are Unicode scalar values.

/// Longest username.
pub const MAX_USERNAME_CHARS: usize = 32;

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Longest password accepted: argon2 would take anything, but a megabyte "password" is a
/// denial-of-service attempt, not a password.
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// Longest room title.
pub const MAX_TITLE_CHARS: usize = 80;

/// Most people in a direct conversation, the user starting it included.
pub const MAX_DIRECT_MEMBERS: usize = 8;

/// Most users one command may add to a room (on creation, or adding members).
pub const MAX_ADDED_MEMBERS: usize = 50;

/// Longest user-search query, and most users one search answers with.
pub const MAX_USER_QUERY_CHARS: usize = MAX_USERNAME_CHARS;
pub const USER_SEARCH_RESULTS: usize = 20;

/// Longest message body.
pub const MAX_MESSAGE_CHARS: usize = 4000;

/// Longest `send` nonce.
pub const MAX_NONCE_CHARS: usize = 64;

/// Messages per history page, and how many `joined` carries.
pub const HISTORY_PAGE: usize = 50;

/// Largest WebSocket message (and frame) either side accepts, in bytes: room for the longest
/// message body even if every character is JSON-escaped as a surrogate pair (`\ud83d\ude00`,
/// 12 bytes), plus the command around it. The server closes a socket that sends more with
/// close code 1009 ("message too big").
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

const _: () = assert!(MAX_FRAME_BYTES >= MAX_MESSAGE_CHARS * 12 + 1024);

/// Rooms of up to this many members notify of every message by default; busier ones of
/// mentions only (see [`crate::NotifyLevel::default_for`]).
pub const QUIET_ROOM_MEMBERS: usize = 10;

/// A typing client says so at most this often while the user keeps typing.
pub const TYPING_EVERY_MS: u32 = 3000;

/// How long "is typing" shows after the last word of it, unless the message arrives first.
pub const TYPING_SHOWN_MS: u32 = 5000;

/// Longest search query, and most words (filters included) one may have.
pub const MAX_SEARCH_CHARS: usize = 200;
pub const MAX_SEARCH_WORDS: usize = 10;

/// Results per search page.
pub const SEARCH_PAGE: usize = 20;
