//! Integration tests for what SQL alone cannot show: the embedding API,
//! reopening a warehouse, separate processes, crashes, an S3 outage. One
//! binary, one module per concern.

mod clients;
mod commit_properties;
mod crash;
mod dml;
mod embedding;
mod encoding;
mod faults;
mod fuzz;
mod jobs;
mod listing;
mod logs;
mod maintenance;
mod many_processes;
mod metrics;
mod parquet;
mod piped;
mod privileges;
mod progress;
mod reopen;
mod scheduled;
mod secrets;
mod security;
mod serve;
mod streaming;
mod support;
mod workers;

#[path = "../support/ports.rs"]
mod ports;
#[path = "../support/s3_client.rs"]
mod s3_client;
#[path = "../support/s3_server.rs"]
mod s3_server;

#[path = "../support/cutting_proxy.rs"]
mod cutting_proxy;
