//! The background task queue: rows in the database (a restart loses nothing), claimed by worker
//! loops on any instance, at most one pending or running task per dedupe key. Formats register
//! handlers by task kind; the queue knows nothing of what a task does.

mod store;
mod worker;

pub use store::{Task, TaskStatus, get, list};
pub use worker::{Handler, Queue};
