//! `Secret`: a password or credential-bearing string that never shows itself in
//! `Debug`/`Display` output (and therefore never in logs or error messages),
//! while serde still reads and writes the real value.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What `Debug` and `Display` print instead of a secret value.
pub const REDACTED: &str = "***";

/// A string that must not be logged: passwords, URIs with credentials.
///
/// Read the value with [`Secret::expose`] only at the point where it is sent.
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The real value, for the one place that has to send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_are_redacted() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "***");
        assert_eq!(format!("{secret}"), "***");
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn serde_reads_and_writes_the_value() {
        let secret: Secret = serde_yaml::from_str("s3cr3t").unwrap();
        assert_eq!(secret.expose(), "s3cr3t");
        assert_eq!(serde_yaml::to_string(&secret).unwrap(), "s3cr3t\n");
    }
}
