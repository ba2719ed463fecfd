//! The ListenBrainz-compatible listen API at `/1/…`, so that players that
//! let a user set a custom ListenBrainz URL (Navidrome, Jellyfin's plugin,
//! multi-scrobbler, Web Scrobbler, Pano Scrobbler, mpris-scrobbler) send
//! their plays here.
//!
//! It follows ListenBrainz's rules for what it accepts (payload shape, at
//! most 1000 listens a request, `listened_at` bounds, non-empty artist and
//! track names, MBIDs that are UUIDs, no U+0000) and its error shape
//! `{"code": N, "error": "…"}`, and sends `X-RateLimit-*` headers (generous:
//! nothing is limited here). Writes take a listener's token
//! (`Authorization: Token …`, the scheme in any case; checked by
//! [`crate::auth::gate`]); a body without a `Content-Type` is read as JSON,
//! as real clients send it. An acknowledged listen is committed to the
//! store, and the next recommendation folds it in.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use encore_engine::accounts::TrackListen;
use encore_types::{is_mbid, ArtistRef, TrackRef};
use serde_json::{json, Map, Value};

use crate::auth::{credential, listener, Caller};
use crate::query::{num, params, truncate};
use crate::{blocking, ApiError, AppState};

/// Most listens one request may carry (ListenBrainz's limit).
pub const MAX_LISTENS: usize = 1000;

/// Earliest accepted `listened_at` (2002-10-01, ListenBrainz's bound).
pub const MIN_LISTENED_AT: i64 = 1_033_410_600;

/// How long a `playing_now` without a duration stays current.
const PLAYING_NOW_DEFAULT: Duration = Duration::from_secs(600);

/// The MBID fields of `additional_info` that must be UUIDs.
const MBID_FIELDS: [&str; 6] =
    ["recording_mbid", "release_mbid", "release_group_mbid", "track_mbid", "artist_mbids", "work_mbids"];

/// What each listener is playing now, with when it stops being current.
pub(crate) type PlayingNow = std::sync::Mutex<HashMap<i64, (Value, Instant)>>;

type LbResult = Result<Response, Response>;

/// An error in ListenBrainz's shape.
pub(crate) fn error(e: ApiError) -> Response {
    let status = e.status();
    if status.is_server_error() {
        tracing::error!("{e}");
    }
    let msg = match e {
        ApiError::Internal(m) => format!("internal error: {m}"),
        other => other.to_string(),
    };
    (status, Json(json!({ "code": status.as_u16(), "error": msg }))).into_response()
}

fn bad(msg: impl Into<String>) -> Response {
    error(ApiError::BadRequest(msg.into()))
}

/// The `/1` routes, each answer with the rate-limit headers.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/1/submit-listens", post(submit_listens))
        .route("/1/validate-token", get(validate_token))
        .route("/1/user/{name}/listen-count", get(listen_count))
        .route("/1/user/{name}/listens", get(listens))
        .route("/1/user/{name}/playing-now", get(playing_now))
        .route("/1/feedback/recording-feedback", post(recording_feedback))
        .route("/1/feedback/user/{name}/get-feedback", get(get_feedback))
        .route("/1/cf/recommendation/user/{name}/recording", get(recommendations))
        .layer(axum::middleware::from_fn(rate_limit_headers))
}

/// ListenBrainz tells clients how many requests are left; clients back off
/// on these. Nothing is limited here, so they say so.
async fn rate_limit_headers(req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    for (k, v) in [
        ("x-ratelimit-limit", "1000"),
        ("x-ratelimit-remaining", "999"),
        ("x-ratelimit-reset-in", "10"),
        ("x-ratelimit-reset", "10"),
    ] {
        h.insert(k, HeaderValue::from_static(v));
    }
    r
}

/// The first key path under `v` holding a string with U+0000.
fn find_nul(v: &Value, at: &str) -> Option<String> {
    match v {
        Value::String(s) if s.contains('\0') => Some(at.to_string()),
        Value::Array(a) => a.iter().enumerate().find_map(|(i, x)| find_nul(x, &format!("{at}[{i}]"))),
        Value::Object(o) => o.iter().find_map(|(k, x)| {
            if k.contains('\0') {
                return Some(format!("{at}.{k}"));
            }
            find_nul(x, &if at.is_empty() { k.clone() } else { format!("{at}.{k}") })
        }),
        _ => None,
    }
}

fn required_name(tm: &Map<String, Value>, key: &str) -> Result<String, String> {
    match tm.get(key) {
        None | Some(Value::Null) => Err(format!("JSON document does not contain required track_metadata.{key}.")),
        Some(Value::String(s)) if s.trim().is_empty() => Err(format!("required field track_metadata.{key} is empty.")),
        Some(Value::String(s)) => Ok(s.trim().to_string()),
        Some(_) => Err(format!("track_metadata.{key} must be a single string.")),
    }
}

/// One listen checked as ListenBrainz checks it; `None` `listened_at` for
/// `playing_now`.
fn listen(v: &Value, playing_now: bool, now: i64) -> Result<(Option<i64>, TrackRef, Value), String> {
    let o = v.as_object().ok_or("each listen must be a JSON object.")?;
    let allowed: &[&str] = if playing_now { &["track_metadata"] } else { &["listened_at", "track_metadata"] };
    if let Some(k) = o.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(if playing_now && k == "listened_at" {
            "JSON document must not contain listened_at while submitting playing_now.".into()
        } else {
            format!("JSON document may only contain {} top level keys; got {k:?}.", allowed.join(" and "))
        });
    }
    let listened_at = if playing_now {
        None
    } else {
        let ts = o.get("listened_at").ok_or("JSON document must contain the key listened_at at the top level.")?;
        let ts = ts.as_i64().ok_or("listened_at must be an integer (Unix seconds).")?;
        if ts < MIN_LISTENED_AT {
            return Err(format!(
                "Value for key listened_at is too low. listened_at timestamp should be greater than {MIN_LISTENED_AT} (2002-10-01 00:00:00 UTC)."
            ));
        }
        if ts > now + 600 {
            return Err("Value for key listened_at is too high: it is more than 10 minutes in the future.".into());
        }
        Some(ts)
    };
    let tm = o
        .get("track_metadata")
        .ok_or("JSON document must contain the key track_metadata at the top level.")?
        .as_object()
        .ok_or("track_metadata must be a JSON object.")?;
    let artist = required_name(tm, "artist_name")?;
    let title = required_name(tm, "track_name")?;
    let release = match tm.get("release_name") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Some(_) => return Err("track_metadata.release_name must be a string.".into()),
    };
    let info = match tm.get("additional_info") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err("track_metadata.additional_info must be a JSON object.".into()),
    };
    for key in MBID_FIELDS {
        let ok = match info.get(key) {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty() || is_mbid(s),
            Some(Value::Array(a)) => a.iter().all(|x| x.as_str().is_some_and(is_mbid)),
            Some(_) => false,
        };
        if !ok {
            return Err(format!("{key} MBID format invalid."));
        }
    }
    if let Some(tags) = info.get("tags") {
        let tags = tags.as_array().ok_or("additional_info.tags must be a list.")?;
        if tags.len() > 50 || tags.iter().any(|t| t.as_str().is_none_or(|t| t.chars().count() > 64)) {
            return Err("additional_info.tags: at most 50 tags of at most 64 characters.".into());
        }
    }
    let mbid = |k: &str| info.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_lowercase);
    let artist_mbid = info
        .get("artist_mbids")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .map(str::to_lowercase);
    let track = TrackRef {
        artist: ArtistRef { name: artist, mbid: artist_mbid },
        title,
        mbid: mbid("recording_mbid"),
        release,
        ..Default::default()
    };
    Ok((listened_at, track, Value::Object(tm.clone())))
}

async fn submit_listens(State(s): State<AppState>, Extension(caller): Extension<Caller>, body: Bytes) -> LbResult {
    let Caller::Listener { id, name } = caller else {
        return Err(bad("the listen API takes a listener token"));
    };
    let doc: Value = serde_json::from_slice(&body).map_err(|e| bad(format!("Cannot parse JSON document: {e}")))?;
    if let Some(at) = find_nul(&doc, "") {
        return Err(bad(format!("{at} contains a unicode null")));
    }
    let o = doc.as_object().ok_or_else(|| bad("Invalid JSON document submitted: it must be an object."))?;
    if let Some(k) = o.keys().find(|k| !matches!(k.as_str(), "listen_type" | "payload")) {
        return Err(bad(format!("JSON document may only contain listen_type and payload top level keys; got {k:?}.")));
    }
    let kind = o.get("listen_type").and_then(Value::as_str).unwrap_or_default();
    if !matches!(kind, "single" | "import" | "playing_now") {
        return Err(bad("JSON document requires a valid listen_type key: single, import or playing_now."));
    }
    let payload =
        o.get("payload").and_then(Value::as_array).ok_or_else(|| bad("JSON document must contain a payload list."))?;
    if payload.is_empty() {
        return Err(bad("JSON document does not contain any listens."));
    }
    if kind != "import" && payload.len() > 1 {
        return Err(bad(format!(
            "JSON document contains more than one listen for listen_type {kind}; send exactly one."
        )));
    }
    if payload.len() > MAX_LISTENS {
        return Err(bad(format!("Too many listens. You may not submit more than {MAX_LISTENS} listens at once.")));
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let mut checked = Vec::with_capacity(payload.len());
    for (k, v) in payload.iter().enumerate() {
        checked.push(listen(v, kind == "playing_now", now).map_err(|m| bad(format!("listen {k}: {m}")))?);
    }
    if kind == "playing_now" {
        let (_, _, tm) = checked.pop().expect("one listen");
        let secs = tm
            .get("additional_info")
            .and_then(|i| {
                i.get("duration_ms")
                    .and_then(Value::as_u64)
                    .map(|ms| ms / 1000)
                    .or_else(|| i.get("duration").and_then(Value::as_u64))
            })
            .map_or(PLAYING_NOW_DEFAULT, |s| Duration::from_secs(s.clamp(1, 86_400)));
        s.playing
            .lock()
            .map_err(|_| error(ApiError::Internal("playing-now lock".into())))?
            .insert(id, (tm, Instant::now() + secs));
        return Ok(Json(json!({ "status": "ok" })).into_response());
    }
    let listens: Vec<TrackListen> = checked
        .into_iter()
        .map(|(ts, track, _)| TrackListen { ts: ts.expect("checked"), track, ms_played: None })
        .collect();
    let e = s.engine.clone();
    let metrics = s.metrics.clone();
    let source = format!("POST /1/submit-listens ({kind})");
    let stored = blocking(move || Ok(e.add_track_listens(&name, &listens, &source)?)).await.map_err(error)?;
    metrics.listens(stored.stored);
    Ok(Json(json!({ "status": "ok" })).into_response())
}

/// `GET /1/validate-token`: the token from `Authorization` (or, as older
/// clients send it, `?token=`).
async fn validate_token(State(s): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> LbResult {
    let p = params(q).map_err(error)?;
    let token = credential(&headers).map(str::to_string).or_else(|| p.get("token").cloned());
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err(error(ApiError::Unauthorized("You need to provide an Authorization token.".into())));
    };
    Ok(Json(match listener(&s, &token).await.map_err(error)? {
        Some(Caller::Listener { name, .. }) => {
            json!({ "code": 200, "message": "Token valid.", "valid": true, "user_name": name })
        }
        _ => json!({ "code": 200, "message": "Token invalid.", "valid": false }),
    })
    .into_response())
}

/// The listener called `name`, or ListenBrainz's 404.
async fn user(s: &AppState, name: &str) -> Result<i64, Response> {
    let e = s.engine.clone();
    let n = name.to_string();
    blocking(move || Ok(e.user_named(&n)?)).await.map_err(|err| match err {
        ApiError::NotFound(_) => error(ApiError::NotFound(format!("Cannot find user: {}", truncate(name)))),
        other => error(other),
    })
}

async fn listen_count(State(s): State<AppState>, Path(name): Path<String>) -> LbResult {
    let id = user(&s, &name).await?;
    let e = s.engine.clone();
    let n = blocking(move || Ok(e.listen_count(id)?)).await.map_err(error)?;
    Ok(Json(json!({ "payload": { "count": n } })).into_response())
}

fn track_metadata(l: &encore_engine::accounts::ListenRow) -> Value {
    let mut info = Map::new();
    if let Some(m) = &l.mbid {
        info.insert("recording_mbid".into(), json!(m));
    }
    info.insert("encore_song_id".into(), json!(l.song_id));
    json!({
        "artist_name": l.artist.clone().unwrap_or_default(),
        "track_name": l.title,
        "release_name": l.release,
        "additional_info": info,
    })
}

async fn listens(State(s): State<AppState>, Path(name): Path<String>, RawQuery(q): RawQuery) -> LbResult {
    let p = params(q).map_err(error)?;
    let max_ts: Option<i64> = num(&p, "max_ts").map_err(error)?;
    let min_ts: Option<i64> = num(&p, "min_ts").map_err(error)?;
    let count: usize = num(&p, "count").map_err(error)?.unwrap_or(25);
    if max_ts.is_some() && min_ts.is_some() {
        return Err(bad("You may only specify max_ts or min_ts, not both."));
    }
    let count = count.min(1000);
    let id = user(&s, &name).await?;
    let e = s.engine.clone();
    let rows = blocking(move || Ok(e.user_listens(id, max_ts, min_ts, count)?)).await.map_err(error)?;
    let listens: Vec<Value> = rows
        .iter()
        .map(|l| json!({ "listened_at": l.ts, "user_name": name, "track_metadata": track_metadata(l) }))
        .collect();
    Ok(Json(json!({ "payload": {
        "count": listens.len(),
        "user_id": name,
        "listens": listens,
        "latest_listen_ts": rows.first().map(|l| l.ts),
        "oldest_listen_ts": rows.last().map(|l| l.ts),
    }}))
    .into_response())
}

async fn playing_now(State(s): State<AppState>, Path(name): Path<String>) -> LbResult {
    let id = user(&s, &name).await?;
    let now = {
        let mut map = s.playing.lock().map_err(|_| error(ApiError::Internal("playing-now lock".into())))?;
        map.retain(|_, (_, until)| *until > Instant::now());
        map.get(&id).map(|(tm, _)| tm.clone())
    };
    let listens: Vec<Value> =
        now.into_iter().map(|tm| json!({ "track_metadata": tm, "playing_now": true, "user_name": name })).collect();
    Ok(Json(json!({ "payload": { "count": listens.len(), "user_id": name, "playing_now": true, "listens": listens } }))
        .into_response())
}

/// `POST /1/feedback/recording-feedback`: `score` 1 love, −1 hate, 0 take
/// back, for the song with `recording_mbid` (or, Encore's own field,
/// `encore_song_id`).
async fn recording_feedback(State(s): State<AppState>, Extension(caller): Extension<Caller>, body: Bytes) -> LbResult {
    let Caller::Listener { id: user, .. } = caller else {
        return Err(bad("the listen API takes a listener token"));
    };
    let doc: Value = serde_json::from_slice(&body).map_err(|e| bad(format!("Cannot parse JSON document: {e}")))?;
    let score = doc
        .get("score")
        .and_then(Value::as_i64)
        .filter(|x| (-1..=1).contains(x))
        .ok_or_else(|| bad("Feedback can only have a value of 1, 0 or -1."))? as i8;
    let mbid = doc.get("recording_mbid").and_then(Value::as_str).map(str::to_lowercase);
    let song_id = doc.get("encore_song_id").and_then(Value::as_i64);
    if mbid.as_deref().is_some_and(|m| !is_mbid(m)) {
        return Err(bad("recording_mbid MBID format invalid."));
    }
    if mbid.is_none() && song_id.is_none() {
        return Err(bad(if doc.get("recording_msid").is_some() {
            "recording_msid is not kept here; send recording_mbid"
        } else {
            "JSON document must contain recording_mbid"
        }));
    }
    let e = s.engine.clone();
    blocking(move || {
        let song = match (song_id, &mbid) {
            (Some(id), _) => id,
            (None, Some(m)) => e.song_by_mbid(m)?.ok_or_else(|| {
                ApiError::NotFound(format!("no song with recording_mbid {m}; submit a listen of it first"))
            })?,
            (None, None) => unreachable!("checked above"),
        };
        Ok(e.set_feedback(user, song, score)?)
    })
    .await
    .map_err(error)?;
    Ok(Json(json!({ "status": "ok" })).into_response())
}

async fn get_feedback(State(s): State<AppState>, Path(name): Path<String>, RawQuery(q): RawQuery) -> LbResult {
    let p = params(q).map_err(error)?;
    let only: Option<i8> = num(&p, "score").map_err(error)?;
    let id = user(&s, &name).await?;
    let e = s.engine.clone();
    let rows = blocking(move || {
        let f = e.feedback(id)?;
        let ids: Vec<i64> = f.iter().map(|x| x.0).collect();
        let mbids = e.song_mbids(&ids)?;
        Ok(f.into_iter().zip(mbids).collect::<Vec<_>>())
    })
    .await
    .map_err(error)?;
    let feedback: Vec<Value> = rows
        .into_iter()
        .filter(|((_, score, _), _)| only.is_none_or(|o| o == *score))
        .map(|((song, score, ts), mbid)| {
            json!({ "user_id": name, "recording_mbid": mbid, "encore_song_id": song, "score": score, "created": ts })
        })
        .collect();
    Ok(Json(json!({ "feedback": feedback, "count": feedback.len(), "offset": 0, "total_count": feedback.len() }))
        .into_response())
}

async fn recommendations(State(s): State<AppState>, Path(name): Path<String>, RawQuery(q): RawQuery) -> LbResult {
    let p = params(q).map_err(error)?;
    let count: usize = num(&p, "count").map_err(error)?.unwrap_or(25);
    let offset: usize = num(&p, "offset").map_err(error)?.unwrap_or(0);
    if count == 0 || count > 100 || offset > 1000 {
        return Err(bad("count must be 1 to 100 and offset at most 1000."));
    }
    let id = user(&s, &name).await?;
    let e = s.engine.clone();
    let picks = blocking(move || Ok(e.recommend_recordings(id, count, offset)?)).await.map_err(error)?;
    if picks.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let mbids: Vec<Value> = picks
        .iter()
        .map(|r| {
            json!({
                "recording_mbid": r.recording_mbid,
                "score": r.score,
                "encore_song_id": r.song_id,
                "artist_name": r.artist,
                "track_name": r.title,
            })
        })
        .collect();
    let last = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    Ok(Json(json!({ "payload": {
        "mbids": mbids,
        "count": picks.len(),
        "entity": "recording",
        "offset": offset,
        "total_mbid_count": picks.len(),
        "user_name": name,
        "last_updated": last,
    }}))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn one(v: Value) -> Result<(Option<i64>, TrackRef, Value), String> {
        listen(&v, false, NOW)
    }

    #[test]
    fn listens_are_checked_like_listenbrainz_does() {
        let good = json!({"listened_at": NOW - 10, "track_metadata": {"artist_name": "Björk", "track_name": "Jóga",
            "release_name": "Homogenic", "additional_info": {"recording_mbid": "8F3471B5-7E6A-48DA-86A9-C1C07A0F47AE",
            "artist_mbids": ["87c5dedd-371d-4a53-9f7f-80522fb7f3cb"]}}});
        let (ts, t, _) = one(good).unwrap();
        assert_eq!(ts, Some(NOW - 10));
        assert_eq!(t.mbid.as_deref(), Some("8f3471b5-7e6a-48da-86a9-c1c07a0f47ae"));
        assert_eq!(t.artist.mbid.as_deref(), Some("87c5dedd-371d-4a53-9f7f-80522fb7f3cb"));
        assert_eq!(t.release.as_deref(), Some("Homogenic"));
        let bad_cases = [
            (json!({"track_metadata": {"artist_name": "a", "track_name": "b"}}), "listened_at"),
            (json!({"listened_at": 5, "track_metadata": {"artist_name": "a", "track_name": "b"}}), "too low"),
            (json!({"listened_at": NOW + 3600, "track_metadata": {"artist_name": "a", "track_name": "b"}}), "too high"),
            (
                json!({"listened_at": NOW, "track_metadata": {"artist_name": "", "track_name": "b"}}),
                "artist_name is empty",
            ),
            (json!({"listened_at": NOW, "track_metadata": {"track_name": "b"}}), "artist_name"),
            (json!({"listened_at": NOW, "track_metadata": {"artist_name": "a", "track_name": 3}}), "single string"),
            (
                json!({"listened_at": NOW, "track_metadata": {"artist_name": "a", "track_name": "b",
                "additional_info": {"recording_mbid": "not-a-uuid"}}}),
                "recording_mbid MBID",
            ),
            (
                json!({"listened_at": NOW, "track_metadata": {"artist_name": "a", "track_name": "b"}, "x": 1}),
                "may only contain",
            ),
        ];
        for (v, want) in bad_cases {
            let e = one(v.clone()).unwrap_err();
            assert!(e.contains(want), "{v}: {e}");
        }
        let pn = json!({"listened_at": NOW, "track_metadata": {"artist_name": "a", "track_name": "b"}});
        assert!(listen(&pn, true, NOW).unwrap_err().contains("must not contain listened_at"));
    }

    #[test]
    fn nul_characters_are_found_anywhere() {
        assert_eq!(find_nul(&json!({"a": {"b": ["x", "y\u{0}"]}}), "").as_deref(), Some("a.b[1]"));
        assert_eq!(find_nul(&json!({"a": "ok"}), ""), None);
        assert!(is_mbid("8f3471b5-7e6a-48da-86a9-c1c07a0f47ae"));
        assert!(!is_mbid("8f3471b5-7e6a-48da-86a9-c1c07a0f47a"));
    }
}
