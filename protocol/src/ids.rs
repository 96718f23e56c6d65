//! Id newtypes. They serialize as plain numbers, so the wire stays simple while the compiler
//! keeps the kinds apart.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_newtype {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_newtype!(
    /// A user's database id.
    UserId(i64)
);
id_newtype!(
    /// A room's database id.
    RoomId(i64)
);
id_newtype!(
    /// A message's database id.
    MessageId(i64)
);
id_newtype!(
    /// A client-chosen id for one command; the server echoes it on the reply or error it
    /// causes, so the client can tell which of its commands failed.
    RequestId(u64)
);
