//! Commands from queues (issue 17, DESIGN.md section 11): the command envelope, the catalog
//! of command types with their payloads, services and queues, and the RabbitMQ plumbing
//! that `factory send` and `factory worker` share. The worker handles each command through
//! the same `app` use case the command line calls ([`crate::app::worker`]).

pub mod amqp;
pub mod catalog;
pub mod envelope;
pub mod servicebus;

pub use catalog::{Command, CommandSpec};
pub use envelope::CommandEnvelope;
