//! Pieces shared by several pages. Those of the server-rendered pages only are left out of the
//! WASM (see `pages`).

#[cfg(feature = "ssr")]
pub mod admin_nav;
pub mod keyed_list;
#[cfg(feature = "ssr")]
pub mod new_account_fields;
#[cfg(feature = "ssr")]
pub mod notice;
pub mod show_if;
pub mod top_bar;
