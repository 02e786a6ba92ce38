//! The `tributary` command-line client: an interactive REPL in the style of
//! the mysql client, and a batch mode for `-e`, `-f` and piped input.

mod print;

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::time::Instant;

use rustyline::error::ReadlineError;
use rustyline::DefaultEditor;
use tributary::parse::{split_script, ScriptStatement, Terminator};
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
