//! The event history: transitions the poller saw and registrations, filtered and paged by id.

use super::{rfc3339, Db};
use crate::api::{Event, EventPage};
use crate::error::Result;
use sqlx::{QueryBuilder, Sqlite, Transaction};

/// An event about to be recorded.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub time: i64,
    pub cluster: Option<&'a str>,
    pub node: Option<&'a str>,
    pub drive: Option<&'a str>,
    pub kind: &'a str,
    pub message: &'a str,
    pub details: serde_json::Value,
}

/// `GET /v1/events` filters (all optional; times in unix milliseconds).
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub cluster: Option<String>,
    pub node: Option<String>,
    pub kind: Option<String>,
    pub since_millis: Option<i64>,
    pub until_millis: Option<i64>,
    pub after: Option<i64>,
    pub limit: u32,
}

pub(super) async fn insert_event(tx: &mut Transaction<'_, Sqlite>, e: &NewEvent<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO events (time, cluster, node, drive, kind, message, details) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(e.time)
    .bind(e.cluster)
    .bind(e.node)
    .bind(e.drive)
    .bind(e.kind)
    .bind(e.message)
    .bind(e.details.to_string())
    .execute(&mut **tx)
    .await?;
    crate::metrics::event_recorded(e.kind);
    Ok(())
}

type EventRow = (
    i64,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
);

impl Db {
    /// One page of events matching `f`, ascending by id.
    pub async fn events(&self, f: &EventFilter) -> Result<EventPage> {
        let mut q = QueryBuilder::<Sqlite>::new(
            "SELECT id, time, cluster, node, drive, kind, message, details FROM events WHERE 1 = 1",
        );
        if let Some(c) = &f.cluster {
            q.push(" AND cluster = ").push_bind(c.clone());
        }
        if let Some(n) = &f.node {
            q.push(" AND node = ").push_bind(n.clone());
        }
        if let Some(k) = &f.kind {
            q.push(" AND kind = ").push_bind(k.clone());
        }
        if let Some(t) = f.since_millis {
            q.push(" AND time >= ").push_bind(t);
        }
        if let Some(t) = f.until_millis {
            q.push(" AND time < ").push_bind(t);
        }
        if let Some(a) = f.after {
            q.push(" AND id > ").push_bind(a);
        }
        // one more than asked tells whether another page follows
        q.push(" ORDER BY id LIMIT ").push_bind(f.limit as i64 + 1);
        let mut rows: Vec<EventRow> = q.build_query_as().fetch_all(&self.read).await?;
        let more = rows.len() > f.limit as usize;
        rows.truncate(f.limit as usize);
        let events: Vec<Event> = rows
            .into_iter()
            .map(
                |(id, time, cluster, node, drive, kind, message, details)| Event {
                    id,
                    time: rfc3339(time),
                    cluster,
                    node,
                    drive,
                    kind,
                    message,
                    details: serde_json::from_str(&details).unwrap_or(serde_json::Value::Null),
                },
            )
            .collect();
        let next_after = if more {
            events.last().map(|e| e.id)
        } else {
            None
        };
        Ok(EventPage { events, next_after })
    }

    /// Records one event on its own.
    pub async fn record_event(&self, e: &NewEvent<'_>) -> Result<()> {
        let mut tx = self.write.begin().await?;
        insert_event(&mut tx, e).await?;
        tx.commit().await?;
        Ok(())
    }
}
