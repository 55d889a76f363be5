//! Text made safe for a terminal: whatever vCD or the server sends is printed
//! only after this, so it cannot drive the user's terminal.

/// Replace control characters (except line breaks) so the text cannot drive the terminal.
pub fn sanitize(text: &str) -> String {
    text.chars()
        .filter(|c| *c != '\r')
        .map(|c| match c {
            '\n' => '\n',
            '\t' => ' ',
            c if c.is_control() => '\u{fffd}',
            c => c,
        })
        .collect()
}
