//! Reading: the `S3(...)` table function over files on S3-compatible
//! storage or the local disk.
//!
//! `S3(...)` parses its options ([`options`]), resolves the URI to an object
//! store and a key pattern ([`location`]), lists the matching files in
//! lexicographic order ([`listing`]) and reads them as a DataFusion table
//! whose partitions stream the files in parallel ([`source`]).

pub mod access;
mod clients;
mod compression;
mod csv;
mod fault;
mod json;
pub mod listing;
pub mod local_files;
pub mod location;
pub mod options;
pub(crate) mod parquet;
pub mod read_ahead;
mod resolve;
pub mod source;

pub use access::{Endpoints, SourceAccess};
pub use csv::TypedColumns;
pub use local_files::LocalFiles;
pub use location::Location;
pub use options::S3Options;
pub use resolve::{
    prepare_s3, rewrite_calls, FixedFiles, FunctionCall, PreparedFunction, PreparedSources,
    JOB_FILES_FUNCTION, JOB_LEASES_FUNCTION, JOB_STATUS_FUNCTION, REJECTED_ROWS_FUNCTION,
    S3_FUNCTION, TABLE_FUNCTIONS,
};
pub use source::{FileSource, S3Table};
