//! In-memory guest filesystem: a flat map from normalised absolute path to a
//! node (file or directory) with owner, group, mode and modification time.
//! File contents are `Bytes`, so copying a whole disk is cheap.

use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::{DateTime, Utc};

/// What went wrong with a filesystem operation (the path is the one asked for).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FsError {
    /// The path, or a parent directory, does not exist.
    #[error("{0}: No such file or directory")]
    NotFound(String),
    /// A path component that must be a directory is a file.
    #[error("{0}: Not a directory")]
    NotADirectory(String),
    /// A file operation was given a directory.
    #[error("{0}: Is a directory")]
    IsADirectory(String),
    /// The entry to create exists.
    #[error("{0}: File exists")]
    AlreadyExists(String),
    /// The actor's uid/gid and the entry's mode forbid the access.
    #[error("{0}: Permission denied")]
    PermissionDenied(String),
    /// `rmdir` or a non-recursive remove of a directory with entries.
    #[error("{0}: Directory not empty")]
    NotEmpty(String),
}

/// File or directory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NodeKind {
    /// A regular file and its content.
    #[serde(with = "crate::snapshot::file_bytes")]
    File(Bytes),
    /// A directory (its entries are the paths below it).
    Dir,
}

/// One filesystem entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Node {
    /// File or directory.
    pub kind: NodeKind,
    /// Permission bits (e.g. `0o644`), without the file type.
    pub mode: u32,
    /// Owner user id.
    pub uid: u32,
    /// Owner group id.
    pub gid: u32,
    /// Last modification, in guest time.
    pub mtime: DateTime<Utc>,
}

impl Node {
    /// Whether the entry is a directory.
    pub(crate) fn is_dir(&self) -> bool {
        matches!(self.kind, NodeKind::Dir)
    }

    /// Whether any execute bit is set (root may run it), or the owner's one for others.
    pub fn is_executable_by(&self, uid: u32) -> bool {
        if uid == 0 {
            self.mode & 0o111 != 0
        } else if uid == self.uid {
            self.mode & 0o100 != 0
        } else {
            self.mode & 0o001 != 0
        }
    }

    fn is_writable_by(&self, uid: u32) -> bool {
        uid == 0
            || (uid == self.uid && self.mode & 0o200 != 0)
            || (uid != self.uid && self.mode & 0o002 != 0)
    }

    fn is_readable_by(&self, uid: u32) -> bool {
        uid == 0
            || (uid == self.uid && self.mode & 0o400 != 0)
            || (uid != self.uid && self.mode & 0o004 != 0)
    }

    /// The file's contents (`None` for a directory).
    pub fn data(&self) -> Option<&Bytes> {
        match &self.kind {
            NodeKind::File(data) => Some(data),
            NodeKind::Dir => None,
        }
    }
}

/// Who performs an operation (for permission checks and ownership of new entries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// User id checked against owners and used for new entries.
    pub uid: u32,
    /// Group id checked against groups and used for new entries.
    pub gid: u32,
}

impl Actor {
    /// The superuser (uid 0, gid 0): passes every permission check.
    pub const ROOT: Actor = Actor { uid: 0, gid: 0 };
}

/// The filesystem of one disk.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fs {
    nodes: BTreeMap<String, Node>,
}

/// Resolves `path` against `cwd` and removes `.`, `..` and duplicate slashes.
pub fn normalize(cwd: &str, path: &str) -> String {
    let joined = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("{cwd}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The parent directory of a normalised path (`/` for `/`).
pub fn parent_of(path: &str) -> String {
    match path.rfind('/') {
        Some(0) | None => "/".to_owned(),
        Some(i) => path[..i].to_owned(),
    }
}

/// The last component of a path.
pub fn base_name(path: &str) -> &str {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path)
}

impl Fs {
    /// An empty filesystem holding only `/`.
    pub fn new(now: DateTime<Utc>) -> Self {
        let mut nodes = BTreeMap::new();
        nodes.insert(
            "/".to_owned(),
            Node {
                kind: NodeKind::Dir,
                mode: 0o755,
                uid: 0,
                gid: 0,
                mtime: now,
            },
        );
        Fs { nodes }
    }

    /// The entry at the absolute, normalized `path`.
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// Whether `path` exists (file or directory).
    pub fn exists(&self, path: &str) -> bool {
        self.nodes.contains_key(path)
    }

    /// Whether `path` is a directory.
    pub(crate) fn is_dir(&self, path: &str) -> bool {
        self.nodes.get(path).is_some_and(Node::is_dir)
    }

    /// Whether `path` is a regular file.
    pub fn is_file(&self, path: &str) -> bool {
        self.nodes.get(path).is_some_and(|n| !n.is_dir())
    }

    /// Reads a file.
    pub fn read(&self, path: &str, who: Actor) -> Result<Bytes, FsError> {
        let node = self
            .nodes
            .get(path)
            .ok_or_else(|| FsError::NotFound(path.to_owned()))?;
        if !node.is_readable_by(who.uid) {
            return Err(FsError::PermissionDenied(path.to_owned()));
        }
        node.data()
            .cloned()
            .ok_or_else(|| FsError::IsADirectory(path.to_owned()))
    }

    /// Reads a file as (lossy) UTF-8 text.
    pub fn read_text(&self, path: &str) -> Option<String> {
        self.nodes
            .get(path)
            .and_then(Node::data)
            .map(|d| String::from_utf8_lossy(d).into_owned())
    }

    fn check_parent(&self, path: &str, who: Actor) -> Result<(), FsError> {
        let parent = parent_of(path);
        match self.nodes.get(&parent) {
            None => Err(FsError::NotFound(path.to_owned())),
            Some(node) if !node.is_dir() => Err(FsError::NotADirectory(path.to_owned())),
            Some(node) if !node.is_writable_by(who.uid) => {
                Err(FsError::PermissionDenied(path.to_owned()))
            }
            Some(_) => Ok(()),
        }
    }

    /// Creates or truncates-and-writes a file; new files get `mode`.
    pub fn write(
        &mut self,
        path: &str,
        data: impl Into<Bytes>,
        who: Actor,
        mode: u32,
        now: DateTime<Utc>,
    ) -> Result<(), FsError> {
        let data = data.into();
        if let Some(node) = self.nodes.get_mut(path) {
            if node.is_dir() {
                return Err(FsError::IsADirectory(path.to_owned()));
            }
            if !node.is_writable_by(who.uid) {
                return Err(FsError::PermissionDenied(path.to_owned()));
            }
            node.kind = NodeKind::File(data);
            node.mtime = now;
            return Ok(());
        }
        self.check_parent(path, who)?;
        self.nodes.insert(
            path.to_owned(),
            Node {
                kind: NodeKind::File(data),
                mode,
                uid: who.uid,
                gid: who.gid,
                mtime: now,
            },
        );
        Ok(())
    }

    /// Appends to a file, creating it when missing.
    pub fn append(
        &mut self,
        path: &str,
        data: &[u8],
        who: Actor,
        now: DateTime<Utc>,
    ) -> Result<(), FsError> {
        let mut content = match self.nodes.get(path) {
            Some(node) => node
                .data()
                .ok_or_else(|| FsError::IsADirectory(path.to_owned()))?
                .to_vec(),
            None => Vec::new(),
        };
        content.extend_from_slice(data);
        self.write(path, content, who, 0o644, now)
    }

    /// Creates a directory (and its parents with `parents`).
    pub fn mkdir(
        &mut self,
        path: &str,
        parents: bool,
        who: Actor,
        mode: u32,
        now: DateTime<Utc>,
    ) -> Result<(), FsError> {
        if let Some(node) = self.nodes.get(path) {
            return if parents && node.is_dir() {
                Ok(())
            } else {
                Err(FsError::AlreadyExists(path.to_owned()))
            };
        }
        if parents {
            let parent = parent_of(path);
            if parent != path && !self.exists(&parent) {
                self.mkdir(&parent, true, who, mode, now)?;
            }
        }
        self.check_parent(path, who)?;
        self.nodes.insert(
            path.to_owned(),
            Node {
                kind: NodeKind::Dir,
                mode,
                uid: who.uid,
                gid: who.gid,
                mtime: now,
            },
        );
        Ok(())
    }

    /// Removes a file, or a directory (`recursive` for a non-empty one).
    pub fn remove(&mut self, path: &str, recursive: bool, who: Actor) -> Result<(), FsError> {
        let node = self
            .nodes
            .get(path)
            .ok_or_else(|| FsError::NotFound(path.to_owned()))?;
        if path == "/" {
            return Err(FsError::PermissionDenied(path.to_owned()));
        }
        self.check_parent(path, who)?;
        if node.is_dir() {
            let children = self.children(path);
            if !children.is_empty() && !recursive {
                return Err(FsError::NotEmpty(path.to_owned()));
            }
            let prefix = format!("{path}/");
            self.nodes.retain(|p, _| !p.starts_with(&prefix));
        }
        self.nodes.remove(path);
        Ok(())
    }

    /// Names of the direct children of a directory, sorted.
    pub fn children(&self, dir: &str) -> Vec<String> {
        let prefix = if dir == "/" {
            "/".to_owned()
        } else {
            format!("{dir}/")
        };
        self.nodes
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .filter_map(|(p, _)| {
                let rest = &p[prefix.len()..];
                (!rest.is_empty() && !rest.contains('/')).then(|| rest.to_owned())
            })
            .collect()
    }

    /// Changes permission bits.
    pub fn chmod(&mut self, path: &str, mode: u32, who: Actor) -> Result<(), FsError> {
        let node = self
            .nodes
            .get_mut(path)
            .ok_or_else(|| FsError::NotFound(path.to_owned()))?;
        if who.uid != 0 && who.uid != node.uid {
            return Err(FsError::PermissionDenied(path.to_owned()));
        }
        node.mode = mode & 0o7777;
        Ok(())
    }

    /// Changes owner and/or group.
    pub fn chown(
        &mut self,
        path: &str,
        uid: Option<u32>,
        gid: Option<u32>,
        who: Actor,
    ) -> Result<(), FsError> {
        let node = self
            .nodes
            .get_mut(path)
            .ok_or_else(|| FsError::NotFound(path.to_owned()))?;
        if who.uid != 0 {
            return Err(FsError::PermissionDenied(path.to_owned()));
        }
        if let Some(uid) = uid {
            node.uid = uid;
        }
        if let Some(gid) = gid {
            node.gid = gid;
        }
        Ok(())
    }

    /// Copies a file, or a directory tree (`recursive`).
    pub fn copy(
        &mut self,
        from: &str,
        to: &str,
        recursive: bool,
        who: Actor,
        now: DateTime<Utc>,
    ) -> Result<(), FsError> {
        let node = self
            .nodes
            .get(from)
            .ok_or_else(|| FsError::NotFound(from.to_owned()))?
            .clone();
        let target = if self.is_dir(to) {
            format!("{}/{}", to.trim_end_matches('/'), base_name(from))
        } else {
            to.to_owned()
        };
        match &node.kind {
            NodeKind::File(data) => {
                let data = data.clone();
                if !node.is_readable_by(who.uid) {
                    return Err(FsError::PermissionDenied(from.to_owned()));
                }
                self.write(&target, data, who, node.mode, now)
            }
            NodeKind::Dir => {
                if !recursive {
                    return Err(FsError::IsADirectory(from.to_owned()));
                }
                self.mkdir(&target, true, who, node.mode, now)?;
                for child in self.children(from) {
                    self.copy(
                        &format!("{from}/{child}"),
                        &format!("{target}/{child}"),
                        true,
                        who,
                        now,
                    )?;
                }
                Ok(())
            }
        }
    }

    /// Renames a file or directory tree.
    pub fn rename(&mut self, from: &str, to: &str, who: Actor) -> Result<(), FsError> {
        if !self.exists(from) {
            return Err(FsError::NotFound(from.to_owned()));
        }
        let target = if self.is_dir(to) {
            format!("{}/{}", to.trim_end_matches('/'), base_name(from))
        } else {
            to.to_owned()
        };
        self.check_parent(&target, who)?;
        let prefix = format!("{from}/");
        let moved: Vec<(String, Node)> = self
            .nodes
            .iter()
            .filter(|(p, _)| *p == from || p.starts_with(&prefix))
            .map(|(p, n)| (p.clone(), n.clone()))
            .collect();
        for (path, node) in moved {
            self.nodes.remove(&path);
            let new_path = format!("{target}{}", &path[from.len()..]);
            self.nodes.insert(new_path, node);
        }
        Ok(())
    }

    /// All paths matching a shell glob pattern (absolute pattern), sorted.
    /// Hidden entries match only when the pattern component starts with a dot.
    pub fn glob(&self, pattern: &str) -> Vec<String> {
        let components: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
        let mut current = vec!["/".to_owned()];
        for component in components {
            let mut next = Vec::new();
            for dir in &current {
                if !has_glob_chars(component) {
                    let path = normalize(dir, &unescape_glob(component));
                    if self.exists(&path) {
                        next.push(path);
                    }
                    continue;
                }
                let Some(regex) = glob_to_regex(component) else {
                    continue;
                };
                for child in self.children(dir) {
                    if child.starts_with('.') && !component.starts_with('.') {
                        continue;
                    }
                    if regex.is_match(&child) {
                        next.push(normalize(dir, &child));
                    }
                }
            }
            current = next;
        }
        current.sort();
        current
    }
}

/// Whether an (escaped) glob pattern has unescaped metacharacters.
pub fn has_glob_chars(pattern: &str) -> bool {
    let mut escaped = false;
    for c in pattern.chars() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if matches!(c, '*' | '?' | '[') {
            return true;
        }
    }
    false
}

fn unescape_glob(pattern: &str) -> String {
    let mut out = String::new();
    let mut escaped = false;
    for c in pattern.chars() {
        if !escaped && c == '\\' {
            escaped = true;
        } else {
            out.push(c);
            escaped = false;
        }
    }
    out
}

/// Translates one glob component (`\`-escaped literals) into an anchored regex.
pub fn glob_to_regex(pattern: &str) -> Option<regex::Regex> {
    let mut re = String::from("^");
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    re.push_str(&regex::escape(&next.to_string()));
                }
            }
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            '[' => {
                let mut class = String::from("[");
                if chars.peek() == Some(&'!') || chars.peek() == Some(&'^') {
                    chars.next();
                    class.push('^');
                }
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == ']' {
                        closed = true;
                        break;
                    }
                    if c == '\\' || c == '[' {
                        class.push('\\');
                    }
                    class.push(c);
                }
                if !closed {
                    return None;
                }
                class.push(']');
                re.push_str(&class);
            }
            other => re.push_str(&regex::escape(&other.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fs() -> Fs {
        let now = Utc::now();
        let mut fs = Fs::new(now);
        fs.mkdir("/tmp", false, Actor::ROOT, 0o1777, now).unwrap();
        for name in ["a.out", "a.err", "b.sh", ".hidden"] {
            fs.write(&format!("/tmp/{name}"), "x", Actor::ROOT, 0o644, now)
                .unwrap();
        }
        fs
    }

    proptest::proptest! {
        #[test]
        fn normalize_is_idempotent_and_absolute(cwd in "(/[a-z.]{0,4}){0,4}", path in "[a-z./]{0,20}") {
            let once = normalize(&cwd, &path);
            proptest::prop_assert!(once.starts_with('/'));
            proptest::prop_assert!(!once.contains("//"));
            proptest::prop_assert_eq!(normalize("/", &once), once.clone());
            proptest::prop_assert_eq!(normalize(&cwd, &once), once);
        }
    }

    #[test]
    fn normalize_resolves_relative_parts() {
        assert_eq!(normalize("/root", "weave.yml"), "/root/weave.yml");
        assert_eq!(normalize("/root", "../tmp//x/./y"), "/tmp/x/y");
        assert_eq!(normalize("/", ".."), "/");
    }

    #[test]
    fn glob_matches_like_bash() {
        let fs = fs();
        assert_eq!(fs.glob("/tmp/a.*"), vec!["/tmp/a.err", "/tmp/a.out"]);
        assert_eq!(
            fs.glob("/tmp/*"),
            vec!["/tmp/a.err", "/tmp/a.out", "/tmp/b.sh"]
        );
        assert!(fs.glob("/tmp/c*").is_empty());
        assert_eq!(fs.glob("/tmp/\\*"), Vec::<String>::new());
    }

    #[test]
    fn write_needs_an_existing_parent() {
        let mut fs = fs();
        let err = fs
            .write("/nope/x", "", Actor::ROOT, 0o644, Utc::now())
            .unwrap_err();
        assert_eq!(err, FsError::NotFound("/nope/x".into()));
    }

    #[test]
    fn remove_recursive_drops_the_tree() {
        let mut fs = fs();
        assert_eq!(
            fs.remove("/tmp", false, Actor::ROOT),
            Err(FsError::NotEmpty("/tmp".into()))
        );
        fs.remove("/tmp", true, Actor::ROOT).unwrap();
        assert!(!fs.exists("/tmp/a.out"));
    }

    #[test]
    fn non_root_cannot_write_roots_files() {
        let mut fs = fs();
        let user = Actor {
            uid: 1000,
            gid: 1000,
        };
        assert!(matches!(
            fs.write("/tmp/a.out", "y", user, 0o644, Utc::now()),
            Err(FsError::PermissionDenied(_))
        ));
        fs.write("/tmp/mine", "y", user, 0o644, Utc::now()).unwrap();
    }
}
