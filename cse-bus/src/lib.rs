//! The message bus between vCD and CSE: a small trait (publish, consume,
//! ack/nack/requeue, reply) with a RabbitMQ implementation (lapin) and an
//! in-memory implementation with the same semantics, plus test helpers.

pub mod testing;
pub mod tls;
