//! Replay cache, rate limiter and event bus: the same checks on the in-memory and the Redis
//! backends. Redis cases skip (SKIPPED line) when the server is absent, unless
//! TRADEGUARD_REQUIRE_SERVICES=1.

use std::sync::Arc;
use std::time::Duration;

use tradeguard_store::StoreError;
use tradeguard_store::cache::{
    BusEvent, EventBus, MemoryEventBus, MemoryRateLimiter, MemoryReplayCache, Quota, RateDecision,
    RateLimiter, RedisCaches, ReplayCache, Subscription,
};
use tradeguard_store::testing;

const WAIT: Duration = Duration::from_secs(5);

async fn next(sub: &mut Subscription) -> BusEvent {
    tokio::time::timeout(WAIT, sub.recv())
        .await
        .expect("no bus event within 5 s")
        .expect("bus closed")
}

// ---- replay cache ----

async fn replay_basics(cache: &dyn ReplayCache) {
    let ttl = Duration::from_millis(150);
    assert!(
        cache.check_and_insert("k1:n1", ttl).await.unwrap(),
        "first sighting"
    );
    assert!(
        !cache.check_and_insert("k1:n1", ttl).await.unwrap(),
        "replay caught"
    );
    assert!(
        cache.check_and_insert("k1:n2", ttl).await.unwrap(),
        "other nonce"
    );
    tokio::time::sleep(ttl + Duration::from_millis(50)).await;
    assert!(
        cache.check_and_insert("k1:n1", ttl).await.unwrap(),
        "expired after ttl"
    );
}

async fn replay_is_atomic_under_concurrency(cache: Arc<dyn ReplayCache>) {
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let cache = cache.clone();
            tokio::spawn(async move {
                cache
                    .check_and_insert("race", Duration::from_secs(30))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut firsts = 0;
    for t in tasks {
        firsts += usize::from(t.await.unwrap());
    }
    assert_eq!(firsts, 1, "exactly one caller may see the nonce as new");
}

#[tokio::test]
async fn replay_memory() {
    replay_basics(&MemoryReplayCache::new(100)).await;
    replay_is_atomic_under_concurrency(Arc::new(MemoryReplayCache::new(100))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_redis() {
    let Some(redis) = testing::redis().await else {
        return;
    };
    replay_basics(&redis.replay_cache()).await;
    replay_is_atomic_under_concurrency(Arc::new(redis.replay_cache())).await;
}

// ---- rate limiter ----

async fn rate_burst_then_wait(limiter: &dyn RateLimiter) {
    // 4 per 200 ms, burst 4: one unit every 50 ms.
    let quota = Quota::new(4, Duration::from_millis(200), 4).unwrap();
    for remaining in (0..4).rev() {
        let d = limiter.acquire("acct", &quota, 1).await.unwrap();
        assert_eq!(d, RateDecision::Allowed { remaining });
    }
    let RateDecision::Limited { retry_after } = limiter.acquire("acct", &quota, 1).await.unwrap()
    else {
        panic!("fifth request in the burst must be limited");
    };
    assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_millis(50));
    assert!(
        limiter
            .acquire("other", &quota, 4)
            .await
            .unwrap()
            .is_allowed(),
        "per key"
    );
    tokio::time::sleep(retry_after + Duration::from_millis(5)).await;
    assert!(
        limiter
            .acquire("acct", &quota, 1)
            .await
            .unwrap()
            .is_allowed()
    );
    let err = limiter.acquire("acct", &quota, 5).await.unwrap_err();
    assert!(
        matches!(err, StoreError::InvalidInput { .. }),
        "cost above burst: {err}"
    );
}

async fn rate_is_atomic_under_concurrency(limiter: Arc<dyn RateLimiter>) {
    let quota = Quota::new(1, Duration::from_secs(60), 5).unwrap();
    let tasks: Vec<_> = (0..24)
        .map(|_| {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.acquire("shared", &quota, 1).await.unwrap() })
        })
        .collect();
    let mut allowed = 0;
    for t in tasks {
        allowed += usize::from(t.await.unwrap().is_allowed());
    }
    assert_eq!(allowed, 5, "exactly the burst passes");
}

#[tokio::test]
async fn rate_memory() {
    rate_burst_then_wait(&MemoryRateLimiter::new(100)).await;
    rate_is_atomic_under_concurrency(Arc::new(MemoryRateLimiter::new(100))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_redis() {
    let Some(redis) = testing::redis().await else {
        return;
    };
    rate_burst_then_wait(&redis.rate_limiter()).await;
    rate_is_atomic_under_concurrency(Arc::new(redis.rate_limiter())).await;
}

#[tokio::test]
async fn fail_corrupt_redis_rate_state_names_the_key() {
    let Some(redis) = testing::redis().await else {
        return;
    };
    let client = redis::Client::open(testing::redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let raw_key = format!("{}rate:victim", redis.prefix());
    let _: () = redis::cmd("SET")
        .arg(&raw_key)
        .arg("canary-not-a-number")
        .arg("PX")
        .arg(10_000)
        .query_async(&mut conn)
        .await
        .unwrap();
    let quota = Quota::per_second(10).unwrap();
    let err = redis
        .rate_limiter()
        .acquire("victim", &quota, 1)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::CorruptRow { key, .. } if key == "victim"),
        "{err}"
    );
    assert!(
        !format!("{err} {err:?}").contains("canary"),
        "value leaked: {err}"
    );
}

#[tokio::test]
async fn fail_unreachable_redis_is_transient() {
    let err = RedisCaches::connect("redis://127.0.0.1:1", "tg:")
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
    let bad = RedisCaches::connect("redis://127.0.0.1:1", "bad prefix")
        .await
        .unwrap_err();
    assert!(matches!(bad, StoreError::Config { .. }), "{bad}");
}

// ---- event bus ----

async fn bus_fan_out(publisher: &dyn EventBus, listener: &dyn EventBus) {
    let mut a = listener.subscribe().await.unwrap();
    let mut b = publisher.subscribe().await.unwrap();
    publisher.publish(r#"{"halt":true}"#).await.unwrap();
    publisher.publish("second").await.unwrap();
    for sub in [&mut a, &mut b] {
        assert_eq!(
            next(sub).await,
            BusEvent::Message(r#"{"halt":true}"#.into())
        );
        assert_eq!(next(sub).await, BusEvent::Message("second".into()));
    }
}

#[tokio::test]
async fn bus_memory() {
    let bus = MemoryEventBus::new(16);
    bus_fan_out(&bus, &bus.clone()).await;
}

/// Two connections with the same prefix stand for two replicas.
#[tokio::test]
async fn bus_redis_reaches_other_replicas() {
    let Some(one) = testing::redis().await else {
        return;
    };
    let two = RedisCaches::connect(&testing::redis_url(), one.prefix())
        .await
        .unwrap();
    bus_fan_out(&one.event_bus(), &two.event_bus()).await;
    // Another deployment (prefix) hears nothing.
    let Some(other) = testing::redis().await else {
        return;
    };
    let mut stranger = other.event_bus().subscribe().await.unwrap();
    one.event_bus().publish("not for you").await.unwrap();
    other.event_bus().publish("yours").await.unwrap();
    assert_eq!(next(&mut stranger).await, BusEvent::Message("yours".into()));
}

/// A dropped pub/sub connection comes back by itself and reports a Gap. Uses Redis database
/// 13 so that only this test's subscriptions are killed.
#[tokio::test]
async fn bus_redis_reconnects_and_reports_gap() {
    let url = format!("{}/13", testing::redis_url().trim_end_matches('/'));
    let Some(redis) = testing::redis_at(&url).await else {
        return;
    };
    let bus = redis.event_bus();
    let mut sub = bus.subscribe().await.unwrap();
    kill_pubsub_clients_of_db(&url, 13).await;
    assert_eq!(next(&mut sub).await, BusEvent::Gap);
    bus.publish("after reconnect").await.unwrap();
    assert_eq!(
        next(&mut sub).await,
        BusEvent::Message("after reconnect".into())
    );
}

async fn kill_pubsub_clients_of_db(url: &str, db: u32) {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .arg("TYPE")
        .arg("pubsub")
        .query_async(&mut conn)
        .await
        .unwrap();
    let ids: Vec<String> = list
        .lines()
        .filter(|line| line.split(' ').any(|f| f == format!("db={db}")))
        .filter_map(|line| line.split(' ').find_map(|f| f.strip_prefix("id=")))
        .map(str::to_owned)
        .collect();
    assert!(!ids.is_empty(), "the subscription's connection is listed");
    for id in ids {
        let _: i64 = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("ID")
            .arg(&id)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
}
