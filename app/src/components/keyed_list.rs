//! [`KeyedList`]: a keyed list that shares its compiled code with every other on the page.
//!
//! Leptos's `<For>` is generic over its items, its key and its row function, so each list
//! compiled its own copy of Leptos's keyed diffing, hydration and view erasure: about 10 KB of
//! WASM per list before optimisation (BENCHMARKS.md, twenty-ninth session). `KeyedList` takes
//! the same props and turns each item into a [`Row`]: its key, type-erased, and a boxed
//! function that draws it. Only that conversion is compiled per list; the one `<For>` over
//! `Row`s is compiled once.

use leptos::prelude::*;
use std::any::Any;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

/// An item's key with its type erased. Equal only to a key of the same type that compares
/// equal, so two items are never taken for one row: the hash only sorts keys into buckets.
/// (Room titles are in some keys, and a user can choose titles that collide in any fixed hash.)
#[derive(Clone)]
struct ErasedKey {
    hash: u64,
    key: Arc<dyn Any + Send + Sync>,
    eq: fn(&dyn Any, &dyn Any) -> bool,
}

impl ErasedKey {
    fn new<Key: Hash + Eq + Send + Sync + 'static>(key: Key) -> Self {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        Self {
            hash: hasher.finish(),
            key: Arc::new(key),
            eq: |a, b| a.downcast_ref::<Key>() == b.downcast_ref::<Key>(),
        }
    }
}

impl PartialEq for ErasedKey {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && (self.eq)(self.key.as_ref(), other.key.as_ref())
    }
}

impl Eq for ErasedKey {}

impl Hash for ErasedKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// An item as the shared `<For>` sees it.
struct Row {
    key: ErasedKey,
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
    Key: Hash + Eq + Send + Sync + 'static,
    Draw: Fn(Item) -> View + Send + Sync + Clone + 'static,
    Item: Send + 'static,
    View: IntoView + 'static,
{
    let rows = move || {
        each()
            .into_iter()
            .map(|item| {
                let key = ErasedKey::new(key(&item));
                let children = children.clone();
                Row {
                    key,
                    draw: Box::new(move || children(item).into_any()),
                }
            })
            .collect()
    };
    shared_for(Box::new(rows))
}

/// The one `<For>`: not generic, so compiled once.
#[expect(
    clippy::disallowed_methods,
    reason = "the one use of `<For>` that the rest of the app goes through"
)]
fn shared_for(rows: Box<dyn Fn() -> Vec<Row> + Send + Sync>) -> AnyView {
    view! {
        <For
            each=move || rows()
            key=|row: &Row| row.key.clone()
            children=|row: Row| (row.draw)()
        />
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::ErasedKey;

    #[test]
    fn keys_are_equal_only_when_their_values_are() {
        let key = |id: i64, title: &str| ErasedKey::new((id, title.to_owned()));
        assert!(key(7, "General") == key(7, "General"));
        assert!(key(7, "General") != key(7, "Random"));
        assert!(key(7, "General") != key(8, "General"));
    }

    /// A user can choose room titles whose hashes collide: such keys must still be two rows.
    #[test]
    fn keys_whose_hashes_collide_stay_apart() {
        let general = ErasedKey::new((7_i64, "General".to_owned()));
        let mut chosen = ErasedKey::new((7_i64, "chosen to collide".to_owned()));
        chosen.hash = general.hash;
        assert!(general != chosen);
        // Nor are equal-looking values of two types one key.
        let signed = ErasedKey::new(1_i64);
        let mut unsigned = ErasedKey::new(1_u64);
        unsigned.hash = signed.hash;
        assert!(signed != unsigned);
    }
}
