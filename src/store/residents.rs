//! Residents as staff know them across conversations and channels (issue 12): a resident, and
//! which conversations staff linked to them (at most one resident per conversation). Only
//! staff link, never the bot. A resident lives only while a conversation is linked to them:
//! every write here that can leave one without a conversation removes it in the same
//! transaction, as the retention purge does (no personal data without its record).

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Record, Store, StoreError, Value, from_millis, millis};
use crate::core::ids::{ConversationId, ResidentId, StaffId};

/// Removes every resident no conversation is linked to any more.
pub(super) const REMOVE_UNLINKED_RESIDENTS: &str = "DELETE FROM residents WHERE NOT EXISTS \
     (SELECT 1 FROM resident_links l WHERE l.resident_id = residents.id)";

/// Residents a search reads at most.
const MOST_FOUND: i64 = 50;

/// A resident: the name staff gave, who made the record and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resident {
    pub id: ResidentId,
    pub name: String,
    /// Who made the record, by name.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// A conversation linked to a resident, as their page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedConversation {
    pub conversation: ConversationId,
    pub channel: String,
    /// The last line said in it, either way, if any.
    pub last_activity: Option<DateTime<Utc>>,
    /// Who has taken it over from the bot, by name.
    pub holder: Option<String>,
    /// Who linked it, by name, and when.
    pub linked_by: String,
    pub linked_at: DateTime<Utc>,
}

/// The start of every read of residents, as a literal for `concat!`.
macro_rules! select_residents {
    () => {
        "SELECT r.id, r.name, s.name AS created_by, r.created_at \
         FROM residents r JOIN staff s ON s.id = r.created_by"
    };
}

fn resident(row: &sqlx::any::AnyRow) -> Result<Resident, StoreError> {
    Ok(Resident {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        created_by: row.try_get("created_by")?,
        created_at: from_millis(row.try_get("created_at")?),
    })
}

impl Store {
    /// A resident, if there is one with this id.
    pub async fn resident(&self, id: ResidentId) -> Result<Option<Resident>, StoreError> {
        let sql = concat!(select_residents!(), " WHERE r.id = $1");
        let row = sqlx::query(sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(resident).transpose()
    }

    /// The resident a conversation is linked to, if staff linked it.
    pub async fn resident_of(
        &self,
        conversation: ConversationId,
    ) -> Result<Option<Resident>, StoreError> {
        let sql = concat!(
            select_residents!(),
            " JOIN resident_links l ON l.resident_id = r.id WHERE l.conversation_id = $1"
        );
        let row = sqlx::query(sql)
            .bind(conversation)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(resident).transpose()
    }

    /// The conversations linked to a resident, the most recently active first.
    pub async fn resident_conversations(
        &self,
        id: ResidentId,
    ) -> Result<Vec<LinkedConversation>, StoreError> {
        let rows = sqlx::query(
            "SELECT v.id, v.channel, \
             (SELECT MAX(m.at) FROM messages m WHERE m.conversation_id = v.id) AS last_at, \
             h.name AS holder, s.name AS linked_by, l.linked_at \
             FROM resident_links l JOIN conversations v ON v.id = l.conversation_id \
             JOIN staff s ON s.id = l.linked_by \
             LEFT JOIN claims c ON c.conversation_id = v.id \
             LEFT JOIN staff h ON h.id = c.staff_id \
             WHERE l.resident_id = $1 ORDER BY last_at DESC, v.id DESC",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LinkedConversation {
                    conversation: r.try_get("id")?,
                    channel: r.try_get("channel")?,
                    last_activity: r.try_get::<Option<i64>, _>("last_at")?.map(from_millis),
                    holder: r.try_get("holder")?,
                    linked_by: r.try_get("linked_by")?,
                    linked_at: from_millis(r.try_get("linked_at")?),
                })
            })
            .collect()
    }

    /// Residents whose name contains `typed` (in any case), or with a linked complaint whose
    /// reference contains it, or whose number it is ("12", "R12", "#12"); by name.
    pub async fn find_residents(&self, typed: &str) -> Result<Vec<Resident>, StoreError> {
        let typed = typed.trim();
        if typed.is_empty() {
            return Ok(Vec::new());
        }
        let number = typed
            .trim_start_matches(['R', 'r', '#'])
            .parse::<i64>()
            .unwrap_or(-1);
        // A name's own % and _ are matched as themselves.
        let escaped: String = typed
            .to_lowercase()
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let sql = concat!(
            select_residents!(),
            " WHERE r.id = $1 OR LOWER(r.name) LIKE $2 ESCAPE '\\' OR EXISTS \
             (SELECT 1 FROM resident_links l JOIN cases k ON k.conversation_id = l.conversation_id \
              WHERE l.resident_id = r.id AND LOWER(k.reference) LIKE $2 ESCAPE '\\') \
             ORDER BY LOWER(r.name), r.id LIMIT $3"
        );
        let rows = sqlx::query(sql)
            .bind(number)
            .bind(format!("%{escaped}%"))
            .bind(MOST_FOUND)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(resident).collect()
    }
}

impl Record<'_> {
    /// Makes a resident's record; its id.
    pub async fn add_resident(
        &mut self,
        name: &str,
        by: StaffId,
        now: DateTime<Utc>,
    ) -> Result<ResidentId, StoreError> {
        self.flush().await?;
        let row = sqlx::query(
            "INSERT INTO residents (name, created_by, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(name)
        .bind(by)
        .bind(millis(now))
        .fetch_one(self.conn().await?)
        .await?;
        Ok(row.try_get("id")?)
    }

    /// Links a conversation to a resident, in place of any resident it was linked to (who is
    /// removed if it was their last conversation).
    pub fn link_resident(
        &mut self,
        conversation: ConversationId,
        resident: ResidentId,
        by: StaffId,
        now: DateTime<Utc>,
    ) {
        self.queue(
            "DELETE FROM resident_links WHERE conversation_id = $1",
            vec![Value::Int(conversation.0)],
        );
        self.queue(
            "INSERT INTO resident_links (conversation_id, resident_id, linked_by, linked_at) \
             VALUES ($1, $2, $3, $4)",
            vec![
                Value::Int(conversation.0),
                Value::Int(resident.0),
                Value::Int(by.0),
                Value::Int(millis(now)),
            ],
        );
        self.queue(REMOVE_UNLINKED_RESIDENTS, Vec::new());
    }

    /// Unlinks a conversation from its resident, removing the resident if it was their last
    /// conversation.
    pub fn unlink_resident(&mut self, conversation: ConversationId) {
        self.queue(
            "DELETE FROM resident_links WHERE conversation_id = $1",
            vec![Value::Int(conversation.0)],
        );
        self.queue(REMOVE_UNLINKED_RESIDENTS, Vec::new());
    }
}
