//! [`Client`]: one method per gateway endpoint, each request signed.

use std::sync::Arc;

use http::Method;
use serde::Serialize;
use serde_json::{Value, json};
use url::Url;

use crate::model::SessionWire;
use crate::sign::{Clock, Outgoing, SystemClock, signed_headers};
use crate::transport::{endpoint, http_client};
use crate::{
    ClientConfig, ClientError, HaltMode, NewPrincipal, OrderRequest, PrincipalKey, Problem, Session,
};

/// A client of one gateway, signing as one principal.
pub struct Client {
    http: reqwest::Client,
    base: Url,
    authority: String,
    key: PrincipalKey,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the gateway at `config.url`, signing with `key`.
    pub fn new(config: &ClientConfig, key: PrincipalKey) -> Result<Self, ClientError> {
        let ep = endpoint(&config.url)?;
        Ok(Self {
            http: http_client(config)?,
            base: ep.base,
            authority: ep.authority,
            key,
            clock: Arc::new(SystemClock),
        })
    }

    /// The same client with another clock for `created` (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The `keyid` this client signs as.
    pub fn keyid(&self) -> &str {
        self.key.keyid()
    }

    /// `GET /v1/health` (public).
    pub async fn health(&self) -> Result<Value, ClientError> {
        self.send(Method::GET, &["health"], None, None, false).await
    }

    /// `GET /v1/keys` (public): the gateway's HPKE and signing public keys.
    pub async fn keys(&self) -> Result<Value, ClientError> {
        self.send(Method::GET, &["keys"], None, None, false).await
    }

    /// `POST /v1/sessions`: a read-only bearer session, `ttl_secs` shorter than the default.
    pub async fn open_session(&self, ttl_secs: Option<u64>) -> Result<Session, ClientError> {
        let body = ttl_secs.map(|t| json!({ "ttl_secs": t }));
        let v = self
            .signed(Method::POST, &["sessions"], None, body.as_ref())
            .await?;
        let wire: SessionWire = serde_json::from_value(v).map_err(|e| ClientError::Decode {
            reason: e.to_string(),
        })?;
        Ok(wire.into())
    }

    /// `GET /v1/state`: the trading state.
    pub async fn state(&self) -> Result<Value, ClientError> {
        self.signed::<()>(Method::GET, &["state"], None, None).await
    }

    /// `POST /v1/halt`: the emergency stop (HALTED unless `mode` says REDUCING).
    pub async fn halt(
        &self,
        mode: Option<HaltMode>,
        reason: Option<&str>,
    ) -> Result<Value, ClientError> {
        let body = json!({ "mode": mode, "reason": reason });
        let body = strip_nulls(body);
        self.signed(Method::POST, &["halt"], None, Some(&body))
            .await
    }

    /// `POST /v1/resume`: proposes a return to ACTIVE (the quorum must approve it).
    pub async fn resume(&self) -> Result<Value, ClientError> {
        self.signed::<()>(Method::POST, &["resume"], None, None)
            .await
    }

    /// `GET /v1/approvals`: open proposals.
    pub async fn approvals(&self) -> Result<Value, ClientError> {
        self.signed::<()>(Method::GET, &["approvals"], None, None)
            .await
    }

    /// `POST /v1/approvals`: approves a proposal as this principal.
    pub async fn approve(&self, proposal_id: &str) -> Result<Value, ClientError> {
        let body = json!({ "proposal_id": proposal_id });
        self.signed(Method::POST, &["approvals"], None, Some(&body))
            .await
    }

    /// `POST /v1/orders`: places (or previews, or confirms) an order.
    pub async fn place_order(&self, order: &OrderRequest) -> Result<Value, ClientError> {
        self.signed(Method::POST, &["orders"], None, Some(order))
            .await
    }

    /// `DELETE /v1/orders/{id}`.
    pub async fn cancel_order(&self, id: &str) -> Result<Value, ClientError> {
        self.signed::<()>(Method::DELETE, &["orders", id], None, None)
            .await
    }

    /// `GET /v1/orders`.
    pub async fn orders(&self) -> Result<Value, ClientError> {
        self.signed::<()>(Method::GET, &["orders"], None, None)
            .await
    }

    /// `GET /v1/balances`.
    pub async fn balances(&self) -> Result<Value, ClientError> {
        self.signed::<()>(Method::GET, &["balances"], None, None)
            .await
    }

    /// `GET /v1/principals`.
    pub async fn principals(&self) -> Result<Value, ClientError> {
        self.signed::<()>(Method::GET, &["principals"], None, None)
            .await
    }

    /// `POST /v1/principals`: proposes a new principal (the quorum must approve it).
    pub async fn add_principal(&self, p: &NewPrincipal) -> Result<Value, ClientError> {
        self.signed(Method::POST, &["principals"], None, Some(p))
            .await
    }

    /// `DELETE /v1/principals/{keyid}`: proposes revoking a principal.
    pub async fn remove_principal(&self, keyid: &str) -> Result<Value, ClientError> {
        self.signed::<()>(Method::DELETE, &["principals", keyid], None, None)
            .await
    }

    /// `GET /v1/audit/checkpoint`: the latest signed checkpoint, as the C2SP signed-note
    /// text (check it with `tradeguard_audit`'s verifiers and the gateway's key).
    pub async fn audit_checkpoint(&self) -> Result<String, ClientError> {
        let v = self
            .signed::<()>(Method::GET, &["audit", "checkpoint"], None, None)
            .await?;
        v["checkpoint"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ClientError::Decode {
                reason: "the answer has no `checkpoint` string".into(),
            })
    }

    /// `GET /v1/audit/entries`: entries `start..end` (at most 1,000), one per line, each its
    /// exact canonical bytes (the entry lines of `tradeguard audit export`).
    pub async fn audit_entries(&self, start: u64, end: u64) -> Result<Vec<u8>, ClientError> {
        let query = format!("start={start}&end={end}");
        self.signed_bytes(&["audit", "entries"], Some(&query)).await
    }

    /// `GET /v1/audit/proof/inclusion`: the inclusion proof of entry `index` in the tree of
    /// `size` entries (the JSON `tradeguard audit proof --seq` prints).
    pub async fn inclusion_proof(&self, index: u64, size: u64) -> Result<Value, ClientError> {
        let query = format!("index={index}&size={size}");
        self.signed::<()>(
            Method::GET,
            &["audit", "proof", "inclusion"],
            Some(&query),
            None,
        )
        .await
    }

    /// `GET /v1/audit/proof/consistency`: the consistency proof between tree sizes `old` and
    /// `new` (the JSON `tradeguard audit proof --from` prints).
    pub async fn consistency_proof(&self, old: u64, new: u64) -> Result<Value, ClientError> {
        let query = format!("old={old}&new={new}");
        self.signed::<()>(
            Method::GET,
            &["audit", "proof", "consistency"],
            Some(&query),
            None,
        )
        .await
    }

    /// `GET /v1/analytics`: the signed performance report file, byte for byte (check it with
    /// `tradeguard report verify`).
    pub async fn analytics_report(&self) -> Result<Vec<u8>, ClientError> {
        self.signed_bytes(&["analytics"], None).await
    }

    /// A signed `GET` whose answer is kept as bytes (not parsed).
    async fn signed_bytes(
        &self,
        segments: &[&str],
        query: Option<&str>,
    ) -> Result<Vec<u8>, ClientError> {
        let resp = self
            .request(Method::GET, segments, query, None, true)
            .await?;
        answer_bytes(resp, &Method::GET, self).await
    }

    /// A signed call to any `/v1/...` endpoint: `segments` are the path after `/v1`, each
    /// percent-encoded as needed; `query` is sent (and signed) as given.
    pub async fn signed<B: Serialize + ?Sized>(
        &self,
        method: Method,
        segments: &[&str],
        query: Option<&str>,
        body: Option<&B>,
    ) -> Result<Value, ClientError> {
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| ClientError::Decode {
                reason: e.to_string(),
            })?;
        self.send(method, segments, query, body, true).await
    }

    async fn send(
        &self,
        method: Method,
        segments: &[&str],
        query: Option<&str>,
        body: Option<Vec<u8>>,
        sign: bool,
    ) -> Result<Value, ClientError> {
        let resp = self
            .request(method.clone(), segments, query, body, sign)
            .await?;
        answer(resp, &method, self).await
    }

    async fn request(
        &self,
        method: Method,
        segments: &[&str],
        query: Option<&str>,
        body: Option<Vec<u8>>,
        sign: bool,
    ) -> Result<reqwest::Response, ClientError> {
        let url = self.url(segments, query)?;
        let mut req = self.http.request(method.clone(), url.clone());
        if sign {
            let out = Outgoing {
                method: method.as_str(),
                authority: &self.authority,
                path: url.path(),
                query: url.query(),
                body: body.as_deref(),
            };
            req = req.headers(signed_headers(&self.key, &out, self.clock.now_unix())?);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        req.send().await.map_err(|e| self.transport(&method, &e))
    }

    fn url(&self, segments: &[&str], query: Option<&str>) -> Result<Url, ClientError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| ClientError::Config("gateway URL cannot take a path".into()))?
            .clear()
            .push("v1")
            .extend(segments);
        url.set_query(query);
        Ok(url)
    }

    /// Classifies a failed send: nothing left the client, or (for a state-changing call) the
    /// outcome is unknown.
    fn transport(&self, method: &Method, e: &reqwest::Error) -> ClientError {
        let reason = chain(e);
        if e.is_connect() || e.is_builder() || method == Method::GET {
            ClientError::Connect {
                url: self.base.to_string(),
                reason,
            }
        } else {
            ClientError::OutcomeUnknown { reason }
        }
    }
}

async fn answer(
    resp: reqwest::Response,
    method: &Method,
    c: &Client,
) -> Result<Value, ClientError> {
    let bytes = answer_bytes(resp, method, c).await?;
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
        reason: format!(
            "{:?} at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ),
    })
}

/// The body of a success answer; an error answer as [`ClientError`].
async fn answer_bytes(
    resp: reqwest::Response,
    method: &Method,
    c: &Client,
) -> Result<Vec<u8>, ClientError> {
    let status = resp.status();
    let problem_type = resp
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"));
    let bytes = resp.bytes().await.map_err(|e| c.transport(method, &e))?;
    if status.is_success() {
        return Ok(bytes.to_vec());
    }
    match serde_json::from_slice::<Problem>(&bytes) {
        Ok(problem) if problem_type => Err(ClientError::Problem {
            status: status.as_u16(),
            problem: Box::new(problem),
        }),
        _ => Err(ClientError::Http {
            status: status.as_u16(),
        }),
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        other => other,
    }
}
