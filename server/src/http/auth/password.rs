//! Password hashing with argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes).
//!
//! Hashing takes tens of milliseconds of CPU and 19 MiB of memory on purpose. It runs on a few
//! dedicated threads (one per core), not on the async runtime, which must keep serving sockets,
//! and not on tokio's blocking pool either: there, each of up to hundreds of threads would keep
//! its own malloc arena holding a freed 19 MiB block (measured: 6 concurrent log-ins took the
//! server from 16 MB to 115 MB resident, for good). A fixed pool bounds both the CPU a log-in
//! flood can take and that memory.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, LazyLock, Mutex};
use tokio::sync::oneshot;

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads' job queue; the threads start on first use.
static HASHERS: LazyLock<Mutex<Sender<Job>>> = LazyLock::new(|| {
    let (sender, receiver) = channel::<Job>();
    let receiver = Arc::new(Mutex::new(receiver));
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    for index in 0..threads {
        let receiver = Arc::clone(&receiver);
        let spawned = std::thread::Builder::new()
            .name(format!("argon2-{index}"))
            .spawn(move || {
                loop {
                    // The lock is held only while taking a job, not while running it.
                    let job = match receiver.lock() {
                        Ok(receiver) => receiver.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
        if let Err(err) = spawned {
            tracing::error!(%err, "could not start a password hashing thread");
        }
    }
    Mutex::new(sender)
});

/// Runs `work` on a hashing thread and waits for its result.
async fn on_hasher<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HashError> {
    let (reply, result) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = reply.send(work());
    });
    HASHERS
        .lock()
        .map_err(|_| HashError("hashing pool poisoned".into()))?
        .send(job)
        .map_err(|_| HashError("hashing pool stopped".into()))?;
    result
        .await
        .map_err(|_| HashError("hashing thread failed".into()))
}

/// A fresh random 16-byte salt.
fn salt() -> Result<SaltString, HashError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|err| HashError(err.to_string()))?;
    SaltString::encode_b64(&bytes).map_err(|err| HashError(err.to_string()))
}

pub async fn hash(password: String) -> Result<String, HashError> {
    on_hasher(move || {
        Argon2::default()
            .hash_password(password.as_bytes(), &salt()?)
            .map(|hash| hash.to_string())
            .map_err(|err| HashError(err.to_string()))
    })
    .await?
}

/// Checks `password` against a stored hash. With no hash (unknown username) it checks against a
/// fixed dummy hash, so a wrong username costs as much time as a wrong password and the timing
/// does not tell which one was wrong.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    static DUMMY: LazyLock<String> = LazyLock::new(|| {
        salt()
            .and_then(|salt| {
                Argon2::default()
                    .hash_password(b"not a password anyone has", &salt)
                    .map(|hash| hash.to_string())
                    .map_err(|err| HashError(err.to_string()))
            })
            .unwrap_or_default()
    });
    let known = stored.is_some();
    on_hasher(move || {
        let stored = stored.unwrap_or_else(|| DUMMY.clone());
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
            && known
    })
    .await
    .unwrap_or(false)
}
