//! PostgreSQL's binary COPY format, written directly: floats travel as their 8 bytes (bit-exact),
//! timestamps as microseconds, jsonb as version byte + the validated text.

use bytes::{BufMut, BytesMut};

use super::convert::Value;

/// Signature, flags, header extension length.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
const PG_EPOCH_OFFSET_MICROS: i64 = 946_684_800_000_000;

/// Starts a COPY payload.
pub(crate) fn header(buf: &mut BytesMut) {
    buf.put_slice(HEADER);
}

/// Ends a COPY payload.
pub(crate) fn trailer(buf: &mut BytesMut) {
    buf.put_i16(-1);
}

/// Appends one row.
pub(crate) fn row(buf: &mut BytesMut, values: &[Value<'_>]) {
    buf.put_i16(values.len() as i16);
    for value in values {
        match value {
            Value::Null => buf.put_i32(-1),
            Value::Text(t) => {
                buf.put_i32(t.len() as i32);
                buf.put_slice(t.as_bytes());
            }
            Value::Int(i) => {
                buf.put_i32(8);
                buf.put_i64(*i);
            }
            Value::Float(f) => {
                buf.put_i32(8);
                buf.put_u64(f.to_bits());
            }
            Value::Timestamp(micros) => {
                buf.put_i32(8);
                buf.put_i64(micros - PG_EPOCH_OFFSET_MICROS);
            }
            Value::Json(text) => {
                buf.put_i32(text.len() as i32 + 1);
                buf.put_u8(1);
                buf.put_slice(text.as_bytes());
            }
        }
    }
}
