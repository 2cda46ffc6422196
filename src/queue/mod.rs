//! Commands from queues (issue 17, DESIGN.md section 11): the command envelope, the
//! catalog's routing (services, queues, outcome events), and the transports: the worker's
//! consume-and-settle loop over RabbitMQ and Service Bus, and the `send` client. What a
//! command means is the application's ([`crate::app::command`], [`crate::app::worker`]).

pub mod amqp;
pub mod catalog;
pub mod envelope;
pub mod send;
pub mod servicebus;
pub mod worker;

pub use catalog::CommandSpec;
pub use envelope::CommandEnvelope;
