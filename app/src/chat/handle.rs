//! The chat page's handle: its state and its way to the socket. The page provides it as Leptos
//! context; every chat component below takes it from there (and, rendered anywhere else
//! without it, renders nothing).

use super::state::ChatState;
use chrono::NaiveDate;
use futures_channel::mpsc::UnboundedSender;
use leptos::prelude::*;
use protocol::ClientCommand;

/// What the room pane shows instead of (or beside) the open room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Panel {
    #[default]
    None,
    /// Rooms the user may join.
    Browse,
    /// The form creating a room.
    NewRoom,
    /// The user picker starting a direct conversation.
    NewMessage,
    /// The open room's members (and, for its managers, its settings).
    Members,
}

/// The chat state and the way to the socket, shared by the page's components.
#[derive(Clone, Copy)]
pub struct Chat {
    pub state: RwSignal<ChatState>,
    /// The viewer's date, kept current so day headings turn over at midnight.
    pub today: RwSignal<NaiveDate>,
    /// The panel on screen (page-local: not part of the chat's data).
    pub panel: RwSignal<Panel>,
    /// On a narrow screen, whether the sidebar drawer is open.
    pub drawer: RwSignal<bool>,
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
            panel: RwSignal::new(Panel::None),
            drawer: RwSignal::new(false),
            socket,
        });
    }

    /// Shows `panel` (closing the drawer, which covered the pane on a phone, and the search
    /// results or "not available" page over the room).
    pub fn show(&self, panel: Panel) {
        self.state.update(ChatState::close_overlays);
        self.panel.set(panel);
        self.drawer.set(false);
    }

    /// Opens a room (or joins it first) and puts it on screen.
    pub fn open_room(&self, room: protocol::RoomId) {
        self.act(|s| s.open(room));
        self.show(Panel::None);
    }

    /// Opens the direct conversation with these people (found or started by the server).
    pub fn message(&self, with: Vec<protocol::UserId>) {
        self.act(|s| s.open_direct(with));
        self.show(Panel::None);
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
