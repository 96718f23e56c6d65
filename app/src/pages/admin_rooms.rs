use crate::api::list_rooms;
use crate::components::admin_nav::AdminNav;
use crate::components::notice::Notices;
use crate::components::top_bar::TopBar;
use leptos::prelude::*;
use protocol::{MAX_TITLE_CHARS, RoomInfo, RoomKind};

/// Admins only: every room but direct conversations (whose content is their people's alone),
/// a form to create one, and per-room rename, kind and delete. Changes reach every open chat
/// tab at once.
#[component]
pub fn AdminRoomsPage() -> impl IntoView {
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
                <label>
                    "Who can see it"
                    <select name="kind">
                        <option value="open" selected>"Everyone (open)"</option>
                        <option value="staff_only">"Staff only"</option>
                        <option value="closed">"Members only (closed)"</option>
                    </select>
                </label>
                <button type="submit">"Create room"</button>
            </form>
            <Suspense fallback=|| view! { <p class="loading">"Loading rooms…"</p> }>
                {move || Suspend::new(async move {
                    match list_rooms().await {
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

/// What a room's kind means, as its access column says it.
fn kind_label(kind: RoomKind) -> &'static str {
    match kind {
        RoomKind::Open => "everyone",
        RoomKind::StaffOnly => "staff only",
        RoomKind::Closed => "members only",
        RoomKind::Direct => "direct",
    }
}

#[component]
fn RoomRow(room: RoomInfo) -> impl IntoView {
    let base = format!("/admin/rooms/{}", room.id);
    let kinds = [RoomKind::Open, RoomKind::StaffOnly, RoomKind::Closed];
    view! {
        <tr data-testid=format!("room-{}", room.title)>
            <td data-label="Room">
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
            <td data-label="Access">
                <span class=if room.kind == RoomKind::Open { "status-active" } else { "badge staff" }>
                    {kind_label(room.kind)}
                </span>
            </td>
            <td data-label="Actions">
                <div class="actions">
                <form method="post" action=format!("{base}/kind")>
                    <select name="kind" aria-label=format!("Who can see {}", room.title)>
                        {kinds
                            .into_iter()
                            .map(|kind| view! {
                                <option value=kind.as_str() selected=kind == room.kind>{kind_label(kind)}</option>
                            })
                            .collect_view()}
                    </select>
                    <button type="submit" class="small">
                        "Change"
                    </button>
                </form>
                // Deleting asks first, in HTML (the page runs no script): the button that
                // deletes is inside, under the question.
                <details class="confirm">
                    <summary>"Delete…"</summary>
                    <form method="post" action=format!("{base}/delete")>
                        <p>
                            {format!(
                                "Delete {} and all its messages for everyone? This cannot be undone.",
                                room.title,
                            )}
                        </p>
                        <button type="submit" class="small danger">
                            "Delete room"
                        </button>
                    </form>
                </details>
                </div>
            </td>
        </tr>
    }
}
