//! Pieces shared by several pages.

pub mod admin_nav;
pub mod keyed_list;
pub mod new_account_fields;
pub mod notice;
pub mod show_if;
pub mod top_bar;
