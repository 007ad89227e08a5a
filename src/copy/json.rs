//! A strict JSON reader for the copy: decides whether a legacy JSON text can become `jsonb`
//! without changing its meaning, and produces a canonical encoding for checksums.
//!
//! Refused (each a bad row, with the reason): anything that is not RFC 8259 JSON, an object with
//! a duplicate key (jsonb keeps only the last one), `\u0000` (jsonb cannot hold it), a lone
//! surrogate, a number outside PostgreSQL's `numeric` range, nesting deeper than
//! [`MAX_DEPTH`]. The canonical encoding is independent of whitespace, key order, string
//! escapes and number spelling (`1e2`, `100`, `100.0` are one number), so the source text and
//! what PostgreSQL prints back for the jsonb value encode identically exactly when they mean the
//! same JSON value.

/// Deepest nesting accepted.
pub(crate) const MAX_DEPTH: usize = 1000;

/// Checks that `text` can be stored as jsonb without a change of meaning.
pub(crate) fn validate(text: &str) -> Result<(), String> {
    let mut parser = Parser::new(text);
    parser.document(None)
}

/// Appends the canonical encoding of `text` to `out`.
pub(crate) fn canonical(text: &str, out: &mut Vec<u8>) -> Result<(), String> {
    let mut parser = Parser::new(text);
    parser.document(Some(out))
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
    scratch: Vec<u8>,
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(&(len as u64).to_be_bytes());
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser {
            bytes: text.as_bytes(),
            pos: 0,
            depth: 0,
            scratch: Vec::new(),
        }
    }

    fn error(&self, what: &str) -> String {
        format!("invalid JSON: {what} at byte {}", self.pos)
    }

    fn document(&mut self, out: Option<&mut Vec<u8>>) -> Result<(), String> {
        self.skip_ws();
        self.value(out)?;
        self.skip_ws();
        if self.pos != self.bytes.len() {
            return Err(self.error("trailing characters after the value"));
        }
        Ok(())
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn value(&mut self, mut out: Option<&mut Vec<u8>>) -> Result<(), String> {
        match self.bytes.get(self.pos) {
            None => Err(self.error("unexpected end")),
            Some(b'{') => self.object(out),
            Some(b'[') => self.array(out),
            Some(b'"') => {
                let start = out.as_ref().map(|o| o.len());
                if let Some(out) = out.as_deref_mut() {
                    out.push(b's');
                    push_len(out, 0);
                }
                let len = self.string(out.as_deref_mut())?;
                if let (Some(out), Some(start)) = (out, start) {
                    out[start + 1..start + 9].copy_from_slice(&(len as u64).to_be_bytes());
                }
                Ok(())
            }
            Some(b't') => self.literal(b"true", b't', out),
            Some(b'f') => self.literal(b"false", b'f', out),
            Some(b'n') => self.literal(b"null", b'z', out),
            Some(b'-' | b'0'..=b'9') => self.number(out),
            Some(_) => Err(self.error("unexpected character")),
        }
    }

    fn literal(&mut self, word: &[u8], tag: u8, out: Option<&mut Vec<u8>>) -> Result<(), String> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            if let Some(out) = out {
                out.push(tag);
            }
            Ok(())
        } else {
            Err(self.error("unknown literal"))
        }
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("JSON nested deeper than {MAX_DEPTH} levels"));
        }
        Ok(())
    }

    fn object(&mut self, out: Option<&mut Vec<u8>>) -> Result<(), String> {
        self.enter()?;
        self.pos += 1;
        // (key, canonical value) pairs; the value is only kept when encoding.
        let mut members: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let encode = out.is_some();
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
        } else {
            loop {
                self.skip_ws();
                if self.bytes.get(self.pos) != Some(&b'"') {
                    return Err(self.error("expected an object key"));
                }
                let mut key = Vec::new();
                self.string(Some(&mut key))?;
                self.skip_ws();
                if self.bytes.get(self.pos) != Some(&b':') {
                    return Err(self.error("expected ':'"));
                }
                self.pos += 1;
                self.skip_ws();
                let mut value = Vec::new();
                self.value(if encode { Some(&mut value) } else { None })?;
                members.push((key, value));
                self.skip_ws();
                match self.bytes.get(self.pos) {
                    Some(b',') => self.pos += 1,
                    Some(b'}') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.error("expected ',' or '}'")),
                }
            }
        }
        members.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(dup) = members.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(format!(
                "JSON object has the key \"{}\" twice (jsonb would keep only the last value)",
                String::from_utf8_lossy(&dup[0].0)
            ));
        }
        if let Some(out) = out {
            out.push(b'o');
            push_len(out, members.len());
            for (key, value) in &members {
                push_len(out, key.len());
                out.extend_from_slice(key);
                out.extend_from_slice(value);
            }
        }
        self.depth -= 1;
        Ok(())
    }

    fn array(&mut self, mut out: Option<&mut Vec<u8>>) -> Result<(), String> {
        self.enter()?;
        self.pos += 1;
        let start = out.as_ref().map(|o| o.len());
        if let Some(out) = out.as_deref_mut() {
            out.push(b'a');
            push_len(out, 0);
        }
        let mut count = 0usize;
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
        } else {
            loop {
                self.skip_ws();
                self.value(out.as_deref_mut())?;
                count += 1;
                self.skip_ws();
                match self.bytes.get(self.pos) {
                    Some(b',') => self.pos += 1,
                    Some(b']') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.error("expected ',' or ']'")),
                }
            }
        }
        if let (Some(out), Some(start)) = (out, start) {
            out[start + 1..start + 9].copy_from_slice(&(count as u64).to_be_bytes());
        }
        self.depth -= 1;
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .bytes
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.error("short \\u escape"))?;
        let text = std::str::from_utf8(digits).map_err(|_| self.error("bad \\u escape"))?;
        let value = u32::from_str_radix(text, 16).map_err(|_| self.error("bad \\u escape"))?;
        self.pos += 4;
        Ok(value)
    }

    /// Reads a string starting at the opening quote; appends its unescaped UTF-8 to `out`
    /// and returns its length in bytes.
    fn string(&mut self, mut out: Option<&mut Vec<u8>>) -> Result<usize, String> {
        self.pos += 1;
        let mut len = 0usize;
        loop {
            let start = self.pos;
            while let Some(&b) = self.bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            let chunk = &self.bytes[start..self.pos];
            len += chunk.len();
            if let Some(out) = out.as_deref_mut() {
                out.extend_from_slice(chunk);
            }
            match self.bytes.get(self.pos) {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(len);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let escaped = *self
                        .bytes
                        .get(self.pos)
                        .ok_or_else(|| self.error("unterminated escape"))?;
                    self.pos += 1;
                    self.scratch.clear();
                    let ch = match escaped {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let first = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&first) {
                                if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                                    return Err(self.error("lone high surrogate in \\u escape"));
                                }
                                self.pos += 2;
                                let second = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&second) {
                                    return Err(self.error("high surrogate not followed by a low one"));
                                }
                                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                            } else if (0xDC00..0xE000).contains(&first) {
                                return Err(self.error("lone low surrogate in \\u escape"));
                            } else {
                                first
                            };
                            if code == 0 {
                                return Err("JSON string contains \\u0000, which jsonb cannot store".to_owned());
                            }
                            char::from_u32(code).ok_or_else(|| self.error("bad \\u escape"))?
                        }
                        _ => return Err(self.error("unknown escape")),
                    };
                    let mut buf = [0u8; 4];
                    let encoded = ch.encode_utf8(&mut buf).as_bytes();
                    len += encoded.len();
                    if let Some(out) = out.as_deref_mut() {
                        out.extend_from_slice(encoded);
                    }
                }
                Some(_) => return Err(self.error("unescaped control character in a string")),
            }
        }
    }

    fn digits(&mut self) -> &'a [u8] {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
        &self.bytes[start..self.pos]
    }

    /// Numbers encode as normalized decimals: sign, significant digits without leading or
    /// trailing zeros, and the power of ten of the last digit. Zero is `0` whatever its sign.
    fn number(&mut self, out: Option<&mut Vec<u8>>) -> Result<(), String> {
        let negative = self.bytes.get(self.pos) == Some(&b'-');
        if negative {
            self.pos += 1;
        }
        let int = self.digits();
        if int.is_empty() {
            return Err(self.error("a number needs digits"));
        }
        if int.len() > 1 && int[0] == b'0' {
            return Err(self.error("leading zero in a number"));
        }
        let mut frac: &[u8] = &[];
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            frac = self.digits();
            if frac.is_empty() {
                return Err(self.error("digits expected after '.'"));
            }
        }
        let mut exponent: i64 = 0;
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            let exp_negative = match self.bytes.get(self.pos) {
                Some(b'-') => {
                    self.pos += 1;
                    true
                }
                Some(b'+') => {
                    self.pos += 1;
                    false
                }
                _ => false,
            };
            let digits = self.digits();
            if digits.is_empty() {
                return Err(self.error("digits expected in the exponent"));
            }
            for d in digits {
                exponent = exponent.saturating_mul(10).saturating_add(i64::from(d - b'0'));
            }
            if exp_negative {
                exponent = -exponent;
            }
        }
        // Significant digits: int ++ frac without leading zeros, trailing zeros moved into
        // the exponent.
        let all: Vec<u8> = int.iter().chain(frac.iter()).copied().collect();
        let first = all.iter().position(|&d| d != b'0');
        let (significant, power) = match first {
            None => (&[][..], 0i64),
            Some(first) => {
                let last = all.iter().rposition(|&d| d != b'0').unwrap_or(first);
                let trailing = (all.len() - 1 - last) as i64;
                let power = exponent.saturating_sub(frac.len() as i64).saturating_add(trailing);
                (&all[first..=last], power)
            }
        };
        if !significant.is_empty() {
            // PostgreSQL numeric: up to 131072 digits before the point, 16383 after.
            let magnitude = power.saturating_add(significant.len() as i64);
            if magnitude > 131_072 || power < -16_383 {
                return Err("JSON number outside the range of PostgreSQL's numeric".to_owned());
            }
        }
        if let Some(out) = out {
            out.push(b'n');
            if significant.is_empty() {
                out.push(b'0');
            } else {
                out.push(if negative { b'-' } else { b'+' });
                push_len(out, significant.len());
                out.extend_from_slice(significant);
                out.extend_from_slice(&power.to_be_bytes());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        canonical(text, &mut out).expect(text);
        out
    }

    #[test]
    fn accepts_json_and_refuses_what_jsonb_would_change() {
        for good in [
            "{}",
            "[]",
            " {\"a\": [1, 2.5e-3, -0, true, false, null, \"x\\u00e9\\ud83d\\ude00\"]} ",
            "\"ação 🚀\"",
            "12",
            "null",
        ] {
            validate(good).expect(good);
        }
        for (bad, why) in [
            ("{\"a\":1,\"a\":2}", "twice"),
            ("{\"a\":1,\"\\u0061\":2}", "twice"),
            ("\"a\\u0000b\"", "\\u0000"),
            ("\"\\ud800\"", "surrogate"),
            ("{\"a\":1,}", "invalid JSON"),
            ("01", "leading zero"),
            ("NaN", "invalid JSON"),
            ("1e999999", "numeric"),
            ("\"tab\there\"", "control"),
            ("[1] x", "trailing"),
            ("", "unexpected end"),
        ] {
            let err = validate(bad).expect_err(bad);
            assert!(err.contains(why), "{bad}: {err}");
        }
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(validate(&deep).is_err());
    }

    #[test]
    fn canonical_form_ignores_spelling_but_not_meaning() {
        assert_eq!(
            canon("{\"b\":1,\"a\":[1,2]}"),
            canon(" { \"a\" : [ 1 , 2 ] , \"b\" : 1 } ")
        );
        assert_eq!(canon("100"), canon("1e2"));
        assert_eq!(canon("100"), canon("100.00"));
        assert_eq!(canon("0.5"), canon("5E-1"));
        assert_eq!(canon("-0"), canon("0.0"));
        assert_eq!(canon("\"\\u00e9\""), canon("\"é\""));
        assert_ne!(canon("1"), canon("\"1\""));
        assert_ne!(canon("0.1"), canon("0.10000000000000001"));
        assert_ne!(canon("[1,2]"), canon("[2,1]"));
        assert_ne!(canon("{\"a\":null}"), canon("{}"));
        assert_ne!(canon("[[1],2]"), canon("[[1,2]]"));
        assert_ne!(canon("-1"), canon("1"));
    }

    mod no_panic {
        use super::super::*;
        use proptest::prelude::*;

        /// Text made of JSON's tokens and their broken forms: reaches far more of the parser
        /// than uniformly random text.
        fn jsonish() -> impl Strategy<Value = String> {
            let token = prop::sample::select(vec![
                "{",
                "}",
                "[",
                "]",
                ":",
                ",",
                "\"",
                "\\",
                "\\u",
                "\\ud83d",
                "\\ude00",
                "\\ud800",
                "00",
                "0",
                "1",
                "-",
                ".",
                "e",
                "E+",
                "e-",
                "9999999999999999999999",
                "1e400",
                "true",
                "fals",
                "null",
                " ",
                "\t",
                "a",
                "é",
                "\u{0}",
                "\u{1f}",
                "😀",
            ]);
            prop::collection::vec(token, 0..60).prop_map(|tokens| tokens.concat())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]
            #[test]
            fn arbitrary_text_gives_a_value_or_an_error(text in ".*", tokens in jsonish(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
                for input in [text, tokens, String::from_utf8_lossy(&bytes).into_owned()] {
                    let checked = validate(&input);
                    let mut out = Vec::new();
                    let canonical_form = canonical(&input, &mut out);
                    prop_assert_eq!(checked.is_ok(), canonical_form.is_ok(), "{:?}", input);
                }
            }
        }

        #[test]
        fn deep_nesting_is_an_error_not_a_stack_overflow() {
            for open in ["[", "{\"a\":"] {
                let deep = open.repeat(200_000);
                assert!(validate(&deep).is_err());
                assert!(canonical(&deep, &mut Vec::new()).is_err());
            }
        }
    }
}
