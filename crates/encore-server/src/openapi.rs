//! The OpenAPI 3 description served at `/openapi.json`.

use serde_json::{json, Value};

fn param(name: &str, place: &str, kind: &str, desc: &str) -> Value {
    json!({ "name": name, "in": place, "required": place == "path", "schema": { "type": kind }, "description": desc })
}

fn get(summary: &str, params: Vec<Value>) -> Value {
    json!({ "get": { "summary": summary, "parameters": params, "responses": {
        "200": { "description": "OK" }, "400": { "description": "bad parameter, with a message" },
        "404": { "description": "unknown id, with a message" } } } })
}

fn png(summary: &str, params: Vec<Value>) -> Value {
    json!({ "get": { "summary": summary, "parameters": params, "responses": {
        "200": { "description": "OK", "content": { "image/png": {} } },
        "400": { "description": "bad parameter, with a message" },
        "404": { "description": "unknown song, no audio file, or unreadable audio, with a message" } } } })
}

/// The spec.
pub fn spec() -> Value {
    let id = |what: &str| param("id", "path", "integer", what);
    let n = param("n", "query", "integer", "how many (1–500)");
    let mut rec_params = vec![
        id("user id"),
        n.clone(),
        param("seed_songs", "query", "string", "comma-separated song ids (≤ 5 seeds in all)"),
        param("seed_artists", "query", "string", "comma-separated artist ids"),
    ];
    for t in ["tempo", "loudness", "duration"] {
        for p in ["min", "max", "target"] {
            rec_params.push(param(&format!("{p}_{t}"), "query", "number", &format!("{p} {t}")));
        }
    }
    rec_params.push(param("key", "query", "string", "C … B or 0–11"));
    rec_params.push(param("mode", "query", "string", "major or minor"));
    rec_params.push(param("exclude_played_days", "query", "integer", "only leave out songs played within these days"));
    rec_params.push(param("max_per_artist", "query", "integer", "at most this many songs per artist"));
    let write = |summary: &str| {
        json!({ "post": { "summary": summary, "security": [{ "apiKey": [] }],
        "responses": { "200": { "description": "OK" }, "400": { "description": "malformed body" },
        "401": { "description": "missing or wrong API key" }, "413": { "description": "body over 1 MiB" } } } })
    };
    json!({
        "openapi": "3.0.3",
        "info": { "title": "Encore", "version": env!("CARGO_PKG_VERSION"),
                  "description": "Music recommendations from listening logs, text and audio." },
        "components": { "securitySchemes": { "apiKey": { "type": "http", "scheme": "bearer" } } },
        "paths": {
            "/healthz": get("liveness", vec![]),
            "/readyz": get("readiness and model version", vec![]),
            "/metrics": get("Prometheus metrics", vec![]),
            "/v1/users": get("users (for a picker)", vec![n.clone()]),
            "/v1/users/{id}/recommendations": get("recommendations with explanations and pool sizes", rec_params),
            "/v1/users/{id}/discover": get("the daily discovery playlist", vec![id("user id"), n.clone(),
                param("date", "query", "string", "YYYY-MM-DD (default today, UTC)")]),
            "/v1/users/{id}/history": get("listening history (latest 100 songs)", vec![id("user id")]),
            "/v1/users/{id}/similar": get("users with similar taste", vec![id("user id"), n.clone()]),
            "/v1/songs/{id}": get("metadata, audio descriptors, top terms", vec![id("song id")]),
            "/v1/songs/{id}/similar": get("similar songs", vec![id("song id"), n.clone(),
                param("by", "query", "string", "cf, audio, text or hybrid")]),
            "/v1/songs/{id}/spectrogram.png": png("log-mel spectrogram (PNG) of the first 30 s of the song's audio", vec![id("song id")]),
            "/v1/artists/{id}/similar": get("similar and co-mentioned artists", vec![id("artist id"), n.clone()]),
            "/v1/search": get(
                "description search: results, plus known_terms and unknown_terms (query words the text model has never seen)",
                vec![param("q", "query", "string", "e.g. summery nostalgic"), n],
            ),
            "/v1/map": get("2-D map of the song vectors with genres", vec![]),
            "/v1/listens": write("store listen events (one object or an array); folded in at the next request"),
            "/v1/songs": write("register a song: {artist, title, path (inside the media root), genre?}; analysed, embedded by the audio network, recommendable at once"),
            "/v1/admin/reload": write("swap in the newest trained release"),
        }
    })
}
