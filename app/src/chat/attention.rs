//! Whether the user is looking at the page, and how the page gets their attention when they are
//! not: browser notifications for what their levels ask (the reducer decides which messages,
//! [`super::state::ChatState::notifies`]; this shows them). Browser only; on the server
//! nobody is looking.

#[cfg(any(feature = "hydrate", test))]
use protocol::ChatMessage;

#[cfg(feature = "hydrate")]
/// Notifications for one room within this many milliseconds are folded into one, which says
/// how many messages came.
pub const FOLD_WITHIN_MS: f64 = 5000.0;

/// Where the browser stands on showing notifications. (On the server, always unsupported.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub enum Permission {
    /// Not asked yet: the page offers to ask.
    Ask,
    Granted,
    /// Refused by the user (or the browser's settings): shown, never asked again.
    Denied,
    /// This browser has no notifications.
    Unsupported,
}

/// The text of a notification: one message, or the count of several that came together.
#[cfg(any(feature = "hydrate", test))]
pub fn notification_body(message: &ChatMessage, folded: u32) -> String {
    if folded <= 1 {
        format!("{}: {}", message.author.username, message.body)
    } else {
        format!(
            "{folded} new messages, the last from {}: {}",
            message.author.username, message.body
        )
    }
}

#[cfg(feature = "hydrate")]
pub use browser::*;

#[cfg(feature = "hydrate")]
mod browser {
    use super::{FOLD_WITHIN_MS, Permission, notification_body};
    use leptos::prelude::*;
    use protocol::{ChatMessage, RoomId};
    use std::cell::RefCell;
    use std::collections::HashMap;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{Notification, NotificationOptions, NotificationPermission, VisibilityState};

    /// The page is on screen and has the keyboard: what arrives in the open room is seen.
    pub fn attended() -> bool {
        let document = document();
        document.visibility_state() == VisibilityState::Visible
            && document.has_focus().unwrap_or(false)
    }

    fn supported() -> bool {
        js_sys::Reflect::has(&window(), &"Notification".into()).unwrap_or(false)
    }

    pub fn permission() -> Permission {
        if !supported() {
            return Permission::Unsupported;
        }
        match Notification::permission() {
            NotificationPermission::Granted => Permission::Granted,
            NotificationPermission::Denied => Permission::Denied,
            _ => Permission::Ask,
        }
    }

    /// Asks the browser (from a click: browsers only ask then); `done` gets the answer.
    pub fn ask_permission(done: impl FnOnce(Permission) + 'static) {
        let Ok(promise) = Notification::request_permission() else {
            done(permission());
            return;
        };
        leptos::task::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
            done(permission());
        });
    }

    thread_local! {
        /// Per room: when its current notification began, and how many messages it tells of.
        static SHOWN: RefCell<HashMap<RoomId, (f64, u32)>> = RefCell::new(HashMap::new());
    }

    /// Shows a notification for `message` in the room called `room_title`: one per room,
    /// replaced (by its tag) while more arrive within [`FOLD_WITHIN_MS`]. Clicking it brings
    /// the tab forward and runs `open`.
    pub fn notify(room_title: &str, message: &ChatMessage, open: impl Fn() + 'static) {
        if permission() != Permission::Granted {
            return;
        }
        let now = js_sys::Date::now();
        let folded = SHOWN.with_borrow_mut(|shown| {
            let entry = shown.entry(message.room_id).or_insert((now, 0));
            if now - entry.0 > FOLD_WITHIN_MS {
                *entry = (now, 0);
            }
            entry.1 += 1;
            entry.1
        });
        let options = NotificationOptions::new();
        options.set_body(&notification_body(message, folded));
        options.set_tag(&format!("whisper-room-{}", message.room_id));
        let Ok(notification) = Notification::new_with_options(room_title, &options) else {
            return;
        };
        let shown = notification.clone();
        let on_click = Closure::<dyn Fn()>::new(move || {
            let _ = window().focus();
            open();
            shown.close();
        });
        notification.set_onclick(Some(on_click.as_ref().unchecked_ref()));
        // Lives as long as the notification may be clicked: the page's lifetime.
        on_click.forget();
    }
}

#[cfg(not(feature = "hydrate"))]
pub fn attended() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::notification_body;
    use crate::chat::fixtures::message;

    #[test]
    fn one_message_or_several() {
        let message = message(1, 3, "lunch?");
        assert_eq!(notification_body(&message, 1), "bob: lunch?");
        assert_eq!(
            notification_body(&message, 3),
            "3 new messages, the last from bob: lunch?"
        );
    }
}
