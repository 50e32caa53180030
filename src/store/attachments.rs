//! Files residents send in the web chat, kept in the record with the message they came with
//! (Code 5.12): the bytes, the content type read from them, the name the resident gave, the
//! size and a SHA-256. Each file's id is a random 128-bit token, so its address in the console
//! cannot be guessed; only staff fetch files (the resident's chat shows names only).
//!
//! A file is written in the same transaction as its message. The writer takes an `Inbound`
//! (the shape every channel shares, which names a file by its id and stays small), so the
//! bytes wait here, staged under their token, from the moment the upload is checked until the
//! writer's transaction takes them: [`Upload::stage`] holds them while the upload handler waits for
//! the commit, and [`Record::attach_staged`] writes those the message names. A message that
//! is refused or rolled back leaves nothing behind.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{Attachment, Conversation, Inbound, Record, Store, StoreError, from_millis, millis};
use crate::core::ids::{ConversationId, MessageId};

/// A checked upload, waiting for the transaction that records its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// The file's random id: 32 hex digits.
    pub token: String,
    pub name: String,
    /// Read from the bytes, never taken from the browser.
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

impl Upload {
    /// An upload with a fresh random token and the SHA-256 of its bytes.
    pub fn new(name: String, content_type: &str, bytes: Vec<u8>) -> Upload {
        Upload {
            token: hex::encode(rand::random::<[u8; 16]>()),
            name,
            content_type: content_type.to_owned(),
            sha256: hex::encode(Sha256::digest(&bytes)),
            bytes,
        }
    }

    /// How the message names this file in the record: "photo" or "document", the token,
    /// the name and the size.
    pub fn attachment(&self) -> Attachment {
        let kind = if self.content_type.starts_with("image/") {
            "photo"
        } else {
            "document"
        };
        Attachment {
            kind: kind.to_owned(),
            platform_file_id: self.token.clone(),
            name: Some(self.name.clone()),
            size: Some(self.bytes.len() as u64),
        }
    }
}

/// Uploads checked and not yet committed, by token.
static STAGED: LazyLock<Mutex<HashMap<String, Arc<Upload>>>> = LazyLock::new(Mutex::default);

/// An upload staged for its message's transaction; unstaged when dropped (after the commit,
/// or when the message was refused).
#[derive(Debug)]
pub struct Staged {
    token: String,
}

impl Upload {
    /// Holds the upload for its message's transaction until the returned guard is dropped.
    pub fn stage(self) -> Staged {
        let token = self.token.clone();
        STAGED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(token.clone(), Arc::new(self));
        Staged { token }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        STAGED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.token);
    }
}

fn staged(token: &str) -> Option<Arc<Upload>> {
    STAGED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(token)
        .cloned()
}

/// A file in the record, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredFile {
    pub token: String,
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub at: DateTime<Utc>,
}

/// A file and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileContent {
    pub file: StoredFile,
    pub bytes: Vec<u8>,
}

const FILE_COLUMNS: &str =
    "id, message_id, conversation_id, name, content_type, size, sha256, created_at";

fn stored_file(r: &sqlx::any::AnyRow) -> Result<StoredFile, StoreError> {
    Ok(StoredFile {
        token: r.try_get("id")?,
        message_id: r.try_get("message_id")?,
        conversation_id: r.try_get("conversation_id")?,
        name: r.try_get("name")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        sha256: r.try_get("sha256")?,
        at: from_millis(r.try_get("created_at")?),
    })
}

impl Store {
    /// The file with this token, with its bytes.
    pub async fn file(&self, token: &str) -> Result<Option<FileContent>, StoreError> {
        let sql = format!("SELECT {FILE_COLUMNS}, bytes FROM attachments WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(token)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(FileContent {
                file: stored_file(&r)?,
                bytes: r.try_get("bytes")?,
            })
        })
        .transpose()
    }

    /// The files of a conversation, oldest first, without their bytes.
    pub async fn conversation_files(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<StoredFile>, StoreError> {
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM attachments WHERE conversation_id = $1 \
             ORDER BY created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(conversation)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(stored_file).collect()
    }

    /// How many files the conversation on (channel, chat) has received since `since`.
    pub async fn files_received_since(
        &self,
        channel: &str,
        chat: &str,
        since: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM attachments a \
             JOIN conversations c ON c.id = a.conversation_id \
             WHERE c.channel = $1 AND c.chat = $2 AND a.created_at >= $3",
        )
        .bind(channel)
        .bind(chat)
        .bind(millis(since))
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }
}

/// The web chat's channel name in the record (`channels::web::CHANNEL`), whose files are
/// all staged uploads.
const WEB_CHAT: &str = "web";

impl Record<'_> {
    /// Writes the staged files the inbound message `message` names, in this transaction.
    /// Files named by a platform (a Telegram file id) are not staged and stay as the message
    /// names them.
    pub async fn attach_staged(
        &mut self,
        message: MessageId,
        conversation: &Conversation,
        inbound: &Inbound,
    ) -> Result<(), StoreError> {
        for attachment in &inbound.attachments {
            let Some(upload) = staged(&attachment.platform_file_id) else {
                // Every file the web chat names is an upload staged for this transaction. If
                // the upload was abandoned (a phone losing signal) before the writer got to
                // it, recording the message without its file would tell the resident it was
                // kept and lose it; refusing leaves nothing, and the page sends both again.
                if inbound.channel == WEB_CHAT {
                    return Err(StoreError::UploadGone);
                }
                continue;
            };
            let size = i64::try_from(upload.bytes.len()).unwrap_or(i64::MAX);
            sqlx::query(
                "INSERT INTO attachments \
                 (id, message_id, conversation_id, name, content_type, size, sha256, bytes, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&upload.token)
            .bind(message)
            .bind(conversation.id)
            .bind(&upload.name)
            .bind(&upload.content_type)
            .bind(size)
            .bind(&upload.sha256)
            .bind(upload.bytes.clone())
            .bind(millis(inbound.at))
            .execute(self.conn().await?)
            .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staged_upload_is_there_until_its_guard_goes() {
        let upload = Upload::new("damp.png".to_owned(), "image/png", vec![1, 2, 3]);
        assert_eq!(upload.token.len(), 32);
        assert!(upload.token.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(
            upload.sha256,
            "039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81"
        );
        let attachment = upload.attachment();
        assert_eq!(attachment.kind, "photo");
        assert_eq!(attachment.size, Some(3));
        let token = upload.token.clone();
        let guard = upload.stage();
        assert!(staged(&token).is_some());
        drop(guard);
        assert!(staged(&token).is_none());
        let other = Upload::new("letter.pdf".to_owned(), "application/pdf", vec![]);
        assert_ne!(other.token, token, "tokens are random");
        assert_eq!(other.attachment().kind, "document");
    }
}
