//! Times as the viewer reads them: in their own time zone (the browser's), with days named
//! relative to today. On the server, which renders no messages, UTC stands in.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};

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

// The texts below are written by hand rather than with chrono's `format`: its strftime
// parser and formatter were a good part of the page's WASM, for a few fixed formats.

/// "14:05".
pub fn clock(at: DateTime<Utc>) -> String {
    let at = local(at);
    format!("{:02}:{:02}", at.hour(), at.minute())
}

/// "2026-11-20": a date as the admin area lists it.
pub fn iso_date(day: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", day.year(), day.month(), day.day())
}

/// "2026-11-20T14:05:09Z", for a `<time datetime>` (which needs no fraction).
pub fn machine_readable(at: DateTime<Utc>) -> String {
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        iso_date(at.date_naive()),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// The heading of a day in a timeline: "Today", "Yesterday", or "Friday 20 November 2026".
pub fn day_label(day: NaiveDate, today: NaiveDate) -> String {
    if day == today {
        "Today".to_owned()
    } else if Some(day) == today.pred_opt() {
        "Yesterday".to_owned()
    } else {
        const WEEKDAYS: [&str; 7] = [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ];
        const MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let weekday = WEEKDAYS[day.weekday().num_days_from_monday() as usize];
        let month = MONTHS[day.month0() as usize];
        format!("{weekday} {} {month} {}", day.day(), day.year())
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

    #[test]
    fn every_day_of_a_year_is_named_as_chrono_names_it() {
        let today = NaiveDate::from_ymd_opt(2030, 1, 1).unwrap_or_default();
        let mut day = NaiveDate::from_ymd_opt(2028, 1, 1).unwrap_or_default();
        while day.year() == 2028 {
            assert_eq!(
                day_label(day, today),
                day.format("%A %-d %B %Y").to_string()
            );
            assert_eq!(iso_date(day), day.format("%Y-%m-%d").to_string());
            day = day.succ_opt().unwrap_or_default();
        }
    }

    #[test]
    fn times_are_written_as_chrono_writes_them() {
        use chrono::TimeZone;
        for (hour, minute, second) in [(0, 0, 0), (3, 7, 9), (14, 5, 59), (23, 59, 1)] {
            let at = Utc
                .with_ymd_and_hms(2026, 3, 4, hour, minute, second)
                .unwrap();
            // On the server, and in these tests, the viewer's zone is UTC.
            assert_eq!(clock(at), at.format("%H:%M").to_string());
            assert_eq!(
                machine_readable(at),
                at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
            );
        }
    }
}
