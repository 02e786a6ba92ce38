//! The `tributary` command-line client: an interactive REPL in the style of
//! the mysql client, and a batch mode for `-e`, `-f` and piped input.

mod print;

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressFinish, ProgressStyle};

use rustyline::error::ReadlineError;
use rustyline::DefaultEditor;
use tributary::parse::{PendingScript, ScriptStatement, Terminator};
use tributary::progress::Progress;
use tributary::Session;

use print::{render, Layout};

const PROMPT: &str = "tributary> ";
const CONTINUATION_PROMPT: &str = "        -> ";

/// Runs every statement of `script` in order, printing results; stops at the
/// first error and returns it.
pub async fn run_script(session: &mut Session, script: &str) -> Result<(), String> {
    let mut pending = PendingScript::default();
    let statements = pending.push(script);
    run_all(session, statements.into_iter().chain(pending.finish())).await
}

/// Runs statements from standard input as their terminators arrive, as the
/// mysql client does in batch mode: what a pipe has delivered runs while
/// its writer is still writing (a job created so starts loading at once).
async fn run_piped(session: &mut Session) -> Result<(), String> {
    let mut lines = stdin_lines();
    let mut pending = PendingScript::default();
    while let Some(line) = lines.recv().await {
        let line = line.map_err(|e| format!("ERROR: cannot read standard input: {e}"))?;
        run_all(session, pending.push(&line)).await?;
    }
    run_all(session, pending.finish()).await
}

/// Standard input's lines, line ends kept, read on a thread of their own:
/// a read waiting on the pipe must not hold up the process's exit.
fn stdin_lines() -> tokio::sync::mpsc::Receiver<std::io::Result<String>> {
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    std::thread::spawn(move || {
        let mut input = std::io::stdin().lock();
        loop {
            let mut line = String::new();
            let sent = match input.read_line(&mut line) {
                Ok(0) => return,
                Ok(_) => tx.blocking_send(Ok(line)),
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            };
            if sent.is_err() {
                return;
            }
        }
    });
    rx
}

/// Runs `statements` in order, printing results; stops at the first error
/// and returns it.
async fn run_all(
    session: &mut Session,
    statements: impl IntoIterator<Item = ScriptStatement>,
) -> Result<(), String> {
    for statement in statements {
        run_statement(session, &statement).await?;
    }
    Ok(())
}

/// Runs one statement and prints its result; the error is returned as the
/// text to print.
async fn run_statement(session: &mut Session, statement: &ScriptStatement) -> Result<(), String> {
    let started = Instant::now();
    let layout = match statement.terminator {
        Terminator::Semicolon => Layout::Table,
        Terminator::Vertical => Layout::Vertical,
    };
    let _line = ProgressLine::start(session.progress().clone());
    tokio::select! {
        result = session.execute_one(&statement.sql) => match result {
            Ok(result) => {
                print!("{}", render(&result, layout, started.elapsed()));
                Ok(())
            }
            Err(e) => Err(format!("ERROR: {e}")),
        },
        _ = tokio::signal::ctrl_c() => Err("ERROR: statement cancelled (Ctrl-C)".to_string()),
    }
}

/// How long a statement runs before its progress line shows.
const PROGRESS_AFTER: Duration = Duration::from_millis(500);

/// A statement's progress on one line of standard error (time, rows,
/// rate, files, bytes), while it runs past [`PROGRESS_AFTER`], when
/// standard error is a terminal; cleared when dropped. Scripts and pipes
/// get nothing.
struct ProgressLine(Option<tokio::task::JoinHandle<()>>);

impl ProgressLine {
    fn start(progress: Arc<Progress>) -> Self {
        if !std::io::stderr().is_terminal() {
            return Self(None);
        }
        Self(Some(tokio::spawn(async move {
            tokio::time::sleep(PROGRESS_AFTER).await;
            let line = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
                .with_style(ProgressStyle::with_template("{spinner} {msg}").expect("template"))
                .with_finish(ProgressFinish::AndClear);
            loop {
                line.set_message(progress.snapshot().to_string());
                line.tick();
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })))
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        if let Some(ticker) = self.0.take() {
            // Dropping the ticker drops its line, which clears it.
            ticker.abort();
        }
    }
}

/// Where statements come from.
pub enum Input {
    /// `-e SQL`.
    Text(String),
    /// `-f FILE`.
    File(PathBuf),
    /// Standard input: interactive when it is a terminal.
    Stdin,
}

/// Runs the client on `input`; returns the process exit code.
pub async fn run(session: &mut Session, input: Input) -> i32 {
    let script = match input {
        Input::Text(sql) => sql,
        Input::File(path) => match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("ERROR: cannot read {}: {e}", path.display());
                return 1;
            }
        },
        Input::Stdin if std::io::stdin().is_terminal() => return repl(session).await,
        Input::Stdin => return exit_code(run_piped(session).await),
    };
    exit_code(run_script(session, &script).await)
}

/// The process's exit code after a script: 1, its error printed, when a
/// statement failed.
fn exit_code(result: Result<(), String>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("{message}");
            1
        }
    }
}

fn history_file() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".tributary_history"))
}

/// The interactive loop: multi-line input until `;` or `\G`, Ctrl-C clears
/// the input or cancels the running statement, Ctrl-D exits.
async fn repl(session: &mut Session) -> i32 {
    let mut editor = match DefaultEditor::new() {
        Ok(editor) => editor,
        Err(e) => {
            eprintln!("ERROR: cannot start the line editor: {e}");
            return 1;
        }
    };
    let history = history_file();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    println!("Welcome to tributary. Statements end with ; or \\G. Ctrl-D exits.");
    let mut pending = PendingScript::default();
    // The lines typed since the last statement ran, for the history.
    let mut typed = String::new();
    loop {
        let prompt = if pending.is_empty() {
            PROMPT
        } else {
            CONTINUATION_PROMPT
        };
        match editor.readline(prompt) {
            Ok(line) => {
                if pending.is_empty() && matches!(line.trim(), "quit" | "exit" | "\\q") {
                    break;
                }
                typed.push_str(&line);
                typed.push('\n');
                let statements = pending.push(&format!("{line}\n"));
                if statements.is_empty() {
                    if pending.is_empty() {
                        typed.clear();
                    }
                    continue;
                }
                let _ = editor.add_history_entry(typed.trim());
                typed.clear();
                for statement in &statements {
                    if let Err(message) = run_statement(session, statement).await {
                        println!("{message}");
                    }
                }
            }
            Err(ReadlineError::Interrupted) => {
                pending.clear();
                typed.clear();
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("ERROR: {e}");
                break;
            }
        }
    }
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    println!("Bye");
    0
}
