//! The OpenAPI 3 description served at `/openapi.json`.

use serde_json::{json, Value};

fn param(name: &str, place: &str, kind: &str, desc: &str) -> Value {
    let schema = match kind {
        "integer" => json!({ "type": "integer", "format": "int64" }),
        other => json!({ "type": other }),
    };
    with_schema(name, place, schema, desc)
}

fn with_schema(name: &str, place: &str, schema: Value, desc: &str) -> Value {
    json!({ "name": name, "in": place, "required": place == "path", "schema": schema, "description": desc })
}

/// The error body every 4xx and 5xx carries.
fn error_body() -> Value {
    json!({ "application/json": { "schema": { "type": "object", "required": ["error", "status"],
        "properties": { "error": { "type": "string" }, "status": { "type": "integer" } } } } })
}

fn listen_event() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["user", "timestamp"],
        "properties": {
            "user": { "type": "string", "minLength": 1, "maxLength": 256, "description": "the listener's name (created if new)" },
            "song_id": { "type": "integer", "format": "int64", "description": "the song's id, or give artist and title" },
            "artist": { "type": "string", "maxLength": 1024 },
            "title": { "type": "string", "maxLength": 1024 },
            "timestamp": { "type": "integer", "format": "int64", "minimum": 1,
                           "description": "Unix seconds, at most a day ahead of the server's clock (the same rule as imports)" },
            "ms_played": { "type": "integer", "minimum": 0, "maximum": 86400000 },
            "skipped": { "type": "boolean" }
        }
    })
}

fn get(summary: &str, params: Vec<Value>) -> Value {
    json!({ "get": { "summary": summary, "parameters": params, "responses": {
        "200": { "description": "OK" }, "400": { "description": "bad parameter, with a message", "content": error_body() },
        "404": { "description": "unknown id, with a message", "content": error_body() },
        "408": { "description": "the request took longer than the server's timeout", "content": error_body() },
        "503": { "description": "no trained model yet", "content": error_body() } } } })
}

fn file(summary: &str, media: &str, params: Vec<Value>) -> Value {
    json!({ "get": { "summary": summary, "parameters": params, "responses": {
        "200": { "description": "OK", "content": { media: {} } },
        "400": { "description": "bad parameter, with a message", "content": error_body() },
        "404": { "description": "unknown user, with a message", "content": error_body() },
        "503": { "description": "no trained model yet", "content": error_body() } } } })
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
    let n = with_schema("n", "query", json!({ "type": "integer", "minimum": 1, "maximum": 500 }), "how many (1–500)");
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
    rec_params.push(with_schema(
        "mode",
        "query",
        json!({ "type": "string", "enum": ["major", "minor"] }),
        "major or minor",
    ));
    rec_params.push(with_schema(
        "exclude_played_days",
        "query",
        json!({ "type": "integer", "minimum": 0, "maximum": 4294967295u64 }),
        "only leave out songs played within these days",
    ));
    rec_params.push(with_schema(
        "max_per_artist",
        "query",
        json!({ "type": "integer", "minimum": 1, "maximum": 500 }),
        "at most this many songs per artist",
    ));
    // The tunables are shared with the mix.
    let tune: Vec<Value> = rec_params[4..rec_params.len() - 2].to_vec();
    let unit = |name: &str, desc: &str| {
        with_schema(name, "query", json!({ "type": "number", "minimum": 0, "maximum": 1 }), desc)
    };
    let seeds = |name: &str, desc: &str| {
        json!({ "name": name, "in": "query", "required": false, "style": "form", "explode": true,
                "schema": { "type": "array", "maxItems": 50, "items": { "type": "string", "minLength": 1, "maxLength": 500 } },
                "description": desc })
    };
    let mut mix_params = vec![
        seeds("song", "seed song ids, each `ID` or `ID@WEIGHT` (repeat the parameter, or separate ids by commas)"),
        seeds("album", "seed albums by name, `NAME` or `NAME@WEIGHT`"),
        seeds("artist", "seed artists by name, `NAME` or `NAME@WEIGHT`"),
        seeds("genre", "seed genres by name, `NAME` or `NAME@WEIGHT`"),
        param(
            "user",
            "query",
            "integer",
            "personalise for this user id (their taste; their recent and disliked songs left out)",
        ),
        with_schema("n", "query", json!({ "type": "integer", "minimum": 1, "maximum": 500 }), "how many (default 50)"),
        with_schema("seed_first", "query", json!({ "type": "boolean" }), "start with the heaviest seed song"),
        with_schema("max_per_artist", "query", json!({ "type": "integer", "minimum": 1, "maximum": 500 }), "default 2"),
        with_schema("max_per_album", "query", json!({ "type": "integer", "minimum": 1, "maximum": 500 }), "default 3"),
        unit("min_distance", "least distance (1 − similarity) between consecutive songs (default 0.05)"),
        with_schema(
            "temperature",
            "query",
            json!({ "type": "number", "minimum": 0, "maximum": 5 }),
            "variety (default 0.1, chosen on a tuning world; 0 = always the best)",
        ),
        unit("diversity", "weight of the similarity to songs already chosen (default 0.5)"),
        unit("personal", "weight of the user's taste (default 0.3)"),
        with_schema(
            "exclude_played_days",
            "query",
            json!({ "type": "integer", "minimum": 0, "maximum": 4294967295u64 }),
            "with a user: leave out songs played within these days (default 30)",
        ),
        param(
            "date",
            "query",
            "string",
            "YYYY-MM-DD (default today, UTC): the same request on the same day gives the same mix",
        ),
    ];
    mix_params.extend(tune);
    let write = |summary: &str, body: Option<(Value, Value)>| {
        let mut op = json!({ "summary": summary, "security": [{ "apiKey": [] }],
        "responses": { "200": { "description": "OK" },
        "400": { "description": "malformed body, with a message", "content": error_body() },
        "401": { "description": "missing or wrong API key or listener token (checked before the body is read)", "content": error_body() },
        "403": { "description": "a listener token writing for someone else, or where only the API key may", "content": error_body() },
        "404": { "description": "a named song does not exist", "content": error_body() },
        "408": { "description": "the body did not arrive within the body timeout", "content": error_body() },
        "413": { "description": "body over 1 MiB", "content": error_body() },
        "503": { "description": "no trained model yet", "content": error_body() } } });
        if let Some((schema, example)) = body {
            op["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": schema, "example": example } } });
        }
        json!({ "post": op })
    };
    let listens = json!({ "oneOf": [listen_event(), { "type": "array", "minItems": 1, "maxItems": 10000, "items": listen_event() }] });
    let song = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["artist", "title", "path"],
        "properties": {
            "artist": { "type": "string", "minLength": 1, "maxLength": 1024 },
            "title": { "type": "string", "minLength": 1, "maxLength": 1024 },
            "path": { "type": "string", "minLength": 1, "maxLength": 4096, "description": "relative to the media root, or absolute inside it" },
            "genre": { "type": "string", "maxLength": 256 }
        }
    });
    let feedback = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["user", "song_id", "score"],
        "properties": {
            "user": { "type": "string", "minLength": 1, "maxLength": 256, "description": "name or store id" },
            "song_id": { "type": "integer" },
            "score": { "type": "integer", "enum": [-1, 0, 1], "description": "1 love, -1 hate, 0 take back" }
        }
    });
    json!({
        "openapi": "3.0.3",
        "info": { "title": "Encore", "version": env!("CARGO_PKG_VERSION"),
                  "description": "Music recommendations from listening logs, text and audio." },
        "components": { "securitySchemes": { "apiKey": { "type": "http", "scheme": "bearer",
                          "description": "the API key, or a listener's token (Authorization: Token …) for their own listens and feedback" } } },
        "security": [],
        "paths": {
            "/healthz": get("liveness", vec![]),
            "/readyz": get("readiness and model version", vec![]),
            "/metrics": get("Prometheus metrics", vec![]),
            "/v1/users": get("users (for a picker); with q, the users whose name contains it", vec![n.clone(),
                with_schema("q", "query", json!({ "type": "string", "maxLength": 256 }), "part of a name, any case")]),
            "/v1/users/{id}/recommendations": get("recommendations with explanations and pool sizes", rec_params),
            "/v1/users/{id}/discover": get("the daily discovery playlist", vec![id("user id"), n.clone(),
                param("date", "query", "string", "YYYY-MM-DD (default today, UTC)")]),
            "/v1/users/{id}/discover.m3u8": file("the daily discovery playlist as M3U8 (paths relative to the media root; songs without a file left out)", "audio/x-mpegurl", vec![id("user id"), n.clone(), param("date", "query", "string", "YYYY-MM-DD (default today, UTC)")]),
            "/v1/users/{id}/discover.xspf": file("the daily discovery playlist as XSPF", "application/xspf+xml", vec![id("user id"), n.clone(), param("date", "query", "string", "YYYY-MM-DD (default today, UTC)")]),
            "/v1/users/{id}/discover.jspf": file("the daily discovery playlist as JSPF (ListenBrainz's playlist JSON)", "application/jspf+json", vec![id("user id"), n.clone(), param("date", "query", "string", "YYYY-MM-DD (default today, UTC)")]),
            "/v1/users/{id}/rediscover": get("songs the user played often and then stopped playing; the same list all day, no song again within four weeks",
                vec![id("user id"), n.clone(), param("date", "query", "string", "YYYY-MM-DD (default today, UTC)"),
                     with_schema("quiet_days", "query", json!({ "type": "integer", "minimum": 0, "maximum": 36500 }), "leave out songs played within these days (default 14)")]),
            "/v1/users/{id}/fingerprint": get("the user's sonic fingerprint (audio clusters of their most played songs) and unplayed songs near it",
                vec![id("user id"), n.clone(), param("date", "query", "string", "YYYY-MM-DD (default today, UTC)")]),
            "/v1/mix": get("an instant mix from any seeds (songs, albums, artists, genres), each item explained", mix_params),
            "/v1/path": get("a path of songs from one song to another in even steps (joint audio + CF space)", vec![
                json!({ "name": "from", "in": "query", "required": true, "schema": { "type": "integer", "format": "int64" }, "description": "first song id" }),
                json!({ "name": "to", "in": "query", "required": true, "schema": { "type": "integer", "format": "int64" }, "description": "last song id" }),
                with_schema("n", "query", json!({ "type": "integer", "minimum": 2, "maximum": 200 }), "songs on the path, ends included (default 25)")]),
            "/v1/users/{id}/history": get("listening history (latest 100 songs)", vec![id("user id")]),
            "/v1/users/{id}/similar": get("users with similar taste", vec![id("user id"), n.clone()]),
            "/v1/songs/{id}": get("metadata, audio descriptors, top terms", vec![id("song id")]),
            "/v1/songs/{id}/similar": get("similar songs", vec![id("song id"), n.clone(),
                with_schema("by", "query", json!({ "type": "string", "enum": ["cf", "audio", "text", "hybrid"] }), "cf, audio, text or hybrid")]),
            "/v1/songs/{id}/audio": { "get": { "summary": "the song's audio file, with Range requests (206); only files inside a scanned library folder, the data directory or the media root",
                "parameters": [id("song id")], "responses": {
                "200": { "description": "the file", "content": { "audio/*": {} } },
                "206": { "description": "the requested range", "content": { "audio/*": {} } },
                "400": { "description": "bad song id, with a message", "content": error_body() },
                "404": { "description": "unknown song, or no file that is served", "content": error_body() },
                "416": { "description": "a range outside the file" } } } },
            "/v1/songs/{id}/spectrogram.png": png("log-mel spectrogram (PNG) of the first 30 s of the song's audio", vec![id("song id")]),
            "/v1/artists/{id}/similar": get("similar and co-mentioned artists", vec![id("artist id"), n.clone()]),
            "/v1/search": get(
                "description search: results, plus known_terms and unknown_terms (query words the text model has never seen)",
                vec![with_schema("q", "query", json!({ "type": "string", "minLength": 1, "maxLength": 500 }), "e.g. summery nostalgic"), n],
            ),
            "/v1/map": get("2-D map of the song vectors with genres", vec![]),
            "/v1/listens": write("store listen events (one object or an array of up to 10,000); folded in at the next request", Some((listens, json!({ "user": "ana", "artist": "Björk", "title": "Jóga", "timestamp": 1764400000, "ms_played": 305000 })))),
            "/v1/feedback": write("love (1), hate (-1) or take back (0) a song for a user: loved songs weigh like many plays, hated ones are never recommended", Some((feedback, json!({ "user": "ana", "song_id": 2, "score": 1 })))),
            "/v1/songs": write("register a song: {artist, title, path (inside the media root), genre?}; analysed, embedded by the audio network, recommendable at once", Some((song, json!({ "artist": "Ana", "title": "First Song", "path": "first-song.wav", "genre": "folk" })))),
            "/v1/admin/reload": write("swap in the newest trained release", None),
        }
    })
}
