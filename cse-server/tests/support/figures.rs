//! Figures measured by the reliability tests (RELIABILITY.md): printed, and appended to
//! the file `scripts/reliability.sh` names in `CSE_RELIABILITY_FIGURES` for its summary.

use std::io::Write;

/// Whether the reliability suite runs its long form (`CSE_RELIABILITY=long`).
pub fn long_form() -> bool {
    std::env::var("CSE_RELIABILITY").is_ok_and(|v| v == "long")
}

/// Prints `group text` and appends it to the suite's figures file, if any.
pub fn record(group: &str, text: &str) {
    let line = format!("{group} {text}");
    eprintln!("{line}");
    if let Some(path) = std::env::var_os("CSE_RELIABILITY_FIGURES") {
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| writeln!(f, "{line}"));
        if let Err(e) = appended {
            eprintln!("could not append to the figures file: {e}");
        }
    }
}
