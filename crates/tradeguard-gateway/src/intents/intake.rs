//! The checks every packet goes through before it is answered, and the answer.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Value, json};
use tradeguard_crypto::b64;
use tradeguard_crypto::intent::response::{ResponseKey, decoy_response, seal_response};
use tradeguard_crypto::intent::{Body, OpenedIntent, Protections, RoutingId, open_intent};

use super::IntentIntake;
use crate::principal::{AuthMethod, KeyKind, Principal};
use crate::scope::Scope;
use crate::state::AppState;

/// What a packet was, once answered, and what remains to do.
pub(crate) enum After {
    /// A dummy or a status query: nothing.
    Nothing,
    /// Refused: audit it.
    Refused {
        /// Why (an [`tradeguard_crypto::intent::IntentError::kind`] or a gateway check).
        reason: &'static str,
        /// The principal, when the packet named one with a valid signature.
        principal: Option<String>,
    },
    /// A real order: hand it to the order path.
    Execute {
        /// Its routing id, when the gateway holds the principal's routing key.
        id: Option<RoutingId>,
        /// The principal, as the order path sees it.
        principal: Principal,
        /// The order (a JSON object).
        order: Value,
    },
}

/// The sealed answer (always [`tradeguard_crypto::intent::response::RESPONSE_LEN`] bytes)
/// and what to do after sending it.
pub(crate) struct Received {
    pub answer: Vec<u8>,
    pub after: After,
}

impl IntentIntake {
    /// Opens and checks one packet and builds its answer. Real, dummy, query and refused
    /// packets all take this path to the same kind of answer.
    pub(crate) async fn receive(&self, state: &AppState, body: &[u8]) -> Received {
        self.counters.packets.fetch_add(1, Ordering::Relaxed);
        let now = state.clock.now_secs();
        let opened = std::str::from_utf8(body)
            .map_err(|_| "envelope")
            .and_then(|text| {
                open_intent(&self.recipient, &self.config.open, text, now).map_err(|e| e.kind())
            });
        match opened {
            Ok(o) => self.checked(state, o).await,
            Err(reason) => self.refuse_unopened(reason),
        }
    }

    async fn checked(&self, state: &AppState, o: OpenedIntent) -> Received {
        let OpenedIntent {
            intent,
            enc,
            response_key,
        } = o;
        let payload = intent.into_inner().into_payload();
        let did = payload.principal_did().to_owned();
        let principal = match self.principal(state, &did) {
            Ok(p) => p,
            Err(reason) => return self.refuse(response_key, reason, Some(did)),
        };
        if let Err(reason) = self.fresh(state, payload.nonce(), &enc).await {
            return self.refuse(response_key, reason, Some(did));
        }
        let now_ms = state.clock.now_ms();
        if payload.is_dummy() {
            self.last_dummy_ms
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(did.clone(), now_ms);
        }
        let routing_key = self.routing.key(&did);
        let protections = Protections {
            ephemeral_key: true, // the encapsulated key was fresh in the replay cache
            aead: true,          // the envelope authenticated
            nonce: true,         // the nonce was fresh in the replay cache
            dummies: self.sends_dummies(&did, now_ms),
            routing_id: routing_key.is_some(),
        };
        if self.config.score.check(&protections).is_err() {
            return self.refuse(response_key, "below_threshold", Some(did));
        }
        let id = routing_key.map(|k| payload.routing_id(&k));
        let rid = id.map_or(Value::Null, |i| json!(i.to_hex()));
        match (payload.is_dummy(), payload.body()) {
            (true, _) => {
                self.counters.dummies.fetch_add(1, Ordering::Relaxed);
                let answer = json!({"ack": "received", "routing_id": rid});
                self.answer(response_key, &answer, After::Nothing)
            }
            (false, Body::Query(ids)) => {
                self.counters.queries.fetch_add(1, Ordering::Relaxed);
                let answer = self.status_answer(ids, &did);
                self.answer(response_key, &answer, After::Nothing)
            }
            (false, Body::Order(order)) => {
                self.counters.real.fetch_add(1, Ordering::Relaxed);
                if let Some(id) = id {
                    self.status.insert_pending(id, &did);
                }
                let answer = json!({"ack": "received", "routing_id": rid});
                let order = order.clone();
                self.answer(
                    response_key,
                    &answer,
                    After::Execute {
                        id,
                        principal,
                        order,
                    },
                )
            }
        }
    }

    /// The principal must be known, not revoked, an Ed25519 key and allowed to trade.
    fn principal(&self, state: &AppState, did: &str) -> Result<Principal, &'static str> {
        let rec = state.directory.get(did).ok_or("unknown_principal")?;
        if rec.revoked {
            return Err("revoked_principal");
        }
        if !matches!(rec.kind, KeyKind::Ed25519(_)) || !rec.scopes.contains(Scope::Trade) {
            return Err("scope");
        }
        Ok(Principal {
            keyid: rec.keyid.clone(),
            scopes: rec.scopes,
            method: AuthMethod::Signature,
        })
    }

    /// Nonce and encapsulated key both seen for the first time (fail closed on cache error).
    /// The key is kept by its SHA-256: an X-Wing one (1120 bytes) would not fit a cache key.
    async fn fresh(&self, state: &AppState, nonce: &[u8], enc: &[u8]) -> Result<(), &'static str> {
        let w = self.config.open.window;
        let secs = u64::try_from(w.max_age_secs + w.max_future_secs + 1).unwrap_or(331);
        let ttl = Duration::from_secs(secs);
        let nonce_key = format!("intent:nonce:{}", b64::encode(nonce));
        let enc_key = format!(
            "intent:enc:{}",
            b64::encode(&tradeguard_crypto::digest::sha256(enc))
        );
        let (n, e) = tokio::join!(
            state.replay.check_and_insert(&nonce_key, ttl),
            state.replay.check_and_insert(&enc_key, ttl)
        );
        match (n, e) {
            (Ok(true), Ok(true)) => Ok(()),
            (Ok(false), _) => Err("replay"),
            (_, Ok(false)) => Err("ephemeral_key_reused"),
            _ => Err("replay_cache_unavailable"),
        }
    }

    fn sends_dummies(&self, did: &str, now_ms: i64) -> bool {
        let recency = i64::try_from(self.config.dummy_recency.as_millis()).unwrap_or(i64::MAX);
        let map = self.last_dummy_ms.lock().unwrap_or_else(|p| p.into_inner());
        map.get(did)
            .is_some_and(|t| now_ms.saturating_sub(*t) <= recency)
    }

    /// The status of each id, as much detail as fits in one answer.
    fn status_answer(&self, ids: &[RoutingId], did: &str) -> Value {
        let entries: Vec<Value> = ids
            .iter()
            .map(|id| match self.status.get(id, did) {
                Some(s) => json!({"id": id.to_hex(), "state": s.state,
                                  "http_status": s.http_status, "result": s.result}),
                None => json!({"id": id.to_hex(), "state": "unknown"}),
            })
            .collect();
        let full = json!({"ack": "status", "status": entries});
        if full.to_string().len() <= MAX_ANSWER {
            return full;
        }
        let brief: Vec<Value> = entries
            .into_iter()
            .map(|mut e| {
                if let Some(o) = e.as_object_mut() {
                    o.remove("result");
                }
                e
            })
            .collect();
        json!({"ack": "status", "status": brief, "results_omitted": true})
    }

    fn answer(&self, key: ResponseKey, body: &Value, after: After) -> Received {
        match seal_response(key, body.to_string().as_bytes()) {
            Ok(answer) => Received { answer, after },
            Err(_) => Received {
                answer: decoy(),
                after,
            },
        }
    }

    fn refuse(&self, key: ResponseKey, reason: &'static str, did: Option<String>) -> Received {
        self.count_refusal(reason);
        let body = json!({"ack": "refused", "reason": reason});
        self.answer(
            key,
            &body,
            After::Refused {
                reason,
                principal: did,
            },
        )
    }

    fn refuse_unopened(&self, reason: &'static str) -> Received {
        self.count_refusal(reason);
        Received {
            answer: decoy(),
            after: After::Refused {
                reason,
                principal: None,
            },
        }
    }

    fn count_refusal(&self, reason: &'static str) {
        let mut m = self
            .counters
            .refused
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *m.entry(reason).or_default() += 1;
    }

    /// For a refusal that names no principal: whether to audit it now (within the per-second
    /// budget) and how many were left unaudited before it.
    pub(crate) fn anonymous_audit_budget(&self, now_ms: i64) -> Option<u64> {
        let mut w = self
            .counters
            .anonymous_window
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let second = now_ms.div_euclid(1000);
        if w.0 != second {
            *w = (second, 0);
        }
        if w.1 >= self.config.anonymous_audits_per_sec {
            self.counters.suppressed.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        w.1 += 1;
        Some(self.counters.suppressed.swap(0, Ordering::Relaxed))
    }
}

/// Largest answer body before padding (the padded plaintext is 1024 bytes).
const MAX_ANSWER: usize = tradeguard_crypto::intent::response::RESPONSE_PADDED - 4;

/// Random bytes the size of a sealed answer (the RNG failing leaves zeros: still one size).
fn decoy() -> Vec<u8> {
    decoy_response().unwrap_or_else(|_| vec![0; tradeguard_crypto::intent::response::RESPONSE_LEN])
}
