//! Links to a message, shared by the open room (copy link, timestamps) and the search results.

/// The address that opens a message in its room.
pub fn permalink(room: protocol::RoomId, seq: i64) -> String {
    format!("/r/{room}/{seq}")
}

/// A click with the main button and no modifier: one the page handles itself (others open a
/// new tab or window, as the browser does with links).
pub fn plain_click(event: &leptos::ev::MouseEvent) -> bool {
    event.button() == 0
        && !(event.ctrl_key() || event.meta_key() || event.shift_key() || event.alt_key())
}
