//! Configuration errors: every problem found in a file (`ConfigProblem`, each with
//! its location) gathered into one `ConfigError`, with texts modelled on CSE 1.2.x
//! (`Missing keys in …: {…}`, `… key 'k': value type should be '…'`,
//! `Config file '<f>' is invalid`).

use std::fmt;
use std::path::PathBuf;

use super::permissions::PermissionProblem;

/// Where in a config file a problem is: the file, then optionally a section, then
/// optionally one entry of a list section (`vcs`, `broker.templates`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// File name as given by the caller (path or an origin label).
    pub file: String,
    /// Top-level section, e.g. `amqp`.
    pub section: Option<String>,
    /// Entry of a list inside the section.
    pub entry: Option<ListEntry>,
}

/// One entry of a list section, numbered from 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListEntry {
    /// What the entries are (`vc`, `template`).
    pub kind: &'static str,
    /// 1-based position in the list.
    pub index: usize,
    /// The entry's `name` key when it has a readable one.
    pub name: Option<String>,
}

impl Location {
    /// The file itself (top level).
    pub fn file(file: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            section: None,
            entry: None,
        }
    }

    /// A section of this file.
    pub fn section(&self, section: &str) -> Self {
        Self {
            file: self.file.clone(),
            section: Some(section.to_owned()),
            entry: None,
        }
    }

    /// An entry of a list in this section.
    pub fn entry(&self, kind: &'static str, index: usize, name: Option<String>) -> Self {
        Self {
            file: self.file.clone(),
            section: self.section.clone(),
            entry: Some(ListEntry { kind, index, name }),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "config file '{}'", self.file)?;
        if let Some(section) = &self.section {
            write!(f, ", '{section}' section")?;
        }
        if let Some(entry) = &self.entry {
            write!(f, ", {} #{}", entry.kind, entry.index)?;
            if let Some(name) = &entry.name {
                write!(f, " ('{name}')")?;
            }
        }
        Ok(())
    }
}

/// The value types of the original messages (`value type should be '<name>'`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    /// YAML string.
    String,
    /// YAML number (integer, except where seconds accept decimals).
    Number,
    /// YAML boolean.
    Bool,
    /// YAML mapping.
    Mapping,
    /// YAML sequence.
    Sequence,
    /// YAML null (only ever found, never expected).
    Null,
}

impl ValueType {
    /// The name the original used (`string`, `number`, `true/false`, `mapping`, `sequence`).
    pub fn name(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Bool => "true/false",
            Self::Mapping => "mapping",
            Self::Sequence => "sequence",
            Self::Null => "empty",
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One thing wrong with a config file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigProblem {
    /// Required keys absent: `Missing keys in <loc>: {'a', 'b'}`.
    MissingKeys {
        /// Mapping the keys are missing from.
        at: Location,
        /// Sorted key names.
        keys: Vec<String>,
    },
    /// Keys the schema does not know: `Invalid keys in <loc>: {'x'}`.
    InvalidKeys {
        /// Mapping holding the keys.
        at: Location,
        /// Sorted key names (non-string keys rendered as YAML).
        keys: Vec<String>,
    },
    /// `<loc> key '<k>': value type should be '<type>'` (key absent for a list entry).
    WrongType {
        /// Mapping (or list entry) holding the value.
        at: Location,
        /// Key, or `None` when the list entry itself has the wrong type.
        key: Option<String>,
        /// Expected type.
        expected: ValueType,
        /// Type found.
        found: ValueType,
    },
    /// The type is right but the value is not acceptable: `<loc> key '<k>': <reason>`.
    InvalidValue {
        /// Mapping holding the value.
        at: Location,
        /// Key.
        key: String,
        /// What is wrong, phrased as what the value should be.
        reason: String,
    },
    /// `Default template '<t>' not found in listed templates`.
    DefaultTemplateNotListed {
        /// `broker` section location.
        at: Location,
        /// The `default_template` value.
        name: String,
    },
    /// A name that must be unique appears twice in a list.
    DuplicateName {
        /// Section location.
        at: Location,
        /// What the entries are (`template`, `vc`).
        kind: &'static str,
        /// The repeated name.
        name: String,
        /// 1-based positions of every entry with that name.
        positions: Vec<usize>,
    },
    /// The file's permissions are too open (1.2.x texts).
    Permission(PermissionProblem),
    /// The document passed every rule but still does not fit the typed model.
    Model {
        /// File location.
        at: Location,
        /// Deserializer message.
        message: String,
    },
    /// Neither `amqp` nor `mqtt` is given: the server would have no transport.
    NoTransport {
        /// File location.
        at: Location,
    },
    /// Keys of which exactly one must be given (`vcd.password` / `vcd.api_token`).
    ExactlyOneOf {
        /// Mapping holding the keys.
        at: Location,
        /// The alternatives.
        keys: Vec<&'static str>,
        /// Those present.
        given: Vec<&'static str>,
    },
}

fn python_set(keys: &[String]) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| format!("'{k}'")).collect();
    format!("{{{}}}", quoted.join(", "))
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingKeys { at, keys } => {
                write!(f, "Missing keys in {at}: {}", python_set(keys))
            }
            Self::InvalidKeys { at, keys } => {
                write!(f, "Invalid keys in {at}: {}", python_set(keys))
            }
            Self::WrongType {
                at,
                key,
                expected,
                found,
            } => {
                match key {
                    Some(key) => write!(f, "{at} key '{key}'")?,
                    None => write!(f, "{at}")?,
                }
                write!(f, ": value type should be '{expected}'")?;
                if *expected == ValueType::String
                    && matches!(found, ValueType::Number | ValueType::Bool)
                {
                    write!(f, " (put the value in quotes)")?;
                }
                Ok(())
            }
            Self::InvalidValue { at, key, reason } => write!(f, "{at} key '{key}': {reason}"),
            Self::DefaultTemplateNotListed { name, .. } => {
                write!(f, "Default template '{name}' not found in listed templates")
            }
            Self::DuplicateName {
                at,
                kind,
                name,
                positions,
            } => {
                let numbers: Vec<String> = positions.iter().map(|p| format!("#{p}")).collect();
                write!(
                    f,
                    "{at}: {kind} name '{name}' is listed more than once ({kind}s {})",
                    numbers.join(", ")
                )
            }
            Self::Permission(problem) => write!(f, "{problem}"),
            Self::Model { at, message } => write!(f, "{at}: {message}"),
            Self::NoTransport { at } => write!(
                f,
                "{at}: no transport: add an 'amqp' section (RabbitMQ, as in 1.2.x) or an \
                 'mqtt' section (vCD's MQTT extension bus, vCD 10.2+)"
            ),
            Self::ExactlyOneOf { at, keys, given } => {
                let quoted = |keys: &[&str], joiner: &str| {
                    keys.iter()
                        .map(|k| format!("'{k}'"))
                        .collect::<Vec<_>>()
                        .join(joiner)
                };
                let found = if given.is_empty() {
                    "none is given".to_owned()
                } else {
                    format!("{} are all given", quoted(given, " and "))
                };
                write!(
                    f,
                    "{at}: exactly one of the keys {} is required ({found})",
                    quoted(keys, " or ")
                )
            }
        }
    }
}

/// Why a config file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file does not exist.
    #[error("Config file '{}' not found", path.display())]
    NotFound {
        /// Path given.
        path: PathBuf,
    },
    /// The file exists but cannot be read.
    #[error("Cannot read config file '{}': {source}", path.display())]
    Unreadable {
        /// Path given.
        path: PathBuf,
        /// Underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not YAML (or not UTF-8).
    #[error("Config file '{file}' is not valid YAML: {message}")]
    Syntax {
        /// File name.
        file: String,
        /// 1-based line of the error, when known.
        line: Option<usize>,
        /// 1-based column of the error, when known.
        column: Option<usize>,
        /// Parser message (includes line and column when known).
        message: String,
    },
    /// The YAML is well-formed but the configuration is wrong: every problem found.
    #[error("{}", render_invalid(file, problems))]
    Invalid {
        /// File name.
        file: String,
        /// All problems, in file order (permissions first).
        problems: Vec<ConfigProblem>,
    },
}

fn render_invalid(file: &str, problems: &[ConfigProblem]) -> String {
    let mut text = String::new();
    for problem in problems {
        text.push_str(&problem.to_string());
        text.push('\n');
    }
    text.push_str(&format!("Config file '{file}' is invalid"));
    text
}

impl ConfigError {
    /// The problems of an `Invalid` error (empty for the other kinds).
    pub fn problems(&self) -> &[ConfigProblem] {
        match self {
            Self::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }
}

/// Why an endpoint (vCD base URL, AMQP URI) could not be built from the config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// `vcd.host` does not make a usable https/http URL.
    #[error("vcd host '{host}' is not a valid URL: {reason}")]
    InvalidVcdHost {
        /// The configured host.
        host: String,
        /// What is wrong.
        reason: String,
    },
    /// `amqp.host` is empty or contains characters a host cannot have.
    #[error("amqp host '{host}' is not a valid host name or address")]
    InvalidAmqpHost {
        /// The configured host.
        host: String,
    },
}
