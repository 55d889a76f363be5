//! Credentials the simulator hands out (session tokens, generated
//! passwords, transfer-URL ids, Kubernetes bootstrap tokens) come from the
//! operating system's CSPRNG through `rand::rng()`, never from the world
//! seed: the seed makes names and ids reproducible, and a reproducible
//! credential could be computed in advance and used.

use rand::{Rng, RngExt};
use uuid::Uuid;

/// A session token: 128 random bits, hex.
pub fn token() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// `n` characters drawn uniformly from `alphabet`.
pub fn string(alphabet: &[u8], n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

/// A vCD-style generated admin password: 8 letters and digits (no look-alikes).
pub fn password() -> String {
    string(
        b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789",
        8,
    )
}

/// A random (version 4) UUID, for ids that are also credentials.
pub fn uuid() -> Uuid {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_well_formed_and_never_repeat() {
        let t = token();
        assert_eq!(t.len(), 32);
        assert!(t.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(token(), token());
        let p = password();
        assert_eq!(p.len(), 8);
        assert!(p.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(uuid(), uuid());
        assert_eq!(uuid().get_version_num(), 4);
    }
}
