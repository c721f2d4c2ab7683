//! Password hashing off the async workers.
//!
//! An argon2 hash takes tens of milliseconds of CPU and about 19 MiB of memory. Run on an
//! async worker it stalls every other request on that worker (eight logins at once pushed
//! `/healthz` from under a millisecond to a third of a second), so [`Passwords`] runs each
//! hash on tokio's blocking pool, at most as many at once as there are cores: a burst of
//! logins queues for a permit instead of taking every core and unbounded memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use tokio::sync::Semaphore;

/// Hashes and verifies passwords on the blocking pool, a bounded number at a time.
#[derive(Debug)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// Jobs waiting for a permit (for tests and metrics).
    waiting: AtomicUsize,
}

impl Default for Passwords {
    /// One hash at a time per available core.
    fn default() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, usize::from))
    }
}

impl Passwords {
    /// At most `concurrent` hashes at once (at least one).
    pub fn new(concurrent: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrent.max(1))),
            waiting: AtomicUsize::new(0),
        }
    }

    /// How many jobs wait for a permit now.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// Runs `job` on the blocking pool once a permit is free; `None` if it panicked. The
    /// permit moves into the job, so a request that is dropped mid-hash (the client went
    /// away) keeps its permit until the hash is really done.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let permit = self.permits.clone().acquire_owned().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        // The semaphore is never closed: `permit` is always `Ok`.
        let permit = permit.ok()?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job()
        })
        .await
        .ok()
    }

    /// Whether `password` matches the PHC string `stored`.
    pub async fn verify(&self, password: &str, stored: &str) -> bool {
        let (password, stored) = (password.to_owned(), stored.to_owned());
        self.run(move || verify(&password, &stored))
            .await
            .unwrap_or(false)
    }

    /// A PHC string for `password`, with a random salt.
    pub async fn hash(&self, password: &str) -> Result<String, argon2::password_hash::Error> {
        let password = password.to_owned();
        self.run(move || hash(&password))
            .await
            .unwrap_or(Err(argon2::password_hash::Error::Crypto))
    }
}

/// A PHC string for `password` with a random salt (blocking: call it through
/// [`Passwords::hash`] on a server).
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let mut salt = [0u8; 16];
    rand::Rng::fill(&mut rand::rng(), &mut salt);
    hash_with_salt(password, &salt)
}

/// A PHC string for `password` with this salt (blocking).
pub fn hash_with_salt(password: &str, salt: &[u8]) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::encode_b64(salt)?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Whether `password` matches the PHC string `stored` (blocking).
fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{Condvar, Mutex};

    use super::*;

    /// With two permits, eight jobs that each block until released: exactly two start, the
    /// other six wait for a permit. Without the bound all eight would start.
    #[tokio::test]
    async fn at_most_the_bound_runs_at_once() {
        let passwords = Arc::new(Passwords::new(2));
        let started = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let jobs: Vec<_> = (0..8)
            .map(|_| {
                let (passwords, started, gate) = (passwords.clone(), started.clone(), gate.clone());
                tokio::spawn(async move {
                    passwords
                        .run(move || {
                            started.fetch_add(1, Ordering::SeqCst);
                            let (open, released) = &*gate;
                            let mut open = open.lock().unwrap();
                            while !*open {
                                open = released.wait(open).unwrap();
                            }
                        })
                        .await
                })
            })
            .collect();
        // Every job has either started or queued for a permit.
        while started.load(Ordering::SeqCst) + passwords.waiting() < 8 {
            tokio::task::yield_now().await;
            std::thread::yield_now();
        }
        let (running, queued) = (started.load(Ordering::SeqCst), passwords.waiting());
        // Release the jobs before asserting: the runtime waits for them at its end.
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        assert_eq!((running, queued), (2, 6), "running, queued");
        for job in jobs {
            assert_eq!(job.await.unwrap(), Some(()));
        }
        assert_eq!(started.load(Ordering::SeqCst), 8);
    }

    #[tokio::test]
    async fn hashes_verify() {
        let passwords = Passwords::new(1);
        let stored = passwords.hash("correct horse").await.unwrap();
        assert!(passwords.verify("correct horse", &stored).await);
        assert!(!passwords.verify("wrong horse", &stored).await);
        assert!(!passwords.verify("correct horse", "not a hash").await);
    }
}
