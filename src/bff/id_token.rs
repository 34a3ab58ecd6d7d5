//! ID token validation (OpenID Connect Core §3.1.3.7): the JWS signature against Hydra's JSON
//! Web Key Set, then `iss`, `aud`/`azp`, `exp`, `iat` and `nonce`.
//!
//! Signatures are checked with `ring`, which rustls already brings into the build. Only
//! asymmetric algorithms Hydra signs with are accepted, RS256 (its default) and ES256, and an
//! algorithm is only ever checked with a key of its own type: a token cannot pick `none`, an
//! HMAC, or another key type (RFC 8725 §2.1, §3.1). Claims are read by hand with their JSON
//! types checked, so a string `exp` is an error, never an absent claim.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::sync::{Mutex, RwLock};

use crate::bff::oidc::{Hydra, Token};
use crate::ory::UpstreamError;

/// Clock difference tolerated between Hydra and the BFF.
const LEEWAY_SECONDS: i64 = 60;
/// Keys are fetched again after this long, so a removed key stops being trusted.
const KEYS_MAX_AGE: Duration = Duration::from_secs(3600);
/// An unknown `kid` triggers a new fetch at most this often (key rotation, not a DoS lever).
const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(30);

/// Why an ID token was refused.
#[derive(Debug, thiserror::Error)]
pub enum IdTokenError {
    #[error("the token is not a signed JWT: {0}")]
    Malformed(&'static str),
    #[error("the signing algorithm {0:?} is not accepted")]
    UnsupportedAlgorithm(String),
    #[error("no key in Hydra's JWKS matches the token")]
    UnknownKey,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the issuer is not Hydra's")]
    WrongIssuer,
    #[error("the token was issued to another client")]
    WrongAudience,
    #[error("the token has expired")]
    Expired,
    #[error("the token was issued in the future")]
    IssuedInFuture,
    #[error("the nonce does not match this sign-in")]
    WrongNonce,
    #[error("Hydra's keys could not be loaded: {0}")]
    Keys(#[from] UpstreamError),
}

/// The JWS algorithms accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Rs256,
    Es256,
}

impl Algorithm {
    fn parse(name: &str) -> Option<Algorithm> {
        match name {
            "RS256" => Some(Algorithm::Rs256),
            "ES256" => Some(Algorithm::Es256),
            _ => None,
        }
    }
}

/// A public key from the JWKS, usable with exactly one algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyingKey {
    pub kid: Option<String>,
    pub algorithm: Algorithm,
    material: KeyMaterial,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyMaterial {
    /// Modulus and exponent, big-endian without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// An uncompressed P-256 point: `04 || x || y`.
    P256(Vec<u8>),
}

impl VerifyingKey {
    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.material {
            KeyMaterial::Rsa { n, e } => RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, signature)
                .is_ok(),
            KeyMaterial::P256(point) => {
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, signature)
                    .is_ok()
            }
        }
    }
}

/// The signing keys in a JWKS document. Keys the BFF cannot use (encryption keys, other
/// algorithms or curves, malformed values) are skipped, not fatal: Hydra may publish more than
/// its ID-token key.
pub fn parse_jwks(body: &[u8]) -> Result<Vec<VerifyingKey>, String> {
    #[derive(Deserialize)]
    struct Jwks {
        keys: Vec<Value>,
    }
    let jwks: Jwks = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    Ok(jwks.keys.iter().filter_map(parse_jwk).collect())
}

fn parse_jwk(jwk: &Value) -> Option<VerifyingKey> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    let bytes = |name: &str| text(name).and_then(|v| URL_SAFE_NO_PAD.decode(v).ok());
    if text("use").is_some_and(|usage| usage != "sig") {
        return None;
    }
    let kid = text("kid").map(str::to_owned);
    let (algorithm, material) = match text("kty")? {
        "RSA" => {
            let n = strip_leading_zeros(bytes("n")?);
            let e = strip_leading_zeros(bytes("e")?);
            (Algorithm::Rs256, KeyMaterial::Rsa { n, e })
        }
        "EC" if text("crv") == Some("P-256") => {
            let (x, y) = (bytes("x")?, bytes("y")?);
            if x.len() != 32 || y.len() != 32 {
                return None;
            }
            let mut point = Vec::with_capacity(65);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            (Algorithm::Es256, KeyMaterial::P256(point))
        }
        _ => return None,
    };
    if text("alg").is_some_and(|alg| Algorithm::parse(alg) != Some(algorithm)) {
        return None;
    }
    Some(VerifyingKey {
        kid,
        algorithm,
        material,
    })
}

fn strip_leading_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    bytes.drain(..zeros);
    bytes
}

/// Checks the compact JWS `token` against `keys` and returns its claims, unchecked.
pub fn verify_signature(
    token: &str,
    keys: &[VerifyingKey],
) -> Result<Map<String, Value>, IdTokenError> {
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(IdTokenError::Malformed("not three dot-separated parts"));
    };
    let header: Map<String, Value> = decode_json(header_b64)?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(IdTokenError::Malformed("no alg in the header"))?;
    let algorithm =
        Algorithm::parse(alg).ok_or_else(|| IdTokenError::UnsupportedAlgorithm(alg.to_owned()))?;
    // RFC 7515 §4.1.11: extensions the recipient does not understand make the JWS invalid.
    if header.contains_key("crit") {
        return Err(IdTokenError::Malformed("critical header extensions"));
    }
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.as_str()),
        Some(_) => return Err(IdTokenError::Malformed("kid is not a string")),
    };
    let signature = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .map_err(|_| IdTokenError::Malformed("the signature is not base64url"))?;
    let message = &token.as_bytes()[..header_b64.len() + 1 + payload_b64.len()];
    let mut candidates = keys
        .iter()
        .filter(|key| key.algorithm == algorithm)
        .filter(|key| kid.is_none() || key.kid.as_deref() == kid)
        .peekable();
    if candidates.peek().is_none() {
        return Err(IdTokenError::UnknownKey);
    }
    if !candidates.any(|key| key.verify(message, &signature)) {
        return Err(IdTokenError::BadSignature);
    }
    decode_json(payload_b64)
}

fn decode_json(part: &str) -> Result<Map<String, Value>, IdTokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| IdTokenError::Malformed("a part is not base64url"))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| IdTokenError::Malformed("a part is not a JSON object"))
}

/// What the ID token must say.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// The sign-in's nonce; `None` for a refresh, whose ID token need not carry one.
    pub nonce: Option<&'a str>,
    /// Seconds since the Unix epoch.
    pub now: i64,
}

/// Who signed in, from the ID token's claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub subject: String,
    pub email: Option<String>,
    pub name: Option<String>,
}

/// Checks the claims of a verified token (OpenID Connect Core §3.1.3.7 steps 2–11).
pub fn check_claims(
    claims: &Map<String, Value>,
    expected: &Expected<'_>,
) -> Result<Identity, IdTokenError> {
    let string = |name: &'static str| match claims.get(name) {
        Some(Value::String(value)) => Ok(Some(value.as_str())),
        None => Ok(None),
        Some(_) => Err(IdTokenError::Malformed("a claim has the wrong type")),
    };
    let integer = |name: &'static str| {
        claims
            .get(name)
            .and_then(Value::as_i64)
            .ok_or(IdTokenError::Malformed(
                "exp or iat is missing or not an integer",
            ))
    };
    let issuer = string("iss")?.ok_or(IdTokenError::WrongIssuer)?;
    if issuer.trim_end_matches('/') != expected.issuer.trim_end_matches('/') {
        return Err(IdTokenError::WrongIssuer);
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => return Err(IdTokenError::WrongAudience),
    };
    if !audiences.contains(&expected.client_id) {
        return Err(IdTokenError::WrongAudience);
    }
    match string("azp")? {
        Some(azp) if azp != expected.client_id => return Err(IdTokenError::WrongAudience),
        None if audiences.len() > 1 => return Err(IdTokenError::WrongAudience),
        _ => {}
    }
    if integer("exp")? <= expected.now - LEEWAY_SECONDS {
        return Err(IdTokenError::Expired);
    }
    if integer("iat")? > expected.now + LEEWAY_SECONDS {
        return Err(IdTokenError::IssuedInFuture);
    }
    let nonce = string("nonce")?;
    if let Some(wanted) = expected.nonce {
        if nonce != Some(wanted) {
            return Err(IdTokenError::WrongNonce);
        }
    }
    let subject = string("sub")?
        .filter(|sub| !sub.is_empty())
        .ok_or(IdTokenError::Malformed("no subject"))?;
    let name = match string("name")? {
        Some(name) => Some(name.to_owned()),
        None => {
            let parts: Vec<&str> = [string("given_name")?, string("family_name")?]
                .into_iter()
                .flatten()
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        }
    };
    Ok(Identity {
        subject: subject.to_owned(),
        email: string("email")?.map(str::to_owned),
        name,
    })
}

struct KeyCache {
    keys: Arc<Vec<VerifyingKey>>,
    fetched_at: Option<Instant>,
}

/// Validates ID tokens with Hydra's keys, fetched on first use, hourly, and when a token names
/// a key the BFF has not seen (key rotation).
pub struct IdTokenVerifier {
    issuer: String,
    client_id: String,
    cache: RwLock<KeyCache>,
    /// One fetch at a time.
    fetching: Mutex<()>,
}

impl IdTokenVerifier {
    pub fn new(issuer: &str, client_id: &str) -> Self {
        IdTokenVerifier {
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
            cache: RwLock::new(KeyCache {
                keys: Arc::new(Vec::new()),
                fetched_at: None,
            }),
            fetching: Mutex::new(()),
        }
    }

    /// Validates `token`; `nonce` is the sign-in's, or `None` after a refresh.
    pub async fn validate(
        &self,
        hydra: &Hydra,
        token: &Token,
        nonce: Option<&str>,
        now: i64,
    ) -> Result<Identity, IdTokenError> {
        let keys = self
            .keys(hydra, |age| age.is_none_or(|age| age > KEYS_MAX_AGE))
            .await?;
        let claims = match verify_signature(token.expose(), &keys) {
            Err(IdTokenError::UnknownKey) => {
                let keys = self
                    .keys(hydra, |age| {
                        age.is_none_or(|age| age > MIN_REFETCH_INTERVAL)
                    })
                    .await?;
                verify_signature(token.expose(), &keys)?
            }
            other => other?,
        };
        let expected = Expected {
            issuer: &self.issuer,
            client_id: &self.client_id,
            nonce,
            now,
        };
        check_claims(&claims, &expected)
    }

    /// The cached keys, fetched first when `stale(age of the cache)` says so.
    async fn keys(
        &self,
        hydra: &Hydra,
        stale: impl Fn(Option<Duration>) -> bool,
    ) -> Result<Arc<Vec<VerifyingKey>>, IdTokenError> {
        let age = |cache: &KeyCache| cache.fetched_at.map(|at| at.elapsed());
        {
            let cache = self.cache.read().await;
            if !stale(age(&cache)) {
                return Ok(cache.keys.clone());
            }
        }
        let _fetching = self.fetching.lock().await;
        // Another request may have fetched while this one waited.
        {
            let cache = self.cache.read().await;
            if !stale(age(&cache)) {
                return Ok(cache.keys.clone());
            }
        }
        let body = hydra.jwks().await?;
        let keys = parse_jwks(&body).map_err(|e| {
            UpstreamError::malformed(crate::ory::Service::HydraPublic, format!("JWKS: {e}"))
        })?;
        if keys.is_empty() {
            tracing::warn!("Hydra's JWKS has no RS256 or ES256 signing key");
        }
        let keys = Arc::new(keys);
        let mut cache = self.cache.write().await;
        *cache = KeyCache {
            keys: keys.clone(),
            fetched_at: Some(Instant::now()),
        };
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, KeyPair, RsaKeyPair};
    use serde_json::json;

    /// The RSA test key the fake Hydra signs with (test-only, never used outside tests).
    const RSA_PKCS8: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/fake-hydra-rs256.pk8"
    ));

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    type SignFn = Box<dyn Fn(&[u8]) -> Vec<u8>>;

    struct Signer {
        jwk: Value,
        sign: SignFn,
        alg: &'static str,
        kid: &'static str,
    }

    fn rsa_signer(kid: &'static str) -> Signer {
        let pair = RsaKeyPair::from_pkcs8(RSA_PKCS8).unwrap();
        let public = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
        Signer {
            jwk: json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": b64(&public.n), "e": b64(&public.e)}),
            sign: Box::new(move |message| {
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    message,
                    &mut signature,
                )
                .unwrap();
                signature
            }),
            alg: "RS256",
            kid,
        }
    }

    fn ec_signer(kid: &'static str) -> Signer {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            pkcs8.as_ref(),
            &rng,
        )
        .unwrap();
        let point = pair.public_key().as_ref().to_vec();
        Signer {
            jwk: json!({"kty": "EC", "crv": "P-256", "kid": kid, "x": b64(&point[1..33]), "y": b64(&point[33..])}),
            sign: Box::new(move |message| {
                pair.sign(&SystemRandom::new(), message)
                    .unwrap()
                    .as_ref()
                    .to_vec()
            }),
            alg: "ES256",
            kid,
        }
    }

    impl Signer {
        fn token(&self, claims: &Value) -> String {
            self.token_with_header(
                &json!({"alg": self.alg, "kid": self.kid, "typ": "JWT"}),
                claims,
            )
        }

        fn token_with_header(&self, header: &Value, claims: &Value) -> String {
            let signing_input = format!(
                "{}.{}",
                b64(header.to_string().as_bytes()),
                b64(claims.to_string().as_bytes())
            );
            let signature = (self.sign)(signing_input.as_bytes());
            format!("{signing_input}.{}", b64(&signature))
        }

        fn keys(&self) -> Vec<VerifyingKey> {
            parse_jwks(json!({"keys": [self.jwk]}).to_string().as_bytes()).unwrap()
        }
    }

    const NOW: i64 = 1_800_000_000;

    fn claims() -> Value {
        json!({
            "iss": "https://auth.example.com/",
            "sub": "ada",
            "aud": ["bff"],
            "exp": NOW + 3600,
            "iat": NOW,
            "nonce": "n-1",
            "email": "ada@example.com",
            "given_name": "Ada",
            "family_name": "Lovelace",
        })
    }

    fn expected() -> Expected<'static> {
        Expected {
            issuer: "https://auth.example.com",
            client_id: "bff",
            nonce: Some("n-1"),
            now: NOW,
        }
    }

    fn validate(
        token: &str,
        keys: &[VerifyingKey],
        expected: &Expected,
    ) -> Result<Identity, IdTokenError> {
        check_claims(&verify_signature(token, keys)?, expected)
    }

    #[test]
    fn an_rs256_token_from_hydra_is_accepted() {
        let signer = rsa_signer("k1");
        let identity = validate(&signer.token(&claims()), &signer.keys(), &expected()).unwrap();
        assert_eq!(
            identity,
            Identity {
                subject: "ada".into(),
                email: Some("ada@example.com".into()),
                name: Some("Ada Lovelace".into()),
            }
        );
    }

    #[test]
    fn an_es256_token_is_accepted() {
        let signer = ec_signer("ec1");
        let mut claims = claims();
        claims["name"] = json!("Countess Lovelace");
        let identity = validate(&signer.token(&claims), &signer.keys(), &expected()).unwrap();
        assert_eq!(identity.name.as_deref(), Some("Countess Lovelace"));
    }

    #[test]
    fn a_changed_payload_or_signature_does_not_verify() {
        let signer = rsa_signer("k1");
        let token = signer.token(&claims());
        let parts: Vec<&str> = token.split('.').collect();
        let mut forged = claims();
        forged["sub"] = json!("mallory");
        let swapped = format!(
            "{}.{}.{}",
            parts[0],
            b64(forged.to_string().as_bytes()),
            parts[2]
        );
        assert!(matches!(
            validate(&swapped, &signer.keys(), &expected()),
            Err(IdTokenError::BadSignature)
        ));
        let mut signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        signature[10] ^= 1;
        let flipped = format!("{}.{}.{}", parts[0], parts[1], b64(&signature));
        assert!(matches!(
            validate(&flipped, &signer.keys(), &expected()),
            Err(IdTokenError::BadSignature)
        ));
    }

    #[test]
    fn a_token_signed_by_a_key_hydra_does_not_publish_is_refused() {
        let hydra = rsa_signer("k1");
        let rogue = ec_signer("k1");
        assert!(matches!(
            validate(&rogue.token(&claims()), &hydra.keys(), &expected()),
            Err(IdTokenError::UnknownKey)
        ));
        let other_ec = ec_signer("ec");
        let rogue_same_kid = ec_signer("ec");
        assert!(matches!(
            validate(
                &rogue_same_kid.token(&claims()),
                &other_ec.keys(),
                &expected()
            ),
            Err(IdTokenError::BadSignature)
        ));
    }

    #[test]
    fn none_hmac_and_unknown_algorithms_are_refused_before_any_key_is_tried() {
        let signer = rsa_signer("k1");
        for alg in ["none", "HS256", "RS512", "PS256", "ES384"] {
            let token = signer.token_with_header(&json!({"alg": alg, "kid": "k1"}), &claims());
            assert!(
                matches!(validate(&token, &signer.keys(), &expected()), Err(IdTokenError::UnsupportedAlgorithm(a)) if a == alg),
                "{alg}"
            );
        }
        let unsigned = format!(
            "{}.{}.",
            b64(br#"{"alg":"none"}"#),
            b64(claims().to_string().as_bytes())
        );
        assert!(validate(&unsigned, &signer.keys(), &expected()).is_err());
    }

    #[test]
    fn an_rsa_token_is_never_checked_with_an_ec_key_or_the_other_way_round() {
        let rsa = rsa_signer("shared");
        let ec = ec_signer("shared");
        // The header says ES256 but the signature is RSA: only EC keys are candidates.
        let token = rsa.token_with_header(&json!({"alg": "ES256", "kid": "shared"}), &claims());
        let mut keys = rsa.keys();
        keys.extend(ec.keys());
        assert!(matches!(
            validate(&token, &keys, &expected()),
            Err(IdTokenError::BadSignature)
        ));
    }

    #[test]
    fn critical_extensions_and_jwe_shapes_are_malformed() {
        let signer = rsa_signer("k1");
        let token = signer.token_with_header(
            &json!({"alg": "RS256", "kid": "k1", "crit": ["exp"]}),
            &claims(),
        );
        assert!(matches!(
            validate(&token, &signer.keys(), &expected()),
            Err(IdTokenError::Malformed(_))
        ));
        assert!(matches!(
            validate("a.b.c.d.e", &signer.keys(), &expected()),
            Err(IdTokenError::Malformed(_))
        ));
        assert!(matches!(
            validate("garbage", &signer.keys(), &expected()),
            Err(IdTokenError::Malformed(_))
        ));
    }

    #[test]
    fn each_claim_is_checked() {
        let signer = rsa_signer("k1");
        let keys = signer.keys();
        let refused = |patch: Value| {
            let mut claims = claims();
            for (key, value) in patch.as_object().unwrap() {
                if value.is_null() {
                    claims.as_object_mut().unwrap().remove(key);
                } else {
                    claims[key] = value.clone();
                }
            }
            validate(&signer.token(&claims), &keys, &expected()).unwrap_err()
        };
        assert!(matches!(
            refused(json!({"iss": "https://evil.example.com"})),
            IdTokenError::WrongIssuer
        ));
        assert!(matches!(
            refused(json!({"iss": null})),
            IdTokenError::WrongIssuer
        ));
        assert!(matches!(
            refused(json!({"aud": "other"})),
            IdTokenError::WrongAudience
        ));
        assert!(matches!(
            refused(json!({"aud": ["bff", "other"]})),
            IdTokenError::WrongAudience
        ));
        assert!(matches!(
            refused(json!({"azp": "other"})),
            IdTokenError::WrongAudience
        ));
        assert!(matches!(
            refused(json!({"exp": NOW - 61})),
            IdTokenError::Expired
        ));
        assert!(matches!(
            refused(json!({"exp": "99999999999"})),
            IdTokenError::Malformed(_)
        ));
        assert!(matches!(
            refused(json!({"exp": null})),
            IdTokenError::Malformed(_)
        ));
        assert!(matches!(
            refused(json!({"iat": NOW + 120})),
            IdTokenError::IssuedInFuture
        ));
        assert!(matches!(
            refused(json!({"nonce": "n-2"})),
            IdTokenError::WrongNonce
        ));
        assert!(matches!(
            refused(json!({"nonce": null})),
            IdTokenError::WrongNonce
        ));
        assert!(matches!(
            refused(json!({"nonce": 7})),
            IdTokenError::Malformed(_)
        ));
        assert!(matches!(
            refused(json!({"sub": ""})),
            IdTokenError::Malformed(_)
        ));
    }

    #[test]
    fn several_audiences_are_fine_when_azp_names_this_client() {
        let signer = rsa_signer("k1");
        let mut claims = claims();
        claims["aud"] = json!(["bff", "https://api.example.com"]);
        claims["azp"] = json!("bff");
        assert!(validate(&signer.token(&claims), &signer.keys(), &expected()).is_ok());
    }

    #[test]
    fn a_refreshed_token_needs_no_nonce() {
        let signer = rsa_signer("k1");
        let mut claims = claims();
        claims.as_object_mut().unwrap().remove("nonce");
        let expected = Expected {
            nonce: None,
            ..expected()
        };
        assert!(validate(&signer.token(&claims), &signer.keys(), &expected).is_ok());
    }

    #[test]
    fn unusable_keys_in_the_jwks_are_skipped() {
        let rsa = rsa_signer("k1");
        let ec = ec_signer("ec");
        let jwks = json!({"keys": [
            {"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "oct", "k": "c2VjcmV0"},
            {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"},
            {"kty": "RSA", "alg": "RS512", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "n": "not base64!"},
            rsa.jwk,
            ec.jwk,
        ]});
        let keys = parse_jwks(jwks.to_string().as_bytes()).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].algorithm, Algorithm::Rs256);
        assert_eq!(keys[1].algorithm, Algorithm::Es256);
        assert!(parse_jwks(b"{}").is_err());
    }
}
