//! Server-sent events as MiniMax sends them (`stream: true`): one reader for the classifier,
//! the client and anything else that reads a stream, so they split events the same way.
//!
//! Written here rather than taken from a crate because the readers on crates.io buffer a line
//! or an event without a bound (a hostile server could send one endless line) and work only on
//! async streams, while the classifier needs the same rules over a byte slice.
//!
//! ```
//! use minimax_errors::sse::Decoder;
//! let mut decoder = Decoder::new(1 << 20);
//! let mut events = Vec::new();
//! decoder.feed(b"data: {\"a\":1}\n\ndata: [DO", &mut events).unwrap();
//! assert_eq!(events.len(), 1);
//! assert_eq!(&*events[0].data, b"{\"a\":1}");
//! decoder.feed(b"NE]\n\n", &mut events).unwrap();
//! assert_eq!(&*events[1].data, b"[DONE]");
//! assert!(decoder.finish().is_none());
//! ```

use std::borrow::Cow;
use std::fmt;

/// One event: its `event:` name, its `data:` lines joined with `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<'a> {
    /// The `event:` field, if any (`error` for Anthropic-style error events).
    pub name: Option<Cow<'a, [u8]>>,
    /// The data (borrowed from the input when it is one line).
    pub data: Cow<'a, [u8]>,
    /// Whether a blank line ended it (false for the last event of a stream cut off inside it).
    pub complete: bool,
}

impl Event<'_> {
    /// Whether its name is `name`.
    pub fn is_named(&self, name: &str) -> bool {
        self.name.as_deref() == Some(name.as_bytes())
    }
}

/// One line of a stream, as the SSE rules read it.
enum Line<'a> {
    /// An empty line: ends the event.
    Blank,
    /// `:comment` or a field this reader ignores (`id:`, `retry:`).
    Ignored,
    /// `data: …` (one optional space after the colon is not part of the value).
    Data(&'a [u8]),
    /// `event: …`.
    Name(&'a [u8]),
}

fn parse_line(line: &[u8]) -> Line<'_> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() {
        return Line::Blank;
    }
    let (field, value) = match memchr::memchr(b':', line) {
        Some(0) => return Line::Ignored,
        Some(i) => (
            &line[..i],
            line[i + 1..].strip_prefix(b" ").unwrap_or(&line[i + 1..]),
        ),
        None => (line, &b""[..]),
    };
    match field {
        b"data" => Line::Data(value),
        b"event" => Line::Name(value),
        _ => Line::Ignored,
    }
}

fn join(data: Option<Cow<'_, [u8]>>, value: &[u8]) -> Vec<u8> {
    let mut joined = data.map(Cow::into_owned).unwrap_or_default();
    joined.push(b'\n');
    joined.extend_from_slice(value);
    joined
}

/// The events of a whole stream held in memory, borrowed from it where possible.
pub fn events(body: &[u8]) -> Events<'_> {
    Events { rest: body }
}

/// An iterator over the events of a byte slice; see [`events`].
#[derive(Debug, Clone)]
pub struct Events<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Events<'a> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        let mut name = None;
        let mut data: Option<Cow<'a, [u8]>> = None;
        while !self.rest.is_empty() {
            let (line, rest) = match memchr::memchr(b'\n', self.rest) {
                Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
                None => (self.rest, &b""[..]),
            };
            self.rest = rest;
            match parse_line(line) {
                Line::Blank => match data.take() {
                    Some(data) => {
                        return Some(Event {
                            name,
                            data,
                            complete: true,
                        });
                    }
                    None => name = None,
                },
                Line::Ignored => {}
                Line::Data(value) => {
                    data = Some(match data {
                        None => Cow::Borrowed(value),
                        previous => Cow::Owned(join(previous, value)),
                    });
                }
                Line::Name(value) => name = Some(Cow::Borrowed(value)),
            }
        }
        data.map(|data| Event {
            name,
            data,
            complete: false,
        })
    }
}

/// An event grew past the decoder's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventTooLarge {
    /// The limit, in bytes.
    pub limit: usize,
}

impl fmt::Display for EventTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an event is larger than {} bytes", self.limit)
    }
}

impl std::error::Error for EventTooLarge {}

/// Reads events from a stream that arrives in chunks, holding at most `max_event` bytes of an
/// unfinished event.
#[derive(Debug, Clone)]
pub struct Decoder {
    /// The start of a line whose end has not arrived.
    line: Vec<u8>,
    name: Option<Vec<u8>>,
    data: Option<Vec<u8>>,
    max_event: usize,
}

impl Decoder {
    /// A decoder that refuses events larger than `max_event` bytes.
    pub fn new(max_event: usize) -> Decoder {
        Decoder {
            line: Vec::new(),
            name: None,
            data: None,
            max_event,
        }
    }

    /// Reads `chunk`, appending the events it completes to `out`.
    pub fn feed(
        &mut self,
        mut chunk: &[u8],
        out: &mut Vec<Event<'static>>,
    ) -> Result<(), EventTooLarge> {
        while let Some(end) = memchr::memchr(b'\n', chunk) {
            if self.line.is_empty() {
                self.apply(&chunk[..end], out);
            } else {
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(&chunk[..end]);
                self.apply(&line, out);
            }
            chunk = &chunk[end + 1..];
        }
        self.line.extend_from_slice(chunk);
        let held = self.line.len() + self.data.as_ref().map_or(0, Vec::len);
        if held > self.max_event {
            return Err(EventTooLarge {
                limit: self.max_event,
            });
        }
        Ok(())
    }

    fn apply(&mut self, line: &[u8], out: &mut Vec<Event<'static>>) {
        match parse_line(line) {
            Line::Blank => match self.data.take() {
                Some(data) => out.push(Event {
                    name: self.name.take().map(Cow::Owned),
                    data: Cow::Owned(data),
                    complete: true,
                }),
                None => self.name = None,
            },
            Line::Ignored => {}
            Line::Data(value) => {
                self.data = Some(match self.data.take() {
                    None => value.to_vec(),
                    previous => join(previous.map(Cow::Owned), value),
                });
            }
            Line::Name(value) => self.name = Some(value.to_vec()),
        }
    }

    /// The stream ended: the event it was in the middle of, if any (`complete: false`).
    pub fn finish(&mut self) -> Option<Event<'static>> {
        let line = std::mem::take(&mut self.line);
        if !line.is_empty() {
            let mut ignored = Vec::new();
            self.apply(&line, &mut ignored);
        }
        let data = self.data.take()?;
        Some(Event {
            name: self.name.take().map(Cow::Owned),
            data: Cow::Owned(data),
            complete: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(body: &[u8], piece: usize) -> Vec<Event<'static>> {
        let mut decoder = Decoder::new(1 << 20);
        let mut out = Vec::new();
        for chunk in body.chunks(piece) {
            decoder.feed(chunk, &mut out).unwrap();
        }
        out.extend(decoder.finish());
        out
    }

    #[test]
    fn the_decoder_and_the_slice_reader_agree_however_the_bytes_arrive() {
        let body = b": comment\r\nevent: error\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\nid: 7\ndata:x\n\n\n\ndata: [DONE]\n\ndata: {\"cut";
        let whole: Vec<Event<'static>> = events(body)
            .map(|e| Event {
                name: e.name.map(|n| Cow::Owned(n.into_owned())),
                data: Cow::Owned(e.data.into_owned()),
                complete: e.complete,
            })
            .collect();
        assert_eq!(whole.len(), 4);
        assert!(whole[0].is_named("error"));
        assert_eq!(&*whole[0].data, b"{\"a\":\n1}");
        assert_eq!(&*whole[1].data, b"x");
        assert_eq!(whole[1].name, None);
        assert!(!whole[3].complete);
        for piece in [1, 2, 3, 7, 64, body.len()] {
            assert_eq!(decode_in_pieces(body, piece), whole, "pieces of {piece}");
        }
    }

    #[test]
    fn an_endless_line_is_refused() {
        let mut decoder = Decoder::new(100);
        let mut out = Vec::new();
        assert!(decoder.feed(&[b'a'; 60], &mut out).is_ok());
        assert_eq!(
            decoder.feed(&[b'a'; 60], &mut out),
            Err(EventTooLarge { limit: 100 })
        );
        let mut decoder = Decoder::new(100);
        for _ in 0..10 {
            let _ = decoder.feed(b"data: 0123456789\n", &mut out);
        }
        assert!(decoder.feed(b"data: 0123456789\n", &mut out).is_err());
    }
}
