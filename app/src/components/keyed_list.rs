//! [`KeyedList`]: Leptos's `<For>`, compiled once for every list on the page.
//!
//! `<For>` is generic over its items, its key and its row function, so each list compiled its
//! own copy of Leptos's keyed diffing, hydration and view erasure: about 10 KB of WASM per list
//! before optimisation (BENCHMARKS.md, twenty-ninth session). `KeyedList` takes the same props,
//! turns each item into a [`Row`] (its key's hash and a boxed function that draws it) and hands
//! those to the one `<For>` they all share.

use leptos::prelude::*;
use std::hash::{DefaultHasher, Hash, Hasher};

/// An item as the shared `<For>` sees it.
struct Row {
    /// The hash of the item's key. Two keys would have to collide in 64 bits to be taken for
    /// one row: for lists of thousands of rows, a chance of about one in 10¹².
    key: u64,
    draw: Box<dyn FnOnce() -> AnyView + Send>,
}

/// A list whose rows are known by a key, as `<For>`: a row is drawn once when its key appears
/// and kept, with its DOM nodes and their state, while its key stays; it is taken down when its
/// key goes. Rows move with their keys when the order changes.
#[component]
pub fn KeyedList<Each, Items, Item, Key, KeyOf, Draw, View>(
    /// The items, read again whenever what it reads changes.
    each: Each,
    /// What identifies an item: an item whose key changes is drawn anew.
    key: KeyOf,
    /// Draws an item's row.
    children: Draw,
) -> impl IntoView
where
    Each: Fn() -> Items + Send + Sync + 'static,
    Items: IntoIterator<Item = Item>,
    KeyOf: Fn(&Item) -> Key + Send + Sync + 'static,
    Key: Hash,
    Draw: Fn(Item) -> View + Send + Sync + Clone + 'static,
    Item: Send + 'static,
    View: IntoView + 'static,
{
    let rows = move || {
        each()
            .into_iter()
            .map(|item| {
                let mut hasher = DefaultHasher::new();
                key(&item).hash(&mut hasher);
                let children = children.clone();
                Row {
                    key: hasher.finish(),
                    draw: Box::new(move || children(item).into_any()),
                }
            })
            .collect()
    };
    shared_for(Box::new(rows))
}

/// The one `<For>`: not generic, so compiled once.
fn shared_for(rows: Box<dyn Fn() -> Vec<Row> + Send + Sync>) -> AnyView {
    view! { <For each=move || rows() key=|row: &Row| row.key children=|row: Row| (row.draw)() /> }
        .into_any()
}
