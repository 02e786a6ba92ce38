//! [`JobControl`]: the live, in-memory side of a running job's loop: the
//! signal that cancels its task (PAUSE, DROP), the nudge that wakes it from
//! its sleep, the task it is running now, and the progress `WAIT JOB`
//! watches. [`Controls`] holds one per running loop.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{watch, Notify};
use tokio_util::sync::CancellationToken;

use crate::job::Task;

/// How far a job's loop has got, for `WAIT JOB`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Polls started so far (each task starts with one).
    pub polls: u64,
    /// The number of the latest poll that found no new file: once it is
    /// greater than the poll count seen by a waiter, every file that
    /// existed when the waiter started has been loaded.
    pub caught_up_at: u64,
    /// The loop has ended (job paused, failed or dropped).
    pub ended: bool,
}

/// The live state of one job loop.
#[derive(Debug)]
pub struct JobControl {
    cancel: CancellationToken,
    wake: Notify,
    running: Mutex<Option<Task>>,
    /// The process that holds the job's lease while it is not this one.
    elsewhere: Mutex<Option<String>>,
    progress: watch::Sender<Progress>,
}

impl JobControl {
    fn new() -> Self {
        Self {
            cancel: CancellationToken::new(),
            wake: Notify::new(),
            running: Mutex::new(None),
            elsewhere: Mutex::new(None),
            progress: watch::Sender::new(Progress::default()),
        }
    }

    /// Cancels the running task and ends the loop.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Resolves when the loop is cancelled.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await
    }

    /// The token a task checks to stop before it commits.
    pub fn token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Wakes the loop if it sleeps between polls.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Sleeps `duration`, or less when woken or cancelled; `true` when the
    /// whole duration passed.
    pub async fn sleep(&self, duration: std::time::Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(duration) => true,
            _ = self.wake.notified() => false,
            _ = self.cancel.cancelled() => false,
        }
    }

    /// The task running now, if any.
    pub fn running_task(&self) -> Option<Task> {
        self.running.lock().expect("lock").clone()
    }

    pub fn set_running_task(&self, task: Option<Task>) {
        *self.running.lock().expect("lock") = task;
    }

    /// Notes that another process (`holder`) runs the job, or (`None`) that
    /// this one does.
    pub fn set_elsewhere(&self, holder: Option<String>) {
        *self.elsewhere.lock().expect("lock") = holder;
    }

    /// The process that runs the job when it is not this one.
    pub fn elsewhere(&self) -> Option<String> {
        self.elsewhere.lock().expect("lock").clone()
    }

    /// Counts a poll starting; returns its number.
    pub fn poll_started(&self) -> u64 {
        let mut number = 0;
        self.progress.send_modify(|p| {
            p.polls += 1;
            number = p.polls;
        });
        number
    }

    /// Records that poll `number` found nothing new.
    pub fn caught_up(&self, number: u64) {
        self.progress
            .send_modify(|p| p.caught_up_at = p.caught_up_at.max(number));
    }

    /// The loop's last poll found every file there when it began loaded
    /// (its batch did not fill).
    pub fn caught_up_with_last_poll(&self) {
        self.progress
            .send_modify(|p| p.caught_up_at = p.caught_up_at.max(p.polls));
    }

    fn end(&self) {
        self.progress.send_modify(|p| p.ended = true);
    }

    /// Follows the loop's progress.
    pub fn watch(&self) -> watch::Receiver<Progress> {
        self.progress.subscribe()
    }
}

/// The controls of every running job loop, by job name.
#[derive(Debug, Default)]
pub struct Controls {
    loops: Mutex<HashMap<String, Arc<JobControl>>>,
    /// Set when the engine shuts down: no loop starts any more.
    closed: std::sync::atomic::AtomicBool,
}

impl Controls {
    /// Registers a loop for job `name`; `None` if one is running or the
    /// engine is shutting down.
    pub fn claim(&self, name: &str) -> Option<Arc<JobControl>> {
        let mut loops = self.loops.lock().expect("lock");
        if loops.contains_key(name) || self.closed.load(std::sync::atomic::Ordering::SeqCst) {
            return None;
        }
        let control = Arc::new(JobControl::new());
        loops.insert(name.to_string(), control.clone());
        Some(control)
    }

    /// Unregisters job `name`'s loop.
    pub fn release(&self, name: &str, control: &Arc<JobControl>) {
        let mut loops = self.loops.lock().expect("lock");
        if loops.get(name).is_some_and(|c| Arc::ptr_eq(c, control)) {
            loops.remove(name);
        }
        control.end();
    }

    /// The control of job `name`'s loop, if it runs.
    pub fn get(&self, name: &str) -> Option<Arc<JobControl>> {
        self.loops.lock().expect("lock").get(name).cloned()
    }

    /// The jobs whose loops run.
    pub fn names(&self) -> Vec<String> {
        self.loops.lock().expect("lock").keys().cloned().collect()
    }

    /// Whether the process is shutting down (no loop starts any more).
    pub fn is_closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Starts no loop any more, and cancels the running ones (their tasks
    /// stop before their commits).
    pub fn close(&self) {
        let loops = self.loops.lock().expect("lock");
        self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        for control in loops.values() {
            control.cancel();
        }
    }

    /// Cancels job `name`'s loop and its running task, if any.
    pub fn cancel(&self, name: &str) {
        if let Some(control) = self.get(name) {
            control.cancel();
        }
    }
}
