//! Success and error notices carried in a redirect's query string as codes (`?notice=…`,
//! `?error=…`), shown with their texts from [`protocol::Notice`]. Codes, not text, so a crafted
//! link cannot put arbitrary words on our page.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use protocol::Notice;

/// What the user reads for a code from the URL; a code no form sends gets a generic text.
fn text_for(code: &str) -> String {
    Notice::from_code(code).map_or_else(|| "Something went wrong.".to_owned(), Notice::text)
}

/// Shows the `notice` and `error` codes of the current URL, if any.
#[component]
pub fn Notices() -> impl IntoView {
    let query = use_query_map();
    view! {
        {move || {
            query
                .read()
                .get("error")
                .map(|code| {
                    view! {
                        <p class="notice error" role="alert" data-testid="error">
                            {text_for(&code)}
                        </p>
                    }
                })
        }}
        {move || {
            query
                .read()
                .get("notice")
                .map(|code| {
                    view! {
                        <p class="notice ok" role="status" data-testid="notice">
                            {text_for(&code)}
                        </p>
                    }
                })
        }}
    }
}
