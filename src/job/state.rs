//! [`JobStatus`] and every move between states, with the message that
//! refuses a move the state does not allow. The statements (PAUSE, RESUME,
//! ALTER, WAIT), the scheduler and the engine ask here.
//!
//! ```text
//!            CREATE (streaming)            CREATE (scheduled)
//!                  |                               |
//!                  v      the scheduler            v
//!   RESUME ---> PENDING ---------------------> RUNNING ---> FINISHED
//!     ^            |                             |  |      (schedule over)
//!     |            +---------- PAUSE ------------+  |
//!     |                          |                  | a failed streaming task
//!     +--------------------- PAUSED <---------------+
//! ```
//! DROP removes a job whatever its state.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The state of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum JobStatus {
    /// Created or resumed, waiting for the scheduler.
    Pending,
    Running,
    Paused,
    /// Dropped.
    Stopped,
    /// A scheduled job whose schedule is over.
    Finished,
}

impl JobStatus {
    /// Every state, as `job()` shows them.
    pub const ALL: [JobStatus; 5] = [
        JobStatus::Pending,
        JobStatus::Running,
        JobStatus::Paused,
        JobStatus::Stopped,
        JobStatus::Finished,
    ];
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            JobStatus::Pending => "PENDING",
            JobStatus::Running => "RUNNING",
            JobStatus::Paused => "PAUSED",
            JobStatus::Stopped => "STOPPED",
            JobStatus::Finished => "FINISHED",
        };
        f.write_str(s)
    }
}

impl JobStatus {
    /// Whether a loop should be running the job.
    pub fn runs(self) -> bool {
        matches!(self, JobStatus::Pending | JobStatus::Running)
    }

    /// The state after `PAUSE JOB`.
    pub fn pause(self, name: &str) -> Result<Self> {
        if self.runs() {
            return Ok(JobStatus::Paused);
        }
        Err(refused(format!(
            "job '{name}' is {self} and cannot be paused"
        )))
    }

    /// The state after `RESUME JOB`: the scheduler picks the job up.
    pub fn resume(self, name: &str) -> Result<Self> {
        if self == JobStatus::Paused {
            return Ok(JobStatus::Pending);
        }
        Err(refused(format!(
            "job '{name}' is {self}; only a PAUSED job can be resumed"
        )))
    }

    /// Fails unless `ALTER JOB` may change the job now.
    pub fn check_alter(self, name: &str) -> Result<()> {
        if self == JobStatus::Paused {
            return Ok(());
        }
        Err(refused(format!(
            "job '{name}' is {self}: pause it first with PAUSE JOB WHERE jobName = '{name}'"
        )))
    }

    /// The state when the scheduler takes the job up: `None` when the job
    /// is no longer meant to run (paused or finished meanwhile: PAUSE wins).
    pub fn activate(self) -> Option<Self> {
        self.runs().then_some(JobStatus::Running)
    }

    /// The state after a task failure that needs the user.
    pub fn fail(self) -> Self {
        JobStatus::Paused
    }

    /// The state when a job's schedule is over: a running job finishes.
    pub fn finish(self) -> Self {
        if self == JobStatus::Running {
            JobStatus::Finished
        } else {
            self
        }
    }
}

fn refused(message: String) -> Error {
    Error::InvalidJob(message)
}

#[cfg(test)]
mod tests {
    use super::JobStatus::{self, *};

    const ALL: [JobStatus; 5] = [Pending, Running, Paused, Stopped, Finished];

    /// The whole transition table: which states each move accepts.
    #[test]
    fn transitions() {
        let accepted = |f: fn(JobStatus) -> bool| -> Vec<JobStatus> {
            ALL.into_iter().filter(|s| f(*s)).collect()
        };
        assert_eq!(accepted(|s| s.pause("j").is_ok()), [Pending, Running]);
        assert_eq!(accepted(|s| s.resume("j").is_ok()), [Paused]);
        assert_eq!(accepted(|s| s.check_alter("j").is_ok()), [Paused]);
        assert_eq!(accepted(|s| s.activate().is_some()), [Pending, Running]);
        assert_eq!(Paused.resume("j").unwrap(), Pending);
        assert_eq!(Pending.activate(), Some(Running));
        assert_eq!((Running.finish(), Paused.finish()), (Finished, Paused));
        assert_eq!(Running.fail(), Paused);
    }

    #[test]
    fn refusals_say_what_to_do() {
        assert_eq!(
            Finished.pause("j").unwrap_err().to_string(),
            "job 'j' is FINISHED and cannot be paused"
        );
        assert_eq!(
            Running.resume("j").unwrap_err().to_string(),
            "job 'j' is RUNNING; only a PAUSED job can be resumed"
        );
        assert_eq!(
            Running.check_alter("j").unwrap_err().to_string(),
            "job 'j' is RUNNING: pause it first with PAUSE JOB WHERE jobName = 'j'"
        );
    }
}
