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
mod handlers;
mod listenbrainz;
mod metrics;
mod openapi;
mod query;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use encore_engine::{Engine, EngineError};
use serde_json::json;

pub use metrics::Metrics;

use handlers::{
    artist_similar, discover, discover_file, fingerprint, map, metrics_text, mix, not_found, post_feedback,
    post_listens, post_song, readyz, recommendations, rediscover, reload, search, song, song_audio, song_path,
    song_similar, song_spectrogram, user_history, user_similar, users,
};

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
            EngineError::Playlist { .. } => ApiError::BadRequest(chain(&e)),
            EngineError::Store(_)
            | EngineError::Io { .. }
            | EngineError::Json { .. }
            | EngineError::Truncated { .. }
            | EngineError::Cf(_)
            | EngineError::Text(_)
            | EngineError::Audio(_)
            | EngineError::Cnn(_)
            | EngineError::Eval(_)
            | EngineError::Index(_)
            | EngineError::Randomness(_)
            | EngineError::Inconsistent(_) => ApiError::Internal(chain(&e)),
        }
    }
}

/// An error and its causes, `outer: inner: …`.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut next = e.source();
    while let Some(c) = next {
        s.push_str(": ");
        s.push_str(&c.to_string());
        next = c.source();
    }
    s
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
pub fn serve(engine: Engine, cfg: Config, ready: impl FnOnce(SocketAddr)) -> std::io::Result<()> {
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
async fn accept_loop(listener: tokio::net::TcpListener, app: Router, cfg: &Config) -> std::io::Result<()> {
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
