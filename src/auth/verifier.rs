//! Argon2 verification on a few dedicated threads behind a short queue.
//!
//! Each Argon2 check allocates ~19 MiB and burns ~35 ms of CPU, so it must never run once per
//! incoming request: a flood of wrong tokens would take the server's memory and cores. Verifying
//! on a fixed set of threads bounds both (each thread reuses its allocator arena, so memory stays
//! at a few blocks however long the flood), and a full queue refuses at once instead of piling
//! up waiting requests.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::secret;
use crate::error::{Error, Result};

/// Checks waiting for a thread; beyond this, callers are told to come back later.
const QUEUE_LEN: usize = 32;
/// Seconds a refused caller is asked to wait (`Retry-After`).
const RETRY_AFTER_SECS: u64 = 1;

struct Job {
    token: String,
    phc: String,
    answer: oneshot::Sender<bool>,
}

pub struct Verifier {
    queue: SyncSender<Job>,
}

impl Verifier {
    /// Starts `threads` verifying threads (at least one).
    pub fn new(threads: usize) -> Self {
        let (queue, jobs) = sync_channel::<Job>(QUEUE_LEN);
        let jobs = Arc::new(Mutex::new(jobs));
        for n in 0..threads.max(1) {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || work(&jobs))
                .expect("spawn an Argon2 thread");
        }
        Verifier { queue }
    }

    /// Whether `token` matches the Argon2 PHC string `phc`; `Unavailable` when every thread is
    /// busy and the queue is full.
    pub async fn verify(&self, token: &str, phc: &str) -> Result<bool> {
        let (answer, answered) = oneshot::channel();
        let job = Job {
            token: token.to_string(),
            phc: phc.to_string(),
            answer,
        };
        match self.queue.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(Error::Unavailable {
                    message: "too many token checks in progress; retry shortly".into(),
                    retry_after_secs: RETRY_AFTER_SECS,
                });
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(Error::internal("the Argon2 threads have stopped"));
            }
        }
        answered.await.map_err(Error::internal)
    }
}

fn work(jobs: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held only while taking a job, so the threads verify in parallel.
        let next = jobs.lock().map(|rx| rx.recv());
        let Ok(Ok(job)) = next else {
            return; // every sender is gone: the server is stopping
        };
        // The caller may have given up (client disconnected); skip the work then.
        if job.answer.is_closed() {
            continue;
        }
        let _ = job.answer.send(secret::verify(&job.token, &job.phc));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn verifies_on_its_threads() {
        let verifier = Verifier::new(1);
        let phc = secret::hash("cma_right").unwrap();
        assert!(verifier.verify("cma_right", &phc).await.unwrap());
        assert!(!verifier.verify("cma_wrong", &phc).await.unwrap());
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once() {
        let verifier = Arc::new(Verifier::new(1));
        let phc = secret::hash("cma_right").unwrap();
        let checks: Vec<_> = (0..QUEUE_LEN + 8)
            .map(|_| {
                let (verifier, phc) = (verifier.clone(), phc.clone());
                tokio::spawn(async move { verifier.verify("cma_wrong", &phc).await })
            })
            .collect();
        let mut refused = 0;
        for check in checks {
            match check.await.unwrap() {
                Ok(valid) => assert!(!valid),
                Err(Error::Unavailable { .. }) => refused += 1,
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert!(
            refused > 0,
            "one thread cannot take {} checks at once",
            QUEUE_LEN + 8
        );
    }
}
