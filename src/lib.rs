//! Airlock: an OpenID Connect provider where every environment of a project is its own trust zone.
//!
//! Where a request goes: `http` (axum adapters: routes, extractors, pages) resolves the environment once at
//! the edge and calls one `service` use case; services sequence I/O through `store` (the only SQL), decide
//! through `oidc` (pure protocol logic, `now` passed in), sign through `crypto` and record `audit` events.
//! The CLI (`cli`) calls the same services.
//!
//! Dependency rules (checked by `.ci/layering`): `model` depends on no other layer; `oidc`, `audit` and
//! `events` never touch axum, sqlx, tokio or the clock; `store` persists and decides nothing; `http` and `cli`
//! never reach `store`; only `store` holds SQL; only `clock` reads the wall clock; only `config` reads
//! process settings.

/// The audit vocabulary (typed events) and the hash chain, pure.
pub mod audit;
/// Command-line interface: clap subcommands mapped onto service calls.
pub mod cli;
/// The only reader of the wall clock.
pub mod clock;
/// Process configuration: flags that are also `AIRLOCK_*` variables.
pub mod config;
/// Key encryption, JOSE signing, random secrets, password hashing.
pub mod crypto;
/// Events as receivers get them, pure: publication, payload, filters, signatures, retries, targets.
pub mod events;
/// HTTP adapters: router, environment extractor, OAuth wire errors, pages.
pub mod http;
/// Plain data shared by every layer.
pub mod model;
/// The protocol, pure: parameter parsing, request validation, PKCE, grants, claims, discovery.
pub mod oidc;
/// Configuration as data, pure: documents, plans, promotion and the go-live check.
pub mod promotion;
/// Use cases shared by HTTP and CLI: they own transactions and time.
pub mod service;
/// sqlx repositories; every per-environment query goes through `EnvStore`.
pub mod store;
/// Prometheus metrics on a listener of their own, off unless configured.
pub mod telemetry;
