//! The chat page's handle: its state and its way to the socket. The page provides it as Leptos
//! context; every chat component below takes it from there (and, rendered anywhere else
//! without it, renders nothing).

use super::state::ChatState;
use chrono::NaiveDate;
use futures_channel::mpsc::UnboundedSender;
use leptos::prelude::*;
use protocol::ClientCommand;

/// The chat state and the way to the socket, shared by the page's components.
#[derive(Clone, Copy)]
pub struct Chat {
    pub state: RwSignal<ChatState>,
    /// The viewer's date, kept current so day headings turn over at midnight.
    pub today: RwSignal<NaiveDate>,
    socket: StoredValue<Option<UnboundedSender<ClientCommand>>>,
}

impl Chat {
    /// Makes the handle (commands go to `socket` once it is set) and provides it to the
    /// components below the current one.
    pub fn provide(
        state: RwSignal<ChatState>,
        today: RwSignal<NaiveDate>,
        socket: StoredValue<Option<UnboundedSender<ClientCommand>>>,
    ) {
        provide_context(Chat {
            state,
            today,
            socket,
        });
    }

    /// Runs a state action and sends the commands it produces. Nothing happens once the page
    /// is gone.
    pub fn act<C>(&self, action: impl FnOnce(&mut ChatState) -> C)
    where
        C: IntoIterator<Item = ClientCommand>,
    {
        let Some(commands) = self.state.try_update(action) else {
            return;
        };
        self.socket.try_with_value(|socket| {
            if let Some(socket) = socket {
                for command in commands {
                    // Queued until the socket is up; the connection task sends it then.
                    let _ = socket.unbounded_send(command);
                }
            }
        });
    }
}
