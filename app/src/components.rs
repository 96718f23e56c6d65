//! Pieces shared by several pages.

pub mod admin_nav;
pub mod new_account_fields;
pub mod notice;
pub mod top_bar;
