//! Reading `npm publish`'s JSON body without holding its tarball: the body is a packument with
//! the new version and `_attachments: {"<file>": {"data": "<base64 tarball>", "length": n}}`.
//! `scan` reads the spooled body once and keeps every field but the attachments' `data`, of
//! which it records only where it lies and how many bytes it decodes to; `decode` then streams
//! that base64 text, decoded, in bounded chunks. Both are blocking reads of a local file.

use std::io::{BufRead, Read, Seek, SeekFrom};

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
    /// Where its `data` lies, when it has one.
    pub data: Option<Data>,
}

/// A base64 string in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Data {
    /// Offset of its first character (after the opening quote).
    pub offset: u64,
    /// Bytes of JSON text up to the closing quote.
    pub raw_len: u64,
    /// Bytes it decodes to.
    pub decoded_len: u64,
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

    /// Skips a base64 string (its opening quote next), measuring it.
    fn data(&mut self) -> Result<Data> {
        self.expect(b'"')?;
        let offset = self.position;
        let (mut chars, mut padding) = (0u64, 0u64);
        loop {
            let byte = match self.next()? {
                b'"' => break,
                b'\\' => unescape_base64(self.next()?)?,
                byte => byte,
            };
            if !is_base64(byte) {
                return Err(malformed("attachment data is not base64"));
            }
            padding = if byte == b'=' { padding + 1 } else { 0 };
            chars += 1;
        }
        if chars % 4 != 0 || padding > 2 {
            return Err(malformed("attachment data is not padded base64"));
        }
        Ok(Data {
            offset,
            raw_len: self.position - 1 - offset,
            decoded_len: chars / 4 * 3 - padding,
        })
    }

    fn attachment(&mut self, name: String) -> Result<Attachment> {
        let mut attachment = Attachment {
            name,
            length: None,
            data: None,
        };
        self.object(|s, key| {
            match key.as_str() {
                "data" => attachment.data = Some(s.data()?),
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

/// JSON may escape `/` (`\/`); base64 needs no other escape.
fn unescape_base64(escaped: u8) -> Result<u8> {
    match escaped {
        b'/' => Ok(b'/'),
        _ => Err(malformed("attachment data is not base64")),
    }
}

fn is_base64(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'=')
}

/// Reads a publish body: every field, and where each attachment's data lies.
pub fn scan(input: impl BufRead) -> Result<PublishBody> {
    let mut scanner = Scanner {
        input,
        position: 0,
        kept: 0,
    };
    let mut body = PublishBody::default();
    scanner.object(|s, key| {
        if key == "_attachments" {
            s.object(|s, name| {
                body.attachments.push(s.attachment(name)?);
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

/// Streams `data`'s decoded bytes from the spooled body to `sink`, a bounded chunk at a time;
/// stops at the first error `sink` returns.
pub fn decode<F: Read + Seek>(
    mut file: F,
    data: Data,
    mut sink: impl FnMut(Bytes) -> Result<()>,
) -> Result<()> {
    file.seek(SeekFrom::Start(data.offset))?;
    let mut raw = std::io::BufReader::new(file.take(data.raw_len)).bytes();
    let mut text = Vec::with_capacity(DECODE_CHUNK);
    loop {
        let byte = raw.next().transpose()?;
        let byte = match byte {
            Some(b'\\') => unescape_base64(raw.next().transpose()?.unwrap_or(0))?,
            Some(byte) => byte,
            None => break,
        };
        text.push(byte);
        if text.len() == DECODE_CHUNK {
            sink(decode_chunk(&text)?)?;
            text.clear();
        }
    }
    if !text.is_empty() {
        sink(decode_chunk(&text)?)?;
    }
    Ok(())
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
    use std::io::Cursor;

    fn body(data: &str) -> String {
        format!(
            r#"{{"_id":"greet","name":"greet","dist-tags":{{"latest":"1.0.0"}},
            "versions":{{"1.0.0":{{"name":"greet","version":"1.0.0","description":"a \"quoted\" {{brace}}"}}}},
            "_attachments":{{"greet-1.0.0.tgz":{{"content_type":"application/octet-stream","data":"{data}","length":5}}}},
            "readme":"hi"}}"#
        )
    }

    fn decoded(text: &str, data: Data) -> Vec<u8> {
        let mut out = Vec::new();
        decode(Cursor::new(text.as_bytes()), data, |chunk| {
            out.extend_from_slice(&chunk);
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn fields_are_kept_and_data_only_located() {
        let text = body(&STANDARD.encode(b"hello"));
        let parsed = scan(Cursor::new(text.as_bytes())).unwrap();
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
        let data = attachment.data.unwrap();
        assert_eq!(data.decoded_len, 5);
        assert_eq!(decoded(&text, data), b"hello");
    }

    #[test]
    fn large_data_decodes_in_chunks_with_escaped_slashes() {
        let content: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let encoded = STANDARD.encode(&content).replace('/', "\\/");
        let text = body(&encoded);
        let parsed = scan(Cursor::new(text.as_bytes())).unwrap();
        let data = parsed.attachments[0].data.unwrap();
        assert_eq!(data.decoded_len, content.len() as u64);
        assert_eq!(decoded(&text, data), content);
    }

    #[test]
    fn padding_counts_in_the_decoded_length() {
        for content in [&b"a"[..], b"ab", b"abc", b""] {
            let text = body(&STANDARD.encode(content));
            let parsed = scan(Cursor::new(text.as_bytes())).unwrap();
            let data = parsed.attachments[0].data.unwrap();
            assert_eq!(data.decoded_len, content.len() as u64);
            assert_eq!(decoded(&text, data), content);
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
            r#"{"_attachments":{"f":{"data":"a\nbc"}}}"#,
            r#"{"_attachments":{"f":{"data":12}}}"#,
            r#"{"_attachments":{"f":{"length":"5"}}}"#,
            r#"{"_attachments":[]}"#,
        ] {
            let result = scan(Cursor::new(bad.as_bytes()));
            assert!(
                matches!(result, Err(Error::Validation(_))),
                "{bad:?}: {result:?}"
            );
        }
    }

    #[test]
    fn metadata_is_bounded() {
        let text = format!(r#"{{"readme":"{}"}}"#, "x".repeat(MAX_METADATA));
        let result = scan(Cursor::new(text.as_bytes()));
        assert!(
            matches!(result, Err(Error::PayloadTooLarge(_))),
            "{result:?}"
        );
    }
}
