//! Guest user accounts: names, ids, homes, passwords and password aging, as
//! `passwd`, `chpasswd`, `chage` and guest-operation logins see them.

use std::collections::BTreeMap;
use std::fmt;

/// Password aging as `chage` sets it (`-1` = disabled, as on the command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PasswordAging {
    /// Days before a password may change again (`chage -m`).
    pub min_days: i64,
    /// Days a password stays valid (`chage -M`; 99999: forever).
    pub max_days: i64,
    /// Days after expiry before the account locks (`chage -I`; -1: never).
    pub inactive_days: i64,
    /// Account expiry, days since 1970-01-01 (`chage -E`; -1: never).
    pub expire_date: i64,
}

impl Default for PasswordAging {
    fn default() -> Self {
        PasswordAging {
            min_days: 0,
            max_days: 99999,
            inactive_days: -1,
            expire_date: -1,
        }
    }
}

/// One account. Debug never shows the password.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct User {
    /// Login name.
    pub name: String,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Home directory.
    pub home: String,
    /// Login shell.
    pub shell: String,
    /// `None`: locked (no password login).
    pub password: Option<String>,
    /// Password aging.
    pub aging: PasswordAging,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("uid", &self.uid)
            .field("gid", &self.gid)
            .field("home", &self.home)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("aging", &self.aging)
            .finish()
    }
}

/// The account table of a disk.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Users {
    by_name: BTreeMap<String, User>,
    groups: BTreeMap<u32, String>,
}

impl Users {
    /// A table with `root` (uid 0, home `/root`) holding `root_password`.
    pub fn with_root(root_password: Option<String>) -> Self {
        let mut users = Users::default();
        users.add(User {
            name: "root".into(),
            uid: 0,
            gid: 0,
            home: "/root".into(),
            shell: "/bin/bash".into(),
            password: root_password,
            aging: PasswordAging::default(),
        });
        users.groups.insert(0, "root".into());
        users
    }

    /// Adds or replaces `user`; its gid gets a group named after it unless that gid has one.
    pub fn add(&mut self, user: User) {
        self.groups
            .entry(user.gid)
            .or_insert_with(|| user.name.clone());
        self.by_name.insert(user.name.clone(), user);
    }

    /// The account named `name`.
    pub fn get(&self, name: &str) -> Option<&User> {
        self.by_name.get(name)
    }

    /// The account named `name`, for changes.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut User> {
        self.by_name.get_mut(name)
    }

    /// The account with user id `uid`.
    pub(crate) fn by_uid(&self, uid: u32) -> Option<&User> {
        self.by_name.values().find(|u| u.uid == uid)
    }

    /// The name of group `gid`.
    pub(crate) fn group_name(&self, gid: u32) -> Option<&str> {
        self.groups.get(&gid).map(String::as_str)
    }

    /// The id of the group named `name`.
    pub(crate) fn gid_of_group(&self, name: &str) -> Option<u32> {
        self.groups
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(gid, _)| *gid)
    }

    /// Whether `password` logs `name` in.
    pub fn verify(&self, name: &str, password: &str) -> bool {
        self.by_name
            .get(name)
            .and_then(|u| u.password.as_deref())
            .is_some_and(|p| p == password)
    }

    /// Sets a password; false when the user does not exist.
    pub fn set_password(&mut self, name: &str, password: &str) -> bool {
        match self.by_name.get_mut(name) {
            Some(user) => {
                user.password = Some(password.to_owned());
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_checked_and_redacted() {
        let mut users = Users::with_root(Some("s3cret".into()));
        assert!(users.verify("root", "s3cret"));
        assert!(!users.verify("root", "other"));
        assert!(users.set_password("root", "new"));
        assert!(users.verify("root", "new"));
        assert!(!users.set_password("nobody", "x"));
        assert!(!format!("{:?}", users).contains("new"));
    }
}
