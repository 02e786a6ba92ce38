//! `mysql_native_password`, as MySQL's server checks it: the client sends
//! SHA1(password) XOR SHA1(salt + SHA1(SHA1(password))); the server keeps
//! SHA1(SHA1(password)) ([`crate::catalog::users::native_password`]) and
//! accepts when SHA1 of the reply XOR SHA1(salt + stored) is the stored
//! value. An empty reply is an empty password.

use crate::catalog::users::sha1;
use crate::catalog::Catalog;

/// A fresh 20-byte salt as MySQL makes it: 7-bit, no NUL and no `$`.
pub fn new_salt() -> [u8; 20] {
    let mut salt = [0u8; 20];
    aws_lc_rs::rand::fill(&mut salt).expect("random bytes");
    for byte in &mut salt {
        *byte &= 0x7f;
        if *byte == 0 || *byte == b'$' {
            *byte += 1;
        }
    }
    salt
}

/// Whether `reply` proves the password whose SHA1(SHA1()) is `stored`
/// (`None`: the user has no password, and only an empty reply passes).
pub fn verify(salt: &[u8], reply: &[u8], stored: Option<&[u8; 20]>) -> bool {
    let Some(stored) = stored else {
        return reply.is_empty();
    };
    if reply.len() != 20 || salt.len() < 20 {
        return false;
    }
    let mut salted = salt[..20].to_vec();
    salted.extend_from_slice(stored);
    let key = sha1(&salted);
    let mut once = [0u8; 20];
    for (i, byte) in once.iter_mut().enumerate() {
        *byte = reply[i] ^ key[i];
    }
    let twice = sha1(&once);
    // The same time whatever the bytes.
    twice.iter().zip(stored).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0
}

/// Whether `password`, as typed, is the one whose SHA1(SHA1()) is
/// `stored` (`None`: the user has no password, and only an empty one
/// passes): HTTP basic auth sends the password itself.
pub fn verify_plain(password: &str, stored: Option<&[u8; 20]>) -> bool {
    let Some(stored) = stored else {
        return password.is_empty();
    };
    let twice = sha1(&sha1(password.as_bytes()));
    twice.iter().zip(stored).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0
}

/// Why a login was refused.
#[derive(Debug)]
pub enum Refused {
    /// Locked after failed logins, until the time shown.
    Locked(String),
    /// No such user.
    Unknown(crate::error::Error),
    WrongPassword,
}

/// Admits `user` when `proves` accepts their stored password and the
/// account is not locked; counts the attempt toward the lockout.
pub async fn admit(
    catalog: &Catalog,
    user: &str,
    proves: impl FnOnce(Option<&[u8; 20]>) -> bool,
) -> Result<(), Refused> {
    if let Some(until) = catalog.locked_until(user) {
        let until = if until == i64::MAX {
            "ALTER USER ... ACCOUNT_UNLOCK".to_string()
        } else {
            crate::catalog::show_millis(until)
        };
        return Err(Refused::Locked(until));
    }
    let stored = catalog.native_password(user).map_err(Refused::Unknown)?;
    let good = proves(stored.as_ref());
    if let Err(error) = catalog.record_login(user, good).await {
        tracing::warn!(user = %user, error = %error, "cannot count the login");
    }
    if good {
        Ok(())
    } else {
        Err(Refused::WrongPassword)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::users::{native_password, native_password_bytes};

    /// What a client computes from the password and the salt.
    fn scramble(password: &str, salt: &[u8; 20]) -> Vec<u8> {
        let once = sha1(password.as_bytes());
        let mut salted = salt.to_vec();
        salted.extend_from_slice(&sha1(&once));
        let key = sha1(&salted);
        once.iter().zip(key).map(|(a, b)| a ^ b).collect()
    }

    #[test]
    fn the_right_password_passes_and_a_wrong_one_does_not() {
        // MySQL's PASSWORD('secret').
        assert_eq!(
            native_password("secret"),
            "*14E65567ABDB5135D0CFD9A70B3032C179A49EE7"
        );
        let stored = native_password_bytes(&native_password("secret")).unwrap();
        let salt = new_salt();
        assert!(salt.iter().all(|b| *b != 0 && *b != b'$' && *b < 0x80));
        assert!(verify(&salt, &scramble("secret", &salt), Some(&stored)));
        assert!(!verify(&salt, &scramble("Secret", &salt), Some(&stored)));
        assert!(!verify(&salt, &[], Some(&stored)));
        assert!(verify(&salt, &[], None));
        assert!(!verify(&salt, &scramble("x", &salt), None));
        assert!(verify_plain("secret", Some(&stored)));
        assert!(!verify_plain("secret ", Some(&stored)));
        assert!(verify_plain("", None));
        assert!(!verify_plain("x", None));
    }
}
