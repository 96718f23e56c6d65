//! Times as the viewer reads them: in their own time zone (the browser's), with days named
//! relative to today. On the server, which renders no messages, UTC stands in.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// `at` on the viewer's wall clock.
pub fn local(at: DateTime<Utc>) -> NaiveDateTime {
    #[cfg(feature = "hydrate")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
            at.timestamp_millis() as f64
        ));
        // Minutes from local time to UTC, for that very moment (daylight saving included).
        let offset = date.get_timezone_offset() as i64;
        at.naive_utc() - chrono::Duration::minutes(offset)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        at.naive_utc()
    }
}

/// The viewer's date today.
pub fn today() -> NaiveDate {
    #[cfg(feature = "hydrate")]
    let now = DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default();
    #[cfg(not(feature = "hydrate"))]
    let now = Utc::now();
    local(now).date()
}

/// Keeps `today` at the viewer's date, checking every minute, until the page it belongs to
/// is gone.
#[cfg(feature = "hydrate")]
pub async fn follow_today(today: leptos::prelude::RwSignal<NaiveDate>) {
    use leptos::prelude::*;
    const CHECK_EVERY_MS: u32 = 60_000;
    loop {
        gloo_timers::future::TimeoutFuture::new(CHECK_EVERY_MS).await;
        let now = self::today();
        match today.try_get_untracked() {
            None => return,
            Some(shown) if shown != now => today.set(now),
            Some(_) => {}
        }
    }
}

/// "14:05".
pub fn clock(at: DateTime<Utc>) -> String {
    local(at).format("%H:%M").to_string()
}

/// The heading of a day in a timeline: "Today", "Yesterday", or "Friday 20 November 2026".
pub fn day_label(day: NaiveDate, today: NaiveDate) -> String {
    if day == today {
        "Today".to_owned()
    } else if Some(day) == today.pred_opt() {
        "Yesterday".to_owned()
    } else {
        day.format("%A %-d %B %Y").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_named_relative_to_today() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default();
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap_or_default();
        assert_eq!(day_label(day(22), today), "Today");
        assert_eq!(day_label(day(21), today), "Yesterday");
        assert_eq!(day_label(day(20), today), "Friday 20 November 2026");
    }
}
