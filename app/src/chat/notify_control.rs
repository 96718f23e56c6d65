//! The open room's notification settings: which of its messages notify the user (stored on
//! the server, the same in every tab and device), and this browser's permission to show
//! notifications at all — asked for only when the user chooses to, and shown, not asked
//! again, once refused.

use super::attention::Permission;
use super::handle::Chat;
use leptos::prelude::*;
use protocol::{NotifyLevel, RoomId};

fn label(level: NotifyLevel) -> &'static str {
    match level {
        NotifyLevel::All => "All messages",
        NotifyLevel::Mentions => "Mentions only",
        NotifyLevel::Nothing => "Nothing",
    }
}

#[cfg(feature = "hydrate")]
fn current_permission() -> Permission {
    super::attention::permission()
}

#[cfg(not(feature = "hydrate"))]
fn current_permission() -> Permission {
    Permission::Unsupported
}

#[component]
pub fn NotifyControl(id: RoomId) -> impl IntoView {
    let Some(chat) = use_context::<Chat>() else {
        return ().into_any();
    };
    let state = chat.state;
    // What the user chose ("" for the room's default) and what the default is.
    let chosen =
        Memo::new(move |_| state.with(|s| s.joined.get(&id).and_then(|room| room.read.notify)));
    let default = Memo::new(move |_| {
        state.with(|s| {
            let members = s.joined.get(&id).map_or(0, |room| room.members.len());
            let kind = s
                .room(id)
                .map_or(protocol::RoomKind::Open, |room| room.kind);
            NotifyLevel::default_for(kind, members)
        })
    });
    let permission = RwSignal::new(Permission::Unsupported);
    Effect::new(move |_| permission.set(current_permission()));
    let select_id = format!("notify-{id}");
    let on_change = move |event: leptos::ev::Event| {
        let level = NotifyLevel::parse(&event_target_value(&event));
        chat.act(|s| Some(s.set_notify(id, level)));
    };
    let ask = move |_| {
        #[cfg(feature = "hydrate")]
        super::attention::ask_permission(move |answer| permission.set(answer));
    };
    view! {
        <div class="notify-control">
            <label for=select_id.clone()>"Notify me of"</label>
            // The property, not `selected` attributes: once the user picks, only the property
            // moves the menu (a change from another tab, or a refusal, must show).
            <select
                id=select_id
                data-testid="notify-level"
                prop:value=move || chosen.get().map_or("", NotifyLevel::as_str)
                on:change=on_change
            >
                <option value="">
                    {move || format!("Default ({})", label(default.get()).to_lowercase())}
                </option>
                {NotifyLevel::ALL
                    .into_iter()
                    .map(|level| {
                        view! {
                            <option value=level.as_str()>{label(level)}</option>
                        }
                    })
                    .collect_view()}
            </select>
            {move || match permission.get() {
                Permission::Ask => view! {
                    <button type="button" class="small" data-testid="enable-notifications" on:click=ask>
                        "Enable notifications"
                    </button>
                }
                .into_any(),
                Permission::Denied => view! {
                    <span class="aside" data-testid="notifications-blocked">
                        "Notifications are blocked in this browser"
                    </span>
                }
                .into_any(),
                Permission::Granted | Permission::Unsupported => ().into_any(),
            }}
        </div>
    }
    .into_any()
}
