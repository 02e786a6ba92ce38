//! How many threads Lance encodes with.
//!
//! Lance keeps two cores for I/O and encodes on the rest, at least one
//! thread: on a machine with two cores that leaves one encoding thread, and
//! loading runs about a third slower than with two (measured by the ingest
//! benchmark). [`tune_encoder_threads`] gives Lance every core on small
//! machines; Lance reads the setting once, when it first encodes.

/// Machines with at most this many cores encode on all of them.
const SMALL_MACHINE_CORES: usize = 4;

/// Lets Lance encode on every core of a small machine (up to
/// 4 cores) unless `LANCE_CPU_THREADS` is already set. Call it first thing in
/// `main`, before any thread starts: it sets an environment variable.
pub fn tune_encoder_threads() {
    if std::env::var_os("LANCE_CPU_THREADS").is_some() {
        return;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores <= SMALL_MACHINE_CORES {
        std::env::set_var("LANCE_CPU_THREADS", cores.to_string());
    }
}
