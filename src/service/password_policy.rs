//! What a new password must be: long enough for the environment's policy (8 characters by
//! default), at most 1024 bytes, and not one of the most common passwords.

use super::Error;
use crate::model::Secret;

/// The most common passwords, one a line, lowercase.
const COMMON: &str = include_str!("common_passwords.txt");

/// Refuses `password` with a reason a person can act on.
pub fn check(password: &Secret, min_length: i64) -> Result<(), Error> {
    let password = password.expose();
    let length = password.chars().count() as i64;
    if length < min_length.max(1) || password.len() > 1024 {
        return Err(Error::Invalid(format!(
            "passwords need {} to 1024 characters",
            min_length.max(1)
        )));
    }
    let lowered = password.to_lowercase();
    if COMMON.lines().any(|common| common == lowered) {
        return Err(Error::Invalid(
            "this password is one of the most common ones; choose another".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_and_common_passwords() {
        assert!(check(&Secret::new("correct horse battery"), 8).is_ok());
        assert!(check(&Secret::new("short"), 8).is_err());
        assert!(check(&Secret::new("Password123"), 8).is_err());
        assert!(check(&Secret::new("twelve chars"), 16).is_err());
        assert!(check(&Secret::new("x".repeat(1025)), 8).is_err());
    }
}
