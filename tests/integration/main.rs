//! Integration tests for what SQL alone cannot show: the embedding API,
//! reopening a warehouse, separate processes. One binary, one module per
//! concern.

mod commit_properties;
mod embedding;
mod jobs;
mod listing;
mod privileges;
mod reopen;
mod secrets;
mod streaming;
mod support;

#[path = "../support/s3_server.rs"]
mod s3_server;
