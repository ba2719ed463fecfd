//! Query strings: parsed strictly (a repeated or malformed parameter is a
//! 400 that names it), numbers bounded, tunables checked.

use std::collections::HashMap;

use crate::ApiError;

pub(crate) fn params(raw: Option<String>) -> Result<HashMap<String, String>, ApiError> {
    Ok(pairs(raw.as_deref())?.into_iter().collect())
}

/// The query's `key=value` pairs in order, decoded (a key may repeat).
pub(crate) fn pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    let Some(raw) = raw else { return Ok(out) };
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let dec = |s: &str| -> Result<String, ApiError> {
            let s = s.replace('+', " ");
            let bytes = s.as_bytes();
            let mut out = Vec::with_capacity(bytes.len());
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'%' {
                    let hex = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
                    let b = hex.ok_or_else(|| ApiError::BadRequest(format!("bad percent-encoding in {pair:?}")))?;
                    out.push(b);
                    i += 3;
                } else {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
            String::from_utf8(out).map_err(|_| ApiError::BadRequest("query parameters must be UTF-8".into()))
        };
        out.push((dec(k)?, dec(v)?));
    }
    Ok(out)
}

pub(crate) fn num<T: std::str::FromStr>(p: &HashMap<String, String>, name: &str) -> Result<Option<T>, ApiError> {
    match p.get(name) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| ApiError::BadRequest(format!("{name} must be a number, got {:?}", truncate(v)))),
    }
}

pub(crate) fn finite(p: &HashMap<String, String>, name: &str) -> Result<Option<f32>, ApiError> {
    let v: Option<f32> = num(p, name)?;
    match v {
        Some(x) if !x.is_finite() => Err(ApiError::BadRequest(format!("{name} must be a finite number"))),
        _ => Ok(v),
    }
}

pub(crate) fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// The `date` parameter, if given.
pub(crate) fn date(p: &HashMap<String, String>) -> Option<String> {
    p.get("date").filter(|d| !d.is_empty()).cloned()
}

pub(crate) fn id(s: &str, what: &str) -> Result<i64, ApiError> {
    s.parse().map_err(|_| ApiError::BadRequest(format!("{what} id must be an integer, got {:?}", truncate(s))))
}

pub(crate) fn ids(p: &HashMap<String, String>, name: &str) -> Result<Vec<i64>, ApiError> {
    match p.get(name) {
        None => Ok(Vec::new()),
        Some(v) => v.split(',').filter(|x| !x.is_empty()).map(|x| id(x, name)).collect(),
    }
}

pub(crate) fn count(p: &HashMap<String, String>, default: usize) -> Result<usize, ApiError> {
    let n: usize = num(p, "n")?.unwrap_or(default);
    if n == 0 || n > 500 {
        return Err(ApiError::BadRequest(format!("n must be between 1 and 500, got {n}")));
    }
    Ok(n)
}

/// Bounds and targets from the query (`key` as C … B or 0–11, `mode`
/// major or minor).
pub(crate) fn tunables(p: &HashMap<String, String>) -> Result<encore_engine::Tunables, ApiError> {
    let key = match p.get("key").filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => Some(match k.parse::<u8>() {
            Ok(pc) => pc,
            Err(_) => encore_engine::views::KEYS
                .iter()
                .position(|x| x.eq_ignore_ascii_case(k))
                .ok_or_else(|| ApiError::BadRequest(format!("key must be C … B or 0–11, got {:?}", truncate(k))))?
                as u8,
        }),
    };
    let major = match p.get("mode").map(String::as_str) {
        None | Some("") => None,
        Some("major") => Some(true),
        Some("minor") => Some(false),
        Some(other) => {
            return Err(ApiError::BadRequest(format!("mode must be major or minor, got {:?}", truncate(other))))
        }
    };
    Ok(encore_engine::Tunables {
        min_tempo: finite(p, "min_tempo")?,
        max_tempo: finite(p, "max_tempo")?,
        target_tempo: finite(p, "target_tempo")?,
        key,
        major,
        min_loudness: finite(p, "min_loudness")?,
        max_loudness: finite(p, "max_loudness")?,
        target_loudness: finite(p, "target_loudness")?,
        min_duration: finite(p, "min_duration")?,
        max_duration: finite(p, "max_duration")?,
        target_duration: finite(p, "target_duration")?,
    })
}
