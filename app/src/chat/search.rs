//! The message search the results panel shows: the query, the pages of hits so far, and the
//! request on its way. Only the latest search's answers count; a stale page is dropped.

use super::sync::RequestIds;
use protocol::search::Query;
use protocol::{ClientCommand, MessageId, RequestId, RoomId, SearchHit};

/// Where a search stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchStatus {
    /// A page was asked for and has not arrived.
    Loading,
    /// The pages asked for have arrived.
    Loaded,
    /// The query was refused (by the page's own check or the server): why.
    Failed(String),
}

/// One search and its results so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// The query as typed.
    pub query: String,
    /// The room chosen from the menu, if any.
    pub room: Option<RoomId>,
    pub hits: Vec<SearchHit>,
    /// Where the next page starts, when another may follow.
    pub next: Option<MessageId>,
    pub status: SearchStatus,
    pending: Option<RequestId>,
}

impl Search {
    /// A new search and its first request; refused at once (no request) when the query breaks
    /// a limit the server would refuse it for.
    pub fn start(
        query: &str,
        room: Option<RoomId>,
        ids: &mut RequestIds,
    ) -> (Search, Option<ClientCommand>) {
        let mut search = Search {
            query: query.trim().to_owned(),
            room,
            hits: Vec::new(),
            next: None,
            status: SearchStatus::Loading,
            pending: None,
        };
        if let Err(problem) = Query::parse(query) {
            search.status = SearchStatus::Failed(problem.text().to_owned());
            return (search, None);
        }
        let command = search.ask(None, ids);
        (search, Some(command))
    }

    fn ask(&mut self, before: Option<MessageId>, ids: &mut RequestIds) -> ClientCommand {
        let request_id = ids.issue();
        self.pending = Some(request_id);
        self.status = SearchStatus::Loading;
        ClientCommand::Search {
            request_id,
            query: self.query.clone(),
            room_id: self.room,
            before,
        }
    }

    /// The request for the next page, unless none may follow or one is on its way.
    pub fn next_page(&mut self, ids: &mut RequestIds) -> Option<ClientCommand> {
        if self.pending.is_some() {
            return None;
        }
        let before = self.next?;
        Some(self.ask(Some(before), ids))
    }

    /// A page arrived; `false` when it answers no request of this search.
    pub fn arrived(
        &mut self,
        request_id: RequestId,
        hits: Vec<SearchHit>,
        next: Option<MessageId>,
    ) -> bool {
        if self.pending != Some(request_id) {
            return false;
        }
        self.pending = None;
        self.hits.extend(hits);
        self.next = next;
        self.status = SearchStatus::Loaded;
        true
    }

    /// The server refused a request; `false` when it was none of this search's.
    pub fn refused(&mut self, request_id: RequestId, message: String) -> bool {
        if self.pending != Some(request_id) {
            return false;
        }
        self.pending = None;
        self.status = SearchStatus::Failed(message);
        true
    }

    /// The socket is gone: a page on its way will not come; asking again is up to the user.
    pub fn disconnected(&mut self) {
        if self.pending.take().is_some() {
            self.status = SearchStatus::Failed("The connection was lost; search again.".into());
        }
    }
}

// Driven through the reducer, the one entry point, as the page drives it.
#[cfg(test)]
mod tests {
    use super::SearchStatus;
    use crate::chat::fixtures::*;
    use crate::chat::state::ChatState;
    use protocol::{ClientCommand, ErrorCode, RequestId, SearchHit, ServerEvent};

    fn hit(seq: i64) -> SearchHit {
        SearchHit {
            message: message(1, seq, "found"),
            room_title: "a".into(),
            snippet: Vec::new(),
        }
    }

    /// A page of hits of these seqs; `more` when the next page starts after the last.
    fn results(request_id: RequestId, seqs: &[i64], more: bool) -> ServerEvent {
        let hits: Vec<SearchHit> = seqs.iter().map(|seq| hit(*seq)).collect();
        ServerEvent::SearchResults {
            request_id,
            next: hits.last().filter(|_| more).map(|hit| hit.message.id),
            hits,
        }
    }

    #[test]
    fn pages_append_and_stale_answers_are_dropped() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a")]));
        let first = state.search_messages("found", None).unwrap();
        assert_eq!(state.search.as_ref().unwrap().status, SearchStatus::Loading);
        let second = state.search_messages("found it", None).unwrap();
        state.apply(results(first.request_id(), &[9, 8], true));
        assert!(state.search.as_ref().unwrap().hits.is_empty(), "stale");
        state.apply(results(second.request_id(), &[9, 8], true));
        let more = state.more_results().unwrap();
        let ClientCommand::Search { before, .. } = &more else {
            panic!("a search");
        };
        assert_eq!(*before, Some(hit(8).message.id), "after the last hit");
        assert_eq!(state.more_results(), None, "one page at a time");
        state.apply(results(more.request_id(), &[7], false));
        let search = state.search.as_ref().unwrap();
        assert_eq!(search.hits.len(), 3);
        assert_eq!(search.status, SearchStatus::Loaded);
        assert_eq!(state.more_results(), None, "no more");
        state.close_search();
        assert_eq!(state.search, None);
    }

    #[test]
    fn refusals_show_in_the_panel() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a")]));
        assert_eq!(
            state.search_messages("   ", None),
            None,
            "checked here first"
        );
        assert_eq!(
            state.search.as_ref().unwrap().status,
            SearchStatus::Failed("Type a word to search for.".into())
        );
        let ask = state.search_messages("fine", None).unwrap();
        state.apply(ServerEvent::Error {
            request_id: Some(ask.request_id()),
            code: ErrorCode::RateLimited,
            message: "too fast".into(),
        });
        assert_eq!(
            state.search.as_ref().unwrap().status,
            SearchStatus::Failed("too fast".into())
        );
        assert_eq!(state.alert, None);
    }
}
