//! Conversations: one per (channel, chat), holding the dialog state and its locale; who has
//! taken one over from the bot (a claim), and staff's internal notes on it.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Record, Store, StoreError, Value, millis};
use crate::core::dialog::DEFAULT_LOCALE;
use crate::core::ids::{ConversationId, StaffId};

/// A conversation, keyed by channel and chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub id: ConversationId,
    pub channel: String,
    pub chat: String,
    /// The dialog state as JSON.
    pub state: String,
    pub locale: String,
    /// The member of staff who has taken the conversation over: the bot is silent.
    pub claimed_by: Option<StaffId>,
}

/// A conversation a member of staff holds, with a resident's message waiting since they last
/// acted in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdleClaim {
    pub conversation: ConversationId,
    /// When the holder last acted in the conversation (Unix milliseconds).
    pub last_activity_at: i64,
    /// The holder's name.
    pub holder: String,
}

impl Store {
    /// Conversations last active between `since` and `before`: (conversation, state).
    pub async fn idle_conversations(
        &self,
        since: DateTime<Utc>,
        before: DateTime<Utc>,
    ) -> Result<Vec<Conversation>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.id, c.channel, c.chat, c.state, c.locale, k.staff_id AS claimed_by \
             FROM conversations c LEFT JOIN claims k ON k.conversation_id = c.id \
             WHERE c.updated_at >= $1 AND c.updated_at < $2 ORDER BY c.id",
        )
        .bind(millis(since))
        .bind(millis(before))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Conversation {
                    id: r.try_get("id")?,
                    channel: r.try_get("channel")?,
                    chat: r.try_get("chat")?,
                    state: r.try_get("state")?,
                    locale: r.try_get("locale")?,
                    claimed_by: r.try_get("claimed_by")?,
                })
            })
            .collect()
    }

    /// The conversation on (channel, chat), if there is one.
    pub async fn find_conversation(
        &self,
        channel: &str,
        chat: &str,
    ) -> Result<Option<Conversation>, StoreError> {
        let row = sqlx::query(CONVERSATION_BY_CHAT)
            .bind(channel)
            .bind(chat)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(conversation_row).transpose()
    }

    /// The conversation with this id, if there is one.
    pub async fn conversation_by_id(
        &self,
        id: ConversationId,
    ) -> Result<Option<Conversation>, StoreError> {
        let row = sqlx::query(
            "SELECT c.id, c.channel, c.chat, c.state, c.locale, k.staff_id AS claimed_by \
             FROM conversations c LEFT JOIN claims k ON k.conversation_id = c.id WHERE c.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(conversation_row).transpose()
    }

    /// When any conversation was last active (Unix milliseconds), `None` when there is none
    /// yet: the console's inbox refreshes when it moves.
    pub async fn latest_activity(&self) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT MAX(updated_at) AS latest FROM conversations")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<Option<i64>, _>("latest")?)
    }

    /// Conversations held by a member of staff in which a resident's message has waited since
    /// the holder last acted, sent before `before`.
    pub async fn idle_claims(&self, before: DateTime<Utc>) -> Result<Vec<IdleClaim>, StoreError> {
        let rows = sqlx::query(
            "SELECT k.conversation_id, k.last_activity_at, s.name FROM claims k \
             JOIN staff s ON s.id = k.staff_id \
             WHERE EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = k.conversation_id \
                 AND m.direction = 'in' AND m.at > k.last_activity_at AND m.at < $1)",
        )
        .bind(millis(before))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(IdleClaim {
                    conversation: r.try_get("conversation_id")?,
                    last_activity_at: r.try_get("last_activity_at")?,
                    holder: r.try_get("name")?,
                })
            })
            .collect()
    }

    /// The earliest moment after `after` (Unix milliseconds) at which a held conversation's
    /// waiting resident message has waited `idle` milliseconds.
    pub async fn next_idle_claim(&self, idle: i64, after: i64) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "SELECT MIN(m.at + $1) FROM claims k JOIN messages m ON m.conversation_id = k.conversation_id \
             WHERE m.direction = 'in' AND m.at > k.last_activity_at AND m.at + $1 > $2",
        )
        .bind(idle)
        .bind(after)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?)
    }

    /// The earliest time a conversation was last active after `since` (Unix milliseconds).
    pub async fn first_activity_after(&self, since: i64) -> Result<Option<i64>, StoreError> {
        // Written so that the index on updated_at answers it.
        let row = sqlx::query("SELECT MIN(updated_at) FROM conversations WHERE updated_at > $1")
            .bind(since)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?)
    }
}

impl Record<'_> {
    /// The conversation for (channel, chat), started with `initial_state` if it is new.
    pub async fn conversation(
        &mut self,
        channel: &str,
        chat: &str,
        initial_state: &str,
        locale: &str,
        now: DateTime<Utc>,
    ) -> Result<Conversation, StoreError> {
        let select = CONVERSATION_BY_CHAT;
        let mut found = sqlx::query(select)
            .bind(channel)
            .bind(chat)
            .fetch_optional(self.conn().await?)
            .await?;
        if found.is_none() {
            sqlx::query(
                "INSERT INTO conversations (channel, chat, state, locale, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (channel, chat) DO NOTHING",
            )
            .bind(channel)
            .bind(chat)
            .bind(initial_state)
            .bind(locale)
            .bind(millis(now))
            .execute(self.conn().await?)
            .await?;
            found = sqlx::query(select)
                .bind(channel)
                .bind(chat)
                .fetch_optional(self.conn().await?)
                .await?;
        }
        let row = found.ok_or(sqlx::Error::RowNotFound)?;
        conversation_row(&row)
    }

    /// The conversation on (channel, chat) as this transaction sees it, started with an empty
    /// dialog state in the default locale if it is new: how a resident's message, an edit and
    /// staff actions find the conversation they write to.
    pub async fn conversation_on(
        &mut self,
        channel: &str,
        chat: &str,
        now: DateTime<Utc>,
    ) -> Result<Conversation, StoreError> {
        self.conversation(channel, chat, "{}", DEFAULT_LOCALE, now)
            .await
    }

    /// Keeps the conversation's current dialog state.
    pub fn save_state(&mut self, conversation: &Conversation, state: &str, now: DateTime<Utc>) {
        self.queue(
            "UPDATE conversations SET state = $1, updated_at = $2 WHERE id = $3",
            vec![
                Value::Text(state.to_owned()),
                Value::Int(millis(now)),
                Value::Int(conversation.id.0),
            ],
        );
    }

    /// Marks the conversation active now, leaving its dialog state as it is (staff actions
    /// must not write back a copy of the state read before the transaction).
    pub fn touch(&mut self, conversation: &Conversation, now: DateTime<Utc>) {
        self.queue(
            "UPDATE conversations SET updated_at = $1 WHERE id = $2",
            vec![Value::Int(millis(now)), Value::Int(conversation.id.0)],
        );
    }

    /// Takes the conversation over for `staff`: `Some(true)` if they have just taken it,
    /// `Some(false)` if they already held it, `None` if someone else does.
    pub async fn claim(
        &mut self,
        conversation: &Conversation,
        staff: StaffId,
        now: DateTime<Utc>,
    ) -> Result<Option<bool>, StoreError> {
        self.flush().await?;
        let inserted = sqlx::query(
            "INSERT INTO claims (conversation_id, staff_id, claimed_at, last_activity_at) \
             VALUES ($1, $2, $3, $3) ON CONFLICT (conversation_id) DO NOTHING",
        )
        .bind(conversation.id)
        .bind(staff)
        .bind(millis(now))
        .execute(self.conn().await?)
        .await?
        .rows_affected()
            == 1;
        let holder: StaffId = sqlx::query("SELECT staff_id FROM claims WHERE conversation_id = $1")
            .bind(conversation.id)
            .fetch_one(self.conn().await?)
            .await?
            .try_get("staff_id")?;
        Ok((holder == staff).then_some(inserted))
    }

    /// Notes that the holder of a conversation has just acted in it (an idle claim raises an
    /// alert rather than leaving the resident unanswered).
    pub fn claim_active(&mut self, conversation: &Conversation, now: DateTime<Utc>) {
        self.queue(
            "UPDATE claims SET last_activity_at = $1 WHERE conversation_id = $2",
            vec![Value::Int(millis(now)), Value::Int(conversation.id.0)],
        );
    }

    /// Hands the conversation back to the bot.
    pub fn release(&mut self, conversation: &Conversation) {
        self.queue(
            "DELETE FROM claims WHERE conversation_id = $1",
            vec![Value::Int(conversation.id.0)],
        );
    }

    /// An internal note on a conversation, for staff only.
    pub fn note(
        &mut self,
        conversation: ConversationId,
        staff: StaffId,
        body: &str,
        now: DateTime<Utc>,
    ) {
        self.queue(
            "INSERT INTO notes (conversation_id, staff_id, body, at) VALUES ($1, $2, $3, $4)",
            vec![
                Value::Int(conversation.0),
                Value::Int(staff.0),
                Value::Text(body.to_owned()),
                Value::Int(millis(now)),
            ],
        );
    }
}

/// A conversation with who holds it, by (channel, chat).
const CONVERSATION_BY_CHAT: &str = "SELECT c.id, c.channel, c.chat, c.state, c.locale, k.staff_id AS claimed_by \
     FROM conversations c LEFT JOIN claims k ON k.conversation_id = c.id \
     WHERE c.channel = $1 AND c.chat = $2";

fn conversation_row(r: &sqlx::any::AnyRow) -> Result<Conversation, StoreError> {
    Ok(Conversation {
        id: r.try_get("id")?,
        channel: r.try_get("channel")?,
        chat: r.try_get("chat")?,
        state: r.try_get("state")?,
        locale: r.try_get("locale")?,
        claimed_by: r.try_get("claimed_by")?,
    })
}
