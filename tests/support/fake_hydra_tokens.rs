//! The token side of the fake Hydra public API, as Hydra (fosite) behaves by default:
//! - ID tokens signed RS256 with a key published at `/.well-known/jwks.json`;
//! - refresh tokens that rotate on every use; presenting one that was already used is taken as
//!   theft: the whole chain (every refresh and access token descended from the same code) is
//!   revoked and the request fails with `invalid_grant` (no grace period, Hydra's default);
//! - revocation (RFC 7009) of refresh tokens (with their chain) and access tokens.
//!
//! Tests can make tokens short-lived, slow down refreshes and tamper with ID tokens.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, RsaKeyPair, RsaPublicKeyComponents};
use serde_json::{json, Value};

use super::fake_hydra::{lock, random_b64url};

/// The fake's RSA signing key: a test-only key, generated for these tests. It stays at this
/// path because Hera's own unit tests (`src/bff/id_token.rs`) read it too.
const RSA_PKCS8: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/support/fake-hydra-rs256.pk8"
));
/// The `kid` of that key in the JWKS.
pub const KID: &str = "fake-hydra-rs256";
/// Access-token lifetime unless a test changes it (Hydra's `ttl.access_token` is 1h).
pub const DEFAULT_ACCESS_TTL: i64 = 3599;

/// How the next ID tokens are spoiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tamper {
    None,
    /// A valid header and payload with a flipped bit in the signature.
    Signature,
    /// Signed ES256 by a key that is not in the JWKS.
    UnpublishedKey,
    Nonce(String),
    Audience(String),
    Issuer(String),
    /// `exp` an hour ago.
    Expired,
}

/// Why a refresh was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum RefreshRefusal {
    /// Unknown, revoked, or issued to another client.
    Invalid,
    /// Used before: the chain is now revoked.
    Reused,
}

#[derive(Debug)]
struct Chain {
    client_id: String,
    revoked: bool,
}

#[derive(Debug)]
struct RefreshRecord {
    chain: usize,
    used: bool,
}

#[derive(Debug)]
struct AccessRecord {
    chain: Option<usize>,
    client_id: String,
    expires_at: i64,
    revoked: bool,
}

#[derive(Debug)]
struct State {
    chains: Vec<Chain>,
    refresh: HashMap<String, RefreshRecord>,
    access: HashMap<String, AccessRecord>,
    access_ttl: i64,
    tamper: Tamper,
    refresh_latency: Duration,
    refresh_grants: usize,
    reuse_detected: usize,
    revocations: usize,
}

/// Signing keys and the token registry.
pub struct TokenIssuer {
    rsa: RsaKeyPair,
    rogue: EcdsaKeyPair,
    state: Mutex<State>,
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl TokenIssuer {
    pub fn new() -> TokenIssuer {
        let rng = SystemRandom::new();
        let rogue_pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .expect("generate an EC key");
        TokenIssuer {
            rsa: RsaKeyPair::from_pkcs8(RSA_PKCS8).expect("the fake's RSA key"),
            rogue: EcdsaKeyPair::from_pkcs8(
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                rogue_pkcs8.as_ref(),
                &rng,
            )
            .expect("the rogue EC key"),
            state: Mutex::new(State {
                chains: Vec::new(),
                refresh: HashMap::new(),
                access: HashMap::new(),
                access_ttl: DEFAULT_ACCESS_TTL,
                tamper: Tamper::None,
                refresh_latency: Duration::ZERO,
                refresh_grants: 0,
                reuse_detected: 0,
                revocations: 0,
            }),
        }
    }

    /// The JWKS document: the RSA public key only.
    pub fn jwks(&self) -> Value {
        let public = RsaPublicKeyComponents::<Vec<u8>>::from(self.rsa.public());
        json!({"keys": [{
            "kty": "RSA",
            "kid": KID,
            "alg": "RS256",
            "use": "sig",
            "n": b64(&public.n),
            "e": b64(&public.e),
        }]})
    }

    /// Signs `claims` as an ID token, spoiled as the test asked.
    pub fn id_token(&self, mut claims: Value) -> String {
        let tamper = lock(&self.state).tamper.clone();
        match &tamper {
            Tamper::Nonce(nonce) => claims["nonce"] = json!(nonce),
            Tamper::Audience(aud) => claims["aud"] = json!([aud]),
            Tamper::Issuer(iss) => claims["iss"] = json!(iss),
            Tamper::Expired => {
                claims["exp"] = json!(now() - 3600);
                claims["iat"] = json!(now() - 7200);
            }
            _ => {}
        }
        let rng = SystemRandom::new();
        let rogue = tamper == Tamper::UnpublishedKey;
        let header = if rogue {
            json!({"alg": "ES256", "kid": "rogue", "typ": "JWT"})
        } else {
            json!({"alg": "RS256", "kid": KID, "typ": "JWT"})
        };
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let mut signature = if rogue {
            self.rogue
                .sign(&rng, input.as_bytes())
                .expect("sign")
                .as_ref()
                .to_vec()
        } else {
            let mut signature = vec![0; self.rsa.public().modulus_len()];
            self.rsa
                .sign(
                    &signature::RSA_PKCS1_SHA256,
                    &rng,
                    input.as_bytes(),
                    &mut signature,
                )
                .expect("sign");
            signature
        };
        if tamper == Tamper::Signature {
            signature[7] ^= 0x01;
        }
        format!("{input}.{}", b64(&signature))
    }

    /// A new refresh-token chain for one authorization code; returns it and its first token.
    pub fn new_chain(&self, client_id: &str) -> (usize, String) {
        let mut state = lock(&self.state);
        state.chains.push(Chain {
            client_id: client_id.to_owned(),
            revoked: false,
        });
        let chain = state.chains.len() - 1;
        let token = format!("ory_rt_{}", random_b64url(32));
        state
            .refresh
            .insert(token.clone(), RefreshRecord { chain, used: false });
        (chain, token)
    }

    /// A new access token (in `chain`, if it has one) and its lifetime in seconds.
    pub fn issue_access(&self, client_id: &str, chain: Option<usize>) -> (String, i64) {
        let mut state = lock(&self.state);
        let token = format!("ory_at_{}", random_b64url(32));
        let ttl = state.access_ttl;
        state.access.insert(
            token.clone(),
            AccessRecord {
                chain,
                client_id: client_id.to_owned(),
                expires_at: now() + ttl,
                revoked: false,
            },
        );
        (token, ttl)
    }

    /// Uses a refresh token: the old one is spent, a new one in the same chain is returned.
    pub fn rotate(&self, client_id: &str, token: &str) -> Result<(usize, String), RefreshRefusal> {
        let mut state = lock(&self.state);
        state.refresh_grants += 1;
        let Some(record) = state.refresh.get(token) else {
            return Err(RefreshRefusal::Invalid);
        };
        let (chain, used) = (record.chain, record.used);
        if state.chains[chain].client_id != client_id || state.chains[chain].revoked {
            return Err(RefreshRefusal::Invalid);
        }
        if used {
            state.reuse_detected += 1;
            revoke_chain(&mut state, chain);
            return Err(RefreshRefusal::Reused);
        }
        if let Some(record) = state.refresh.get_mut(token) {
            record.used = true;
        }
        let next = format!("ory_rt_{}", random_b64url(32));
        state
            .refresh
            .insert(next.clone(), RefreshRecord { chain, used: false });
        Ok((chain, next))
    }

    /// RFC 7009: revokes a refresh token's chain, or one access token. Unknown tokens and
    /// other clients' tokens are ignored (the answer is 200 either way).
    pub fn revoke(&self, client_id: &str, token: &str) {
        let mut state = lock(&self.state);
        state.revocations += 1;
        if let Some(chain) = state.refresh.get(token).map(|record| record.chain) {
            if state.chains[chain].client_id == client_id {
                revoke_chain(&mut state, chain);
            }
            return;
        }
        if let Some(record) = state.access.get_mut(token) {
            if record.client_id == client_id {
                record.revoked = true;
            }
        }
    }

    /// True for a known, unexpired, unrevoked access token.
    pub fn access_token_is_active(&self, token: &str) -> bool {
        let state = lock(&self.state);
        state.access.get(token).is_some_and(|record| {
            !record.revoked
                && record.expires_at > now()
                && record
                    .chain
                    .is_none_or(|chain| !state.chains[chain].revoked)
        })
    }

    /// True when the chain `token` (refresh or access) belongs to was revoked, for reuse or by
    /// revocation.
    pub fn chain_revoked(&self, token: &str) -> bool {
        let state = lock(&self.state);
        let chain = state
            .refresh
            .get(token)
            .map(|record| record.chain)
            .or_else(|| state.access.get(token).and_then(|record| record.chain));
        chain.is_some_and(|chain| state.chains[chain].revoked)
    }

    pub fn set_access_ttl(&self, seconds: i64) {
        lock(&self.state).access_ttl = seconds;
    }

    pub fn set_tamper(&self, tamper: Tamper) {
        lock(&self.state).tamper = tamper;
    }

    pub fn set_refresh_latency(&self, latency: Duration) {
        lock(&self.state).refresh_latency = latency;
    }

    pub fn refresh_latency(&self) -> Duration {
        lock(&self.state).refresh_latency
    }

    /// Refresh-token grants received (successful or not).
    pub fn refresh_grants(&self) -> usize {
        lock(&self.state).refresh_grants
    }

    /// Refresh tokens presented a second time.
    pub fn reuse_detected(&self) -> usize {
        lock(&self.state).reuse_detected
    }

    /// Revocation requests received.
    pub fn revocations(&self) -> usize {
        lock(&self.state).revocations
    }
}

fn revoke_chain(state: &mut State, chain: usize) {
    state.chains[chain].revoked = true;
}
