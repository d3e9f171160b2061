//! Webhook delivery: the signed HTTP request to a receiver (`sender`), and the worker on every
//! node that claims due deliveries by lease, sends them and records each attempt (`worker`).

mod sender;
mod worker;

pub use sender::Sender;
pub use worker::DeliveryWorker;
