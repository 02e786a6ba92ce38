//! A bounded fuzz test of the SQL front end: statements of the .slt
//! corpus, mutated as a user would mistype or an attacker would bend them
//! (characters dropped, doubled, swapped, replaced with SQL punctuation
//! or odd bytes, tokens repeated), run in one session of an engine on a
//! fresh warehouse. No statement may panic, hang past its time limit or
//! answer with an internal wrapper chain or a toolchain path. Seeded and
//! bounded in time (`TRIBUTARY_FUZZ_SECS`, default 5, short beside the
//! timing-sensitive tests of real processes that share the machine; `TRIBUTARY_FUZZ_SEED`
//! to replay; `TRIBUTARY_FUZZ_TRACE=<file>` writes each statement and its
//! error), so a failure names the seed and the statement.

use std::time::{Duration, Instant};

use tributary::read::{LocalFiles, SourceAccess};
use tributary::Engine;

use crate::support::INTERNAL;

/// A small, seedable generator (xorshift64*): the same seed, the same
/// statements.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The statements of the .slt files (one per `statement`/`query` block),
/// without those that wait on purpose (WAIT JOB), start jobs or change
/// the session's time limits (`system` blocks are not statements).
fn corpus() -> Vec<String> {
    let mut statements = Vec::new();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sqllogictest");
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if !(line.starts_with("statement") || line.starts_with("query")) {
                continue;
            }
            let sql: Vec<&str> = lines
                .by_ref()
                .take_while(|l| !l.trim().is_empty() && *l != "----")
                .collect();
            let sql = sql.join("\n");
            // Jobs run in the background once created: a run of mutated
            // ones would compete with the statements measured here.
            let upper = sql.to_ascii_uppercase();
            // And the session's time limits stay the harness's.
            let background = ["WAIT JOB", "CREATE JOB", "RESUME JOB", "_TIMEOUT"]
                .iter()
                .any(|s| upper.contains(s));
            if !sql.is_empty() && !background {
                statements.push(sql.replace("${FIXTURES}", "/nonexistent-fixtures"));
            }
        }
    }
    statements
}

/// Bits of SQL and odd text a mutation may put in.
const PIECES: [&str; 16] = [
    "(",
    ")",
    "'",
    "\"",
    "`",
    ",",
    ";",
    "*",
    "--",
    "/*",
    "\\",
    "\u{0}",
    "é",
    "\u{FFFD}",
    "18446744073709551615",
    "S3(",
];

/// `sql` with one to three mutations.
fn mutate(sql: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = sql.chars().collect();
    for _ in 0..=rng.below(3) {
        let at = rng.below(chars.len() + 1);
        match rng.below(5) {
            0 if at < chars.len() => {
                chars.remove(at);
            }
            1 if at < chars.len() => {
                let c = chars[at];
                chars.insert(at, c);
            }
            2 if at + 1 < chars.len() => chars.swap(at, at + 1),
            3 => {
                let piece = PIECES[rng.below(PIECES.len())];
                for (i, c) in piece.chars().enumerate() {
                    chars.insert(at + i, c);
                }
            }
            _ => {
                // A token repeated: a run of the text around `at`, twice.
                let end = (at + 1 + rng.below(12)).min(chars.len());
                let run: Vec<char> = chars[at.min(end)..end].to_vec();
                for (i, c) in run.into_iter().enumerate() {
                    chars.insert(end + i, c);
                }
            }
        }
    }
    chars.into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutated_statements_never_panic_hang_or_leak_internals() {
    let seconds: u64 = std::env::var("TRIBUTARY_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let seed: u64 = std::env::var("TRIBUTARY_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_2026);
    let corpus = corpus();
    assert!(
        corpus.len() > 100,
        "the corpus has {} statements",
        corpus.len()
    );
    // As a server runs: local files only under one directory (a mutated
    // pattern could otherwise have a job walk the whole disk forever).
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let access = SourceAccess {
        local_files: LocalFiles::under(&[data]).unwrap(),
        ..SourceAccess::anywhere()
    };
    let warehouse = dir.path().join("wh");
    let engine = Engine::open_confined(warehouse.to_str().unwrap(), &Default::default(), access)
        .await
        .unwrap();
    let mut session = engine.session();
    session.execute_one("SET query_timeout = 1").await.unwrap();
    session.execute_one("SET insert_timeout = 1").await.unwrap();
    let mut rng = Rng(seed);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tried = 0;
    let mut trace = std::env::var("TRIBUTARY_FUZZ_TRACE")
        .ok()
        .map(|path| std::fs::File::create(path).unwrap());
    while Instant::now() < deadline {
        let sql = mutate(&corpus[rng.below(corpus.len())], &mut rng);
        tried += 1;
        // On a task of its own, so that a panic names the statement. A job
        // statement may take a moment; nothing takes 30 s.
        let statement = sql.clone();
        let task = tokio::spawn(async move {
            let result = session.execute_one(&statement).await;
            (session, result.map(|_| ()).map_err(|e| e.to_string()))
        });
        let ran = match tokio::time::timeout(Duration::from_secs(30), task).await {
            Ok(Ok(ran)) => ran,
            Ok(Err(panic)) => panic!("seed {seed}, statement {tried} panicked: {sql:?}: {panic}"),
            Err(_) => panic!("seed {seed}, statement {tried} hung: {sql:?}"),
        };
        session = ran.0;
        if let Some(trace) = &mut trace {
            use std::io::Write;
            writeln!(trace, "{tried}\t{:?}\t{sql:?}", ran.1.as_ref().err()).unwrap();
        }
        if let Err(message) = ran.1 {
            assert!(
                !message.trim().is_empty(),
                "seed {seed}: empty error for {sql:?}"
            );
            for internal in INTERNAL {
                assert!(
                    !message.contains(internal),
                    "seed {seed}, statement {tried}: {sql:?} answered {message:?}"
                );
            }
        }
    }
    assert!(tried > 50, "only {tried} statements in {seconds} s");
}

/// `S3()` options and job PROPERTIES from random keys and tricky values:
/// every combination parses or is refused with a message; none panics.
#[test]
fn random_options_and_properties_parse_or_are_refused() {
    const KEYS: [&str; 18] = [
        "uri",
        "format",
        "column_separator",
        "line_delimiter",
        "compress_type",
        "s3.endpoint",
        "s3.region",
        "s3.access_key",
        "s3.secret_key",
        "csv_schema",
        "max_interval",
        "s3.max_batch_files",
        "s3.max_batch_bytes",
        "offset",
        "session.insert_max_filter_ratio",
        "s3.on_file_error",
        "s3.late_files.window",
        "nonsense",
    ];
    const VALUES: [&str; 16] = [
        "",
        "0",
        "-1",
        "1",
        "10s",
        "18446744073709551616",
        "1e309",
        "NaN",
        "csv",
        "s3://b/k*.csv",
        "file:///tmp/x.csv",
        "{\"fileName\":",
        "é\u{0}",
        "512MB",
        "skip",
        "\t",
    ];
    let mut rng = Rng(0xC0FFEE);
    for _ in 0..20_000 {
        let pairs: Vec<(String, String)> = (0..=rng.below(5))
            .map(|_| {
                let key = KEYS[rng.below(KEYS.len())].to_string();
                let value = VALUES[rng.below(VALUES.len())].repeat(1 + rng.below(2));
                (key, value)
            })
            .collect();
        if let Err(error) = tributary::read::S3Options::parse(&pairs) {
            assert!(!error.to_string().is_empty(), "{pairs:?}");
        }
        if let Err(error) = tributary::job::JobProperties::default().apply(&pairs) {
            assert!(!error.to_string().is_empty(), "{pairs:?}");
        }
    }
}
