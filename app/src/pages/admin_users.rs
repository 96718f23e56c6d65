use crate::api::list_users;
use crate::chat::time::iso_date;
use crate::components::admin_nav::AdminNav;
use crate::components::notice::Notices;
use crate::components::top_bar::TopBar;
use leptos::prelude::*;
use protocol::{AdminUserView, MAX_USERNAME_CHARS, MIN_PASSWORD_CHARS};

/// Admins only: every account, a form to create one, and per-account actions. Each action is a
/// small form posting to `/admin/users/{id}/…`, answered with a redirect back here.
#[component]
pub fn AdminUsersPage() -> impl IntoView {
    view! {
        <TopBar />
        <main class="page">
            <AdminNav />
            <h1>"Users"</h1>
            <Notices />
            <CreateUserForm />
            <Suspense fallback=|| view! { <p class="loading">"Loading users…"</p> }>
                {move || Suspend::new(async move {
                    match list_users().await {
                        Ok(users) => view! { <UserTable users /> }.into_any(),
                        Err(_) => {
                            view! {
                                <p class="notice error" role="alert">
                                    "Could not load users. Admins only."
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
fn CreateUserForm() -> impl IntoView {
    view! {
        <form class="card inline-form" method="post" action="/admin/users" data-testid="create-user">
            <h2>"New user"</h2>
            <label>
                "Username"
                <input
                    name="username"
                    autocomplete="off"
                    maxlength=MAX_USERNAME_CHARS.to_string()
                    required
                />
            </label>
            <label>
                "Password"
                <input type="password" name="password" autocomplete="new-password" minlength=MIN_PASSWORD_CHARS.to_string() required />
            </label>
            <label class="check">
                <input type="checkbox" name="is_staff" value="true" />
                "Staff"
            </label>
            <label class="check">
                <input type="checkbox" name="is_admin" value="true" />
                "Admin"
            </label>
            <button type="submit">"Create user"</button>
        </form>
    }
}

#[component]
fn UserTable(users: Vec<AdminUserView>) -> impl IntoView {
    view! {
        <div class="card table-wrap">
            <table class="users">
                <thead>
                    <tr>
                        <th>"User"</th>
                        <th>"Roles"</th>
                        <th>"Status"</th>
                        <th>"Created"</th>
                        <th>"Actions"</th>
                    </tr>
                </thead>
                <tbody>
                    {users.into_iter().map(|user| view! { <UserRow user /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// A one-button form that sets one boolean of a user.
#[component]
fn ToggleForm(action: String, value: bool, label: &'static str) -> impl IntoView {
    view! {
        <form method="post" action=action>
            <input type="hidden" name="value" value=value.to_string() />
            <button type="submit" class="small">
                {label}
            </button>
        </form>
    }
}

#[component]
fn UserRow(user: AdminUserView) -> impl IntoView {
    let base = format!("/admin/users/{}", user.id);
    let roles = [(user.is_admin, "admin"), (user.is_staff, "staff")]
        .into_iter()
        .filter(|(has, _)| *has)
        .map(|(_, role)| view! { <span class=format!("badge {role}")>{role}</span> })
        .collect_view();
    view! {
        <tr data-testid=format!("user-{}", user.username)>
            <td class="username" data-label="User">{user.username.clone()}</td>
            <td data-label="Roles">{roles}</td>
            <td data-label="Status">
                {if user.disabled {
                    view! { <span class="badge disabled">"disabled"</span> }.into_any()
                } else {
                    view! { <span class="status-active">"active"</span> }.into_any()
                }}
            </td>
            <td class="created" data-label="Created">{iso_date(user.created_at.date_naive())}</td>
            <td data-label="Actions">
                <div class="actions">
                <ToggleForm
                    action=format!("{base}/staff")
                    value=!user.is_staff
                    label=if user.is_staff { "Revoke staff" } else { "Grant staff" }
                />
                <ToggleForm
                    action=format!("{base}/admin")
                    value=!user.is_admin
                    label=if user.is_admin { "Revoke admin" } else { "Grant admin" }
                />
                <ToggleForm
                    action=format!("{base}/disabled")
                    value=!user.disabled
                    label=if user.disabled { "Enable" } else { "Disable" }
                />
                <form method="post" action=format!("{base}/password") class="reset">
                    <input
                        type="password"
                        name="password"
                        placeholder="New password"
                        autocomplete="new-password"
                        minlength=MIN_PASSWORD_CHARS.to_string()
                        required
                        aria-label=format!("New password for {}", user.username)
                    />
                    <button type="submit" class="small">
                        "Reset password"
                    </button>
                </form>
                </div>
            </td>
        </tr>
    }
}
