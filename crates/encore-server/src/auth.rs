//! Who may write. The `/v1` API takes the admin API key (`Authorization:
//! Bearer KEY` or `X-Api-Key`, compared in constant time) or a listener's
//! own token (`Authorization: Token …`, which writes only for that
//! listener); the ListenBrainz-compatible `/1` API takes listener tokens
//! only. Both are checked before a write's body is read.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::{blocking, listenbrainz, ApiError, AppState, MAX_BODY};

/// Who sent a write, as the gate established it (a request extension).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Caller {
    /// The holder of the API key: may write anything.
    Admin,
    /// A listener, by their token: may write only their own listens and
    /// feedback.
    Listener {
        /// Store id.
        id: i64,
        /// Name.
        name: String,
    },
}

impl Caller {
    /// Refuses a listener where only the API key may write.
    pub(crate) fn admin_only(&self) -> Result<(), ApiError> {
        match self {
            Caller::Admin => Ok(()),
            Caller::Listener { .. } => {
                Err(ApiError::Forbidden("this write needs the API key, not a listener token".into()))
            }
        }
    }

    /// Refuses writing for `user` (a name) by another listener's token.
    pub(crate) fn may_write_for(&self, user: &str) -> Result<(), ApiError> {
        match self {
            Caller::Listener { name, .. } if name != user => {
                Err(ApiError::Forbidden(format!("a token of {name:?} cannot write for another user")))
            }
            _ => Ok(()),
        }
    }
}

/// The credential after the scheme word of `Authorization` (the scheme in
/// any case: `Token`, `token`, `Bearer`), or `X-Api-Key`.
pub(crate) fn credential(headers: &HeaderMap) -> Option<&str> {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if let Some(v) = auth {
        let (scheme, rest) = v.trim().split_once(char::is_whitespace)?;
        if scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer") {
            return Some(rest.trim()).filter(|t| !t.is_empty());
        }
        return None;
    }
    headers.get("x-api-key").and_then(|v| v.to_str().ok())
}

/// The listener a token belongs to, looked up on the blocking pool.
pub(crate) async fn listener(s: &AppState, token: &str) -> Result<Option<Caller>, ApiError> {
    let e = s.engine.clone();
    let token = token.to_string();
    let found = blocking(move || Ok(e.token_user(&token)?)).await?;
    Ok(found.map(|(id, name)| Caller::Listener { id, name }))
}

/// Who the headers say sent the request; `listen_api`: only listener
/// tokens count.
async fn identify(s: &AppState, headers: &HeaderMap, listen_api: bool) -> Result<Caller, ApiError> {
    let Some(given) = credential(headers) else {
        return Err(ApiError::Unauthorized(if listen_api {
            "You need to provide an Authorization header.".into()
        } else {
            "writes need the API key (Authorization: Bearer KEY) or a listener token (Authorization: Token …)".into()
        }));
    };
    // Constant time: how long a wrong key takes says nothing of how much
    // of it was right.
    if !listen_api && constant_time_eq::constant_time_eq(given.as_bytes(), s.api_key.as_bytes()) {
        return Ok(Caller::Admin);
    }
    listener(s, given).await?.ok_or_else(|| {
        ApiError::Unauthorized(if listen_api {
            "Invalid authorization token.".into()
        } else {
            "wrong API key or token".into()
        })
    })
}

/// Writes: the caller is identified before the body is read, and the body
/// is read whole, within the body timeout and the size limit, before the
/// request takes a concurrency slot. The caller goes on as an extension.
pub(crate) async fn gate(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    let listen_api = req.uri().path().starts_with("/1/");
    let reply = |e: ApiError| if listen_api { listenbrainz::error(e) } else { e.into_response() };
    let caller = match identify(&s, req.headers(), listen_api).await {
        Ok(c) => c,
        Err(e) => return reply(e),
    };
    let (mut parts, body) = req.into_parts();
    let bytes = match tokio::time::timeout(s.body_timeout, axum::body::to_bytes(body, MAX_BODY)).await {
        Err(_) => {
            let secs = s.body_timeout.as_secs_f64();
            return reply(ApiError::Timeout(format!("the request body did not arrive within {secs} s")));
        }
        Ok(Err(e)) => {
            let too_large = std::error::Error::source(&e).is_some_and(|c| c.is::<http_body_util::LengthLimitError>())
                || e.to_string().contains("length limit");
            return reply(if too_large {
                ApiError::TooLarge(format!("request bodies are at most {MAX_BODY} bytes"))
            } else {
                ApiError::BadRequest(format!("the request body could not be read: {e}"))
            });
        }
        Ok(Ok(b)) => b,
    };
    parts.extensions.insert(caller);
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_word_is_read_in_any_case() {
        let mut h = HeaderMap::new();
        for v in ["Token abc", "token abc", "TOKEN  abc ", "Bearer abc", "bearer abc"] {
            h.insert(header::AUTHORIZATION, v.parse().unwrap());
            assert_eq!(credential(&h), Some("abc"), "{v}");
        }
        for v in ["Basic abc", "abc", "Token ", "Token"] {
            h.insert(header::AUTHORIZATION, v.parse().unwrap());
            assert_eq!(credential(&h), None, "{v}");
        }
        let mut h = HeaderMap::new();
        h.insert("x-api-key", "k".parse().unwrap());
        assert_eq!(credential(&h), Some("k"));
    }
}
