//! The record's identifiers at the SQL boundary: each is stored as a BIGINT, so each binds
//! and reads exactly as the `i64` inside it does. Only the store knows this; everywhere else
//! they are the typed ids of [`crate::core::ids`].

use sqlx::any::{Any, AnyTypeInfo};
use sqlx::database::Database;
use sqlx::decode::Decode;
use sqlx::encode::{Encode, IsNull};
use sqlx::error::BoxDynError;
use sqlx::types::Type;

use crate::core::ids::{ActionId, AlertId, ConversationId, MessageId, ResidentId, StaffId};

macro_rules! stored_as_bigint {
    ($($id:ident),*) => {$(
        impl Type<Any> for $id {
            fn type_info() -> AnyTypeInfo {
                <i64 as Type<Any>>::type_info()
            }

            fn compatible(ty: &AnyTypeInfo) -> bool {
                <i64 as Type<Any>>::compatible(ty)
            }
        }

        impl<'q> Encode<'q, Any> for $id {
            fn encode_by_ref(
                &self,
                buf: &mut <Any as Database>::ArgumentBuffer,
            ) -> Result<IsNull, BoxDynError> {
                <i64 as Encode<'q, Any>>::encode_by_ref(&self.0, buf)
            }
        }

        impl<'r> Decode<'r, Any> for $id {
            fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                <i64 as Decode<'r, Any>>::decode(value).map($id)
            }
        }
    )*};
}

stored_as_bigint!(
    ConversationId,
    MessageId,
    StaffId,
    AlertId,
    ActionId,
    ResidentId
);
