use chrono::{DateTime, Utc};

/// The source of "now". Sessions, expiries and audit timestamps all ask it,
/// so tests can move time instead of sleeping.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
