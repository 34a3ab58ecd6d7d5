//! The Redis store, shared by every BFF instance: values with a TTL (`SET … PX`) and a
//! per-session lock (`SET … NX PX`, released only by its
//! owner) that makes token refresh single-flight across instances.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, RedisError};

use super::StoreError;
use crate::bff::config::RedisUrl;

/// Deletes the lock only if it still holds this owner's token: a lock that expired and was
/// taken by another instance is never released by the first one.
const UNLOCK_SCRIPT: &str =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/// A connection to Redis that reconnects on its own.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisStore")
    }
}

fn unavailable(error: RedisError) -> StoreError {
    // Redis errors name the command and the server's message, never the URL or values.
    StoreError::Unavailable(error.to_string())
}

impl RedisStore {
    /// Connects (and fails now, not at the first request, if Redis cannot be reached).
    pub async fn connect(url: &RedisUrl, timeout: Duration) -> Result<RedisStore, StoreError> {
        let client = Client::open(url.expose()).map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(2);
        let connection = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(unavailable)?;
        Ok(RedisStore { connection })
    }

    pub async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        redis::cmd("SET")
            .arg(key)
            .arg(value)
            .arg("PX")
            .arg(millis(ttl))
            .query_async::<()>(&mut connection)
            .await
            .map_err(unavailable)
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut connection = self.connection.clone();
        redis::cmd("GET")
            .arg(key)
            .query_async(&mut connection)
            .await
            .map_err(unavailable)
    }

    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        redis::cmd("DEL")
            .arg(key)
            .query_async::<()>(&mut connection)
            .await
            .map_err(unavailable)
    }

    /// Takes the lock `key` for `ttl` unless someone holds it; true when taken.
    pub async fn try_lock(
        &self,
        key: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let mut connection = self.connection.clone();
        let answer: Option<String> = redis::cmd("SET")
            .arg(key)
            .arg(owner)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl))
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(answer.is_some())
    }

    /// Releases the lock if `owner` still holds it.
    pub async fn unlock(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        redis::cmd("EVAL")
            .arg(UNLOCK_SCRIPT)
            .arg(1)
            .arg(key)
            .arg(owner)
            .query_async::<i64>(&mut connection)
            .await
            .map(drop)
            .map_err(unavailable)
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
            .map(drop)
            .map_err(unavailable)
    }
}

fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}
