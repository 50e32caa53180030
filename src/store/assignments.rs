//! Who a conversation is assigned to: a colleague, or a team named in the configuration
//! (`[[console.teams]]`). Separate from a claim (who has taken the conversation over from the
//! bot) and from a complaint's handler (Code 6.13). Current state only; the audit keeps the
//! history.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Record, Store, StoreError, Value, from_millis, millis};
use crate::core::ids::{ConversationId, StaffId};

/// Who a conversation is assigned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignee {
    Staff(StaffId),
    /// A team, by its name in the configuration.
    Team(String),
}

/// A conversation's assignment: to whom, by whom, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub assignee: Assignee,
    pub assigned_by: StaffId,
    pub at: DateTime<Utc>,
}

/// An assignment as a row holds it: a member of staff or a team, never both (the table's
/// check).
pub(super) fn assignee(staff: Option<StaffId>, team: Option<String>) -> Option<Assignee> {
    match (staff, team) {
        (Some(staff), _) => Some(Assignee::Staff(staff)),
        (None, Some(team)) => Some(Assignee::Team(team)),
        (None, None) => None,
    }
}

impl Store {
    /// Who a conversation is assigned to, if anyone.
    pub async fn assignment(
        &self,
        conversation: ConversationId,
    ) -> Result<Option<Assignment>, StoreError> {
        let row = sqlx::query(
            "SELECT staff_id, team, assigned_by, assigned_at FROM assignments \
             WHERE conversation_id = $1",
        )
        .bind(conversation)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else {
            return Ok(None);
        };
        let Some(assignee) = assignee(r.try_get("staff_id")?, r.try_get("team")?) else {
            return Ok(None);
        };
        Ok(Some(Assignment {
            assignee,
            assigned_by: r.try_get("assigned_by")?,
            at: from_millis(r.try_get("assigned_at")?),
        }))
    }
}

impl Record<'_> {
    /// Assigns a conversation (replacing any assignment), or with `None` leaves it unassigned.
    pub fn assign(
        &mut self,
        conversation: ConversationId,
        to: Option<&Assignee>,
        by: StaffId,
        now: DateTime<Utc>,
    ) {
        self.queue(
            "DELETE FROM assignments WHERE conversation_id = $1",
            vec![Value::Int(conversation.0)],
        );
        let (staff, team) = match to {
            None => return,
            Some(Assignee::Staff(s)) => (Some(s.0), None),
            Some(Assignee::Team(t)) => (None, Some(t.clone())),
        };
        self.queue(
            "INSERT INTO assignments (conversation_id, staff_id, team, assigned_by, assigned_at) \
             VALUES ($1, $2, $3, $4, $5)",
            vec![
                Value::Int(conversation.0),
                Value::MaybeInt(staff),
                Value::MaybeText(team),
                Value::Int(by.0),
                Value::Int(millis(now)),
            ],
        );
    }
}
