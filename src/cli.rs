//! The `tributary` command-line client: an interactive REPL in the style of
//! the mysql client, and a batch mode for `-e`, `-f` and piped input.

mod print;

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressFinish, ProgressStyle};

use rustyline::error::ReadlineError;
use rustyline::DefaultEditor;
use tributary::parse::{split_script, ScriptStatement, Terminator};
use tributary::progress::Progress;
use tributary::Session;

use print::{render, Layout};

const PROMPT: &str = "tributary> ";
const CONTINUATION_PROMPT: &str = "        -> ";

/// Runs every statement of `script` in order, printing results; stops at the
/// first error and returns it.
pub async fn run_script(session: &mut Session, script: &str) -> Result<(), String> {
    let split = split_script(script);
    let remainder = (!split.remainder.is_empty()).then_some(ScriptStatement {
        sql: split.remainder,
        terminator: Terminator::Semicolon,
    });
    for statement in split.statements.into_iter().chain(remainder) {
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
        Input::Stdin => {
            let mut text = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut text) {
                eprintln!("ERROR: cannot read standard input: {e}");
                return 1;
            }
            text
        }
    };
    match run_script(session, &script).await {
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
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.trim().is_empty() {
            PROMPT
        } else {
            CONTINUATION_PROMPT
        };
        match editor.readline(prompt) {
            Ok(line) => {
                if buffer.trim().is_empty() && matches!(line.trim(), "quit" | "exit" | "\\q") {
                    break;
                }
                buffer.push_str(&line);
                buffer.push('\n');
                let split = split_script(&buffer);
                if split.statements.is_empty() {
                    continue;
                }
                let _ = editor.add_history_entry(buffer.trim());
                buffer = split.remainder;
                for statement in &split.statements {
                    if let Err(message) = run_statement(session, statement).await {
                        println!("{message}");
                    }
                }
            }
            Err(ReadlineError::Interrupted) => buffer.clear(),
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
