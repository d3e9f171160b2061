//! The one integration-test binary: real servers on ephemeral ports, real HTTP, real databases.

mod harness;

mod accounts;
mod admin_api;
mod audit;
mod bad_input;
mod client_credentials;
mod client_keys;
mod code_flow;
mod console;
mod console_browser;
mod domains;
mod forged_tokens;
mod hardening;
mod isolation;
mod keys;
mod lifecycle;
mod limits;
mod logout;
mod logs;
mod metrics;
mod openapi;
mod plan_limits;
mod promotion;
mod proxies;
mod refresh;
mod registration;
mod releases;
mod resources;
mod scale_out;
mod sessions;
mod token_tools;
mod usage;
mod webhooks;
mod zone_lifecycle;
