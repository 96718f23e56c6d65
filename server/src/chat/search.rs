//! Searching messages: the `search` command's rules (rate limit, query limits, filters) and
//! its answer, a page of hits with their snippets. What a query means is
//! `protocol::search`; the query itself is `db::search`.

use crate::chat::access::ReadScope;
use crate::chat::facts::viewer_of;
use crate::chat::refusal::Refusal;
use crate::db::{rooms, search, users};
use crate::state::AppState;
use protocol::search::{Query, QueryProblem, snippet};
use protocol::{
    ErrorCode, MessageId, RequestId, RoomId, SEARCH_PAGE, SearchHit, ServerEvent, UserSummary,
};

/// Searches a node runs at once; the rest wait their turn. A search holds one database
/// connection while it runs, and SQLite's pool has four: posts and pages keep the others.
pub const AT_ONCE: usize = 2;

fn problem(problem: QueryProblem) -> Refusal {
    let code = match problem {
        QueryProblem::Empty => ErrorCode::EmptyQuery,
        QueryProblem::TooLong => ErrorCode::QueryTooLong,
        QueryProblem::TooManyWords => ErrorCode::TooManyWords,
    };
    Refusal(code, problem.text())
}

pub async fn search(
    state: &AppState,
    user: &UserSummary,
    text: &str,
    room_id: Option<RoomId>,
    before: Option<MessageId>,
    request_id: RequestId,
) -> Result<Option<ServerEvent>, Refusal> {
    if !state.command_limits.search(user.id) {
        return Err(Refusal(
            ErrorCode::RateLimited,
            "Searching too fast; wait a moment.",
        ));
    }
    let query = Query::parse(text).map_err(problem)?;
    let answer = |hits, next| {
        Ok(Some(ServerEvent::SearchResults {
            request_id,
            hits,
            next,
        }))
    };
    // Flags change while sockets stay open: the policy takes them as stored now.
    let searcher = users::find_by_id(&state.db, user.id).await?.ok_or(Refusal(
        ErrorCode::Forbidden,
        "This account no longer exists.",
    ))?;
    let author = match &query.from {
        Some(name) => match users::find_by_username(&state.db, name).await? {
            Some(author) => Some(protocol::UserId(author.id)),
            None => return answer(Vec::new(), None),
        },
        None => None,
    };
    let mut rooms = room_id.map(|room| vec![room]);
    if let Some(title) = &query.room {
        let titled = rooms_titled(state, user, title).await?;
        rooms = Some(match rooms {
            Some(chosen) => chosen
                .into_iter()
                .filter(|id| titled.contains(id))
                .collect(),
            None => titled,
        });
    }
    let filter = search::Filter {
        user: user.id,
        scope: ReadScope::of(viewer_of(&searcher)),
        indexed_words: query.indexed_words().collect(),
        short_words: query.short_words().collect(),
        author,
        rooms,
        before,
    };
    let (found, next) = {
        let _turn = state.search_gate.acquire().await;
        search::find(&state.db, &filter, SEARCH_PAGE).await?
    };
    let hits = found
        .into_iter()
        .map(|(message, room)| SearchHit {
            snippet: snippet(&message.body, &query.words),
            room_title: room.title,
            message,
        })
        .collect();
    answer(hits, next)
}

/// The user's rooms whose title is `title` (ignoring case), or, when none is, contains it.
async fn rooms_titled(
    state: &AppState,
    user: &UserSummary,
    title: &str,
) -> Result<Vec<RoomId>, Refusal> {
    let wanted = protocol::search::fold(title);
    let theirs = rooms::rooms_of(&state.db, user.id).await?;
    let titled = |exact: bool| -> Vec<RoomId> {
        theirs
            .iter()
            .filter(|room| {
                let folded = protocol::search::fold(&room.title);
                if exact {
                    folded == wanted
                } else {
                    folded.contains(&wanted)
                }
            })
            .map(rooms::Room::id)
            .collect()
    };
    let exact = titled(true);
    Ok(if exact.is_empty() {
        titled(false)
    } else {
        exact
    })
}
