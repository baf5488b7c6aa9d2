//! argon2id hashing on a bounded pool of threads. A hash costs ~19 MiB and
//! tens of milliseconds of CPU; running them on the async runtime would
//! stall every other request, and running unboundedly many at once would
//! let a burst of logins exhaust memory. So at most one hash per core runs
//! at a time, the rest wait in line up to a deadline and then get a 503.
//! The slot belongs to the hash, not to the request: the hashing thread
//! holds it until the hash ends, so a client that sends a login and hangs
//! up does not free its slot while its hash still runs. The hashes run on
//! a fixed set of threads, one per slot: the allocator keeps a thread's
//! freed 19 MiB for that thread's next hash, so memory stays at about one
//! hash's worth per slot however many threads a blocking pool would grow.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use tokio::sync::{OnceCell, Semaphore};

use crate::server::config::Argon2Params;
use crate::server::error::{ServiceError, ServiceResult};

#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    slots: Arc<Semaphore>,
    queue_timeout: Duration,
    /// A real hash of a random password, verified against when the email is
    /// unknown so that path costs the same as a wrong password.
    dummy: OnceCell<String>,
    /// Password checks run so far; lets tests see that every sign-in path
    /// pays for one, whether or not the account exists.
    verifications: AtomicU64,
    /// New hashes made so far (registrations, password changes); lets
    /// tests see that a refused request spent none.
    hashes: AtomicU64,
    /// Hashes running right now (logged at debug level by target
    /// `neosc::hashing` as each starts: `make bench` reads the peak).
    running: AtomicU64,
    /// The hashing threads' queue. Jobs are sent only with a slot's permit,
    /// so it never holds more than one job per thread.
    jobs: Mutex<mpsc::Sender<Job>>,
}

type Job = Box<dyn FnOnce() + Send>;

/// Starts `n` threads that run hashing jobs until every sender is gone.
fn hashing_threads(n: usize) -> mpsc::Sender<Job> {
    let (tx, rx) = mpsc::channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    for i in 0..n {
        let rx = rx.clone();
        std::thread::Builder::new()
            .name(format!("neosc-hash-{i}"))
            .spawn(move || loop {
                // The lock is held only while waiting for the next job.
                let job = match rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                match job {
                    Ok(job) => job(),
                    Err(_) => return,
                }
            })
            .expect("a hashing thread starts");
    }
    tx
}

/// The outcome of checking a password.
#[derive(Debug, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Correct, but hashed with other parameters: store this new hash.
    YesRehash(String),
}

impl PasswordHasher {
    pub fn new(p: Argon2Params, queue_timeout: Duration) -> Self {
        let params = Params::new(p.m_kib, p.t, p.p, None).expect("valid argon2 parameters");
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        Self {
            inner: Arc::new(Inner {
                params,
                slots: Arc::new(Semaphore::new(cores)),
                queue_timeout,
                dummy: OnceCell::new(),
                verifications: AtomicU64::new(0),
                hashes: AtomicU64::new(0),
                running: AtomicU64::new(0),
                jobs: Mutex::new(hashing_threads(cores)),
            }),
        }
    }

    fn argon2(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// Runs `f` on a hashing thread once a slot is free. The permit moves
    /// into the job and is dropped there when `f` returns:
    /// if this future is dropped (the client went away), the hash still
    /// runs to its end, and so its slot stays taken until then.
    async fn run<T: Send + 'static>(&self, f: impl FnOnce(Params) -> T + Send + 'static) -> ServiceResult<T> {
        let permit = tokio::time::timeout(self.inner.queue_timeout, self.inner.slots.clone().acquire_owned())
            .await
            .map_err(|_| ServiceError::Unavailable {
                message: "The server is busy signing people in. Please retry in a moment.".into(),
                retry_after_secs: 2,
            })?
            .map_err(ServiceError::internal)?;
        let params = self.inner.params.clone();
        let inner = self.inner.clone();
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let running = inner.running.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::debug!(target: "neosc::hashing", running, "hash started");
            // A panic stays in this job: the thread lives on, and the
            // caller gets an internal error for its dropped sender.
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(params)));
            inner.running.fetch_sub(1, Ordering::Relaxed);
            drop(permit);
            if let Ok(out) = out {
                let _ = done.send(out);
            }
        });
        self.inner
            .jobs
            .lock()
            .map_err(|_| ServiceError::bug("the hashing queue is poisoned"))?
            .send(job)
            .map_err(|_| ServiceError::bug("the hashing threads are gone"))?;
        result.await.map_err(|_| ServiceError::bug("a hash ended without a result"))
    }

    pub fn hashes(&self) -> u64 {
        self.inner.hashes.load(Ordering::Relaxed)
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub async fn hash(&self, password: String) -> ServiceResult<String> {
        self.inner.hashes.fetch_add(1, Ordering::Relaxed);
        self.run(move |params| {
            let salt = SaltString::generate(&mut OsRng);
            Self::argon2(params).hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
        })
        .await?
        .map_err(ServiceError::internal)
    }

    pub fn verifications(&self) -> u64 {
        self.inner.verifications.load(Ordering::Relaxed)
    }

    pub async fn verify(&self, password: String, phc: String) -> ServiceResult<Verified> {
        self.inner.verifications.fetch_add(1, Ordering::Relaxed);
        self.run(move |params| {
            let Ok(parsed) = PasswordHash::new(&phc) else { return Ok(Verified::No) };
            if Argon2::default().verify_password(password.as_bytes(), &parsed).is_err() {
                return Ok(Verified::No);
            }
            let current = Params::try_from(&parsed).ok();
            let same = current
                .as_ref()
                .is_some_and(|c| c.m_cost() == params.m_cost() && c.t_cost() == params.t_cost() && c.p_cost() == params.p_cost())
                && parsed.algorithm.as_str() == "argon2id";
            if same {
                return Ok(Verified::Yes);
            }
            let salt = SaltString::generate(&mut OsRng);
            Self::argon2(params).hash_password(password.as_bytes(), &salt).map(|h| Verified::YesRehash(h.to_string()))
        })
        .await?
        .map_err(ServiceError::internal)
    }

    /// Spends the same work as checking a real password, and always fails.
    pub async fn verify_dummy(&self, password: String) -> ServiceResult<()> {
        let dummy = self
            .inner
            .dummy
            .get_or_try_init(|| async {
                let random = super::token::random_token();
                self.hash(random).await
            })
            .await?
            .clone();
        let _ = self.verify(password, dummy).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHasher {
        PasswordHasher::new(Argon2Params { m_kib: 1024, t: 1, p: 1 }, Duration::from_secs(5))
    }

    #[tokio::test]
    async fn hashes_verify_and_differ_per_salt() {
        let h = cheap();
        let a = h.hash("correct horse battery".into()).await.unwrap();
        let b = h.hash("correct horse battery".into()).await.unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert_ne!(a, b);
        assert_eq!(h.verify("correct horse battery".into(), a.clone()).await.unwrap(), Verified::Yes);
        assert_eq!(h.verify("wrong".into(), a).await.unwrap(), Verified::No);
    }

    #[tokio::test]
    async fn changed_parameters_ask_for_a_rehash() {
        let old = cheap().hash("correct horse battery".into()).await.unwrap();
        let stronger = PasswordHasher::new(Argon2Params { m_kib: 2048, t: 1, p: 1 }, Duration::from_secs(5));
        match stronger.verify("correct horse battery".into(), old).await.unwrap() {
            Verified::YesRehash(new) => assert!(new.starts_with("$argon2id$v=19$m=2048,t=1,p=1$")),
            other => panic!("expected a rehash, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_full_queue_answers_503_with_retry_after_instead_of_piling_up() {
        let h = PasswordHasher::new(Argon2Params { m_kib: 1024, t: 1, p: 1 }, Duration::from_millis(50));
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let _held: Vec<_> = futures_hold(&h, cores).await;
        match h.hash("x".into()).await {
            Err(ServiceError::Unavailable { retry_after_secs, .. }) => assert!(retry_after_secs > 0),
            other => panic!("expected 503, got {other:?}"),
        }
    }

    /// Takes every hashing slot, as a burst of sign-ins would.
    async fn futures_hold(h: &PasswordHasher, n: usize) -> Vec<tokio::sync::OwnedSemaphorePermit> {
        let mut permits = Vec::new();
        for _ in 0..n {
            permits.push(h.inner.slots.clone().acquire_owned().await.unwrap());
        }
        permits
    }

    /// A request dropped while its hash runs (the client hung up) keeps
    /// the slot until the hash ends: nobody else gets it meanwhile.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_abandoned_hash_keeps_its_slot_until_it_ends() {
        let h = PasswordHasher::new(Argon2Params { m_kib: 1024, t: 1, p: 1 }, Duration::from_secs(5));
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let mut held = futures_hold(&h, cores - 1).await;
        let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
        let (finish_tx, finish_rx) = std::sync::mpsc::channel::<()>();
        let slow = {
            let h = h.clone();
            tokio::spawn(async move {
                h.run(move |_| {
                    started_tx.send(()).unwrap();
                    finish_rx.recv().unwrap();
                })
                .await
            })
        };
        tokio::task::spawn_blocking(move || started_rx.recv().unwrap()).await.unwrap();
        slow.abort();
        let _ = slow.await;
        assert_eq!(h.inner.slots.available_permits(), 0, "the abandoned hash still holds its slot");
        finish_tx.send(()).unwrap();
        let _ =
            tokio::time::timeout(Duration::from_secs(5), h.inner.slots.acquire()).await.expect("the slot comes back when the hash ends");
        held.clear();
    }

    #[tokio::test]
    async fn garbage_hashes_never_verify() {
        assert_eq!(cheap().verify("x".into(), "not a phc string".into()).await.unwrap(), Verified::No);
    }
}
