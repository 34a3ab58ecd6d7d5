//! Connected apps: a subject's consent sessions, one entry per application.
//!
//! Hydra keeps a consent session per consent (several per client when the user allowed more
//! scopes later, or consented again after a remembered consent expired). People think in apps,
//! so sessions are grouped by client: the scopes are the union of what was granted, and the
//! date is the latest grant.

use time::OffsetDateTime;

use crate::model::{Client, ConsentSession};

/// One application with access to the account.
#[derive(Debug, Clone)]
pub struct ConnectedApp {
    pub client: Client,
    /// Granted scopes, each once, in the order first granted.
    pub scopes: Vec<String>,
    /// Granted access-token audiences (APIs), each once.
    pub audiences: Vec<String>,
    /// The latest grant; `None` when Hydra recorded no time.
    pub granted_at: Option<OffsetDateTime>,
}

/// Groups consent sessions by client id, sorted by the name users see (then by id).
pub fn group(sessions: Vec<ConsentSession>) -> Vec<ConnectedApp> {
    let mut apps: Vec<ConnectedApp> = Vec::new();
    for session in sessions {
        let index = match apps
            .iter()
            .position(|app| app.client.id == session.client.id)
        {
            Some(index) => index,
            None => {
                apps.push(ConnectedApp {
                    client: session.client.clone(),
                    scopes: Vec::new(),
                    audiences: Vec::new(),
                    granted_at: None,
                });
                apps.len() - 1
            }
        };
        let app = &mut apps[index];
        push_new(&mut app.scopes, session.granted_scope);
        push_new(&mut app.audiences, session.granted_audience);
        app.granted_at = app.granted_at.max(session.handled_at);
    }
    apps.sort_by(|a, b| {
        let name = |app: &ConnectedApp| app.client.display_name().to_lowercase();
        name(a)
            .cmp(&name(b))
            .then_with(|| a.client.id.cmp(&b.client.id))
    });
    apps
}

/// The app for `client_id` among `apps`: a posted client id only ever selects one of the
/// subject's own apps.
pub fn find<'a>(apps: &'a [ConnectedApp], client_id: &str) -> Option<&'a ConnectedApp> {
    apps.iter().find(|app| app.client.id == client_id)
}

fn push_new(into: &mut Vec<String>, values: Vec<String>) {
    for value in values {
        if !into.contains(&value) {
            into.push(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn session(
        id: &str,
        name: &str,
        scopes: &[&str],
        at: Option<OffsetDateTime>,
    ) -> ConsentSession {
        ConsentSession {
            client: Client {
                id: id.into(),
                name: Some(name.into()),
                ..Client::default()
            },
            granted_scope: scopes.iter().map(|s| (*s).to_owned()).collect(),
            granted_audience: Vec::new(),
            remembered: true,
            handled_at: at,
        }
    }

    #[test]
    fn sessions_of_one_client_become_one_app_with_every_scope_and_the_latest_date() {
        let apps = group(vec![
            session(
                "photos",
                "Photos",
                &["openid", "email"],
                Some(datetime!(2026-01-02 03:04 UTC)),
            ),
            session(
                "photos",
                "Photos",
                &["openid", "profile"],
                Some(datetime!(2026-03-01 00:00 UTC)),
            ),
            session("photos", "Photos", &["email"], None),
        ]);
        assert_eq!(apps.len(), 1);
        assert_eq!(apps[0].scopes, ["openid", "email", "profile"]);
        assert_eq!(apps[0].granted_at, Some(datetime!(2026-03-01 00:00 UTC)));
    }

    #[test]
    fn apps_are_sorted_by_name_regardless_of_case() {
        let apps = group(vec![
            session("z", "zebra", &[], None),
            session("a", "Aardvark", &[], None),
            session("m", "mole", &[], None),
        ]);
        let ids: Vec<&str> = apps.iter().map(|app| app.client.id.as_str()).collect();
        assert_eq!(ids, ["a", "m", "z"]);
    }

    #[test]
    fn find_selects_only_among_the_given_apps() {
        let apps = group(vec![session("photos", "Photos", &[], None)]);
        assert!(find(&apps, "photos").is_some());
        assert!(find(&apps, "someone-elses-app").is_none());
        assert!(find(&apps, "").is_none());
    }
}
