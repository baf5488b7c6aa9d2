//! Helpers shared by the query modules.

use super::DbError;

impl DbError {
    /// Whether this is a unique violation on the index or column whose name
    /// contains `what`. SQLite names the column (`users.email`) or the index,
    /// PostgreSQL the constraint (`users_email_key`); both contain the word.
    pub fn is_unique_on(&self, what: &str) -> bool {
        matches!(self, DbError::Unique(c) if c.contains(what))
    }

    pub fn is_check_on(&self, what: &str) -> bool {
        matches!(self, DbError::Check(c) if c.contains(what))
    }
}
