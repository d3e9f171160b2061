//! Cryptography: key encryption at rest, JOSE signing and verification, random secrets, passwords.

pub mod jose;
pub mod jws;
pub mod kek;
pub mod keyed;
pub mod password;
pub mod secrets;
