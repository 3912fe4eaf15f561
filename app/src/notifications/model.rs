use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Notification {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub read: bool,
}
