//! [`ShowIf`]: a `<Show>` that shares its compiled code with every other on the page.
//!
//! `<Show>` is generic over its condition and its children, so each use compiled its own copy
//! of Leptos's memo, effect and view code for it: about 3 KB of WASM per use before
//! optimisation (BENCHMARKS.md, twenty-ninth session). `ShowIf` takes the same props and hands
//! a boxed condition and the erased children to the one `<Show>` they all share.

use leptos::prelude::*;
use std::sync::Arc;

/// Shows its children while `when` is true, and `fallback` (by default nothing) while it is
/// false, as `<Show>`: the condition is memoised, so the children are drawn anew only when it
/// turns true.
#[component]
pub fn ShowIf<When>(
    /// The condition, read again whenever what it reads changes.
    when: When,
    /// What shows while the condition is true; drawn anew each time it turns true.
    children: ChildrenFn,
    /// What shows while the condition is false.
    #[prop(optional, into)]
    fallback: ViewFn,
) -> impl IntoView
where
    When: Fn() -> bool + Send + Sync + 'static,
{
    shared_show(Arc::new(when), children, fallback)
}

/// The one `<Show>`: not generic, so compiled once.
#[expect(
    clippy::disallowed_methods,
    reason = "the one use of `<Show>` that the rest of the app goes through"
)]
fn shared_show(
    when: Arc<dyn Fn() -> bool + Send + Sync>,
    children: ChildrenFn,
    fallback: ViewFn,
) -> AnyView {
    view! { <Show when=move || when() fallback>{children()}</Show> }.into_any()
}
