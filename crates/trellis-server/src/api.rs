//! The HTTP API (`docs/openapi.yaml`): one handler per question of the
//! table, JSON in and out, unknown names answering deny (and named in
//! `explain`), every error a JSON body with a code.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State as Axum};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::{json, Value};
use trellis_table::{Dimension, Org, Perm, Resource, Table, User};

use crate::questions::BatchError;
use crate::{Loaded, State};

type Shared = Arc<State>;

/// The routes, with authentication, limits and timing around them.
pub(crate) fn router(state: Shared) -> Router {
    let max_body = state.config.max_body_bytes;
    Router::new()
        .route("/v1/allow", post(allow))
        .route("/v1/allow/batch", post(allow_batch))
        .route("/v1/roles", post(roles))
        .route("/v1/policies", post(policies))
        .route("/v1/who", post(who))
        .route("/v1/published", post(published))
        .route("/v1/can_assign", post(can_assign))
        .route("/v1/explain", post(explain))
        .route("/v1/table", get(table_info))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

/// A JSON error response.
pub(crate) fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = json!({ "error": { "code": code, "message": message.into() } });
    (status, axum::Json(body)).into_response()
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

/// Authentication, the request time limit, and timing, around every route
/// but the one [`allow_fast`] serves.
async fn guard(Axum(state): Axum<Shared>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let endpoint = crate::metrics::endpoint(path);
    if let Some(refused) = refusal(&state, path, req.headers()) {
        return refused;
    }
    let start = Instant::now();
    let response = match tokio::time::timeout(state.config.request_timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => timed_out(&state),
    };
    state
        .metrics
        .request(endpoint, response.status().as_u16(), start.elapsed());
    response
}

/// The 401 response to a request that lacks the bearer token, if it needs
/// one: the API and `/metrics` do when a token is configured, the probes
/// never.
fn refusal(state: &State, path: &str, headers: &HeaderMap) -> Option<Response> {
    let protected = path.starts_with("/v1/") || path == "/metrics";
    let token = state.config.token.as_ref().filter(|_| protected)?;
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if given.is_some_and(|g| same(g.as_bytes(), token.as_bytes())) {
        return None;
    }
    state.metrics.unauthorized();
    let mut r = error(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "a bearer token is required (Authorization: Bearer <token>)",
    );
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    Some(r)
}

fn timed_out(state: &State) -> Response {
    error(
        StatusCode::REQUEST_TIMEOUT,
        "timeout",
        format!(
            "the request took longer than {:?}",
            state.config.request_timeout
        ),
    )
}

/// `POST /v1/allow`, the question asked most, served straight from hyper:
/// the router, its middleware and their boxed services cost a single
/// question more than the question itself (over a quarter of the server's
/// instructions per request, measured with callgrind). Everything else the
/// router does for it is done here alike: the token, the body limit, the
/// time limit and the metrics.
pub(crate) async fn allow_fast(state: Shared, req: hyper::Request<Incoming>) -> Response {
    let endpoint = crate::metrics::endpoint("/v1/allow");
    if let Some(refused) = refusal(&state, "/v1/allow", req.headers()) {
        return refused;
    }
    let start = Instant::now();
    let limit = state.config.max_body_bytes;
    let read = async {
        let body = Limited::new(req.into_body(), limit).collect().await;
        let body: Body = match body {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(e) if e.is::<LengthLimitError>() => Err(BodyError::TooLarge),
            Err(e) => Err(BodyError::Failed(format!(
                "failed to read the request body: {e}"
            ))),
        };
        answer_one(&state, &body)
    };
    let response = match tokio::time::timeout(state.config.request_timeout, read).await {
        Ok(r) => r,
        Err(_) => timed_out(&state),
    };
    state
        .metrics
        .request(endpoint, response.status().as_u16(), start.elapsed());
    response
}

/// Compares two secrets in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An error a request gets, as a JSON body with a code.
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error(self.status, self.code, self.message)
    }
}

/// The text of a JSON body: checked as UTF-8 once here, so that the parser
/// need not check each string again (`serde_json::from_str` trusts its
/// input; `from_slice` validates every string it borrows, which cost a
/// batch a fifth of its parse).
fn body_text(body: &Body) -> Result<&str, ApiError> {
    let bytes = match body {
        Ok(b) => b,
        Err(BodyError::TooLarge) => {
            return Err(ApiError {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                code: "body_too_large",
                message: "the request body is larger than the server accepts (--max-body-bytes)"
                    .to_owned(),
            })
        }
        Err(BodyError::Failed(message)) => {
            return Err(ApiError {
                status: StatusCode::BAD_REQUEST,
                code: "bad_body",
                message: message.clone(),
            })
        }
    };
    std::str::from_utf8(bytes).map_err(|e| bad_json(format!("the body is not UTF-8: {e}")))
}

fn bad_json(message: String) -> ApiError {
    ApiError {
        status: StatusCode::BAD_REQUEST,
        code: "bad_json",
        message,
    }
}

/// Parses a JSON body.
fn parse<'a, T: Deserialize<'a>>(body: &'a Body) -> Result<T, ApiError> {
    serde_json::from_str(body_text(body)?)
        .map_err(|e| bad_json(format!("not a valid request: {e}")))
}

/// A request's body, read whole within the size limit, or why not.
type Body = Result<Bytes, BodyError>;

pub(crate) enum BodyError {
    TooLarge,
    Failed(String),
}

/// The body as the router's handlers take it: axum's `Bytes` extractor,
/// its errors (the limit of `DefaultBodyLimit` among them) told apart as
/// the fast path tells them.
struct Read(Body);

impl<S: Send + Sync> FromRequest<S> for Read {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: Request, state: &S) -> Result<Read, Self::Rejection> {
        Ok(Read(match Bytes::from_request(req, state).await {
            Ok(b) => Ok(b),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(BodyError::TooLarge),
            Err(e) => Err(BodyError::Failed(e.body_text())),
        }))
    }
}

/// The request parsed from its JSON body, or (from the handler) the error
/// response.
macro_rules! body {
    ($body:expr) => {
        match parse(&$body) {
            Ok(q) => q,
            Err(e) => return e.into_response(),
        }
    };
}

/// One question, by name.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Question<'a> {
    #[serde(borrow)]
    pub user: Cow<'a, str>,
    #[serde(borrow)]
    pub permission: Cow<'a, str>,
    /// May be left out for a resource that belongs to an org.
    #[serde(default, borrow)]
    pub org: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub resource: Option<Cow<'a, str>>,
}

/// A question resolved to handles, or the names that are unknown.
enum Resolved {
    Known(User, Perm, Org, Option<Resource>),
    Unknown(Vec<String>),
}

fn resolve(l: &Loaded, q: &Question<'_>) -> Resolved {
    let mut unknown = Vec::new();
    let u = l.names.user(&l.table, &q.user);
    if u.is_none() {
        unknown.push(format!("user `{}`", q.user));
    }
    let place = place(
        l,
        &q.permission,
        q.org.as_deref(),
        q.resource.as_deref(),
        &mut unknown,
    );
    match (u, place) {
        (Some(u), Some((p, x, r))) => Resolved::Known(u, p, x, r),
        _ => Resolved::Unknown(unknown),
    }
}

/// The permission, the org and the resource a question names (a resource
/// of an org is asked about at that org unless `org` says otherwise), or
/// `None` with the unknown names added to `unknown`.
fn place(
    l: &Loaded,
    permission: &str,
    org: Option<&str>,
    resource: Option<&str>,
    unknown: &mut Vec<String>,
) -> Option<(Perm, Org, Option<Resource>)> {
    let (t, names) = (&l.table, &l.names);
    let p = names.permission(t, permission);
    if p.is_none() {
        unknown.push(format!("permission `{permission}`"));
    }
    let r = resource.map(|name| {
        let r = names.resource(t, name);
        if r.is_none() {
            unknown.push(format!("resource `{name}`"));
        }
        r
    });
    let x = match (org.filter(|o| !o.is_empty()), r) {
        (Some(o), _) => {
            let x = names.org(t, o);
            if x.is_none() {
                unknown.push(format!("org `{o}`"));
            }
            x
        }
        (None, Some(Some(r))) => {
            let x = t.resource_org(r);
            if x.is_none() {
                unknown.push("org (the resource belongs to no org: give `org`)".to_owned());
            }
            x
        }
        (None, Some(None)) => None,
        (None, None) => {
            unknown.push("org (none given)".to_owned());
            None
        }
    };
    match (p, x, r) {
        (Some(p), Some(x), None) => Some((p, x, None)),
        (Some(p), Some(x), Some(Some(r))) => Some((p, x, Some(r))),
        _ => None,
    }
}

fn decide(l: &Loaded, q: &Question<'_>) -> bool {
    match resolve(l, q) {
        Resolved::Known(u, p, x, r) => l.table.allow_on(u, p, x, r),
        Resolved::Unknown(_) => false,
    }
}

fn hash(l: &Loaded) -> &str {
    &l.hash
}

/// A JSON response from text already serialised (the hot endpoints write
/// their few fields directly rather than build a `Value`).
fn json_text(body: String) -> Response {
    // Built directly: `(headers, String).into_response()` sets a text type
    // and then replaces it, a tenth of a single question's handling.
    let mut response = Response::new(axum::body::Body::from(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

async fn allow(Axum(state): Axum<Shared>, Read(body): Read) -> Response {
    answer_one(&state, &body)
}

/// The answer to one question, as both `allow` routes give it.
fn answer_one(state: &State, body: &Body) -> Response {
    let q = match body_text(body).and_then(|text| {
        crate::questions::read_one(text).map_err(|e| bad_json(format!("not a valid request: {e}")))
    }) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    let loaded = state.current.load();
    let allowed = decide(&loaded, &q);
    state.metrics.decisions(allowed, 1);
    if let Some(log) = &state.log {
        log.write("allow", &question_json(&q), allowed, hash(&loaded));
    }
    let mut body = String::with_capacity(80);
    body.push_str(if allowed {
        "{\"allowed\":true,\"decision\":\"allow\",\"input_hash\":\""
    } else {
        "{\"allowed\":false,\"decision\":\"deny\",\"input_hash\":\""
    });
    body.push_str(&loaded.hash);
    body.push_str("\"}");
    json_text(body)
}

fn question_json(q: &Question<'_>) -> Value {
    json!({ "user": q.user, "permission": q.permission, "org": q.org, "resource": q.resource })
}

/// A question by handles.
type Handles = (User, Perm, Org, Option<Resource>);

/// A batch's answers: the questions as read (their names borrowed from the
/// request's text), then resolved and decided together.
struct Answers<'l, 'a> {
    loaded: &'l Loaded,
    questions: Vec<Question<'a>>,
}

impl Answers<'_, '_> {
    /// The answers, in order. Every stage runs over the whole batch in a
    /// loop of its own (the users' names looked up, then the rest of each
    /// question, then the decisions), apart from reading: the questions are
    /// independent, so the processor overlaps the table reads of successive
    /// ones, which doing all of one question before the next would not let
    /// it do.
    fn decide(&self) -> Vec<bool> {
        let l = self.loaded;
        let names: Vec<&str> = self.questions.iter().map(|q| q.user.as_ref()).collect();
        let users = l.names.users(&l.table, &names);
        // The orgs of the questions that name one and no resource (the
        // others are placed one by one below).
        let plain = |q: &Question<'_>| {
            q.resource.is_none() && q.org.as_deref().is_some_and(|o| !o.is_empty())
        };
        let names: Vec<&str> = self
            .questions
            .iter()
            .filter(|q| plain(q))
            .map(|q| q.org.as_deref().unwrap_or(""))
            .collect();
        let mut orgs = l.names.orgs(&l.table, &names).into_iter();
        let mut unknown = Vec::new();
        let resolved: Vec<Option<Handles>> = self
            .questions
            .iter()
            .zip(users)
            .map(|(q, u)| {
                if plain(q) {
                    let x = orgs.next().flatten();
                    let p = l.names.permission(&l.table, &q.permission);
                    return Some((u?, p?, x?, None));
                }
                let placed = place(
                    l,
                    &q.permission,
                    q.org.as_deref(),
                    q.resource.as_deref(),
                    &mut unknown,
                );
                // The unknown names matter to explain, not to a batch.
                unknown.clear();
                let (p, x, r) = placed?;
                Some((u?, p, x, r))
            })
            .collect();
        let t = &l.table;
        let users: Vec<User> = resolved.iter().flatten().map(|(u, ..)| *u).collect();
        std::hint::black_box(t.touch_users(&users));
        resolved
            .iter()
            .map(|q| q.is_some_and(|(u, p, x, r)| t.allow_on(u, p, x, r)))
            .collect()
    }
}

impl<'a> crate::questions::Sink<'a> for Answers<'_, 'a> {
    fn question(&mut self, q: Question<'a>) {
        self.questions.push(q);
    }

    fn restart(&mut self) {
        self.questions.clear();
    }
}

async fn allow_batch(Axum(state): Axum<Shared>, Read(body): Read) -> Response {
    let text = match body_text(&body) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    // One table for the whole batch, even if a reload swaps it meanwhile.
    let loaded = state.current.load_full();
    let max = state.config.max_batch;
    let mut answers = Answers {
        loaded: &loaded,
        questions: Vec::new(),
    };
    let read = crate::questions::read(text, max, &mut answers);
    match read {
        Ok(()) => {}
        Err(BatchError::TooLong) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "batch_too_long",
                format!(
                    "more than {max} questions in one batch: the server answers at most {max} (--max-batch)"
                ),
            )
        }
        Err(BatchError::Invalid(e)) => {
            return bad_json(format!("not a valid request: {e}")).into_response()
        }
    }
    let decided = answers.decide();
    let Answers { questions, .. } = answers;
    let answers = decided;
    let allowed = answers.iter().filter(|a| **a).count();
    state
        .metrics
        .decisions_batch(allowed, answers.len() - allowed);
    if let Some(log) = &state.log {
        for (q, a) in questions.iter().zip(&answers) {
            log.write("allow/batch", &question_json(q), *a, hash(&loaded));
        }
    }
    let mut body = String::with_capacity(answers.len() * 6 + 48);
    body.push_str("{\"allowed\":[");
    for (i, a) in answers.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(if *a { "true" } else { "false" });
    }
    body.push_str("],\"input_hash\":\"");
    body.push_str(&loaded.hash);
    body.push_str("\"}");
    json_text(body)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct At<'a> {
    #[serde(borrow)]
    user: Cow<'a, str>,
    #[serde(borrow)]
    org: Cow<'a, str>,
}

/// A user and an org by name, or the unknown names.
fn user_at(t: &Table, q: &At<'_>) -> Result<(User, Org), Vec<String>> {
    match (t.user(&q.user), t.org(&q.org)) {
        (Some(u), Some(x)) => Ok((u, x)),
        (u, x) => Err([
            u.is_none().then(|| format!("user `{}`", q.user)),
            x.is_none().then(|| format!("org `{}`", q.org)),
        ]
        .into_iter()
        .flatten()
        .collect()),
    }
}

/// `{user, org}` → the names `list` gives, under `key`.
fn names_at(
    state: &Shared,
    body: &Body,
    key: &str,
    list: fn(&Table, User, Org) -> Vec<&str>,
) -> Response {
    let q: At<'_> = body!(*body);
    let loaded = state.current.load();
    let t = &loaded.table;
    let (names, unknown): (Vec<&str>, Vec<String>) = match user_at(t, &q) {
        Ok((u, x)) => (list(t, u, x), Vec::new()),
        Err(unknown) => (Vec::new(), unknown),
    };
    axum::Json(json!({ key: names, "unknown": unknown, "input_hash": hash(&loaded) }))
        .into_response()
}

async fn roles(Axum(state): Axum<Shared>, Read(body): Read) -> Response {
    names_at(&state, &body, "roles", |t, u, x| {
        t.roles(u, x).into_iter().map(|r| t.role_name(r)).collect()
    })
}

async fn policies(Axum(state): Axum<Shared>, Read(body): Read) -> Response {
    names_at(&state, &body, "policies", |t, u, x| {
        t.policies(u, x)
            .into_iter()
            .map(|p| t.policy_name(p))
            .collect()
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WhoQuestion<'a> {
    #[serde(borrow)]
    permission: Cow<'a, str>,
    #[serde(default, borrow)]
    org: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    resource: Option<Cow<'a, str>>,
}

async fn who(Axum(state): Axum<Shared>, Read(body): Read) -> Response {
    let q: WhoQuestion<'_> = body!(body);
    let loaded = state.current.load();
    let t = &loaded.table;
    let mut unknown = Vec::new();
    let users: Vec<&str> = match place(
        &loaded,
        &q.permission,
        q.org.as_deref(),
        q.resource.as_deref(),
        &mut unknown,
    ) {
        Some((p, x, r)) => t
            .who_on(p, x, r)
            .into_iter()
            .map(|u| t.user_name(u))
            .collect(),
        None => Vec::new(),
    };
    axum::Json(json!({ "users": users, "unknown": unknown, "input_hash": hash(&loaded) }))
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishedQuestion<'a> {
    #[serde(borrow)]
    role: Cow<'a, str>,
    #[serde(borrow)]
    org: Cow<'a, str>,
}

async fn published(Axum(state): Axum<Shared>, Read(body): Read) -> Response {
    let q: PublishedQuestion<'_> = body!(body);
    let loaded = state.current.load();
    let t = &loaded.table;
    let (r, x) = (t.role(&q.role), t.org(&q.org));
    let unknown: Vec<String> = [
        r.is_none().then(|| format!("role `{}`", q.role)),
        x.is_none().then(|| format!("org `{}`", q.org)),
    ]
    .into_iter()
    .flatten()
    .collect();
    let published = matches!((r, x), (Some(r), Some(x)) if t.published(r, x));
    axum::Json(json!({ "published": published, "unknown": unknown, "input_hash": hash(&loaded) }))
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CanAssign<'a> {
    #[serde(borrow)]
    admin: Cow<'a, str>,
    #[serde(borrow)]
    role: Cow<'a, str>,
    #[serde(borrow)]
    user: Cow<'a, str>,
    #[serde(borrow)]
    org: Cow<'a, str>,
    /// The assignment's `resources`: dimension → resource ids.
    #[serde(default)]
    resources: std::collections::BTreeMap<String, Vec<String>>,
}

async fn can_assign(Axum(state): Axum<Shared>, Read(body): Read) -> Response {
    let q: CanAssign<'_> = body!(body);
    let loaded = state.current.load();
    let t = &loaded.table;
    let (a, r, u, x) = (
        t.user(&q.admin),
        t.role(&q.role),
        t.user(&q.user),
        t.org(&q.org),
    );
    let mut unknown: Vec<String> = [
        a.is_none().then(|| format!("user `{}`", q.admin)),
        r.is_none().then(|| format!("role `{}`", q.role)),
        u.is_none().then(|| format!("user `{}`", q.user)),
        x.is_none().then(|| format!("org `{}`", q.org)),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut given: Vec<(Dimension, Vec<Resource>)> = Vec::new();
    for (dim, ids) in &q.resources {
        let Some(d) = t.dimension(dim) else {
            unknown.push(format!("dimension `{dim}`"));
            continue;
        };
        let mut list = Vec::new();
        for id in ids {
            match t.resource(id) {
                Some(res) if t.resource_dimension(res) == Some(d) => list.push(res),
                _ => unknown.push(format!("resource `{id}` of dimension `{dim}`")),
            }
        }
        given.push((d, list));
    }
    let allowed = match (a, r, u, x) {
        (Some(a), Some(r), Some(u), Some(x)) if unknown.is_empty() => {
            let borrowed: Vec<(Dimension, &[Resource])> =
                given.iter().map(|(d, v)| (*d, v.as_slice())).collect();
            t.can_assign_with(a, r, u, x, &borrowed)
        }
        _ => false,
    };
    axum::Json(json!({ "allowed": allowed, "unknown": unknown, "input_hash": hash(&loaded) }))
        .into_response()
}

async fn explain(Axum(state): Axum<Shared>, Read(body): Read) -> Response {
    let q: Question<'_> = body!(body);
    let loaded = state.current.load();
    let t = &loaded.table;
    let body = match resolve(&loaded, &q) {
        Resolved::Known(u, p, x, r) => {
            let why = t.explain_on(u, p, x, r);
            state
                .metrics
                .decisions(why.decision == trellis_table::Decision::Allow, 1);
            json!({
                "allowed": why.decision == trellis_table::Decision::Allow,
                "decision": why.decision.as_str(),
                "steps": why.steps.iter().map(|s| s.to_json(t)).collect::<Vec<_>>(),
                "lines": why.lines(t),
                "unknown": Vec::<String>::new(),
                "input_hash": hash(&loaded),
            })
        }
        Resolved::Unknown(unknown) => {
            state.metrics.decisions(false, 1);
            json!({
                "allowed": false,
                "decision": "deny",
                "steps": [],
                "lines": unknown.iter().map(|n| format!("  unknown {n}: deny")).collect::<Vec<_>>(),
                "unknown": unknown,
                "input_hash": hash(&loaded),
            })
        }
    };
    axum::Json(body).into_response()
}

async fn table_info(Axum(state): Axum<Shared>) -> Response {
    let loaded = state.current.load();
    let t = &loaded.table;
    let counts: serde_json::Map<String, Value> = t
        .stats()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), json!(v)))
        .collect();
    let loaded_at = loaded
        .loaded_at
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    axum::Json(json!({
        "format_version": trellis_table::format::VERSION,
        "format_minor": t.format_minor(),
        "input_hash": hash(&loaded),
        "provenance": t.has_provenance(),
        "loaded_at_unix": loaded_at,
        "path": state.config.table.display().to_string(),
        "counts": counts,
        "reloads": state.metrics.reload_counts(),
    }))
    .into_response()
}

async fn healthz() -> Response {
    axum::Json(json!({ "status": "ok" })).into_response()
}

/// Ready once a table is loaded, which the server has from its start.
async fn readyz(Axum(state): Axum<Shared>) -> Response {
    axum::Json(json!({ "status": "ready", "input_hash": hash(&state.current.load()) }))
        .into_response()
}

async fn metrics(Axum(state): Axum<Shared>) -> Response {
    let text = state.metrics.render(&state.current.load());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
