//! The HdrHistogram blob a report carries for every latency: V2 + Deflate serialization, base64.
//!
//! Decoding is bounded by the blob's real size before anything is allocated. hdrhistogram's
//! `Deserializer` trusts the payload length in a blob's header and allocates that much before
//! reading: a 40-byte blob that claimed 4 GiB took 10 s and 4 GB of memory to fail. So the
//! header is read here first and its payload length checked against the bytes that are really
//! there and against the most the histogram's own bounds can need (one varint of at most 9 bytes
//! per count); only then do the checked bytes go to the `Deserializer`. The largest legitimate
//! histogram (1 ns … `u64::MAX` at 5 significant figures) has ~6 million counts, so decoding any
//! blob costs at most its own size plus that.

use std::io::Read;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{
    DeserializeError, Deserializer, Serializer, V2DeflateSerializer,
};

/// The V2 format's cookie (hdrhistogram's `V2_COOKIE`: base `0x1c849303` | word size 8 << 4).
const V2_COOKIE: u32 = 0x1c84_9313;
/// The V2 + Deflate format's cookie.
const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9314;
/// Cookie, payload length, normalizing offset, significant figures (4 bytes each), lowest,
/// highest, integer-to-double ratio (8 bytes each).
const V2_HEADER_SIZE: usize = 40;
/// The longest varint of the V2 encoding (LEB128 cut at 9 bytes for 64 bits).
const MAX_BYTES_PER_COUNT: usize = 9;

/// Serializes `histogram` (V2 + Deflate) and encodes it as base64.
pub(crate) fn encode(histogram: &Histogram<u64>) -> Result<String, String> {
    let mut blob = Vec::new();
    V2DeflateSerializer::new()
        .serialize(histogram, &mut blob)
        .map_err(|e| format!("cannot serialize: {e:?}"))?;
    Ok(BASE64.encode(blob))
}

/// Decodes a base64 V2 or V2 + Deflate blob, in time and memory bounded by its size (see the
/// module docs). The error is a lowercase reason.
pub(crate) fn decode(blob: &str) -> Result<Histogram<u64>, String> {
    let bytes = BASE64.decode(blob.as_bytes()).map_err(|e| not_base64(&e))?;
    let cookie = be_u32(&bytes, 0).ok_or_else(|| too_short(bytes.len()))?;
    match cookie {
        V2_COOKIE => {
            check_v2(&bytes)?;
            deserialize(&bytes)
        }
        V2_COMPRESSED_COOKIE => {
            let claimed = be_u32(&bytes, 4).ok_or_else(|| too_short(bytes.len()))?;
            let deflated = &bytes[8..];
            if claimed as usize > deflated.len() {
                return Err(format!(
                    "claims {claimed} compressed bytes, the blob holds {}",
                    deflated.len()
                ));
            }
            let v2 = inflate(&deflated[..claimed as usize])?;
            deserialize(&v2)
        }
        other => Err(format!(
            "not an HdrHistogram V2 blob (cookie {other:#010x})"
        )),
    }
}

/// Inflates the V2 blob inside a V2 + Deflate one, reading its header first and then no more
/// than the payload length the header was checked to allow.
fn inflate(deflated: &[u8]) -> Result<Vec<u8>, String> {
    let mut inflater = flate2::read::ZlibDecoder::new(deflated);
    let mut v2 = vec![0; V2_HEADER_SIZE];
    inflater
        .read_exact(&mut v2)
        .map_err(|e| format!("compressed data is not a V2 histogram: {e}"))?;
    if be_u32(&v2, 0) != Some(V2_COOKIE) {
        return Err("compressed data is not a V2 histogram (bad inner cookie)".to_owned());
    }
    let payload = check_header(&v2)?;
    // `take` bounds what is inflated; the vector grows only as data really arrives.
    inflater
        .take(payload as u64)
        .read_to_end(&mut v2)
        .map_err(|e| format!("compressed data is corrupt: {e}"))?;
    let got = v2.len() - V2_HEADER_SIZE;
    if got < payload {
        return Err(format!(
            "claims a payload of {payload} bytes, the compressed data holds {got}"
        ));
    }
    Ok(v2)
}

/// Checks an uncompressed V2 blob's header against the bytes that follow it.
fn check_v2(bytes: &[u8]) -> Result<(), String> {
    let payload = check_header(bytes)?;
    let held = bytes.len().saturating_sub(V2_HEADER_SIZE);
    if payload > held {
        return Err(format!(
            "claims a payload of {payload} bytes, the blob holds {held}"
        ));
    }
    Ok(())
}

/// Reads a V2 header (at the start of `bytes`) and returns its payload length once that length
/// is possible for the histogram's bounds; the bounds themselves must be valid.
fn check_header(bytes: &[u8]) -> Result<usize, String> {
    let field = |at: usize| be_u32(bytes, at).ok_or_else(|| too_short(bytes.len()));
    let wide = |at: usize| be_u64(bytes, at).ok_or_else(|| too_short(bytes.len()));
    let payload = field(4)? as usize;
    let figures = field(12)?;
    let (low, high) = (wide(16)?, wide(24)?);
    let figures = u8::try_from(figures).map_err(|_| bad_bounds(low, high, figures))?;
    // The same validation and counts array the `Deserializer` would create: zeroed memory, at
    // most ~50 MB of address space for the widest bounds, committed only as it is written.
    let counts = Histogram::<u64>::new_with_bounds(low, high, figures)
        .map_err(|_| bad_bounds(low, high, u32::from(figures)))?
        .distinct_values();
    let most = counts.saturating_mul(MAX_BYTES_PER_COUNT);
    if payload > most {
        return Err(format!(
            "claims a payload of {payload} bytes, at most {most} for its {counts} counts"
        ));
    }
    Ok(payload)
}

fn deserialize(v2: &[u8]) -> Result<Histogram<u64>, String> {
    Deserializer::new()
        .deserialize(&mut &v2[..])
        .map_err(|e| match e {
            DeserializeError::IoError(e) => format!("payload ends inside a count: {e}"),
            DeserializeError::InvalidCookie => "not an HdrHistogram V2 blob".to_owned(),
            DeserializeError::UnsupportedFeature => {
                "uses a normalizing offset or a non-integer ratio (unsupported)".to_owned()
            }
            DeserializeError::UnsuitableCounterType => "a count does not fit in u64".to_owned(),
            DeserializeError::InvalidParameters => "invalid bounds or precision".to_owned(),
            DeserializeError::UsizeTypeTooSmall => "a run of zero counts overflows".to_owned(),
            DeserializeError::EncodedArrayTooLong => {
                "holds more counts than its bounds allow".to_owned()
            }
        })
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let word = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(word.try_into().ok()?))
}

fn be_u64(bytes: &[u8], at: usize) -> Option<u64> {
    let word = bytes.get(at..at.checked_add(8)?)?;
    Some(u64::from_be_bytes(word.try_into().ok()?))
}

fn too_short(len: usize) -> String {
    format!("too short for an HdrHistogram blob ({len} bytes)")
}

fn bad_bounds(low: u64, high: u64, figures: u32) -> String {
    format!("invalid bounds: lowest {low}, highest {high}, {figures} significant figures")
}

fn not_base64(e: &base64::DecodeError) -> String {
    use base64::DecodeError::{InvalidByte, InvalidLastSymbol, InvalidLength, InvalidPadding};
    match e {
        InvalidByte(at, byte) | InvalidLastSymbol(at, byte) => {
            format!(
                "not base64 (character {:?} at offset {at})",
                char::from(*byte)
            )
        }
        InvalidLength(symbols) => format!("not base64 ({symbols} symbols: truncated)"),
        InvalidPadding => "not base64 (bad padding)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Histogram<u64> {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
        for v in 1..2_000u64 {
            h.record(v * 997).unwrap();
        }
        h
    }

    #[test]
    fn round_trip() {
        let h = sample();
        let back = decode(&encode(&h).unwrap()).unwrap();
        assert_eq!(back, h);
        // Uncompressed V2 is read too.
        let mut v2 = Vec::new();
        hdrhistogram::serialization::V2Serializer::new()
            .serialize(&h, &mut v2)
            .unwrap();
        assert_eq!(decode(&BASE64.encode(&v2)).unwrap(), h);
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let blob = BASE64.decode(encode(&sample()).unwrap()).unwrap();
        for len in 0..blob.len() {
            let cut = BASE64.encode(&blob[..len]);
            assert!(
                decode(&cut).is_err(),
                "{len} of {} bytes decoded",
                blob.len()
            );
        }
    }

    #[test]
    fn reasons_name_what_is_wrong() {
        assert_eq!(
            decode("!!!!").unwrap_err(),
            "not base64 (character '!' at offset 0)"
        );
        assert_eq!(
            decode("aGVsbG8gd29ybGQ=").unwrap_err(),
            "not an HdrHistogram V2 blob (cookie 0x68656c6c)"
        );
        assert_eq!(
            decode("HIST").unwrap_err(),
            "too short for an HdrHistogram blob (3 bytes)"
        );
        let mut header = V2_COOKIE.to_be_bytes().to_vec();
        header.extend_from_slice(&[0; 12]); // payload length, normalizing offset, figures
        header.extend_from_slice(&0u64.to_be_bytes());
        header.extend_from_slice(&10u64.to_be_bytes());
        header.extend_from_slice(&1f64.to_bits().to_be_bytes());
        assert_eq!(
            decode(&BASE64.encode(&header)).unwrap_err(),
            "invalid bounds: lowest 0, highest 10, 0 significant figures"
        );
    }
}
