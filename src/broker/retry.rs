//! Retries: exponential backoff with full jitter, bounded by a count and a deadline.

use std::time::{Duration, Instant};

/// How a send failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth retrying: timeouts, lost connections, 408, 5xx.
    Transient(String),
    /// The broker asked to slow down (429, server busy), perhaps saying for how long.
    Throttled(String, Option<Duration>),
    /// Retrying cannot help: 400, 401, 403, 404, 410, an unroutable message.
    Permanent(String),
}

impl SendError {
    /// What went wrong.
    pub fn message(&self) -> &str {
        match self {
            SendError::Transient(m) | SendError::Throttled(m, _) | SendError::Permanent(m) => m,
        }
    }
}

/// The bounds of retrying.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// No retry starts after this long since the push began.
    pub deadline: Duration,
    /// The first backoff's ceiling.
    pub base: Duration,
    /// No backoff is longer than this.
    pub cap: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_retries: 8,
            deadline: Duration::from_secs(120),
            base: Duration::from_millis(200),
            cap: Duration::from_secs(30),
        }
    }
}

/// The least wait after a throttling answer.
pub const THROTTLE_FLOOR: Duration = Duration::from_secs(2);

/// A number in [0, 1) from the system's randomness.
fn random_fraction() -> f64 {
    (uuid::Uuid::new_v4().as_u128() >> 75) as f64 / (1u64 << 53) as f64
}

impl Policy {
    /// The wait before retry number `attempt` (0-based): full jitter over an exponential
    /// ceiling; at least [`THROTTLE_FLOOR`] (or what the broker asked) when throttled.
    pub fn backoff(&self, attempt: u32, error: &SendError) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.cap);
        let jittered = ceiling.mul_f64(random_fraction());
        match error {
            SendError::Throttled(_, asked) => {
                jittered.max(THROTTLE_FLOOR).max(asked.unwrap_or_default())
            }
            _ => jittered,
        }
    }

    /// Whether another retry may start: errors that can pass, within count and deadline.
    pub fn may_retry(
        &self,
        attempt: u32,
        started: Instant,
        wait: Duration,
        error: &SendError,
    ) -> bool {
        !matches!(error, SendError::Permanent(_))
            && attempt < self.max_retries
            && started.elapsed() + wait < self.deadline
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_jittered_capped_and_throttling_waits_at_least_two_seconds() {
        let policy = Policy::default();
        let transient = SendError::Transient("x".into());
        for attempt in 0..20 {
            let wait = policy.backoff(attempt, &transient);
            assert!(wait <= policy.cap);
            assert!(wait <= policy.base * 2u32.pow(attempt.min(16)));
        }
        let throttled = SendError::Throttled("busy".into(), None);
        assert!(policy.backoff(0, &throttled) >= THROTTLE_FLOOR);
        let asked = SendError::Throttled("busy".into(), Some(Duration::from_secs(7)));
        assert!(policy.backoff(0, &asked) >= Duration::from_secs(7));
        let started = Instant::now();
        assert!(policy.may_retry(0, started, Duration::ZERO, &transient));
        assert!(!policy.may_retry(8, started, Duration::ZERO, &transient));
        assert!(!policy.may_retry(
            0,
            started,
            Duration::ZERO,
            &SendError::Permanent("no".into())
        ));
        assert!(!policy.may_retry(0, started, Duration::from_secs(500), &transient));
    }
}
