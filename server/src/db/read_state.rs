//! What each member has read of each room, and which of its messages notify them: the
//! `last_read_seq` and `notify` columns of `room_members`, and the unread and mention counts
//! that follow from them.
//!
//! A message counts as unread for a member when it is after their read position, someone
//! else's, and not deleted; as a mention when it also names them (`messages.mentions`, resolved
//! when it was stored) or is in a direct conversation. Both counts are one scan of the room's
//! unread messages by the `(room_id, seq)` index, taken in the same statement as the room's
//! newest seq so that clients know exactly which messages the counts cover.

use super::rooms::member_entity::{Column as MemberColumn, Entity as MemberEntity};
use super::rooms::{self};
use protocol::{NotifyLevel, ReadState, RoomId, RoomKind, UserId};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement};

/// How `messages.mentions` stores the users a message mentions: their ids between commas
/// (`",3,7,"`), so one user's mentions are found by `LIKE '%,7,%'`. `None` when none.
pub fn mentions_column(users: &[UserId]) -> Option<String> {
    if users.is_empty() {
        return None;
    }
    let ids: Vec<String> = users.iter().map(|user| user.0.to_string()).collect();
    Some(format!(",{},", ids.join(",")))
}

/// The ids [`mentions_column`] stored.
pub fn mentioned_ids(column: Option<&str>) -> Vec<UserId> {
    column
        .unwrap_or_default()
        .split(',')
        .filter_map(|id| id.parse().ok().map(UserId))
        .collect()
}

#[derive(FromQueryResult)]
struct Row {
    user_id: i64,
    room_id: i64,
    last_read_seq: i64,
    notify: Option<String>,
    as_of_seq: i64,
    unread: i64,
    mentions: i64,
}

impl Row {
    fn state(self) -> (UserId, ReadState) {
        let state = ReadState {
            room_id: RoomId(self.room_id),
            last_read_seq: self.last_read_seq,
            as_of_seq: self.as_of_seq,
            unread: u32::try_from(self.unread).unwrap_or(u32::MAX),
            mentions: u32::try_from(self.mentions).unwrap_or(u32::MAX),
            notify: self.notify.as_deref().and_then(NotifyLevel::parse),
        };
        (UserId(self.user_id), state)
    }
}

/// The counting query, for `users` (at least one; padded here, see [`super::keys::padded`]) in
/// `room` or in all of theirs. Each member's mentions are matched by a pattern made from their own
/// id, so one statement counts for many users.
fn counting(backend: DbBackend, users: &[UserId], room: Option<RoomId>) -> Statement {
    let mut values: Vec<sea_orm::Value> = super::keys::padded(users)
        .into_iter()
        .map(|user| user.0.into())
        .collect();
    let placeholder = |at: usize| match backend {
        DbBackend::Postgres => format!("${at}"),
        _ => "?".to_owned(),
    };
    let users_at = (1..=values.len())
        .map(placeholder)
        .collect::<Vec<_>>()
        .join(", ");
    let one_room = match room {
        Some(room) => {
            values.push(room.0.into());
            format!("AND rm.room_id = {}", placeholder(values.len()))
        }
        None => String::new(),
    };
    let sql = format!(
        "SELECT rm.user_id, rm.room_id, rm.last_read_seq, rm.notify, r.last_seq AS as_of_seq, \
           COUNT(m.id) AS unread, \
           COALESCE(SUM(CASE WHEN m.id IS NOT NULL \
             AND (r.kind = '{direct}' OR m.mentions LIKE ('%,' || rm.user_id || ',%')) \
             THEN 1 ELSE 0 END), 0) AS mentions \
         FROM room_members rm \
         JOIN rooms r ON r.id = rm.room_id \
         LEFT JOIN messages m ON m.room_id = rm.room_id \
           AND m.seq > rm.last_read_seq AND m.seq <= r.last_seq \
           AND m.author_id <> rm.user_id AND m.deleted_at IS NULL \
         WHERE rm.user_id IN ({users_at}) {one_room} \
         GROUP BY rm.user_id, rm.room_id, rm.last_read_seq, rm.notify, r.last_seq, r.kind",
        direct = RoomKind::Direct.as_str(),
    );
    Statement::from_sql_and_values(backend, sql, values)
}

/// Where each of `users` (at most [`super::keys::MAX_KEYS`]) stands in every room they are a member
/// of, in one query.
pub async fn all_of<C: ConnectionTrait>(
    db: &C,
    users: &[UserId],
) -> Result<Vec<(UserId, ReadState)>, DbErr> {
    // `IN ()` is no statement PostgreSQL accepts.
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let statement = counting(db.get_database_backend(), users, None);
    Ok(Row::find_by_statement(statement)
        .all(db)
        .await?
        .into_iter()
        .map(Row::state)
        .collect())
}

/// Where `user` stands in `room`; `None` when they are not a member.
pub async fn of<C: ConnectionTrait>(
    db: &C,
    user: UserId,
    room: RoomId,
) -> Result<Option<ReadState>, DbErr> {
    let statement = counting(db.get_database_backend(), &[user], Some(room));
    Ok(Row::find_by_statement(statement)
        .one(db)
        .await?
        .map(|row| row.state().1))
}

/// Moves `user`'s read position in `room` forward to `seq` (never back, never past the room's
/// newest message); `false` when they are not a member.
pub async fn mark_read<C: ConnectionTrait>(
    db: &C,
    user: UserId,
    room: RoomId,
    seq: i64,
) -> Result<bool, DbErr> {
    let Some(found) = rooms::find(db, room).await? else {
        return Ok(false);
    };
    // The room's newest seq only grows, so clamping to it as read a moment ago is safe.
    let seq = seq.min(found.last_seq);
    MemberEntity::update_many()
        .col_expr(MemberColumn::LastReadSeq, Expr::value(seq))
        .filter(MemberColumn::RoomId.eq(room.0))
        .filter(MemberColumn::UserId.eq(user.0))
        .filter(MemberColumn::LastReadSeq.lt(seq))
        .exec(db)
        .await?;
    rooms::is_member(db, room, user).await
}

/// Sets which messages of `room` notify `user` (`None`: the room's default); `false` when they
/// are not a member.
pub async fn set_notify<C: ConnectionTrait>(
    db: &C,
    user: UserId,
    room: RoomId,
    level: Option<NotifyLevel>,
) -> Result<bool, DbErr> {
    let updated = MemberEntity::update_many()
        .col_expr(
            MemberColumn::Notify,
            Expr::value(level.map(|level| level.as_str().to_owned())),
        )
        .filter(MemberColumn::RoomId.eq(room.0))
        .filter(MemberColumn::UserId.eq(user.0))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

#[cfg(test)]
mod tests {
    use super::{mentioned_ids, mentions_column};
    use protocol::UserId;

    #[test]
    fn mention_column_round_trips() {
        assert_eq!(mentions_column(&[]), None);
        let stored = mentions_column(&[UserId(3), UserId(17)]);
        assert_eq!(stored.as_deref(), Some(",3,17,"));
        assert_eq!(mentioned_ids(stored.as_deref()), [UserId(3), UserId(17)]);
        assert!(mentioned_ids(None).is_empty());
    }
}
