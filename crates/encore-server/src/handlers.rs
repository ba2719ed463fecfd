//! The `/v1` handlers: each parses its request, asks the engine once (on a
//! blocking thread) and answers JSON, a file or a 4xx with a message.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use encore_engine::{ListenEvent, Query};
use serde_json::json;

use crate::auth::Caller;
use crate::query::{count, date, finite, id, ids, num, pairs, params, truncate, tunables};
use crate::{blocking, ApiError, ApiResult, AppState};

/// `GET /v1/mix`: seeds as repeated (or comma-separated, for ids)
/// `song`, `album`, `artist`, `genre`, each with an optional `@weight`.
pub(crate) async fn mix(State(s): State<AppState>, RawQuery(q): RawQuery) -> ApiResult<encore_engine::mixes::Mix> {
    let all = pairs(q.as_deref())?;
    let p: HashMap<String, String> = all.iter().cloned().collect();
    let known = [
        "song",
        "album",
        "artist",
        "genre",
        "user",
        "n",
        "seed_first",
        "max_per_artist",
        "max_per_album",
        "min_distance",
        "temperature",
        "diversity",
        "personal",
        "exclude_played_days",
        "date",
        "min_tempo",
        "max_tempo",
        "target_tempo",
        "key",
        "mode",
        "min_loudness",
        "max_loudness",
        "target_loudness",
        "min_duration",
        "max_duration",
        "target_duration",
    ];
    if let Some((k, _)) = all.iter().find(|(k, _)| !known.contains(&k.as_str())) {
        return Err(ApiError::BadRequest(format!("unknown parameter {:?}", truncate(k))));
    }
    let named = |kind: &str| -> Vec<(String, f32)> {
        all.iter().filter(|(k, v)| k == kind && !v.is_empty()).map(|(_, v)| encore_engine::mixes::weighted(v)).collect()
    };
    let mut songs = Vec::new();
    for (_, v) in all.iter().filter(|(k, _)| k == "song") {
        for part in v.split(',').filter(|x| !x.is_empty()) {
            let (sid, w) = encore_engine::mixes::weighted(part);
            songs.push((id(&sid, "song")?, w));
        }
    }
    let flag = |name: &str| -> Result<bool, ApiError> {
        match p.get(name).map(String::as_str) {
            None | Some("") | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(other) => {
                Err(ApiError::BadRequest(format!("{name} must be true or false, got {:?}", truncate(other))))
            }
        }
    };
    let q = encore_engine::mixes::MixQuery {
        songs,
        albums: named("album"),
        artists: named("artist"),
        genres: named("genre"),
        playlist: Vec::new(),
        user: p.get("user").filter(|u| !u.is_empty()).map(|u| id(u, "user")).transpose()?,
        n: Some(count(&p, 50)?),
        seed_first: flag("seed_first")?,
        max_per_artist: num(&p, "max_per_artist")?,
        max_per_album: num(&p, "max_per_album")?,
        min_distance: finite(&p, "min_distance")?,
        temperature: finite(&p, "temperature")?,
        diversity: finite(&p, "diversity")?,
        personal: finite(&p, "personal")?,
        exclude_played_days: num(&p, "exclude_played_days")?,
        tunables: tunables(&p)?,
        day: date(&p),
    };
    if q.songs.len() + q.albums.len() + q.artists.len() + q.genres.len() > 50 {
        return Err(ApiError::BadRequest("at most 50 seeds".into()));
    }
    let e = s.engine.clone();
    Ok(Json(blocking(move || Ok(e.mix(&q)?)).await?))
}

pub(crate) async fn song_path(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> ApiResult<encore_engine::mixes::SongPath> {
    let p = params(q)?;
    let end = |name: &str| -> Result<i64, ApiError> {
        let v =
            p.get(name).filter(|v| !v.is_empty()).ok_or_else(|| ApiError::BadRequest(format!("{name} is required")))?;
        id(v, name)
    };
    let (from, to) = (end("from")?, end("to")?);
    let n: usize = num(&p, "n")?.unwrap_or(25);
    if !(2..=200).contains(&n) {
        return Err(ApiError::BadRequest(format!("n must be between 2 and 200, got {n}")));
    }
    let e = s.engine.clone();
    Ok(Json(blocking(move || Ok(e.path(from, to, n)?)).await?))
}

pub(crate) async fn rediscover(
    State(s): State<AppState>,
    Path(user): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<encore_engine::mixes::Rediscovery> {
    let p = params(q)?;
    let day = date(&p).unwrap_or_else(encore_engine::today);
    let n = count(&p, 30)?;
    let quiet: Option<u32> = num(&p, "quiet_days")?;
    if quiet.is_some_and(|d| d > 36_500) {
        return Err(ApiError::BadRequest("quiet_days must be at most 36500".into()));
    }
    let e = s.engine.clone();
    Ok(Json(
        blocking(move || {
            let user = e.user_ref(&user)?;
            Ok(e.rediscover(user, &day, n, quiet)?)
        })
        .await?,
    ))
}

pub(crate) async fn fingerprint(
    State(s): State<AppState>,
    Path(user): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<encore_engine::mixes::Fingerprint> {
    let p = params(q)?;
    let day = date(&p);
    let n = count(&p, 30)?;
    let e = s.engine.clone();
    Ok(Json(
        blocking(move || {
            let user = e.user_ref(&user)?;
            Ok(e.fingerprint(user, n, day.as_deref())?)
        })
        .await?,
    ))
}

pub(crate) async fn recommendations(
    State(s): State<AppState>,
    Path(user): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<encore_engine::Recommendations> {
    let p = params(q)?;
    let query = Query {
        n: Some(count(&p, 20)?),
        seed_songs: ids(&p, "seed_songs")?,
        seed_artists: ids(&p, "seed_artists")?,
        tunables: tunables(&p)?,
        exclude_played_days: num(&p, "exclude_played_days")?,
        max_per_artist: num(&p, "max_per_artist")?,
    };
    if query.max_per_artist == Some(0) {
        return Err(ApiError::BadRequest("max_per_artist must be at least 1".into()));
    }
    let e = s.engine.clone();
    Ok(Json(
        blocking(move || {
            let user = e.user_ref(&user)?;
            Ok(e.recommend(user, &query)?)
        })
        .await?,
    ))
}

pub(crate) async fn discover(
    State(s): State<AppState>,
    Path(user): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<encore_engine::Recommendations> {
    let p = params(q)?;
    let day = date(&p).unwrap_or_else(encore_engine::today);
    let n = count(&p, 30)?;
    let e = s.engine.clone();
    Ok(Json(
        blocking(move || {
            let user = e.user_ref(&user)?;
            Ok(e.discover(user, &day, n)?)
        })
        .await?,
    ))
}

/// The discovery playlist as a file for a player: M3U8 paths relative to
/// the media root (when the server has one), XSPF/JSPF with file URLs and
/// MusicBrainz recording URLs.
pub(crate) async fn discover_file(
    s: AppState,
    user: String,
    q: Option<String>,
    format: encore_engine::playlist::PlaylistFormat,
) -> Result<Response, ApiError> {
    let p = params(q)?;
    let day = date(&p).unwrap_or_else(encore_engine::today);
    let n = count(&p, 30)?;
    let e = s.engine.clone();
    let root = s.media_root.clone();
    let (name, text) = blocking(move || {
        let r = e.discover(e.user_ref(&user)?, &day, n)?;
        let ids: Vec<i64> = r.items.iter().map(|i| i.song_id).collect();
        let tracks = e.playlist_tracks(&ids)?;
        let title = format!("Discover {day} for {}", r.user);
        let w = encore_engine::playlist::write(format, &title, &tracks, root.as_deref());
        Ok((format!("discover-{day}.{}", format.extension()), w.text))
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        text,
    )
        .into_response())
}

pub(crate) async fn song(
    State(s): State<AppState>,
    Path(song): Path<String>,
) -> ApiResult<encore_engine::views::SongPage> {
    let song = id(&song, "song")?;
    let e = s.engine.clone();
    Ok(Json(blocking(move || Ok(e.song_page(song)?)).await?))
}

/// The first 30 s of a song's audio as a log-mel spectrogram PNG.
pub(crate) async fn song_spectrogram(
    State(s): State<AppState>,
    Path(song): Path<String>,
) -> Result<Response, ApiError> {
    let song = id(&song, "song")?;
    let e = s.engine.clone();
    let png = blocking(move || Ok(e.spectrogram_png(song)?)).await?;
    Ok(([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "max-age=3600")], png).into_response())
}

pub(crate) async fn song_similar(
    State(s): State<AppState>,
    Path(song): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<serde_json::Value> {
    let song = id(&song, "song")?;
    let p = params(q)?;
    let by = p.get("by").cloned().unwrap_or_else(|| "hybrid".into());
    let n = count(&p, 10)?;
    let e = s.engine.clone();
    let out = blocking(move || Ok((e.similar_songs(song, &by, n)?, by))).await?;
    Ok(Json(json!({ "song_id": song, "by": out.1, "similar": out.0 })))
}

pub(crate) async fn artist_similar(
    State(s): State<AppState>,
    Path(artist): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<encore_engine::views::ArtistPage> {
    let artist = id(&artist, "artist")?;
    let n = count(&params(q)?, 10)?;
    let e = s.engine.clone();
    Ok(Json(blocking(move || Ok(e.artist_page(artist, n)?)).await?))
}

pub(crate) async fn user_similar(
    State(s): State<AppState>,
    Path(user): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<serde_json::Value> {
    let n = count(&params(q)?, 10)?;
    let e = s.engine.clone();
    let (user, out) = blocking(move || {
        let user = e.user_ref(&user)?;
        Ok((user, e.similar_users(user, n)?))
    })
    .await?;
    Ok(Json(json!({ "user_id": user, "similar": out })))
}

pub(crate) async fn user_history(
    State(s): State<AppState>,
    Path(user): Path<String>,
) -> ApiResult<encore_engine::views::History> {
    let e = s.engine.clone();
    Ok(Json(blocking(move || Ok(e.history(e.user_ref(&user)?, 100)?)).await?))
}

pub(crate) async fn users(State(s): State<AppState>, RawQuery(q): RawQuery) -> ApiResult<serde_json::Value> {
    let p = params(q)?;
    let n = count(&p, 100)?;
    let e = s.engine.clone();
    let out = blocking(move || Ok(e.users(p.get("q").map(String::as_str), n)?)).await?;
    Ok(Json(json!({ "users": out })))
}

pub(crate) async fn search(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> ApiResult<encore_engine::views::SearchResults> {
    let p = params(q)?;
    let query = p.get("q").cloned().unwrap_or_default();
    if query.trim().is_empty() || query.len() > 500 {
        return Err(ApiError::BadRequest("q must be a description of 1–500 bytes".into()));
    }
    let n = count(&p, 20)?;
    let e = s.engine.clone();
    Ok(Json(blocking(move || Ok(e.search(&query, n)?)).await?))
}

/// A 2-D map of the song vectors (first two principal components of the CF
/// vectors) with genres, for the web page.
pub(crate) async fn map(State(s): State<AppState>) -> ApiResult<serde_json::Value> {
    let e = s.engine.clone();
    let points = blocking(move || Ok(e.map()?)).await?;
    Ok(Json(json!({ "points": points })))
}

pub(crate) async fn post_listens(
    State(s): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult<serde_json::Value> {
    let v: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("body must be JSON: {e}")))?;
    let events: Vec<ListenEvent> =
        if v.is_array() { serde_json::from_value(v) } else { serde_json::from_value(v).map(|e| vec![e]) }
            .map_err(|e| ApiError::BadRequest(format!("listen events: {e}")))?;
    for e in &events {
        caller.may_write_for(&e.user)?;
    }
    let e = s.engine.clone();
    let metrics = s.metrics.clone();
    let stored = blocking(move || Ok(e.add_listens(&events)?)).await?;
    metrics.listens(stored.stored);
    Ok(Json(json!({ "stored": stored.stored, "duplicates": stored.duplicates })))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SongBody {
    artist: String,
    title: String,
    /// Relative to the media root (or absolute inside it).
    path: String,
    #[serde(default)]
    genre: Option<String>,
}

/// `GET /v1/songs/{id}/audio`: the song's file, with Range requests (206)
/// and its Content-Type, only from inside a library folder, the data
/// directory or the media root.
pub(crate) async fn song_audio(State(s): State<AppState>, Path(song): Path<String>, req: Request) -> Response {
    let song = match id(&song, "song") {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    let e = s.engine.clone();
    let media = s.media_root.clone();
    let file = blocking(move || Ok(e.audio_file(song, &media.as_deref().into_iter().collect::<Vec<_>>())?)).await;
    match file {
        Ok(path) => match tower::ServiceExt::oneshot(tower_http::services::ServeFile::new(path), req).await {
            Ok(r) => r.map(axum::body::Body::new),
            Err(e) => ApiError::Internal(format!("reading the audio file: {e}")).into_response(),
        },
        Err(e) => e.into_response(),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedbackBody {
    /// Name or store id.
    user: String,
    song_id: i64,
    score: i8,
}

/// `POST /v1/feedback`: love (1), hate (−1) or take back (0) a song.
pub(crate) async fn post_feedback(
    State(s): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult<serde_json::Value> {
    let b: FeedbackBody =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("body must be feedback: {e}")))?;
    let e = s.engine.clone();
    blocking(move || {
        let user = e.user_ref(&b.user)?;
        if let Caller::Listener { id, .. } = &caller {
            if *id != user {
                return Err(ApiError::Forbidden("a listener token writes only its own feedback".into()));
            }
        }
        e.set_feedback(user, b.song_id, b.score)?;
        Ok(Json(json!({ "user_id": user, "song_id": b.song_id, "score": b.score })))
    })
    .await
}

pub(crate) async fn post_song(
    State(s): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult<encore_engine::SongAdded> {
    caller.admin_only()?;
    let root = s
        .media_root
        .clone()
        .ok_or_else(|| ApiError::BadRequest("registering songs needs the server started with --media-root".into()))?;
    let b: SongBody =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("body must be a song: {e}")))?;
    let given = std::path::Path::new(&b.path);
    let joined = if given.is_absolute() { given.to_path_buf() } else { root.join(given) };
    // Resolve links and `..` first, then require the result under the root.
    let real = std::fs::canonicalize(&joined)
        .map_err(|_| ApiError::BadRequest(format!("no audio file at {:?} under the media root", truncate(&b.path))))?;
    if !real.starts_with(&*root) || !real.is_file() {
        return Err(ApiError::BadRequest(format!("path {:?} is not a file inside the media root", truncate(&b.path))));
    }
    let song = encore_engine::NewSong { artist: b.artist, title: b.title, path: real, genre: b.genre };
    let e = s.engine.clone();
    Ok(Json(blocking(move || Ok(e.add_song(&song)?)).await?))
}

pub(crate) async fn reload(
    State(s): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<serde_json::Value> {
    caller.admin_only()?;
    let e = s.engine.clone();
    let v = blocking(move || Ok(e.reload()?)).await?;
    Ok(Json(json!({ "model_version": v })))
}

pub(crate) async fn readyz(State(s): State<AppState>) -> ApiResult<serde_json::Value> {
    let m = s.engine.models();
    Ok(Json(json!({
        "ready": true,
        "model_version": m.version(),
        "songs": m.catalog().len(),
    })))
}

pub(crate) async fn metrics_text(State(s): State<AppState>) -> impl IntoResponse {
    let m = s.engine.models();
    let version = m.version();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], s.metrics.render(&version))
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::NotFound("no such route; see /openapi.json".into())
}
