//! Reading `npm publish`'s JSON body as it arrives, without holding its tarball: the body is a
//! packument with the new version and `_attachments: {"<file>": {"data": "<base64>", "length":
//! n}}`. `scan` keeps every field but the attachments' `data`, whose text it hands to a handler
//! piece by piece as it reads it (`DataEvent`), with the fields read so far, so the tarball can
//! go to storage while the rest of the body is still coming; `Base64` decodes those pieces.
//! Blocking reads: the caller runs them on a blocking thread.

use std::io::BufRead;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The most JSON kept besides attachment data (metadata, readme, …), so a body made of huge
/// fields cannot fill memory.
pub const MAX_METADATA: usize = 16 << 20;

/// How much base64 text is decoded at once (a multiple of 4).
const DECODE_CHUNK: usize = 256 << 10;

/// What the scanner reports of an attachment's `data` while reading it.
pub enum DataEvent<'a> {
    /// An attachment's data begins; `fields` are the top-level fields read so far.
    Start { fields: &'a Map<String, Value> },
    /// The next piece of its base64 text (checked, JSON escapes removed).
    Text(&'a [u8]),
}

/// Receives `DataEvent`s; an error stops the scan.
pub type DataHandler<'h> = &'h mut dyn FnMut(DataEvent<'_>) -> Result<()>;

#[derive(Debug, Default)]
pub struct PublishBody {
    /// Every top-level field except `_attachments`.
    pub fields: Map<String, Value>,
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    /// The `length` the client announced.
    pub length: Option<u64>,
    /// How many bytes its `data` decodes to, when it has data.
    pub decoded_len: Option<u64>,
}

fn malformed(why: impl std::fmt::Display) -> Error {
    Error::invalid(format!("malformed publish body: {why}"))
}

/// A byte reader that knows its position.
struct Scanner<R> {
    input: R,
    position: u64,
    /// JSON text kept so far, against `MAX_METADATA`.
    kept: usize,
}

impl<R: BufRead> Scanner<R> {
    fn peek(&mut self) -> Result<Option<u8>> {
        Ok(self.input.fill_buf()?.first().copied())
    }

    fn next(&mut self) -> Result<u8> {
        let byte = self.peek()?.ok_or_else(|| malformed("unexpected end"))?;
        self.input.consume(1);
        self.position += 1;
        Ok(byte)
    }

    fn skip_ws(&mut self) -> Result<()> {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek()? {
            self.next()?;
        }
        Ok(())
    }

    /// The next non-blank byte, consumed.
    fn token(&mut self) -> Result<u8> {
        self.skip_ws()?;
        self.next()
    }

    fn expect(&mut self, wanted: u8) -> Result<()> {
        let got = self.token()?;
        if got != wanted {
            return Err(malformed(format!(
                "expected {:?} at byte {}, found {:?}",
                wanted as char,
                self.position - 1,
                got as char
            )));
        }
        Ok(())
    }

    fn keep(&mut self, out: &mut Vec<u8>, byte: u8) -> Result<()> {
        self.kept += 1;
        if self.kept > MAX_METADATA {
            return Err(Error::PayloadTooLarge(format!(
                "the publish body's metadata is larger than {MAX_METADATA} bytes"
            )));
        }
        out.push(byte);
        Ok(())
    }

    /// Copies the rest of a string whose opening quote was read (and kept) into `out`.
    fn copy_string(&mut self, out: &mut Vec<u8>) -> Result<()> {
        loop {
            let byte = self.next()?;
            self.keep(out, byte)?;
            match byte {
                b'"' => return Ok(()),
                b'\\' => {
                    let escaped = self.next()?;
                    self.keep(out, escaped)?;
                }
                _ => {}
            }
        }
    }

    /// Copies one JSON value's text (checked by serde_json afterwards).
    fn copy_value(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let first = self.token()?;
        self.keep(out, first)?;
        match first {
            b'"' => self.copy_string(out),
            b'{' | b'[' => {
                let mut depth = 1usize;
                while depth > 0 {
                    let byte = self.next()?;
                    self.keep(out, byte)?;
                    match byte {
                        b'"' => self.copy_string(out)?,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => depth -= 1,
                        _ => {}
                    }
                }
                Ok(())
            }
            _ => {
                while let Some(byte) = self.peek()? {
                    if matches!(byte, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.next()?;
                    self.keep(out, byte)?;
                }
                Ok(())
            }
        }
    }

    fn value(&mut self) -> Result<Value> {
        let mut text = Vec::new();
        self.copy_value(&mut text)?;
        serde_json::from_slice(&text).map_err(malformed)
    }

    fn key(&mut self) -> Result<String> {
        self.skip_ws()?;
        if self.peek()? != Some(b'"') {
            return Err(malformed(format!(
                "expected a key at byte {}",
                self.position
            )));
        }
        match self.value()? {
            Value::String(key) => Ok(key),
            _ => Err(malformed("a key must be a string")),
        }
    }

    /// Reads `{ "key": value, … }`, handing each key to `field` right after its colon.
    fn object(&mut self, mut field: impl FnMut(&mut Self, String) -> Result<()>) -> Result<()> {
        self.expect(b'{')?;
        self.skip_ws()?;
        if self.peek()? == Some(b'}') {
            self.next()?;
            return Ok(());
        }
        loop {
            let key = self.key()?;
            self.expect(b':')?;
            field(self, key)?;
            match self.token()? {
                b',' => continue,
                b'}' => return Ok(()),
                other => {
                    return Err(malformed(format!(
                        "expected ',' or '}}' at byte {}, found {:?}",
                        self.position - 1,
                        other as char
                    )));
                }
            }
        }
    }

    /// Reads a base64 string (its opening quote next), handing its text to `on_data` in the
    /// pieces the input buffer holds; returns how many bytes it decodes to.
    fn data(&mut self, on_data: DataHandler<'_>) -> Result<u64> {
        self.expect(b'"')?;
        let (mut chars, mut padding) = (0u64, 0u64);
        loop {
            let buffer = self.input.fill_buf()?;
            if buffer.is_empty() {
                return Err(malformed("unexpected end"));
            }
            let delimiter = buffer.iter().position(|&b| b == b'"' || b == b'\\');
            let run = delimiter.unwrap_or(buffer.len());
            for &byte in &buffer[..run] {
                if !is_base64(byte) || (padding > 0 && byte != b'=') {
                    return Err(malformed("attachment data is not base64"));
                }
                padding += u64::from(byte == b'=');
            }
            if run > 0 {
                on_data(DataEvent::Text(&buffer[..run]))?;
            }
            chars += run as u64;
            self.input.consume(run);
            self.position += run as u64;
            if delimiter.is_none() {
                continue;
            }
            if self.next()? == b'"' {
                break;
            }
            // JSON may escape `/` (`\/`); base64 needs no other escape.
            if self.next()? != b'/' || padding > 0 {
                return Err(malformed("attachment data is not base64"));
            }
            on_data(DataEvent::Text(b"/"))?;
            chars += 1;
        }
        if chars % 4 != 0 || padding > 2 {
            return Err(malformed("attachment data is not padded base64"));
        }
        Ok(chars / 4 * 3 - padding)
    }

    fn attachment(
        &mut self,
        name: String,
        fields: &Map<String, Value>,
        on_data: DataHandler<'_>,
    ) -> Result<Attachment> {
        let mut attachment = Attachment {
            name,
            length: None,
            decoded_len: None,
        };
        self.object(|s, key| {
            match key.as_str() {
                "data" => {
                    on_data(DataEvent::Start { fields })?;
                    attachment.decoded_len = Some(s.data(&mut *on_data)?);
                }
                "length" => {
                    let length = s.value()?;
                    attachment.length = Some(
                        length
                            .as_u64()
                            .ok_or_else(|| malformed("attachment length is not a number"))?,
                    );
                }
                _ => {
                    s.value()?;
                }
            }
            Ok(())
        })?;
        Ok(attachment)
    }
}

fn is_base64(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'=')
}

/// Reads a publish body: every field, and each attachment's data through `on_data`.
pub fn scan(input: impl BufRead, on_data: DataHandler<'_>) -> Result<PublishBody> {
    let mut scanner = Scanner {
        input,
        position: 0,
        kept: 0,
    };
    let mut body = PublishBody::default();
    scanner.object(|s, key| {
        if key == "_attachments" {
            s.object(|s, name| {
                let attachment = s.attachment(name, &body.fields, &mut *on_data)?;
                body.attachments.push(attachment);
                Ok(())
            })
        } else {
            let value = s.value()?;
            body.fields.insert(key, value);
            Ok(())
        }
    })?;
    scanner.skip_ws()?;
    if scanner.peek()?.is_some() {
        return Err(malformed("content after the JSON object"));
    }
    Ok(body)
}

/// Decodes base64 text handed over in pieces of any size, a bounded chunk at a time.
#[derive(Default)]
pub struct Base64 {
    text: Vec<u8>,
}

impl Base64 {
    /// Takes the next piece; returns decoded bytes once a chunk's worth of text is there.
    pub fn push(&mut self, mut piece: &[u8]) -> Result<Option<Bytes>> {
        let mut decoded = Vec::new();
        while !piece.is_empty() {
            let room = DECODE_CHUNK - self.text.len();
            let (now, later) = piece.split_at(room.min(piece.len()));
            self.text.extend_from_slice(now);
            piece = later;
            if self.text.len() == DECODE_CHUNK {
                decoded.extend_from_slice(&decode_chunk(&self.text)?);
                self.text.clear();
            }
        }
        Ok((!decoded.is_empty()).then(|| Bytes::from(decoded)))
    }

    /// The bytes of the text left (it ends the data, padding included).
    pub fn finish(&mut self) -> Result<Option<Bytes>> {
        if self.text.is_empty() {
            return Ok(None);
        }
        let decoded = decode_chunk(&self.text)?;
        self.text.clear();
        Ok(Some(decoded))
    }
}

fn decode_chunk(text: &[u8]) -> Result<Bytes> {
    STANDARD
        .decode(text)
        .map(Bytes::from)
        .map_err(|e| malformed(format!("attachment data: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Cursor};

    fn body(data: &str) -> String {
        format!(
            r#"{{"_id":"greet","name":"greet","dist-tags":{{"latest":"1.0.0"}},
            "versions":{{"1.0.0":{{"name":"greet","version":"1.0.0","description":"a \"quoted\" {{brace}}"}}}},
            "_attachments":{{"greet-1.0.0.tgz":{{"content_type":"application/octet-stream","data":"{data}","length":5}}}},
            "readme":"hi"}}"#
        )
    }

    /// Scans `text` through a small buffer (so data arrives in many pieces), decoding the data;
    /// returns the body, the decoded bytes and the fields seen when the data started.
    fn scanned(text: &str) -> Result<(PublishBody, Vec<u8>, Vec<String>)> {
        let mut decoded = Vec::new();
        let mut seen = Vec::new();
        let mut base64 = Base64::default();
        let mut handler = |event: DataEvent<'_>| {
            match event {
                DataEvent::Start { fields, .. } => seen = fields.keys().cloned().collect(),
                DataEvent::Text(piece) => {
                    if let Some(bytes) = base64.push(piece)? {
                        decoded.extend_from_slice(&bytes);
                    }
                }
            }
            Ok(())
        };
        let input = BufReader::with_capacity(7, Cursor::new(text.as_bytes().to_vec()));
        let parsed = scan(input, &mut handler)?;
        if let Some(bytes) = base64.finish()? {
            decoded.extend_from_slice(&bytes);
        }
        Ok((parsed, decoded, seen))
    }

    #[test]
    fn fields_are_kept_and_data_streamed() {
        let text = body(&STANDARD.encode(b"hello"));
        let (parsed, decoded, seen) = scanned(&text).unwrap();
        assert_eq!(parsed.fields["name"], "greet");
        assert_eq!(parsed.fields["readme"], "hi");
        assert_eq!(
            parsed.fields["versions"]["1.0.0"]["description"],
            "a \"quoted\" {brace}"
        );
        assert!(!parsed.fields.contains_key("_attachments"));
        let [attachment] = parsed.attachments.as_slice() else {
            panic!("{:?}", parsed.attachments)
        };
        assert_eq!(attachment.name, "greet-1.0.0.tgz");
        assert_eq!(attachment.length, Some(5));
        assert_eq!(attachment.decoded_len, Some(5));
        assert_eq!(decoded, b"hello");
        assert_eq!(
            seen,
            ["_id", "dist-tags", "name", "versions"],
            "what came before"
        );
    }

    #[test]
    fn large_data_decodes_in_chunks_with_escaped_slashes() {
        let content: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let encoded = STANDARD.encode(&content).replace('/', "\\/");
        let (parsed, decoded, _) = scanned(&body(&encoded)).unwrap();
        assert_eq!(
            parsed.attachments[0].decoded_len,
            Some(content.len() as u64)
        );
        assert_eq!(decoded, content);
    }

    #[test]
    fn padding_counts_in_the_decoded_length() {
        for content in [&b"a"[..], b"ab", b"abc", b""] {
            let (parsed, decoded, _) = scanned(&body(&STANDARD.encode(content))).unwrap();
            assert_eq!(
                parsed.attachments[0].decoded_len,
                Some(content.len() as u64)
            );
            assert_eq!(decoded, content);
        }
    }

    #[test]
    fn malformed_bodies_are_refused() {
        for bad in [
            "",
            "[]",
            "{",
            r#"{"a":1"#,
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{"a":tru}"#,
            r#"{"a":1} x"#,
            r#"{"_attachments":{"f":{"data":"abc"}}}"#,
            r#"{"_attachments":{"f":{"data":"ab!c"}}}"#,
            r#"{"_attachments":{"f":{"data":"a=bc"}}}"#,
            r#"{"_attachments":{"f":{"data":"a\nbc"}}}"#,
            r#"{"_attachments":{"f":{"data":"abcd"#,
            r#"{"_attachments":{"f":{"data":12}}}"#,
            r#"{"_attachments":{"f":{"length":"5"}}}"#,
            r#"{"_attachments":[]}"#,
        ] {
            let result = scanned(bad);
            assert!(
                matches!(result, Err(Error::Validation(_))),
                "{bad:?}: {:?}",
                result.map(|r| r.0)
            );
        }
    }

    #[test]
    fn a_handler_error_stops_the_scan() {
        let text = body(&STANDARD.encode(b"hello"));
        let mut refuse = |_: DataEvent<'_>| Err(Error::conflict("stop"));
        let result = scan(Cursor::new(text.as_bytes()), &mut refuse);
        assert!(matches!(result, Err(Error::Conflict(_))), "{result:?}");
    }

    #[test]
    fn metadata_is_bounded() {
        let text = format!(r#"{{"readme":"{}"}}"#, "x".repeat(MAX_METADATA));
        let result = scanned(&text);
        assert!(
            matches!(result, Err(Error::PayloadTooLarge(_))),
            "{:?}",
            result.map(|r| r.0)
        );
    }
}
