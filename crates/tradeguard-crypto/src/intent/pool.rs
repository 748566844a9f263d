//! A pool of pre-generated X25519 ephemeral key pairs, refilled by a background thread, so
//! sealing an intent costs one Diffie-Hellman on the hot path instead of a key generation and
//! a Diffie-Hellman.
//!
//! Each key is handed out once ([`KeyPool::take`] moves it out of the pool) and is consumed by
//! [`crate::hpke::setup_sender_with_ephemeral`]; its private half lives only inside aws-lc-rs,
//! which wipes it (`OPENSSL_cleanse`) when it is freed, whether after use or when the pool is
//! dropped. When the pool is empty (a burst larger than it), `take` generates a fresh key
//! inline: slower, never weaker. A key is never reused.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use crate::CryptoError;
use crate::hpke::EphemeralX25519;

/// The default number of pre-generated key pairs.
pub const DEFAULT_POOL_SIZE: usize = 100;

/// Pre-generated one-use X25519 ephemeral keys.
pub struct KeyPool {
    shared: Arc<Shared>,
    refill: Option<JoinHandle<()>>,
}

struct Shared {
    keys: Mutex<Vec<EphemeralX25519>>,
    wake: Condvar,
    stop: AtomicBool,
    capacity: usize,
    low_water: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Counters of a pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStats {
    /// Keys ready now.
    pub available: usize,
    /// Keys taken from the pool.
    pub hits: u64,
    /// Keys generated inline because the pool was empty.
    pub misses: u64,
}

impl KeyPool {
    /// Fills a pool of `capacity` keys now (capacity key generations), then starts the thread
    /// that refills it whenever it falls to half.
    pub fn start(capacity: usize) -> Result<Self, CryptoError> {
        let capacity = capacity.max(1);
        let keys = (0..capacity)
            .map(|_| EphemeralX25519::generate())
            .collect::<Result<Vec<_>, _>>()?;
        let shared = Arc::new(Shared {
            keys: Mutex::new(keys),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
            capacity,
            low_water: capacity / 2,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        });
        let worker = Arc::clone(&shared);
        let refill = std::thread::Builder::new()
            .name("tg-ephemeral-keys".into())
            .spawn(move || worker.refill_loop())
            .map_err(|_| CryptoError::Internal("starting the ephemeral key pool thread"))?;
        Ok(Self {
            shared,
            refill: Some(refill),
        })
    }

    /// A key that no one else has had or will have. Takes a pre-generated one when there is
    /// one, otherwise generates one now.
    pub fn take(&self) -> Result<EphemeralX25519, CryptoError> {
        let (key, left) = {
            let mut keys = self.shared.lock();
            let key = keys.pop();
            (key, keys.len())
        };
        if left == self.shared.low_water {
            self.shared.wake.notify_one();
        }
        match key {
            Some(k) => {
                self.shared.hits.fetch_add(1, Ordering::Relaxed);
                Ok(k)
            }
            None => {
                self.shared.misses.fetch_add(1, Ordering::Relaxed);
                self.shared.wake.notify_one();
                EphemeralX25519::generate()
            }
        }
    }

    /// The pool's counters.
    pub fn stats(&self) -> PoolStats {
        PoolStats {
            available: self.shared.lock().len(),
            hits: self.shared.hits.load(Ordering::Relaxed),
            misses: self.shared.misses.load(Ordering::Relaxed),
        }
    }

    /// The number of keys the pool holds when full.
    pub fn capacity(&self) -> usize {
        self.shared.capacity
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Vec<EphemeralX25519>> {
        // A panic while holding the lock cannot leave the Vec inconsistent: keep going.
        self.keys.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn refill_loop(&self) {
        loop {
            {
                let mut keys = self.lock();
                while keys.len() > self.low_water && !self.stop.load(Ordering::Acquire) {
                    keys = self.wake.wait(keys).unwrap_or_else(|e| e.into_inner());
                }
            }
            while !self.stop.load(Ordering::Acquire) && self.lock().len() < self.capacity {
                // Generate outside the lock so `take` never waits for a key generation.
                let Ok(key) = EphemeralX25519::generate() else {
                    break; // RNG failure: `take` still generates inline (and fails loudly).
                };
                self.lock().push(key);
            }
            if self.stop.load(Ordering::Acquire) {
                return;
            }
        }
    }
}

impl Drop for KeyPool {
    fn drop(&mut self) {
        {
            let _keys = self.shared.lock();
            self.shared.stop.store(true, Ordering::Release);
        }
        self.shared.wake.notify_all();
        if let Some(t) = self.refill.take() {
            let _ = t.join();
        }
        // The remaining keys are freed (and wiped by aws-lc-rs) with `shared`.
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn keys_are_never_handed_out_twice_and_the_pool_refills() {
        let pool = KeyPool::start(8).unwrap();
        let mut seen = HashSet::new();
        for _ in 0..200 {
            let k = pool.take().unwrap();
            assert!(seen.insert(*k.public_key()), "a key was handed out twice");
        }
        let s = pool.stats();
        assert_eq!(s.hits + s.misses, 200);
        // The pool refills only once it falls to its low-water mark: drain it and take one
        // more (a miss wakes the refill thread), then wait for the refill to complete.
        // (Regression: waiting for a full pool right after the takes hung whenever the takes
        // left it above the low-water mark, where the refill thread rightly sleeps.)
        while pool.stats().available > 0 {
            seen.insert(*pool.take().unwrap().public_key());
        }
        let _ = pool.take().unwrap();
        while pool.stats().available < pool.capacity() {
            std::thread::yield_now();
        }
    }

    #[test]
    fn an_empty_pool_still_gives_fresh_keys() {
        let pool = KeyPool::start(1).unwrap();
        let a = pool.take().unwrap();
        let b = pool.take().unwrap();
        assert_ne!(a.public_key(), b.public_key());
    }
}
