//! Regression tests for what an adversarial review of the server found (issue 16), one per item,
//! grouped by what they defend.

mod admin;
mod browser;
mod connections;
mod input;
mod signin;
mod storage;
mod tokens;
