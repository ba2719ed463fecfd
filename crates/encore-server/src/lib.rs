//! The HTTP service: thin axum handlers over [`encore_engine::Engine`], the
//! web page, an OpenAPI description, health and Prometheus metrics.
//!
//! Every handler parses its own path and query parameters so that bad
//! input gets a 400 with a message (not the framework's text), and every
//! error goes through one [`ApiError`] → status mapping. Engine calls run
//! on the blocking pool.
//!
//! What keeps slow or hostile clients from starving the rest, outermost
//! first: a cap on open connections (the one over it is closed at once);
//! a header-read timeout, which also closes idle keep-alive connections;
//! a gate that refuses writes without the API key before reading their
//! body and reads the body of the rest within a body timeout (408) and a
//! size limit (413) — outside the concurrency limit, so a slow body never
//! holds a slot; a request timeout (408) that covers the wait for a slot;
//! one concurrency limit shared by every route; a panic catcher as the
//! last line of defence. Writes (`POST`) need the API key in
//! `Authorization: Bearer …` or `X-Api-Key`, compared in constant time.
#![deny(missing_docs)]

mod auth;
mod listenbrainz;
mod metrics;
mod openapi;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use auth::Caller;
use axum::body::Bytes;
use axum::extract::{MatchedPath, Path, RawQuery, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use encore_engine::{Engine, EngineError, ListenEvent, Query};
use serde_json::json;

pub use metrics::Metrics;

/// Largest accepted request body.
pub const MAX_BODY: usize = 1 << 20;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to bind (127.0.0.1 by default).
    pub bind: SocketAddr,
    /// Key that write requests must carry.
    pub api_key: String,
    /// Longest a request may take.
    pub timeout: Duration,
    /// Requests served at once (others wait).
    pub concurrency: usize,
    /// Audio files registered with `POST /v1/songs` must lie under this
    /// folder (registration is refused without one).
    pub media_root: Option<std::path::PathBuf>,
    /// Longest a client may take to send a request's headers, and longest
    /// a keep-alive connection may sit idle.
    pub header_timeout: Duration,
    /// Longest a client may take to send a request's body.
    pub body_timeout: Duration,
    /// Connections open at once; one more is closed as soon as accepted.
    pub max_connections: usize,
}

impl Config {
    /// The defaults: loopback port 8080, 10 s per request, 5 s for headers
    /// and for idling, 10 s for a body, 512 connections, 2 × cores
    /// requests at once.
    pub fn new(api_key: &str) -> Config {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            api_key: api_key.to_string(),
            timeout: Duration::from_secs(10),
            concurrency: 2 * std::thread::available_parallelism().map_or(2, |n| n.get()),
            media_root: None,
            header_timeout: Duration::from_secs(5),
            body_timeout: Duration::from_secs(10),
            max_connections: 512,
        }
    }
}

/// Errors a request can end in; [`IntoResponse`] maps each to its status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400.
    #[error("{0}")]
    BadRequest(String),
    /// 401.
    #[error("{0}")]
    Unauthorized(String),
    /// 408: the client was too slow.
    #[error("{0}")]
    Timeout(String),
    /// 413.
    #[error("{0}")]
    TooLarge(String),
    /// 403: a listener token where it may not write.
    #[error("{0}")]
    Forbidden(String),
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 503: no model yet.
    #[error("{0}")]
    NotReady(String),
    /// 500: a fault of ours, never of the input.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::NotFound(m) => ApiError::NotFound(m),
            EngineError::BadRequest(m) => ApiError::BadRequest(m),
            EngineError::NotReady(m) => ApiError::NotReady(m),
            EngineError::Internal(e) => ApiError::Internal(format!("{e:#}")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!("{self}");
        }
        (status, Json(json!({ "error": self.to_string(), "status": status.as_u16() }))).into_response()
    }
}

impl ApiError {
    /// The HTTP status this error answers with.
    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::NotReady(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    engine: Arc<Engine>,
    api_key: Arc<str>,
    metrics: Arc<Metrics>,
    media_root: Option<Arc<std::path::Path>>,
    body_timeout: Duration,
    playing: Arc<listenbrainz::PlayingNow>,
}

impl AppState {
    /// State over an open engine.
    pub fn new(engine: Arc<Engine>, api_key: &str, media_root: Option<&std::path::Path>) -> AppState {
        AppState {
            engine,
            api_key: api_key.into(),
            metrics: Arc::new(Metrics::default()),
            media_root: media_root.and_then(|p| std::fs::canonicalize(p).ok()).map(Arc::from),
            body_timeout: Duration::from_secs(10),
            playing: Arc::default(),
        }
    }

    /// The same with another body timeout.
    pub fn with_body_timeout(mut self, t: Duration) -> AppState {
        self.body_timeout = t;
        self
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, ApiError> + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::Internal(format!("worker failed: {e}")))?
}

fn params(raw: Option<String>) -> Result<HashMap<String, String>, ApiError> {
    Ok(pairs(raw.as_deref())?.into_iter().collect())
}

/// The query's `key=value` pairs in order, decoded (a key may repeat).
fn pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
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

fn num<T: std::str::FromStr>(p: &HashMap<String, String>, name: &str) -> Result<Option<T>, ApiError> {
    match p.get(name) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| ApiError::BadRequest(format!("{name} must be a number, got {:?}", truncate(v)))),
    }
}

fn finite(p: &HashMap<String, String>, name: &str) -> Result<Option<f32>, ApiError> {
    let v: Option<f32> = num(p, name)?;
    match v {
        Some(x) if !x.is_finite() => Err(ApiError::BadRequest(format!("{name} must be a finite number"))),
        _ => Ok(v),
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// The `date` parameter, if given.
fn date(p: &HashMap<String, String>) -> Option<String> {
    p.get("date").filter(|d| !d.is_empty()).cloned()
}

fn id(s: &str, what: &str) -> Result<i64, ApiError> {
    s.parse().map_err(|_| ApiError::BadRequest(format!("{what} id must be an integer, got {:?}", truncate(s))))
}

fn ids(p: &HashMap<String, String>, name: &str) -> Result<Vec<i64>, ApiError> {
    match p.get(name) {
        None => Ok(Vec::new()),
        Some(v) => v.split(',').filter(|x| !x.is_empty()).map(|x| id(x, name)).collect(),
    }
}

fn count(p: &HashMap<String, String>, default: usize) -> Result<usize, ApiError> {
    let n: usize = num(p, "n")?.unwrap_or(default);
    if n == 0 || n > 500 {
        return Err(ApiError::BadRequest(format!("n must be between 1 and 500, got {n}")));
    }
    Ok(n)
}

/// Bounds and targets from the query (`key` as C … B or 0–11, `mode`
/// major or minor).
fn tunables(p: &HashMap<String, String>) -> Result<encore_engine::Tunables, ApiError> {
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

/// `GET /v1/mix`: seeds as repeated (or comma-separated, for ids)
/// `song`, `album`, `artist`, `genre`, each with an optional `@weight`.
async fn mix(State(s): State<AppState>, RawQuery(q): RawQuery) -> ApiResult<encore_engine::mixes::Mix> {
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

async fn song_path(State(s): State<AppState>, RawQuery(q): RawQuery) -> ApiResult<encore_engine::mixes::SongPath> {
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

async fn rediscover(
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

async fn fingerprint(
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

async fn recommendations(
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

async fn discover(
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
async fn discover_file(
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

async fn song(State(s): State<AppState>, Path(song): Path<String>) -> ApiResult<encore_engine::views::SongPage> {
    let song = id(&song, "song")?;
    let e = s.engine.clone();
    Ok(Json(blocking(move || Ok(e.song_page(song)?)).await?))
}

/// The first 30 s of a song's audio as a log-mel spectrogram PNG.
async fn song_spectrogram(State(s): State<AppState>, Path(song): Path<String>) -> Result<Response, ApiError> {
    let song = id(&song, "song")?;
    let e = s.engine.clone();
    let png = blocking(move || Ok(e.spectrogram_png(song)?)).await?;
    Ok(([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "max-age=3600")], png).into_response())
}

async fn song_similar(
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

async fn artist_similar(
    State(s): State<AppState>,
    Path(artist): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<encore_engine::views::ArtistPage> {
    let artist = id(&artist, "artist")?;
    let n = count(&params(q)?, 10)?;
    let e = s.engine.clone();
    Ok(Json(blocking(move || Ok(e.artist_page(artist, n)?)).await?))
}

async fn user_similar(
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

async fn user_history(State(s): State<AppState>, Path(user): Path<String>) -> ApiResult<encore_engine::views::History> {
    let e = s.engine.clone();
    Ok(Json(blocking(move || Ok(e.history(e.user_ref(&user)?, 100)?)).await?))
}

async fn users(State(s): State<AppState>, RawQuery(q): RawQuery) -> ApiResult<serde_json::Value> {
    let p = params(q)?;
    let n = count(&p, 100)?;
    let e = s.engine.clone();
    let out = blocking(move || Ok(e.users(p.get("q").map(String::as_str), n)?)).await?;
    Ok(Json(json!({ "users": out })))
}

async fn search(State(s): State<AppState>, RawQuery(q): RawQuery) -> ApiResult<encore_engine::views::SearchResults> {
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
async fn map(State(s): State<AppState>) -> ApiResult<serde_json::Value> {
    let e = s.engine.clone();
    let points = blocking(move || Ok(e.map()?)).await?;
    Ok(Json(json!({ "points": points })))
}

async fn post_listens(
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
async fn song_audio(State(s): State<AppState>, Path(song): Path<String>, req: Request) -> Response {
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
async fn post_feedback(
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

async fn post_song(
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

async fn reload(State(s): State<AppState>, Extension(caller): Extension<Caller>) -> ApiResult<serde_json::Value> {
    caller.admin_only()?;
    let e = s.engine.clone();
    let v = blocking(move || Ok(e.reload()?)).await?;
    Ok(Json(json!({ "model_version": v })))
}

async fn readyz(State(s): State<AppState>) -> ApiResult<serde_json::Value> {
    let m = s.engine.models();
    Ok(Json(json!({
        "ready": true,
        "model_version": m.version(),
        "songs": m.catalog.len(),
    })))
}

async fn metrics_text(State(s): State<AppState>) -> impl IntoResponse {
    let m = s.engine.models();
    let version = m.version();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], s.metrics.render(&version))
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route; see /openapi.json".into())
}

/// At most as many requests run as the semaphore has permits; the others
/// wait here (within the request timeout).
async fn limit(State(slots): State<Arc<tokio::sync::Semaphore>>, req: Request, next: Next) -> Response {
    match slots.acquire().await {
        Ok(_permit) => next.run(req).await,
        Err(_) => ApiError::Internal("the request limiter is closed".into()).into_response(),
    }
}

async fn track(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |m| m.as_str()).to_string();
    let method = req.method().to_string();
    let start = Instant::now();
    let resp = next.run(req).await;
    s.metrics.observe(&method, &route, resp.status().as_u16(), start.elapsed());
    resp
}

/// The application: every route with its middleware.
pub fn router(state: AppState, timeout: Duration, concurrency: usize) -> Router {
    use tower::ServiceBuilder;
    // One semaphore for every route (`Router::layer` wraps each route on its
    // own), taken inside the request, after the gate: tower's
    // ConcurrencyLimit takes its permit in `poll_ready`, which the
    // middleware above forwards, so a slow body would hold a slot.
    let slots = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    Router::new()
        .route("/", get(|| async { Html(include_str!("../web/index.html")) }))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route("/openapi.json", get(|| async { Json(openapi::spec()) }))
        .route("/v1/users", get(users))
        .route("/v1/users/{id}/recommendations", get(recommendations))
        .route("/v1/users/{id}/discover", get(discover))
        .route("/v1/users/{id}/history", get(user_history))
        .route("/v1/users/{id}/rediscover", get(rediscover))
        .route(
            "/v1/users/{id}/discover.m3u8",
            get(|State(s): State<AppState>, Path(u): Path<String>, RawQuery(q): RawQuery| {
                discover_file(s, u, q, encore_engine::playlist::PlaylistFormat::M3u8)
            }),
        )
        .route(
            "/v1/users/{id}/discover.xspf",
            get(|State(s): State<AppState>, Path(u): Path<String>, RawQuery(q): RawQuery| {
                discover_file(s, u, q, encore_engine::playlist::PlaylistFormat::Xspf)
            }),
        )
        .route(
            "/v1/users/{id}/discover.jspf",
            get(|State(s): State<AppState>, Path(u): Path<String>, RawQuery(q): RawQuery| {
                discover_file(s, u, q, encore_engine::playlist::PlaylistFormat::Jspf)
            }),
        )
        .route("/v1/users/{id}/fingerprint", get(fingerprint))
        .route("/v1/mix", get(mix))
        .route("/v1/path", get(song_path))
        .route("/v1/users/{id}/similar", get(user_similar))
        .route("/v1/songs/{id}", get(song))
        .route("/v1/songs/{id}/similar", get(song_similar))
        .route("/v1/songs/{id}/spectrogram.png", get(song_spectrogram))
        .route("/v1/songs/{id}/audio", get(song_audio))
        .route("/v1/artists/{id}/similar", get(artist_similar))
        .route("/v1/search", get(search))
        .route("/v1/map", get(map))
        .route("/v1/listens", post(post_listens))
        .route("/v1/feedback", post(post_feedback))
        .route("/v1/songs", post(post_song))
        .route("/v1/admin/reload", post(reload))
        .merge(listenbrainz::routes())
        .fallback(not_found)
        .layer(
            ServiceBuilder::new()
                .layer(axum::middleware::from_fn_with_state(state.clone(), track))
                .layer(axum::middleware::from_fn_with_state(state.clone(), auth::gate))
                .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
                    ApiError::Internal("the request handler panicked".into()).into_response()
                }))
                .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
                .layer(axum::middleware::from_fn_with_state(slots, limit)),
        )
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Serves until Ctrl-C; `ready(addr)` is called once the socket is bound.
pub fn serve(engine: Engine, cfg: Config, ready: impl FnOnce(SocketAddr)) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(cfg.bind).await?;
        ready(listener.local_addr()?);
        let state = AppState::new(Arc::new(engine), &cfg.api_key, cfg.media_root.as_deref())
            .with_body_timeout(cfg.body_timeout);
        let app = router(state, cfg.timeout, cfg.concurrency);
        accept_loop(listener, app, &cfg).await
    })
}

/// Accepts connections until Ctrl-C, at most `cfg.max_connections` at
/// once, each served by hyper with the header-read timeout (which hyper
/// also applies while a keep-alive connection waits for its next request).
async fn accept_loop(listener: tokio::net::TcpListener, app: Router, cfg: &Config) -> anyhow::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let open = Arc::new(tokio::sync::Semaphore::new(cfg.max_connections.max(1)));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let shutdown = tokio::signal::ctrl_c();
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: wait, go on.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tracing::warn!("{} connections open: closing a new one", cfg.max_connections);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let svc = hyper_util::service::TowerToHyperService::new(app.clone());
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder.timer(TokioTimer::new()).header_read_timeout(cfg.header_timeout);
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let conn = builder.serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => if let Err(e) = r { tracing::debug!("connection ended: {e}") },
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    let _ = stop_tx.send(true);
    // Let in-flight requests finish, as axum::serve's graceful shutdown did.
    let _ = tokio::time::timeout(cfg.timeout, open.acquire_many(cfg.max_connections.max(1) as u32)).await;
    Ok(())
}
