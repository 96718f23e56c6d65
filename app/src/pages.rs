//! One module per page.

pub mod admin_rooms;
pub mod admin_users;
pub mod home;
pub mod login;
pub mod not_found;
pub mod permalink;
pub mod setup;
pub mod signup;
