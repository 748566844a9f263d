//! Redis backends shared by all replicas: `SET key 1 NX PX ttl` for nonces, a Lua GCRA
//! script timed by the Redis server's clock (replicas with skewed clocks agree), and pub/sub
//! for the event bus with reconnection reported as [`BusEvent::Gap`].

use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSub};
use tokio::sync::mpsc;

use super::bus::{BusEvent, EventBus, Subscription, check_message};
use super::gcra::{Quota, RateDecision};
use super::{RateLimiter, ReplayCache, check_key, check_ttl};
use crate::{Result, StoreError};

/// Connect and command timeout.
const TIMEOUT: Duration = Duration::from_secs(3);

/// A Redis connection (auto-reconnecting) and a key prefix naming the deployment; hands out
/// the three Redis backends. Cheap to clone.
#[derive(Clone)]
pub struct RedisCaches {
    client: redis::Client,
    conn: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisCaches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCaches")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisCaches {
    /// Connects to `url` (`redis://[user:pass@]host:port[/db]`). Every key and the bus channel
    /// start with `prefix` (1 to 64 of `[A-Za-z0-9:_.-]`, e.g. `tradeguard:prod:`), so several
    /// deployments can share one server.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self> {
        check_prefix(prefix)?;
        let client = redis::Client::open(url).map_err(|_| StoreError::Config {
            reason: "Redis URL could not be parsed; expected redis://host:port[/db]".into(),
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(2);
        let conn = client
            .get_connection_manager_with_config(config)
            .await
            .map_err(map_redis)?;
        Ok(Self {
            client,
            conn,
            prefix: prefix.to_owned(),
        })
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The replay cache on this connection (keys `<prefix>replay:<key>`).
    pub fn replay_cache(&self) -> RedisReplayCache {
        RedisReplayCache {
            conn: self.conn.clone(),
            prefix: format!("{}replay:", self.prefix),
        }
    }

    /// The rate limiter on this connection (keys `<prefix>rate:<key>`).
    pub fn rate_limiter(&self) -> RedisRateLimiter {
        RedisRateLimiter {
            conn: self.conn.clone(),
            prefix: format!("{}rate:", self.prefix),
            script: redis::Script::new(GCRA_LUA),
        }
    }

    /// The event bus on this server (channel `<prefix>events`).
    pub fn event_bus(&self) -> RedisEventBus {
        RedisEventBus {
            client: self.client.clone(),
            conn: self.conn.clone(),
            channel: format!("{}events", self.prefix),
        }
    }
}

fn check_prefix(prefix: &str) -> Result<()> {
    let ok = |c: char| c.is_ascii_alphanumeric() || ":_.-".contains(c);
    if (1..=64).contains(&prefix.len()) && prefix.chars().all(ok) {
        Ok(())
    } else {
        Err(StoreError::Config {
            reason: "Redis key prefix must be 1 to 64 of [A-Za-z0-9:_.-]".into(),
        })
    }
}

/// Connection trouble and server states that pass (BUSY, LOADING, ...) are transient.
fn map_redis(e: redis::RedisError) -> StoreError {
    let passing = matches!(
        e.code(),
        Some("BUSY" | "LOADING" | "TRYAGAIN" | "MASTERDOWN" | "CLUSTERDOWN")
    );
    if passing
        || e.is_io_error()
        || e.is_connection_refusal()
        || e.is_timeout()
        || e.is_connection_dropped()
    {
        return StoreError::Unavailable {
            service: "redis",
            reason: format!("{:?} {}", e.kind(), e.code().unwrap_or("")),
        };
    }
    StoreError::Internal {
        reason: format!("redis replied {:?} {}", e.kind(), e.code().unwrap_or("")),
    }
}

/// Replay cache in Redis: one `SET key 1 NX PX ttl` per check, atomic across replicas.
#[derive(Clone)]
pub struct RedisReplayCache {
    conn: ConnectionManager,
    prefix: String,
}

#[async_trait]
impl ReplayCache for RedisReplayCache {
    async fn check_and_insert(&self, key: &str, ttl: Duration) -> Result<bool> {
        check_key(key)?;
        check_ttl(ttl)?;
        let ttl_ms = ttl.as_micros().div_ceil(1000);
        let set: Option<String> = redis::cmd("SET")
            .arg(format!("{}{key}", self.prefix))
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(u64::try_from(ttl_ms).unwrap_or(u64::MAX))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(map_redis)?;
        Ok(set.is_some())
    }
}

/// The GCRA step of `gcra::decide`, in microseconds of the Redis server's clock.
/// KEYS[1] = key; ARGV = emission_us, burst, cost. Returns {allowed, retry_after_us, remaining}.
const GCRA_LUA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local emission = tonumber(ARGV[1])
local tolerance = emission * tonumber(ARGV[2])
local tat = now
local stored = redis.call('GET', KEYS[1])
if stored then
  tat = tonumber(stored)
  if tat == nil then return redis.error_reply('CORRUPT rate-limit state is not a number') end
  if tat < now then tat = now end
end
local new_tat = tat + emission * tonumber(ARGV[3])
local allow_at = new_tat - tolerance
if now < allow_at then
  return {0, allow_at - now, 0}
end
local ttl_ms = math.ceil((new_tat - now) / 1000)
if ttl_ms < 1 then ttl_ms = 1 end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', ttl_ms)
return {1, 0, math.floor((now + tolerance - new_tat) / emission)}
";

/// GCRA rate limiter in Redis: one Lua script call per request, atomic across replicas.
#[derive(Clone)]
pub struct RedisRateLimiter {
    conn: ConnectionManager,
    prefix: String,
    script: redis::Script,
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn acquire(&self, key: &str, quota: &Quota, cost: u32) -> Result<RateDecision> {
        check_key(key)?;
        quota.check_cost(cost)?;
        let reply: std::result::Result<(i64, i64, i64), _> = self
            .script
            .key(format!("{}{key}", self.prefix))
            .arg(quota.emission_us())
            .arg(quota.burst())
            .arg(cost)
            .invoke_async(&mut self.conn.clone())
            .await;
        let (allowed, retry_us, remaining) = reply.map_err(|e| match e.code() {
            Some("CORRUPT") => StoreError::CorruptRow {
                table: "redis rate-limit state".into(),
                column: "tat".into(),
                key: key.into(),
                reason: "not a number; delete the key to reset it".into(),
            },
            _ => map_redis(e),
        })?;
        Ok(if allowed == 1 {
            RateDecision::Allowed {
                remaining: u32::try_from(remaining).unwrap_or(0),
            }
        } else {
            let micros = u64::try_from(retry_us).unwrap_or(0);
            RateDecision::Limited {
                retry_after: Duration::from_micros(micros),
            }
        })
    }
}

/// Event bus over Redis pub/sub. Each subscription holds its own connection and reconnects
/// by itself, reporting [`BusEvent::Gap`] once it is back.
#[derive(Clone)]
pub struct RedisEventBus {
    client: redis::Client,
    conn: ConnectionManager,
    channel: String,
}

impl RedisEventBus {
    async fn open_pubsub(client: &redis::Client, channel: &str) -> Result<PubSub> {
        let connect = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        match tokio::time::timeout(TIMEOUT, connect).await {
            Ok(done) => done.map_err(map_redis),
            Err(_) => Err(StoreError::Unavailable {
                service: "redis",
                reason: "subscribe timed out".into(),
            }),
        }
    }
}

#[async_trait]
impl EventBus for RedisEventBus {
    async fn publish(&self, message: &str) -> Result<()> {
        check_message(message)?;
        let _receivers: i64 = redis::cmd("PUBLISH")
            .arg(&self.channel)
            .arg(message)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(map_redis)?;
        Ok(())
    }

    async fn subscribe(&self) -> Result<Subscription> {
        let pubsub = Self::open_pubsub(&self.client, &self.channel).await?;
        let (tx, rx) = mpsc::channel(1024);
        let task = tokio::spawn(listen(
            self.client.clone(),
            self.channel.clone(),
            pubsub,
            tx,
        ));
        Ok(Subscription::forwarded(rx, task))
    }
}

/// Forwards messages until the subscriber goes away; on a lost connection, reconnects with
/// backoff and sends a Gap.
async fn listen(
    client: redis::Client,
    channel: String,
    mut pubsub: PubSub,
    tx: mpsc::Sender<BusEvent>,
) {
    loop {
        if !forward(&mut pubsub, &tx).await {
            return;
        }
        tracing::warn!(channel = %channel, "event bus subscription lost; reconnecting");
        let mut backoff = Duration::from_millis(50);
        pubsub = loop {
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                () = tx.closed() => return,
            }
            match RedisEventBus::open_pubsub(&client, &channel).await {
                Ok(p) => break p,
                Err(_) => backoff = (backoff * 2).min(Duration::from_secs(5)),
            }
        };
        if tx.send(BusEvent::Gap).await.is_err() {
            return;
        }
    }
}

/// Forwards until the connection ends (true) or the subscriber is gone (false).
async fn forward(pubsub: &mut PubSub, tx: &mpsc::Sender<BusEvent>) -> bool {
    let mut stream = pubsub.on_message();
    loop {
        let msg = tokio::select! {
            msg = stream.next() => msg,
            () = tx.closed() => return false,
        };
        let Some(msg) = msg else { return true };
        let event = msg
            .get_payload::<String>()
            .map_or(BusEvent::Gap, BusEvent::Message);
        if tx.send(event).await.is_err() {
            return false;
        }
    }
}
