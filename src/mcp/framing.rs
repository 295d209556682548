//! stdio framing: one message per `\n`-terminated line, with a hard size cap.
//!
//! Why not `BufRead::read_line`: it buffers a whole line however long it is, so one 4 GiB line
//! would take the process down. This reader keeps at most [`MAX_LINE`] bytes; past that it
//! discards up to the next newline and reports [`Frame::TooLong`], and the session answers an
//! error and goes on with the next line.

use std::io::{BufRead, BufReader, ErrorKind, Read};

/// The largest message accepted (1 MiB).
pub const MAX_LINE: usize = 1 << 20;

#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// One line without its `\n` (and without a trailing `\r`).
    Line(Vec<u8>),
    /// A line longer than the cap; its bytes were discarded.
    TooLong,
    /// The peer closed the stream (or reading failed for good).
    Eof,
}

pub struct LineReader<R> {
    inner: BufReader<R>,
    max: usize,
}

impl<R: Read> LineReader<R> {
    pub fn new(reader: R, max: usize) -> LineReader<R> {
        LineReader {
            inner: BufReader::with_capacity(64 * 1024, reader),
            max,
        }
    }

    pub fn next_frame(&mut self) -> Frame {
        let mut line = Vec::new();
        let mut too_long = false;
        loop {
            let buf = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::debug!("reading the session stream failed: {e}");
                    return Frame::Eof;
                }
            };
            if buf.is_empty() {
                // EOF. A last line without a newline still counts as a message.
                return match (too_long, line.is_empty()) {
                    (true, _) => Frame::TooLong,
                    (false, true) => Frame::Eof,
                    (false, false) => Frame::Line(trim_cr(line)),
                };
            }
            let (chunk, found) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (&buf[..i], Some(i)),
                None => (buf, None),
            };
            if !too_long {
                if line.len() + chunk.len() > self.max {
                    too_long = true;
                    line = Vec::new();
                } else {
                    line.extend_from_slice(chunk);
                }
            }
            let used = found.map_or(buf.len(), |i| i + 1);
            self.inner.consume(used);
            if found.is_some() {
                return if too_long {
                    Frame::TooLong
                } else {
                    Frame::Line(trim_cr(line))
                };
            }
        }
    }
}

fn trim_cr(mut line: Vec<u8>) -> Vec<u8> {
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8], max: usize) -> Vec<Frame> {
        let mut r = LineReader::new(input, max);
        let mut out = Vec::new();
        loop {
            let f = r.next_frame();
            if f == Frame::Eof {
                return out;
            }
            out.push(f);
        }
    }

    #[test]
    fn lines_are_split_on_newline_and_a_trailing_cr_is_dropped() {
        assert_eq!(
            frames(b"a\nbc\r\n\nlast", 10),
            vec![
                Frame::Line(b"a".to_vec()),
                Frame::Line(b"bc".to_vec()),
                Frame::Line(vec![]),
                Frame::Line(b"last".to_vec())
            ]
        );
    }

    #[test]
    fn an_overlong_line_is_discarded_and_the_next_line_still_arrives() {
        let mut input = vec![b'x'; 100];
        input.extend_from_slice(b"\nok\n");
        assert_eq!(
            frames(&input, 10),
            vec![Frame::TooLong, Frame::Line(b"ok".to_vec())]
        );
    }

    #[test]
    fn a_huge_line_is_not_buffered() {
        // 8 MiB through a 1 KiB cap: the reader never holds more than the cap.
        let mut input = vec![b'y'; 8 << 20];
        input.push(b'\n');
        input.extend_from_slice(b"z\n");
        assert_eq!(
            frames(&input, 1024),
            vec![Frame::TooLong, Frame::Line(b"z".to_vec())]
        );
    }
}
