//! Python's `repr` of strings and string lists, as the original's error texts
//! print them (the wire texts must match 1.2.x byte for byte).

/// Python's `repr(str)`: single quotes unless the text contains `'` and no `"`; backslash,
/// the quote and control characters escaped.
pub fn python_str_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..=0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `str(list_of_str)`: `[]`, `['a', 'b']`.
pub fn python_list_repr(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| python_str_repr(s)).collect();
    format!("[{}]", parts.join(", "))
}
