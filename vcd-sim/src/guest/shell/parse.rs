//! Adapter over `brush-parser`: parses scripts and words with the options the
//! guest shell uses (bash mode), turning parser errors into bash-like text.

use brush_parser::ast::Program;
use brush_parser::word::WordPieceWithSource;
use brush_parser::{Parser, ParserOptions};

/// Parser options of the guest shell.
pub fn options() -> ParserOptions {
    ParserOptions {
        enable_extended_globbing: false,
        ..ParserOptions::default()
    }
}

/// Parses a whole script.
pub fn parse_program(source: &str) -> Result<Program, String> {
    let mut parser = Parser::new(std::io::BufReader::new(source.as_bytes()), &options());
    parser.parse_program().map_err(|e| format!("{e}"))
}

/// Splits a word into expansion pieces.
pub fn parse_word(word: &str) -> Result<Vec<WordPieceWithSource>, String> {
    brush_parser::word::parse(word, &options()).map_err(|e| format!("{e}"))
}

/// Splits a here-document body into expansion pieces.
pub fn parse_heredoc(body: &str) -> Result<Vec<WordPieceWithSource>, String> {
    brush_parser::word::parse_heredoc(body, &options()).map_err(|e| format!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_constructs_cse_scripts_use() {
        let script = "#!/usr/bin/env bash\nset -e\ncat << EOF > /tmp/x\nA $HOME\nEOF\nwhile [ `echo a` != 'a' ]; do sleep 5; done\necho -n > /etc/machine-id\ngrowpart /dev/sda 1 || :\nexport v=$(kubectl version --client | base64 | tr -d '\\n')\n";
        let program = parse_program(script).unwrap();
        assert_eq!(program.complete_commands.len(), 6);
    }

    #[test]
    fn reports_syntax_errors() {
        assert!(parse_program("if true; then echo").is_err());
    }
}
