//! [`JobBody`]: a streaming job's INSERT, credentials included, parsed
//! (its syntax tree kept) once when the job's loop starts (the definition can only change while
//! the job is paused, and a resumed job starts a new loop): the options of
//! its `S3()` call and the location they name, with the `uri` the job
//! resolved when it was created. Every task of the loop uses it.

use datafusion::config::SqlParserOptions;
use datafusion::sql::parser::Statement as DFStatement;

use std::sync::{Arc, Mutex};

use object_store::ObjectMeta;
use tokio::sync::Semaphore;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::job::Job;
use crate::read::options::Format;
use crate::read::read_ahead::{read_permits, ReadAhead};
use crate::read::{rewrite_calls, Location, S3Options, S3_FUNCTION};

/// A streaming job's INSERT, ready for its tasks.
pub struct JobBody {
    /// The INSERT as written, credentials included, parsed.
    pub statement: DFStatement,
    pub options: S3Options,
    pub location: Location,
    /// The next batch's files, read while the last one was committed.
    read_ahead: Mutex<Option<Arc<ReadAhead>>>,
    /// The reads the job's read-aheads may make at once.
    read_permits: Arc<Semaphore>,
}

impl JobBody {
    /// Reads and parses `job`'s INSERT.
    pub fn load(engine: &Engine, job: &Job) -> Result<Self> {
        let sql = engine.jobs().execute_sql(job)?;
        let recursion_limit = SqlParserOptions::default().recursion_limit;
        let statement = crate::plan::query::parse_statement(&sql, recursion_limit)?;
        let calls = rewrite_calls(&mut statement.clone(), &[S3_FUNCTION])?;
        let call = calls.first().ok_or_else(|| no_s3_call(job))?;
        let mut options = S3Options::parse(&call.pairs)?;
        // The uri as resolved at CREATE (a local path made absolute then).
        if let Some(uri) = &job.source_uri {
            options.uri = uri.clone();
        }
        let location = Location::parse(&options.uri, &options.connection, &engine.source_access())?;
        Ok(Self {
            statement,
            options,
            location,
            read_ahead: Mutex::default(),
            read_permits: read_permits(),
        })
    }

    /// Starts reading `files` (those the listing had after a batch whose
    /// files are read) for the next task, in place of what was read ahead
    /// before. Only CSV and JSON files in an object store are: a local
    /// file costs no request, and Parquet files are read in ranges.
    pub fn read_ahead_of(&self, files: Vec<ObjectMeta>) {
        let worth_it = !self.location.is_local() && self.options.format != Format::Parquet;
        let read_ahead = (worth_it && !files.is_empty()).then(|| {
            let store = self.location.store.clone();
            Arc::new(ReadAhead::start(store, files, self.read_permits.clone()))
        });
        *self.read_ahead.lock().expect("lock") = read_ahead;
    }

    /// What was read ahead for this task.
    pub fn read_ahead(&self) -> Option<Arc<ReadAhead>> {
        self.read_ahead.lock().expect("lock").clone()
    }
}

fn no_s3_call(job: &Job) -> Error {
    Error::InvalidJob(format!("job '{}' has no S3() call", job.name))
}
