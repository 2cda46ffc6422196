//! The JSON Lines log: an append-only file, one envelope per line.
//!
//! Writers append a command's lines in one `write_all` and flush them to disk before the
//! command reports success. Readers stream line by line from a byte offset and never hand
//! out a line without its newline, so a line being written is never seen torn.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// Appends `bytes` (whole lines) in one write and syncs; returns the log's new length.
pub fn append(path: &Path, bytes: &[u8]) -> Result<u64> {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io("open", path, e))?;
    file.write_all(bytes)
        .map_err(|e| Error::io("append to", path, e))?;
    file.sync_data().map_err(|e| Error::io("flush", path, e))?;
    let len = file
        .metadata()
        .map_err(|e| Error::io("read", path, e))?
        .len();
    Ok(len)
}

/// The length of the log in bytes; 0 when it does not exist yet.
pub fn len(path: &Path) -> Result<u64> {
    match fs::metadata(path) {
        Ok(meta) => Ok(meta.len()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

/// Where the complete lines of the log end, when the file ends in a partial line:
/// `Some(end of the last newline)`; `None` when the log is whole.
pub fn torn_tail(path: &Path) -> Result<Option<u64>> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("open", path, e)),
    };
    let len = file
        .metadata()
        .map_err(|e| Error::io("read", path, e))?
        .len();
    if len == 0 {
        return Ok(None);
    }
    let mut chunk = vec![0u8; 8192];
    let mut end = len;
    let mut first = true;
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let size = (end - start) as usize;
        file.seek(SeekFrom::Start(start))
            .and_then(|_| file.read_exact(&mut chunk[..size]))
            .map_err(|e| Error::io("read", path, e))?;
        if first {
            if chunk[size - 1] == b'\n' {
                return Ok(None);
            }
            first = false;
        }
        if let Some(pos) = chunk[..size].iter().rposition(|&b| b == b'\n') {
            return Ok(Some(start + pos as u64 + 1));
        }
        end = start;
    }
    Ok(Some(0))
}

/// Reads the bytes of `path` in `[start, end)`.
pub fn read_range(path: &Path, start: u64, end: u64) -> Result<Vec<u8>> {
    let mut file = File::open(path).map_err(|e| Error::io("open", path, e))?;
    let mut bytes = vec![0u8; (end - start) as usize];
    file.seek(SeekFrom::Start(start))
        .and_then(|_| file.read_exact(&mut bytes))
        .map_err(|e| Error::io("read", path, e))?;
    Ok(bytes)
}

/// Whether a line holds nothing but white space: not an event, and not damage either (an
/// editor's or a script's trailing newline); every reader skips it.
pub fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// The event id of the last line before `offset` that is not blank; `None` when only blank
/// lines (or nothing) come before it. `offset` must end a line: when it does not, or that
/// line does not parse, gives `Some("")`, which matches no real id.
pub fn last_event_id_before(path: &Path, offset: u64) -> Result<Option<String>> {
    let mismatch = Ok(Some(String::new()));
    if offset == 0 {
        return Ok(None);
    }
    let mut file = File::open(path).map_err(|e| Error::io("open", path, e))?;
    let mut read_back = |end: u64| -> Result<(u64, Vec<u8>)> {
        let start = end.saturating_sub(64 * 1024);
        let mut bytes = vec![0u8; (end - start) as usize];
        file.seek(SeekFrom::Start(start))
            .and_then(|_| file.read_exact(&mut bytes))
            .map_err(|e| Error::io("read", path, e))?;
        Ok((start, bytes))
    };
    // Back over white space to the last byte of the last line that is not blank.
    let (mut start, mut chunk) = read_back(offset)?;
    if chunk.last() != Some(&b'\n') {
        return mismatch;
    }
    let last = loop {
        if let Some(i) = chunk.iter().rposition(|b| !b.is_ascii_whitespace()) {
            break start + i as u64;
        }
        if start == 0 {
            return Ok(None);
        }
        (start, chunk) = read_back(start)?;
    };
    // Back to the start of that line (however long it is), then read it whole.
    let mut line_start = 0;
    let mut end = last;
    while end > 0 {
        let (from, bytes) = read_back(end)?;
        if let Some(i) = bytes.iter().rposition(|&b| b == b'\n') {
            line_start = from + i as u64 + 1;
            break;
        }
        end = from;
    }
    let line = read_range(path, line_start, last + 1)?;
    match crate::events::Envelope::from_line(&line) {
        Ok(envelope) => Ok(Some(envelope.event_id)),
        Err(_) => mismatch,
    }
}

/// The 1-based number of the line that starts at `offset` (the newlines before it, plus one).
pub fn line_number_at(path: &Path, offset: u64) -> Result<u64> {
    let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
    let mut reader = BufReader::with_capacity(256 * 1024, file.take(offset));
    let mut newlines = 0u64;
    loop {
        let chunk = reader.fill_buf().map_err(|e| Error::io("read", path, e))?;
        if chunk.is_empty() {
            return Ok(newlines + 1);
        }
        newlines += memchr::memchr_iter(b'\n', chunk).count() as u64;
        let n = chunk.len();
        reader.consume(n);
    }
}

/// A complete line of the log.
#[derive(Debug)]
pub struct Line<'a> {
    /// Byte offset of the line's first byte.
    pub start: u64,
    /// Byte offset just past its newline.
    pub end: u64,
    /// 1-based line number, counted from where the reader started.
    pub number: u64,
    /// The line without its newline.
    pub bytes: &'a [u8],
}

/// Streams complete lines from a byte offset, with a buffer reused for every line.
pub struct LogReader {
    reader: BufReader<File>,
    offset: u64,
    number: u64,
    buffer: Vec<u8>,
    path: std::path::PathBuf,
}

impl LogReader {
    /// Opens the log at `offset`; `Ok(None)` when there is no log yet.
    pub fn open_at(path: &Path, offset: u64) -> Result<Option<LogReader>> {
        let mut file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("open", path, e)),
        };
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| Error::io("read", path, e))?;
        Ok(Some(LogReader {
            reader: BufReader::with_capacity(256 * 1024, file),
            offset,
            number: 0,
            buffer: Vec::with_capacity(4096),
            path: path.to_path_buf(),
        }))
    }

    /// The offset just past the last complete line returned.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The bytes of the line [`LogReader::next_line`] returned last (without its newline).
    pub fn last_line(&self) -> &[u8] {
        self.buffer.strip_suffix(b"\n").unwrap_or(&self.buffer)
    }

    /// The next complete line; `None` at the end (a partial last line is not returned).
    pub fn next_line(&mut self) -> Result<Option<Line<'_>>> {
        self.buffer.clear();
        let n = self
            .reader
            .read_until(b'\n', &mut self.buffer)
            .map_err(|e| Error::io("read", &self.path, e))?;
        if n == 0 || self.buffer.last() != Some(&b'\n') {
            // A partial line: seek back so a later call (for `--follow`) sees it whole.
            if n > 0 {
                self.reader
                    .seek(SeekFrom::Start(self.offset))
                    .map_err(|e| Error::io("read", &self.path, e))?;
            }
            return Ok(None);
        }
        let start = self.offset;
        self.offset += n as u64;
        self.number += 1;
        Ok(Some(Line {
            start,
            end: self.offset,
            number: self.number,
            bytes: &self.buffer[..n - 1],
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_returns_whole_lines_only_and_torn_tail_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        assert_eq!(torn_tail(&path).unwrap(), None);
        append(&path, b"{\"a\":1}\n{\"b\":2}\n").unwrap();
        assert_eq!(torn_tail(&path).unwrap(), None);
        append(&path, b"{\"c\"").unwrap();
        assert_eq!(torn_tail(&path).unwrap(), Some(16));
        let mut reader = LogReader::open_at(&path, 0).unwrap().unwrap();
        let mut lines = Vec::new();
        while let Some(line) = reader.next_line().unwrap() {
            lines.push((line.start, line.end, line.bytes.to_vec()));
        }
        assert_eq!(
            lines,
            vec![
                (0, 8, b"{\"a\":1}".to_vec()),
                (8, 16, b"{\"b\":2}".to_vec())
            ]
        );
        assert_eq!(reader.offset(), 16);
        append(&path, b":3}\n").unwrap();
        let line = reader.next_line().unwrap().unwrap();
        assert_eq!(line.bytes, b"{\"c\":3}");
    }

    #[test]
    fn the_last_event_before_an_offset_skips_blank_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let event = crate::events::Envelope {
            event_id: "evt-1".into(),
            event_type: "T".into(),
            tenant_id: "t".into(),
            project_id: None,
            module_id: None,
            trace_id: "x".into(),
            correlation_id: "c".into(),
            causation_id: None,
            occurred_at: "2026-01-01T00:00:00.000Z".into(),
            payload: serde_json::json!({}),
        };
        let mut line = Vec::new();
        event.write_line(&mut line);
        append(&path, b"\n \n").unwrap();
        assert_eq!(last_event_id_before(&path, 3).unwrap(), None);
        append(&path, &line).unwrap();
        let end = append(&path, b"\n\t\n").unwrap();
        assert_eq!(
            last_event_id_before(&path, end).unwrap().as_deref(),
            Some("evt-1")
        );
        assert_eq!(
            last_event_id_before(&path, end - 2).unwrap().as_deref(),
            Some("evt-1")
        );
        assert_eq!(last_event_id_before(&path, 1).unwrap(), None);
        // Not at the end of a line, or after a line that is not an event: matches nothing.
        assert_eq!(last_event_id_before(&path, 5).unwrap().as_deref(), Some(""));
        let end = append(&path, b"garbage\n\n").unwrap();
        assert_eq!(
            last_event_id_before(&path, end).unwrap().as_deref(),
            Some("")
        );
        // A line longer than one read back is read whole.
        let mut long = event.clone();
        long.event_id = "evt-long".into();
        long.payload = serde_json::json!({ "text": "x".repeat(200_000) });
        let mut bytes = Vec::new();
        long.write_line(&mut bytes);
        let end = append(&path, &bytes).unwrap();
        assert_eq!(
            last_event_id_before(&path, end).unwrap().as_deref(),
            Some("evt-long")
        );
        assert_eq!(line_number_at(&path, 0).unwrap(), 1);
        assert_eq!(line_number_at(&path, 4).unwrap(), 3);
        assert_eq!(line_number_at(&path, end).unwrap(), 9);
    }
}
