//! The dot beside a person's name: filled when they have a tab open, hollow when not; with a
//! text for screen readers.

use leptos::prelude::*;

#[component]
pub fn PresenceDot(#[prop(into)] online: Signal<bool>) -> impl IntoView {
    let label = move || if online.get() { "online" } else { "offline" };
    view! {
        <span
            class="presence"
            class:online=move || online.get()
            data-testid="presence"
            data-online=move || online.get().to_string()
            role="img"
            aria-label=label
            title=label
        ></span>
    }
}
