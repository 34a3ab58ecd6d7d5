//! Hydra's admin API for OAuth2 clients, used by `hera clients`.
//!
//! These calls use reqwest rather than `ory-hydra-client`, for two reasons. The SDK's
//! `list_o_auth2_clients` drops the `Link` header, so it cannot page past the first 250 clients.
//! And its typed `OAuth2Client` reshapes what passes through it (its JSON Web Key model demands
//! `use`, `kid` and `alg`, and drops members it does not know), while a declarative tool must
//! send each file's object as written and compare it with what Hydra really returns. Clients
//! therefore travel as JSON objects.

use serde_json::{Map, Value};
use url::Url;

use super::api::Api;
use super::{Service, UpstreamError};

/// An `OAuth2Client` as JSON.
pub type ClientObject = Map<String, Value>;

/// Largest page Hydra serves (`page_size` 1..=1000).
const PAGE_SIZE: u32 = 1000;

/// More pages than any deployment has; stops a server that keeps answering `rel="next"`.
const MAX_PAGES: usize = 10_000;

const SERVICE: Service = Service::HydraAdmin;

/// A failed client call, classified by what it means for `hera clients`.
#[derive(Debug, thiserror::Error)]
pub enum ClientsError {
    /// 404: Hydra has no client with this id.
    #[error("Hydra has no client with this id")]
    NotFound,
    /// 409 on create: a client with this id exists already.
    #[error("Hydra already has a client with this id")]
    Conflict,
    /// 400: Hydra refused the client's fields; `description` is Hydra's own explanation.
    #[error("Hydra refused the client: {description}")]
    Refused { description: String },
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
}

/// `/admin/clients` on Hydra's admin API.
#[derive(Debug, Clone)]
pub struct HydraClients {
    api: Api,
    collection: Url,
}

impl HydraClients {
    /// `http` should be a client for the admin API ([`super::http_client`] with its headers).
    pub fn new(admin_url: &Url, http: reqwest::Client) -> Result<Self, url::ParseError> {
        let collection = Url::parse(&crate::urls::join(admin_url, "/admin/clients"))?;
        if collection.cannot_be_a_base() {
            return Err(url::ParseError::RelativeUrlWithCannotBeABaseBase);
        }
        Ok(HydraClients {
            api: Api::new(SERVICE, http),
            collection,
        })
    }

    /// `/admin/clients/{id}`, the id percent-encoded as one path segment.
    fn member(&self, id: &str) -> Url {
        let mut url = self.collection.clone();
        // Cannot fail: `new` made sure the collection URL can be a base.
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.push(id);
        }
        url
    }

    /// `GET /admin/clients/{id}`; `None` when Hydra answers 404.
    #[tracing::instrument(name = "hydra.get_client", skip_all, fields(client_id = %id))]
    pub async fn get(&self, id: &str) -> Result<Option<ClientObject>, ClientsError> {
        let response = self
            .api
            .send("get_client", self.api.http().get(self.member(id)))
            .await?;
        match response.status().as_u16() {
            200 => read_json(response).await.map(Some),
            404 => Ok(None),
            status => Err(failure(status, response).await),
        }
    }

    /// `POST /admin/clients`: 201 created; 409 when the id is taken.
    #[tracing::instrument(name = "hydra.create_client", skip_all)]
    pub async fn create(&self, client: &ClientObject) -> Result<(), ClientsError> {
        let response = self
            .api
            .send(
                "create_client",
                self.api.http().post(self.collection.clone()).json(client),
            )
            .await?;
        // The answer echoes the secret; it is dropped unread.
        match response.status().as_u16() {
            201 => Ok(()),
            409 => Err(ClientsError::Conflict),
            status => Err(failure(status, response).await),
        }
    }

    /// `PUT /admin/clients/{id}`: replaces the client; fields missing from `client` are reset to
    /// Hydra's defaults, and a missing `client_secret` keeps the current secret.
    #[tracing::instrument(name = "hydra.replace_client", skip_all, fields(client_id = %id))]
    pub async fn replace(&self, id: &str, client: &ClientObject) -> Result<(), ClientsError> {
        let response = self
            .api
            .send(
                "replace_client",
                self.api.http().put(self.member(id)).json(client),
            )
            .await?;
        match response.status().as_u16() {
            200 => Ok(()),
            404 => Err(ClientsError::NotFound),
            status => Err(failure(status, response).await),
        }
    }

    /// `DELETE /admin/clients/{id}`: 204 deleted; 404 when there is no such client.
    #[tracing::instrument(name = "hydra.delete_client", skip_all, fields(client_id = %id))]
    pub async fn delete(&self, id: &str) -> Result<(), ClientsError> {
        let response = self
            .api
            .send("delete_client", self.api.http().delete(self.member(id)))
            .await?;
        match response.status().as_u16() {
            204 => Ok(()),
            404 => Err(ClientsError::NotFound),
            status => Err(failure(status, response).await),
        }
    }

    /// Every client, following the `rel="next"` page tokens of the `Link` header.
    #[tracing::instrument(name = "hydra.list_clients", skip_all)]
    pub async fn list(&self) -> Result<Vec<ClientObject>, ClientsError> {
        let mut clients = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut url = self.collection.clone();
            url.query_pairs_mut()
                .append_pair("page_size", &PAGE_SIZE.to_string());
            if let Some(token) = &token {
                url.query_pairs_mut().append_pair("page_token", token);
            }
            let response = self
                .api
                .send("list_clients", self.api.http().get(url))
                .await?;
            let status = response.status().as_u16();
            if status != 200 {
                return Err(failure(status, response).await);
            }
            let next = response
                .headers()
                .get(reqwest::header::LINK)
                .and_then(|link| link.to_str().ok())
                .and_then(next_page_token);
            let page: Vec<Value> = response
                .json()
                .await
                .map_err(|e| UpstreamError::from_reqwest(SERVICE, e))?;
            for client in page {
                match client {
                    Value::Object(client) => clients.push(client),
                    _ => {
                        return Err(UpstreamError::malformed(
                            SERVICE,
                            "a listed client is not an object",
                        )
                        .into())
                    }
                }
            }
            match next {
                Some(next) if token.as_ref() != Some(&next) => token = Some(next),
                _ => return Ok(clients),
            }
        }
        Err(UpstreamError::malformed(SERVICE, "the client list never ends").into())
    }
}

async fn read_json(response: reqwest::Response) -> Result<ClientObject, ClientsError> {
    response
        .json::<ClientObject>()
        .await
        .map_err(|e| UpstreamError::from_reqwest(SERVICE, e).into())
}

/// An unexpected answer: 400 carries Hydra's explanation of what it refused (flat OAuth2 error
/// body); anything else is reported by status only.
async fn failure(status: u16, response: reqwest::Response) -> ClientsError {
    if status == 400 {
        #[derive(serde::Deserialize)]
        struct Flat {
            error: Option<String>,
            error_description: Option<String>,
        }
        if let Ok(body) = response.json::<Flat>().await {
            let description = [body.error, body.error_description]
                .into_iter()
                .flatten()
                .filter(|text| !text.is_empty())
                .collect::<Vec<_>>()
                .join(": ");
            let description: String = description.chars().take(500).collect();
            if !description.is_empty() {
                return ClientsError::Refused { description };
            }
        }
    }
    UpstreamError::Status {
        service: SERVICE,
        status,
    }
    .into()
}

/// The `page_token` of the `rel="next"` link in a `Link` header such as
/// `</admin/clients?page_size=2&page_token=abc>; rel="first",</admin/clients?page_size=2&page_token=def>; rel="next"`
/// (ory/x `keysetpagination`). Only the token is taken: Hera builds the next URL itself rather
/// than follow one from a header.
fn next_page_token(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let is_next = params.split(';').any(|param| {
            param
                .trim()
                .strip_prefix("rel=")
                .is_some_and(|rel| rel.trim_matches('"') == "next")
        });
        if !is_next {
            return None;
        }
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let url = Url::parse("http://hydra.invalid/")
            .ok()?
            .join(target)
            .ok()?;
        url.query_pairs()
            .find(|(key, _)| key == "page_token")
            .map(|(_, value)| value.into_owned())
            .filter(|token| !token.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_token_is_read_from_the_link_header() {
        let cases = [
            (
                r#"</admin/clients?page_size=2&page_token=Zmlyc3Q>; rel="first",</admin/clients?page_size=2&page_token=bmV4dA%3D%3D>; rel="next""#,
                Some("bmV4dA=="),
            ),
            (
                r#"<http://hydra:4445/admin/clients?page_token=abc&page_size=2>; rel="next""#,
                Some("abc"),
            ),
            (
                r#"</admin/clients?page_size=2&page_token=Zmlyc3Q>; rel="first""#,
                None,
            ),
            (
                r#"</admin/clients?page_size=2&page_token=>; rel="next""#,
                None,
            ),
            ("", None),
            ("garbage", None),
        ];
        for (header, expected) in cases {
            assert_eq!(next_page_token(header).as_deref(), expected, "{header}");
        }
    }

    #[test]
    fn a_client_id_is_one_percent_encoded_path_segment() {
        let base = Url::parse("http://hydra:4445/prefix").unwrap();
        let clients = HydraClients::new(&base, reqwest::Client::new()).unwrap();
        assert_eq!(
            clients.member("a/b c?d").as_str(),
            "http://hydra:4445/prefix/admin/clients/a%2Fb%20c%3Fd"
        );
    }
}
