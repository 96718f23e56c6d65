//! Who is looking at the page: loaded once per page load by [`crate::App`] and shared through
//! context with every component that shows it (the top bar, the chat's welcome, the log-in and
//! sign-up pages), so a page asks the server once however many of them it shows.

use crate::api::{Viewer, get_viewer};
use leptos::prelude::*;

/// The viewer, as [`get_viewer`] loads it.
#[derive(Clone, Copy)]
pub struct ViewerResource(pub Resource<Result<Viewer, ServerFnError>>);

/// Starts loading the viewer and provides it to every component below the caller.
pub fn provide_viewer() {
    provide_context(ViewerResource(Resource::new(|| (), |_| get_viewer())));
}
