//! Doris's failed-login policy (`FAILED_LOGIN_ATTEMPTS n PASSWORD_LOCK_TIME
//! t` on CREATE/ALTER USER): after `n` wrong passwords in a row a user's
//! account is locked for `t` (or until `ALTER USER ... ACCOUNT_UNLOCK`
//! when `t` is `UNBOUNDED` or not given). The count and the lock are kept
//! with the user in the catalog, so every process of a warehouse sees
//! them.

use serde::{Deserialize, Serialize};

/// The policy clauses a CREATE or ALTER USER gave (`None`: not given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginPolicy {
    /// `FAILED_LOGIN_ATTEMPTS n` (0 turns locking off).
    pub failed_login_attempts: Option<u32>,
    /// `PASSWORD_LOCK_TIME`: seconds, or `None` for `UNBOUNDED`.
    pub lock_secs: Option<Option<u64>>,
}

impl LoginPolicy {
    pub fn is_empty(&self) -> bool {
        self.failed_login_attempts.is_none() && self.lock_secs.is_none()
    }
}

/// A user's policy and where its count stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginState {
    /// Wrong passwords in a row that lock the account (0: never).
    #[serde(default)]
    pub failed_login_attempts: u32,
    /// How long a lock lasts; `None`: until ACCOUNT_UNLOCK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_secs: Option<u64>,
    /// Wrong passwords since the last good one or lock.
    #[serde(default)]
    pub failures: u32,
    /// Locked until then (unix ms; `i64::MAX`: until ACCOUNT_UNLOCK).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked_until_ms: Option<i64>,
}

impl LoginState {
    /// Applies the clauses of `policy` that were given.
    pub fn apply(&mut self, policy: &LoginPolicy) {
        if let Some(attempts) = policy.failed_login_attempts {
            self.failed_login_attempts = attempts;
        }
        if let Some(lock) = policy.lock_secs {
            self.lock_secs = lock;
        }
    }

    /// Until when the account is locked at `now_ms`, if it is.
    pub fn locked_at(&self, now_ms: i64) -> Option<i64> {
        self.locked_until_ms.filter(|until| *until > now_ms)
    }

    /// Counts a login at `now_ms`: a good one clears the count, a wrong one
    /// adds to it and locks the account when it reaches the policy's
    /// limit. Whether anything changed.
    pub fn record(&mut self, good: bool, now_ms: i64) -> bool {
        if good {
            let changed = self.failures > 0 || self.locked_until_ms.is_some();
            self.failures = 0;
            self.locked_until_ms = None;
            return changed;
        }
        if self.failed_login_attempts == 0 {
            return false;
        }
        self.failures += 1;
        if self.failures >= self.failed_login_attempts {
            self.failures = 0;
            self.locked_until_ms = Some(match self.lock_secs {
                Some(secs) => now_ms.saturating_add(secs.saturating_mul(1000) as i64),
                None => i64::MAX,
            });
        }
        true
    }

    /// `ALTER USER ... ACCOUNT_UNLOCK`.
    pub fn unlock(&mut self) {
        self.failures = 0;
        self.locked_until_ms = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_locks_after_n_wrong_passwords_for_the_lock_time() {
        let mut state = LoginState::default();
        // No policy: never locked.
        for _ in 0..10 {
            state.record(false, 0);
        }
        assert_eq!(state.locked_at(0), None);
        state.apply(&LoginPolicy {
            failed_login_attempts: Some(3),
            lock_secs: Some(Some(2)),
        });
        state.record(false, 0);
        state.record(false, 0);
        state.record(true, 0);
        state.record(false, 0);
        state.record(false, 0);
        assert_eq!(state.locked_at(0), None, "a good login clears the count");
        state.record(false, 1_000);
        assert_eq!(state.locked_at(1_000), Some(3_000));
        assert_eq!(state.locked_at(3_000), None, "the lock time passed");
        state.apply(&LoginPolicy {
            failed_login_attempts: None,
            lock_secs: Some(None),
        });
        for _ in 0..3 {
            state.record(false, 5_000);
        }
        assert_eq!(state.locked_at(i64::MAX - 1), Some(i64::MAX));
        state.unlock();
        assert_eq!(state.locked_at(5_000), None);
    }
}
