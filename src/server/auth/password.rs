//! argon2id hashing on a bounded pool of threads. A hash costs ~19 MiB and
//! tens of milliseconds of CPU; running them on the async runtime would
//! stall every other request, and running unboundedly many at once would
//! let a burst of logins exhaust memory. So at most one hash per core runs
//! at a time, the rest wait in line up to a deadline and then get a 503.
//! The slot belongs to the hash, not to the request: the hashing thread
//! holds it until the hash ends, so a client that sends a login and hangs
//! up does not free its slot while its hash still runs.
//!
//! Memory: the hashes run on a fixed set of threads, one per slot, and
//! each thread hashes in one working buffer of its own (argon2's
//! `hash_password_into_with_memory`), allocated at its first hash, reused
//! by the next ones, and given back to the OS after `KEEP_MEMORY_IDLE`
//! without a hash. So the hashes hold at most one buffer per slot while
//! sign-ins keep coming and nothing once they stop. (Before, each hash
//! allocated its own 19 MiB: glibc served them from per-thread arenas it
//! never trimmed, so the RSS stayed hundreds of MiB above idle.)
//!
//! CPU: the hashing threads run at a lower OS priority (nice
//! `HASHING_NICENESS`), so a request handler that wakes up preempts a hash
//! instead of waiting for its time slice; with nothing else to run, the
//! hashes still get every core.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::rngs::OsRng;
use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore};

use crate::server::config::Argon2Params;
use crate::server::error::{ServiceError, ServiceResult};

/// How long a hashing thread keeps its working buffer without a hash.
/// Long enough that steady sign-ins never pay for a fresh 19 MiB (page
/// faults cost about a tenth of a hash), short enough that memory is back
/// to idle seconds after a burst.
const KEEP_MEMORY_IDLE: Duration = Duration::from_secs(1);

/// The hashing threads' nice value (0 is the default, 19 the lowest).
const HASHING_NICENESS: i32 = 10;

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
    /// The hashing threads waiting for a job, each by its own queue. A job
    /// is sent only with a slot's permit, and a thread puts itself back
    /// before it lets go of that permit, so a permit holder always finds
    /// one here.
    idle: Arc<Mutex<Vec<mpsc::Sender<Job>>>>,
}

/// A hash to run, with the slot it holds until it ends.
struct Job {
    work: Box<dyn FnOnce(&mut Memory) + Send>,
    permit: OwnedSemaphorePermit,
}

/// One hashing thread's argon2 working memory.
#[derive(Default)]
struct Memory(Vec<Block>);

impl Memory {
    /// `n` blocks (1 KiB each), growing the buffer if it is smaller (a
    /// stored hash made with more memory than the current parameters).
    fn blocks(&mut self, n: usize) -> &mut [Block] {
        if self.0.len() < n {
            self.0 = Vec::new();
            self.0 = vec![Block::default(); n];
        }
        &mut self.0[..n]
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Frees the buffer and asks the allocator to hand free memory back
    /// to the OS.
    fn release(&mut self) {
        self.0 = Vec::new();
        give_back_free_memory();
    }
}

/// glibc keeps freed memory of its per-thread arenas unless asked.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn give_back_free_memory() {
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn give_back_free_memory() {}

/// Lowers the calling thread's scheduling priority (Linux nice values are
/// per thread). Best effort: a failure only leaves the default priority.
#[cfg(target_os = "linux")]
fn lower_this_threads_priority() {
    // SAFETY: plain system calls about the calling thread itself.
    let lowered = unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, HASHING_NICENESS) };
    if lowered != 0 {
        tracing::debug!(target: "neosc::hashing", "could not lower the hashing thread's priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_this_threads_priority() {}

/// Starts `n` hashing threads, each waiting on a queue of its own; returns
/// the list of idle ones (all of them, at first).
fn hashing_threads(n: usize) -> Arc<Mutex<Vec<mpsc::Sender<Job>>>> {
    let idle = Arc::new(Mutex::new(Vec::with_capacity(n)));
    for i in 0..n {
        let (tx, rx) = mpsc::channel::<Job>();
        idle.lock().expect("a new lock").push(tx.clone());
        let idle = idle.clone();
        std::thread::Builder::new()
            .name(format!("neosc-hash-{i}"))
            .spawn(move || {
                lower_this_threads_priority();
                let mut memory = Memory::default();
                loop {
                    let next = if memory.is_empty() {
                        rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
                    } else {
                        rx.recv_timeout(KEEP_MEMORY_IDLE)
                    };
                    match next {
                        Ok(Job { work, permit }) => {
                            work(&mut memory);
                            match idle.lock() {
                                Ok(mut idle) => idle.push(tx.clone()),
                                Err(_) => return,
                            }
                            drop(permit);
                        }
                        Err(RecvTimeoutError::Timeout) => memory.release(),
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            })
            .expect("a hashing thread starts");
    }
    idle
}

/// The PHC string of a new argon2id hash of `password` under `params`.
fn hash_in(memory: &mut Memory, params: &Params, password: &[u8]) -> argon2::password_hash::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let output = compute(memory, Algorithm::Argon2id, Version::V0x13, params, password, salt.as_salt())?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `password` hashes to `stored` under the stored hash's own
/// algorithm, version and parameters (the comparison is constant-time).
fn matches_in(memory: &mut Memory, password: &[u8], stored: &PasswordHash<'_>) -> bool {
    let (Some(salt), Some(expected)) = (stored.salt, &stored.hash) else { return false };
    let Ok(algorithm) = Algorithm::try_from(stored.algorithm) else { return false };
    let Ok(version) = stored.version.map(Version::try_from).transpose() else { return false };
    let Ok(params) = Params::try_from(stored) else { return false };
    compute(memory, algorithm, version.unwrap_or_default(), &params, password, salt).is_ok_and(|out| &out == expected)
}

/// argon2 in the thread's buffer: the hash output `params` asks for.
fn compute(
    memory: &mut Memory,
    algorithm: Algorithm,
    version: Version,
    params: &Params,
    password: &[u8],
    salt: Salt<'_>,
) -> argon2::password_hash::Result<Output> {
    let mut salt_bytes = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_bytes)?;
    let blocks = memory.blocks(params.block_count());
    let argon2 = Argon2::new(algorithm, version, params.clone());
    Output::init_with(params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN), |out| {
        argon2.hash_password_into_with_memory(password, salt, out, &mut *blocks).map_err(Into::into)
    })
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
                idle: hashing_threads(cores),
            }),
        }
    }

    /// Runs `f` on a hashing thread once a slot is free. The permit moves
    /// into the job and is dropped by the thread when `f` returns:
    /// if this future is dropped (the client went away), the hash still
    /// runs to its end, and so its slot stays taken until then.
    async fn run<T: Send + 'static>(&self, f: impl FnOnce(&mut Memory, Params) -> T + Send + 'static) -> ServiceResult<T> {
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
        let work = Box::new(move |memory: &mut Memory| {
            let running = inner.running.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::debug!(target: "neosc::hashing", running, "hash started");
            // A panic stays in this job: the thread lives on, and the
            // caller gets an internal error for its dropped sender.
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(memory, params)));
            inner.running.fetch_sub(1, Ordering::Relaxed);
            if let Ok(out) = out {
                let _ = done.send(out);
            }
        });
        let thread = self
            .inner
            .idle
            .lock()
            .map_err(|_| ServiceError::bug("the hashing queue is poisoned"))?
            .pop()
            .ok_or_else(|| ServiceError::bug("a hashing slot without an idle hashing thread"))?;
        thread.send(Job { work, permit }).map_err(|_| ServiceError::bug("the hashing threads are gone"))?;
        result.await.map_err(|_| ServiceError::bug("a hash ended without a result"))
    }

    pub fn hashes(&self) -> u64 {
        self.inner.hashes.load(Ordering::Relaxed)
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub async fn hash(&self, password: String) -> ServiceResult<String> {
        self.inner.hashes.fetch_add(1, Ordering::Relaxed);
        self.run(move |memory, params| hash_in(memory, &params, password.as_bytes())).await?.map_err(ServiceError::internal)
    }

    pub fn verifications(&self) -> u64 {
        self.inner.verifications.load(Ordering::Relaxed)
    }

    pub async fn verify(&self, password: String, phc: String) -> ServiceResult<Verified> {
        self.inner.verifications.fetch_add(1, Ordering::Relaxed);
        self.run(move |memory, params| {
            let Ok(parsed) = PasswordHash::new(&phc) else { return Ok(Verified::No) };
            if !matches_in(memory, password.as_bytes(), &parsed) {
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
            hash_in(memory, &params, password.as_bytes()).map(Verified::YesRehash)
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
                h.run(move |_, _| {
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

    /// Hashes made here and by the argon2 crate's own `PasswordHasher`
    /// (every hash stored before this module reused its memory) check
    /// against each other.
    #[tokio::test]
    async fn hashes_interoperate_with_the_argon2_crates_own() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let h = cheap();
        let ours = h.hash("correct horse battery".into()).await.unwrap();
        Argon2::default().verify_password(b"correct horse battery", &PasswordHash::new(&ours).unwrap()).expect("the crate accepts ours");
        let params = Params::new(1024, 1, 1, None).unwrap();
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"correct horse battery", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert_eq!(h.verify("correct horse battery".into(), theirs.clone()).await.unwrap(), Verified::Yes);
        assert_eq!(h.verify("correct horse battery!".into(), theirs).await.unwrap(), Verified::No);
    }

    #[tokio::test]
    async fn garbage_hashes_never_verify() {
        assert_eq!(cheap().verify("x".into(), "not a phc string".into()).await.unwrap(), Verified::No);
    }
}
