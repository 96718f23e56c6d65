//! Timestamps on the wire: RFC 3339 text, in UTC as the server writes them
//! (`2026-11-22T03:01:00.123456Z`).
//!
//! Writing is chrono's own. Reading is done here: chrono's `FromStr` goes through its general
//! parser (every strftime item, RFC 2822 included), which cost the page's WASM more than all the
//! rest of chrono it uses, for the one format the server writes. This reads that format and the
//! rest of RFC 3339 (any offset, `t`/`z` in lower case, a space for the `T`, 1–9 digits of a
//! fraction), as chrono does. It refuses chrono's extensions, none of which the server writes:
//! signed years, a leap second's `:60`, more than nine digits of a fraction, an offset without
//! its colon, trailing spaces. The unit tests compare the two.
//!
//! Fields use it as `#[serde(with = "crate::timestamp")]`, or `crate::timestamp::optional` for
//! an `Option`.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// Writes `at` as chrono does.
pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    at.serialize(serializer)
}

/// Reads an RFC 3339 timestamp.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    Wire::deserialize(deserializer).map(|wire| wire.0)
}

/// The same for an optional timestamp (`null` or absent: `None`).
pub mod optional {
    use super::Wire;
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(
        at: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        at.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        Ok(Option::<Wire>::deserialize(deserializer)?.map(|wire| wire.0))
    }
}

/// A timestamp as read from the wire.
struct Wire(DateTime<Utc>);

impl<'de> Deserialize<'de> for Wire {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(WireVisitor)
    }
}

struct WireVisitor;

impl Visitor<'_> for WireVisitor {
    type Value = Wire;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an RFC 3339 date and time")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Wire, E> {
        parse(text)
            .map(Wire)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Str(text), &self))
    }
}

/// Reads `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `None` if `text` is anything else or
/// names no real moment (30 February, 24:00).
pub fn parse(text: &str) -> Option<DateTime<Utc>> {
    let bytes = text.as_bytes();
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if bytes.len() < 20
        || separators.iter().any(|&(at, byte)| bytes[at] != byte)
        || !matches!(bytes[10], b'T' | b't' | b' ')
    {
        return None;
    }
    let number = |digits: &[u8]| {
        digits.iter().try_fold(0u32, |sum, &digit| {
            digit
                .is_ascii_digit()
                .then(|| sum * 10 + u32::from(digit - b'0'))
        })
    };
    let year = i32::try_from(number(&bytes[0..4])?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, number(&bytes[5..7])?, number(&bytes[8..10])?)?;
    let (hour, minute, second) = (
        number(&bytes[11..13])?,
        number(&bytes[14..16])?,
        number(&bytes[17..19])?,
    );

    let mut rest = &bytes[19..];
    let mut nanos = 0;
    if let Some(fraction) = rest.strip_prefix(b".") {
        let digits = fraction
            .iter()
            .take_while(|byte| byte.is_ascii_digit())
            .count();
        if !(1..=9).contains(&digits) {
            return None;
        }
        nanos = number(&fraction[..digits])? * 10u32.pow(9 - digits as u32);
        rest = &fraction[digits..];
    }
    let offset_minutes = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), hours @ .., b':', _, _] if hours.len() == 2 => {
            let (hours, minutes) = (number(hours)?, number(&rest[4..6])?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let minutes = i64::from(hours * 60 + minutes);
            if *sign == b'-' { -minutes } else { minutes }
        }
        _ => return None,
    };

    let local = date.and_time(NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?);
    Some(
        local
            .checked_sub_signed(TimeDelta::minutes(offset_minutes))?
            .and_utc(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{SecondsFormat, TimeZone};

    /// What the server writes: chrono's serialization of its timestamps.
    fn written(at: DateTime<Utc>) -> String {
        let json = serde_json::to_string(&at).unwrap_or_default();
        json.trim_matches('"').to_owned()
    }

    #[test]
    fn reads_every_timestamp_the_server_writes() {
        // Seconds and fractions spread over 0001–9999 (a fixed LCG, so every run reads the
        // same ones), with whole seconds, milliseconds and microseconds among them.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            state >> 11
        };
        let first = Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap().timestamp();
        let last = Utc
            .with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
            .unwrap()
            .timestamp();
        for round in 0..20_000u64 {
            let seconds = first + (next() % (last - first) as u64) as i64;
            let nanos = match round % 4 {
                0 => 0,
                1 => (next() % 1_000) as u32 * 1_000_000,
                2 => (next() % 1_000_000) as u32 * 1_000,
                _ => (next() % 1_000_000_000) as u32,
            };
            let at = DateTime::from_timestamp(seconds, nanos).unwrap();
            let text = written(at);
            assert_eq!(parse(&text), Some(at), "{text}");
            let read: DateTime<Utc> = serde_json::from_str(&format!("\"{text}\"")).unwrap();
            assert_eq!(parse(&text), Some(read), "chrono reads {text} otherwise");
        }
    }

    #[test]
    fn reads_offsets_and_the_rest_of_rfc_3339_as_chrono_does() {
        let at = Utc.with_ymd_and_hms(2026, 11, 22, 3, 1, 0).unwrap();
        for text in [
            "2026-11-22T03:01:00Z",
            "2026-11-22t03:01:00z",
            "2026-11-22 03:01:00Z",
            "2026-11-22T03:01:00.0Z",
            "2026-11-22T03:01:00.000000000Z",
            "2026-11-22T03:01:00+00:00",
            "2026-11-22T08:31:00+05:30",
            "2026-11-21T19:01:00-08:00",
            "2026-11-22T00:01:00-03:00",
            &at.to_rfc3339(),
            &at.to_rfc3339_opts(SecondsFormat::Nanos, false),
        ] {
            assert_eq!(parse(text), Some(at), "{text}");
            assert_eq!(
                text.parse::<DateTime<Utc>>().ok(),
                Some(at),
                "chrono on {text}"
            );
        }
        let tenth = at + TimeDelta::milliseconds(100);
        assert_eq!(parse("2026-11-22T03:01:00.1Z"), Some(tenth));
        assert_eq!(parse("2026-11-22T03:01:00.100Z"), Some(tenth));
    }

    #[test]
    fn refuses_what_is_not_a_moment_like_chrono() {
        for text in [
            "",
            "2026-11-22",
            "2026-11-22T03:01:00",
            "2026-11-22T03:01Z",
            "2026-11-22T03:01:00ZZ",
            "2026-11-22T03:01:00.Z",
            "2026-13-22T03:01:00Z",
            "2026-02-30T03:01:00Z",
            "2026-11-22T24:00:00Z",
            "2026-11-22T03:60:00Z",
            "2026-11-22T03:01:00+24:00",
            "2026-11-22T03:01:00+05:60",
            "2026-11-22T03:01:00+05",
            "2026/11/22T03:01:00Z",
            "2026-11-22X03:01:00Z",
            "2026-1a-22T03:01:00Z",
            "2026-11-22T03:01:00\u{e9}",
            "\u{e9}026-11-22T03:01:00Z",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
            assert!(
                text.parse::<DateTime<Utc>>().is_err(),
                "chrono reads {text:?}"
            );
        }
        // chrono's extensions, which the server never writes.
        for text in [
            "2026-11-22T03:01:00Z ",
            "2026-11-22T03:01:00.1234567890Z",
            "2026-11-22T03:01:00+0530",
            "+026-11-22T03:01:00Z",
            "2016-12-31T23:59:60Z",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
            assert!(
                text.parse::<DateTime<Utc>>().is_ok(),
                "chrono refuses {text:?}"
            );
        }
    }

    #[test]
    fn a_field_refuses_a_bad_timestamp_by_name() {
        #[derive(Debug, Deserialize)]
        struct Row {
            #[serde(with = "super")]
            #[allow(dead_code)]
            at: DateTime<Utc>,
        }
        let error = serde_json::from_str::<Row>(r#"{"at":"yesterday"}"#)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(error.contains("an RFC 3339 date and time"), "{error}");
    }
}
