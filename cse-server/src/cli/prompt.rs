//! Yes/no questions: answered by `--yes`, by a terminal, or refused with a message
//! naming the flag to use when there is no terminal.

use std::io::{BufRead, IsTerminal, Write};

use super::error::CliError;

/// Answers yes/no questions.
pub trait Prompter: Send {
    /// `Ok(true)` to go ahead.
    fn confirm(&mut self, question: &str, hint: &str) -> Result<bool, CliError>;
}

/// Answers every question with yes (`--yes`).
#[derive(Debug, Default, Clone, Copy)]
pub struct AssumeYes;

impl Prompter for AssumeYes {
    fn confirm(&mut self, _question: &str, _hint: &str) -> Result<bool, CliError> {
        Ok(true)
    }
}

/// Asks on the terminal; without one, fails with the question and `hint`
/// (the flag that answers it).
#[derive(Debug, Default, Clone, Copy)]
pub struct TerminalPrompter;

impl Prompter for TerminalPrompter {
    fn confirm(&mut self, question: &str, hint: &str) -> Result<bool, CliError> {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return Err(no_terminal(question, hint));
        }
        let mut stderr = std::io::stderr();
        let _ = write!(stderr, "{question} [y/N]: ");
        let _ = stderr.flush();
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::io("reading the answer", e))?;
        Ok(parse_answer(&line))
    }
}

/// Never answers: what a non-interactive run without `--yes` gets.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoTerminal;

impl Prompter for NoTerminal {
    fn confirm(&mut self, question: &str, hint: &str) -> Result<bool, CliError> {
        Err(no_terminal(question, hint))
    }
}

/// Answers from a list (tests), then refuses like [`NoTerminal`].
#[derive(Debug, Default, Clone)]
pub struct ScriptedAnswers {
    /// Remaining answers, first first.
    pub answers: std::collections::VecDeque<bool>,
    /// Questions asked so far.
    pub asked: Vec<String>,
}

impl Prompter for ScriptedAnswers {
    fn confirm(&mut self, question: &str, hint: &str) -> Result<bool, CliError> {
        self.asked.push(question.to_owned());
        self.answers
            .pop_front()
            .ok_or_else(|| no_terminal(question, hint))
    }
}

fn no_terminal(question: &str, hint: &str) -> CliError {
    CliError::Prompt(format!(
        "{question} — cannot ask without a terminal; {hint}"
    ))
}

/// `y`/`yes` (any case, surrounding blanks ignored) is yes; anything else is no.
pub fn parse_answer(line: &str) -> bool {
    matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse() {
        assert!(parse_answer("y\n"));
        assert!(parse_answer(" YES "));
        assert!(!parse_answer("\n"));
        assert!(!parse_answer("no"));
        assert!(!parse_answer("yess"));
    }

    #[test]
    fn no_terminal_names_the_flag() {
        let err = NoTerminal
            .confirm("Delete catalog 'cse'?", "pass --yes to confirm")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Delete catalog 'cse'? — cannot ask without a terminal; pass --yes to confirm"
        );
    }

    #[test]
    fn scripted_answers_then_refuses() {
        let mut p = ScriptedAnswers {
            answers: [true].into(),
            asked: vec![],
        };
        assert!(p.confirm("a?", "h").unwrap());
        assert!(p.confirm("b?", "h").is_err());
        assert_eq!(p.asked, ["a?", "b?"]);
    }
}
