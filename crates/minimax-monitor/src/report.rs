//! Reading error logs back: a streaming summary of JSON-lines error logs (per code, per
//! endpoint, per hour), in memory that does not grow with the file. Malformed lines are counted
//! and described, never fatal.

use minimax_errors::Endpoint;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};

/// Distinct outcomes tracked one by one; more share the "other" row.
const MAX_OUTCOMES: usize = 10_000;
/// Distinct endpoints tracked one by one.
const MAX_ENDPOINTS: usize = 1_000;
/// Malformed lines described (all are counted).
const MALFORMED_EXAMPLES: usize = 5;
/// Trace ids kept per outcome.
const TRACE_SAMPLES: usize = 3;
/// The longest line read; longer ones are counted as malformed without being held whole.
const MAX_LINE: usize = 1 << 20;

/// A time range to keep (Unix ms, `since` inclusive, `until` exclusive).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeRange {
    /// Keep events at or after this.
    pub since_ms: Option<u64>,
    /// Keep events before this.
    pub until_ms: Option<u64>,
}

/// One outcome's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OutcomeStats {
    /// Events.
    pub count: u64,
    /// The first (Unix ms).
    pub first_ms: u64,
    /// The last (Unix ms).
    pub last_ms: u64,
    /// A few trace ids.
    pub trace_ids: Vec<String>,
}

/// A malformed line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadLine {
    /// The file.
    pub file: String,
    /// Its line number (from 1).
    pub line: u64,
    /// What is wrong with it.
    pub reason: String,
}

/// The summary of one or more error logs.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LogReport {
    /// Lines read.
    pub lines: u64,
    /// Events counted (within the time range).
    pub events: u64,
    /// Events outside the time range.
    pub outside_range: u64,
    /// Lines that are not events.
    pub malformed: u64,
    /// The first few of them.
    pub malformed_examples: Vec<BadLine>,
    /// Bytes read.
    pub bytes: u64,
    /// Per outcome (`"1002"`, `"malformed"`, `"transport"`; `"other"` past the tracking limit).
    pub outcomes: BTreeMap<String, OutcomeStats>,
    /// Per endpoint.
    pub endpoints: BTreeMap<String, u64>,
    /// Per hour, keyed by the hour's start (Unix ms); serialised with RFC 3339 keys.
    #[serde(serialize_with = "by_time")]
    pub hours: BTreeMap<u64, u64>,
    /// Per minute, keyed by the minute's start (Unix ms), for charts of short spans; at most
    /// [`MAX_MINUTES`] of them (the latest are kept).
    #[serde(skip)]
    pub minutes: BTreeMap<u64, u64>,
    /// Calls that failed for good (the log's `final: true` lines).
    pub final_failures: u64,
}

/// Minutes tracked one by one (about ten weeks).
pub const MAX_MINUTES: usize = 100_000;

/// A map keyed by Unix ms, written with RFC 3339 keys.
fn by_time<S: serde::Serializer>(
    map: &BTreeMap<u64, u64>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut out = serializer.serialize_map(Some(map.len()))?;
    for (ms, count) in map {
        out.serialize_entry(&super::timestamp_to(*ms, super::Resolution::Second), count)?;
    }
    out.end()
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    ts: Cow<'a, str>,
    code: Option<i64>,
    #[serde(borrow, default)]
    outcome: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    endpoint: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    trace_id: Option<Cow<'a, str>>,
    #[serde(rename = "final", default)]
    final_attempt: Option<bool>,
}

impl LogReport {
    /// Adds everything `reader` holds (named `file` in descriptions of bad lines).
    pub fn read(&mut self, file: &str, reader: impl Read, range: TimeRange) -> std::io::Result<()> {
        let mut reader = BufReader::with_capacity(1 << 20, reader);
        let mut buffer = Vec::with_capacity(4096);
        let mut number = 0u64;
        loop {
            buffer.clear();
            let (read, complete) = read_line(&mut reader, &mut buffer)?;
            if read == 0 {
                return Ok(());
            }
            number += 1;
            self.bytes += read as u64;
            let line = buffer.trim_ascii();
            if line.is_empty() {
                continue;
            }
            self.lines += 1;
            if !complete {
                self.bad(file, number, format!("longer than {} bytes", MAX_LINE));
                continue;
            }
            match serde_json::from_slice::<Line<'_>>(line) {
                Ok(event) => match parse_timestamp(&event.ts) {
                    Some(ms) => self.add(&event, ms, range),
                    None => self.bad(
                        file,
                        number,
                        format!("ts {:?} is not an RFC 3339 time", bounded(&event.ts)),
                    ),
                },
                Err(error) => self.bad(file, number, error.to_string()),
            }
        }
    }

    fn bad(&mut self, file: &str, line: u64, reason: String) {
        self.malformed += 1;
        if self.malformed_examples.len() < MALFORMED_EXAMPLES {
            self.malformed_examples.push(BadLine {
                file: file.to_string(),
                line,
                reason,
            });
        }
    }

    fn add(&mut self, event: &Line<'_>, ms: u64, range: TimeRange) {
        if range.since_ms.is_some_and(|since| ms < since)
            || range.until_ms.is_some_and(|until| ms >= until)
        {
            self.outside_range += 1;
            return;
        }
        self.events += 1;
        let outcome: Cow<'_, str> = match (event.code, &event.outcome) {
            (Some(code), _) => Cow::Owned(code.to_string()),
            (None, Some(outcome)) => Cow::Borrowed(outcome.as_ref()),
            (None, None) => Cow::Borrowed("unknown"),
        };
        let key =
            if self.outcomes.contains_key(outcome.as_ref()) || self.outcomes.len() < MAX_OUTCOMES {
                outcome.as_ref()
            } else {
                "other"
            };
        let stats = match self.outcomes.get_mut(key) {
            Some(stats) => stats,
            None => self
                .outcomes
                .entry(key.to_string())
                .or_insert(OutcomeStats {
                    first_ms: ms,
                    last_ms: ms,
                    ..OutcomeStats::default()
                }),
        };
        stats.count += 1;
        stats.first_ms = stats.first_ms.min(ms);
        stats.last_ms = stats.last_ms.max(ms);
        if let Some(trace) = &event.trace_id
            && stats.trace_ids.len() < TRACE_SAMPLES
        {
            // Only a few per outcome, so scrubbing them costs nothing: a log written by someone
            // else may hold anything in that field.
            stats.trace_ids.push(bounded(trace));
        }
        // Only the catalog's endpoint names are shown: the field may hold anything.
        let endpoint = event.endpoint.as_deref().map_or("unknown", |name| {
            Endpoint::all()
                .map(Endpoint::as_str)
                .find(|known| *known == name)
                .unwrap_or("other")
        });
        let tracked = self.endpoints.len() < MAX_ENDPOINTS;
        match self.endpoints.get_mut(endpoint) {
            Some(count) => *count += 1,
            None if tracked => {
                self.endpoints.insert(endpoint.to_string(), 1);
            }
            None => *self.endpoints.entry("other".to_string()).or_default() += 1,
        }
        *self.hours.entry(ms / 3_600_000 * 3_600_000).or_default() += 1;
        *self.minutes.entry(ms / 60_000 * 60_000).or_default() += 1;
        if self.minutes.len() > MAX_MINUTES {
            self.minutes.pop_first();
        }
        self.final_failures += u64::from(event.final_attempt == Some(true));
    }
}

/// Reads one line into `buffer`, at most [`MAX_LINE`] bytes of it; returns the bytes consumed
/// and whether the line was kept whole.
fn read_line(reader: &mut impl BufRead, buffer: &mut Vec<u8>) -> std::io::Result<(usize, bool)> {
    let mut consumed = 0;
    let mut whole = true;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok((consumed, whole));
        }
        let (chunk, done) = match memchr::memchr(b'\n', available) {
            Some(i) => (&available[..=i], true),
            None => (available, false),
        };
        let room = MAX_LINE.saturating_sub(buffer.len());
        if chunk.len() > room {
            whole = false;
        }
        buffer.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let used = chunk.len();
        reader.consume(used);
        consumed += used;
        if done {
            return Ok((consumed, whole));
        }
    }
}

/// A text from the log, scrubbed, then cut: a log written by someone else may hold anything.
fn bounded(text: &str) -> String {
    minimax_errors::scrub::scrub_bounded(text, 128)
}

/// Parses an RFC 3339 time (`2026-11-27T04:10:04.123Z`, `…+08:00`) or a date (`2026-11-27`,
/// midnight UTC) to Unix milliseconds. Written by hand because it runs once per log line and
/// must keep up with hundreds of megabytes per second.
pub fn parse_timestamp(text: &str) -> Option<u64> {
    let b = text.trim().as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(range)?;
        part.iter().try_fold(0i64, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
        })
    };
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
    {
        return None;
    }
    let mut ms = days_from_civil(year, month, day) * 86_400_000;
    if b.len() == 10 {
        return u64::try_from(ms).ok();
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' '))
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
    {
        return None;
    }
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    ms += (hour * 3600 + minute * 60 + second) * 1000;
    let mut at = 19;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        let fraction = &b[start..at];
        if fraction.is_empty() {
            return None;
        }
        let millis = fraction
            .iter()
            .take(3)
            .fold(0i64, |acc, &d| acc * 10 + i64::from(d - b'0'));
        ms += millis * 10i64.pow(3 - fraction.len().min(3) as u32);
    }
    match b.get(at) {
        Some(b'Z' | b'z') if at + 1 == b.len() => {}
        Some(sign @ (b'+' | b'-')) if at + 6 == b.len() && b[at + 3] == b':' => {
            let offset = (digits(at + 1..at + 3)? * 60 + digits(at + 4..at + 6)?) * 60_000;
            ms += if *sign == b'+' { -offset } else { offset };
        }
        _ => return None,
    }
    u64::try_from(ms).ok()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_timestamp("2026-11-27T04:10:04.123Z"),
            Some(1_795_752_604_123)
        );
        assert_eq!(
            parse_timestamp("2026-11-27T12:10:04.123+08:00"),
            Some(1_795_752_604_123)
        );
        assert_eq!(
            parse_timestamp("2026-11-27T04:10:04.1Z"),
            Some(1_795_752_604_100)
        );
        assert_eq!(
            parse_timestamp("2026-11-27T04:10:04.123456789Z"),
            Some(1_795_752_604_123)
        );
        assert_eq!(parse_timestamp("2026-11-27"), Some(1_795_737_600_000));
        assert_eq!(
            parse_timestamp("2024-02-29T00:00:00Z"),
            Some(1_709_164_800_000)
        );
        for bad in [
            "",
            "2026-13-01",
            "2026-11-27T25:00:00Z",
            "2026-11-27T04:10:04",
            "yesterday",
            "2026-11-27T04:10:04.Z",
            "２０２６-11-27",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
        let formatted = crate::timestamp(1_795_752_604_123);
        assert_eq!(parse_timestamp(&formatted), Some(1_795_752_604_123));
    }

    #[test]
    fn counts_and_malformed_lines() {
        let log = concat!(
            r#"{"ts":"2026-11-27T04:10:04.000Z","code":1002,"endpoint":"t2a","trace_id":"a1","final":false}"#,
            "\n",
            r#"{"ts":"2026-11-27T04:20:00.000Z","code":1002,"endpoint":"t2a","trace_id":"a2","final":true}"#,
            "\n",
            r#"{"ts":"2026-11-27T05:01:00.000Z","code":null,"outcome":"transport","endpoint":"chat"}"#,
            "\n",
            "not json\n",
            "\n",
            r#"{"ts":"soon","code":1}"#,
            "\n",
            r#"{"ts":"2026-11-28T00:00:00.000Z","code":2049,"endpoint":"chat"}"#,
        );
        let mut report = LogReport::default();
        let range = TimeRange {
            since_ms: None,
            until_ms: parse_timestamp("2026-11-28"),
        };
        report.read("x.jsonl", log.as_bytes(), range).unwrap();
        assert_eq!(
            (
                report.lines,
                report.events,
                report.malformed,
                report.outside_range
            ),
            (6, 3, 2, 1)
        );
        assert_eq!(report.outcomes["1002"].count, 2);
        assert_eq!(report.outcomes["1002"].trace_ids, ["a1", "a2"]);
        assert_eq!(report.outcomes["transport"].count, 1);
        assert_eq!(report.endpoints["t2a"], 2);
        assert_eq!(report.hours.len(), 2);
        assert_eq!(report.final_failures, 1);
        assert_eq!(report.malformed_examples[0].line, 4);
        assert!(report.malformed_examples[1].reason.contains("RFC 3339"));
    }

    #[test]
    fn huge_lines_are_malformed_not_held() {
        let mut log = vec![b'x'; MAX_LINE * 3];
        log.push(b'\n');
        log.extend_from_slice(br#"{"ts":"2026-11-27T04:10:04Z","code":1002}"#);
        let mut report = LogReport::default();
        report
            .read("big", log.as_slice(), TimeRange::default())
            .unwrap();
        assert_eq!((report.malformed, report.events), (1, 1));
    }
}
