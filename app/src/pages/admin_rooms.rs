use crate::api::list_rooms;
use crate::components::admin_nav::AdminNav;
use crate::components::notice::Notices;
use crate::components::top_bar::TopBar;
use leptos::prelude::*;
use protocol::{MAX_TITLE_CHARS, RoomInfo};

/// Admins only: every room, a form to create one, and per-room rename, staff-only and delete.
/// Changes reach every open chat tab at once.
#[component]
pub fn AdminRoomsPage() -> impl IntoView {
    let rooms = Resource::new(|| (), |_| list_rooms());
    view! {
        <TopBar />
        <main class="page">
            <AdminNav />
            <h1>"Rooms"</h1>
            <Notices />
            <form class="card inline-form" method="post" action="/admin/rooms" data-testid="create-room">
                <h2>"New room"</h2>
                <label>
                    "Title" <input name="title" maxlength=MAX_TITLE_CHARS.to_string() autocomplete="off" required />
                </label>
                <label class="check">
                    <input type="checkbox" name="staff_only" value="true" />
                    "Staff only"
                </label>
                <button type="submit">"Create room"</button>
            </form>
            <Suspense fallback=|| view! { <p class="loading">"Loading rooms…"</p> }>
                {move || Suspend::new(async move {
                    match rooms.await {
                        Ok(rooms) if rooms.is_empty() => {
                            view! {
                                <p class="card aside" data-testid="no-rooms">
                                    "No rooms yet. Create the first one above."
                                </p>
                            }
                                .into_any()
                        }
                        Ok(rooms) => view! { <RoomTable rooms /> }.into_any(),
                        Err(_) => {
                            view! {
                                <p class="notice error" role="alert">
                                    "Could not load rooms."
                                </p>
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn RoomTable(rooms: Vec<RoomInfo>) -> impl IntoView {
    view! {
        <div class="card table-wrap">
            <table class="users">
                <thead>
                    <tr>
                        <th>"Room"</th>
                        <th>"Access"</th>
                        <th>"Actions"</th>
                    </tr>
                </thead>
                <tbody>{rooms.into_iter().map(|room| view! { <RoomRow room /> }).collect_view()}</tbody>
            </table>
        </div>
    }
}

#[component]
fn RoomRow(room: RoomInfo) -> impl IntoView {
    let base = format!("/admin/rooms/{}", room.id);
    view! {
        <tr data-testid=format!("room-{}", room.title)>
            <td>
                <form method="post" action=format!("{base}/title") class="rename">
                    <input
                        name="title"
                        value=room.title.clone()
                        maxlength=MAX_TITLE_CHARS.to_string()
                        required
                        aria-label=format!("Title of {}", room.title)
                    />
                    <button type="submit" class="small">
                        "Rename"
                    </button>
                </form>
            </td>
            <td>
                {if room.staff_only {
                    view! { <span class="badge staff">"staff only"</span> }.into_any()
                } else {
                    view! { <span class="status-active">"everyone"</span> }.into_any()
                }}
            </td>
            <td>
                <div class="actions">
                <form method="post" action=format!("{base}/staff_only")>
                    <input type="hidden" name="value" value=(!room.staff_only).to_string() />
                    <button type="submit" class="small">
                        {if room.staff_only { "Open to everyone" } else { "Make staff-only" }}
                    </button>
                </form>
                <form method="post" action=format!("{base}/delete")>
                    <button type="submit" class="small danger">
                        "Delete"
                    </button>
                </form>
                </div>
            </td>
        </tr>
    }
}
