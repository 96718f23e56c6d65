//! Queries that take many keys at once (`IN (…)`): how many, and how they are padded so that
//! few statement texts serve every count (see `chat::shared_reads`, which batches its callers'
//! keys into such queries).

/// At most this many keys go into one `IN (…)` (see [`padded`]), or one query of
/// `messages::latest_of_each`, which has an arm per key: SQLite allows at most 500 arms in one
/// compound `SELECT`.
pub const MAX_KEYS: usize = 256;

/// `keys`, with the last repeated up to the next power of two, for a query that takes them all
/// as `IN (…)`. Every count of keys has its own statement text, and each text is prepared and
/// cached on its own: padded, at most nine texts (1 to [`MAX_KEYS`]) serve every count, where
/// one per count would push each other out of sqlx's cache of 100 statements per connection.
/// The repeats change nothing: `IN` matches a value once however often it is listed.
pub fn padded<T: Clone>(keys: &[T]) -> Vec<T> {
    let mut padded = Vec::with_capacity(keys.len().next_power_of_two());
    padded.extend_from_slice(keys);
    if let Some(last) = keys.last() {
        padded.resize(keys.len().next_power_of_two(), last.clone());
    }
    padded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_padded_to_a_power_of_two_with_the_last() {
        assert_eq!(padded::<u8>(&[]), Vec::<u8>::new());
        assert_eq!(padded(&[1]), [1]);
        assert_eq!(padded(&[1, 2, 3]), [1, 2, 3, 3]);
        assert_eq!(padded(&[1, 2, 3, 4]), [1, 2, 3, 4]);
        let keys: Vec<usize> = (0..MAX_KEYS / 2 + 1).collect();
        assert_eq!(padded(&keys).len(), MAX_KEYS);
    }
}
