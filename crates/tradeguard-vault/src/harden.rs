//! Process hardening at server start: no core dumps, secret pages kept out of swap.
//!
//! [`apply`] sets `RLIMIT_CORE` to 0, marks the process not dumpable (`PR_SET_DUMPABLE` 0,
//! Linux: no core file, no ptrace by other users' processes, `/proc/<pid>/mem` closed) and,
//! when the memory-lock limit allows it, locks all current and future pages in RAM
//! (`mlockall`). [`probe`] reports the current state without changing anything. Every call
//! goes through rustix's safe API: no `unsafe` here.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// What one hardening measure achieved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// In effect.
    On,
    /// Not in effect; the text says why and what to do.
    Off(String),
    /// Not available on this platform.
    Unsupported,
}

impl Status {
    /// True when in effect.
    pub fn is_on(&self) -> bool {
        matches!(self, Self::On)
    }
}

/// The hardening state of this process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HardenReport {
    /// `RLIMIT_CORE` is 0.
    pub core_limit_zero: Status,
    /// The process is not dumpable (Linux `PR_SET_DUMPABLE` 0).
    pub not_dumpable: Status,
    /// Memory is locked (`mlockall`).
    pub memory_locked: Status,
}

impl HardenReport {
    /// One line per measure that is not in effect, saying what to do.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, s) in [
            ("core dumps (RLIMIT_CORE)", &self.core_limit_zero),
            ("not-dumpable flag", &self.not_dumpable),
            ("memory locking", &self.memory_locked),
        ] {
            match s {
                Status::On => {}
                Status::Off(why) => out.push(format!("{name}: {why}")),
                Status::Unsupported => out.push(format!("{name}: not supported on this platform")),
            }
        }
        out
    }
}

/// Options for [`apply`].
#[derive(Clone, Copy, Debug)]
pub struct HardenOptions {
    /// Lock all pages in memory (`mlockall`). Only done when `RLIMIT_MEMLOCK` is unlimited:
    /// with a finite limit, locking future pages makes allocations beyond it fail.
    pub lock_memory: bool,
}

impl Default for HardenOptions {
    fn default() -> Self {
        Self { lock_memory: true }
    }
}

/// Reports the current state without changing it.
pub fn probe() -> HardenReport {
    HardenReport {
        core_limit_zero: core_limit_status(),
        not_dumpable: dumpable_status(),
        memory_locked: locked_status(),
    }
}

/// On when the kernel reports locked pages for this process (`VmLck` in `/proc/self/status`).
fn locked_status() -> Status {
    let locked_kib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmLck:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        });
    match locked_kib {
        Some(n) if n > 0 => Status::On,
        _ => Status::Off(memlock_advice()),
    }
}

/// Applies every measure the OS allows and reports what took effect. Call it once, early in
/// `serve`, before the vault is unlocked.
pub fn apply(options: HardenOptions) -> HardenReport {
    let zero = Rlimit {
        current: Some(0),
        maximum: Some(0),
    };
    let core = match setrlimit(Resource::Core, zero) {
        Ok(()) => core_limit_status(),
        Err(e) => Status::Off(format!("setrlimit failed ({e}); run with `ulimit -c 0`")),
    };
    let dumpable = set_not_dumpable();
    let memory = if options.lock_memory {
        lock_memory()
    } else {
        Status::Off("not requested".into())
    };
    let report = HardenReport {
        core_limit_zero: core,
        not_dumpable: dumpable,
        memory_locked: memory,
    };
    for w in report.warnings() {
        tracing::warn!(target: "tradeguard::harden", "{w}");
    }
    report
}

fn core_limit_status() -> Status {
    match getrlimit(Resource::Core).current {
        Some(0) => Status::On,
        _ => Status::Off(
            "core dumps are allowed; run with `ulimit -c 0` or let `serve` set it".into(),
        ),
    }
}

fn memlock_advice() -> String {
    match getrlimit(Resource::Memlock).current {
        None => "allowed (RLIMIT_MEMLOCK unlimited); `serve` locks memory at start".into(),
        Some(n) => format!(
            "RLIMIT_MEMLOCK is {} KiB; to keep secrets out of swap run with `ulimit -l unlimited` \
             (systemd: LimitMEMLOCK=infinity) or give the service CAP_IPC_LOCK",
            n / 1024
        ),
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn lock_memory() -> Status {
    use rustix::mm::{MlockAllFlags, mlockall};
    if getrlimit(Resource::Memlock).current.is_some() {
        return Status::Off(memlock_advice());
    }
    match mlockall(MlockAllFlags::CURRENT | MlockAllFlags::FUTURE) {
        Ok(()) => Status::On,
        Err(e) => Status::Off(format!("mlockall failed ({e}); {}", memlock_advice())),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn lock_memory() -> Status {
    Status::Unsupported
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn dumpable_status() -> Status {
    use rustix::process::{DumpableBehavior, dumpable_behavior};
    match dumpable_behavior() {
        Ok(DumpableBehavior::NotDumpable) => Status::On,
        Ok(_) => Status::Off("the process is dumpable; `serve` clears the flag at start".into()),
        Err(e) => Status::Off(format!("cannot read the dumpable flag ({e})")),
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn set_not_dumpable() -> Status {
    use rustix::process::{DumpableBehavior, set_dumpable_behavior};
    match set_dumpable_behavior(DumpableBehavior::NotDumpable) {
        Ok(()) => dumpable_status(),
        Err(e) => Status::Off(format!("prctl(PR_SET_DUMPABLE) failed ({e})")),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn dumpable_status() -> Status {
    Status::Unsupported
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn set_not_dumpable() -> Status {
    Status::Unsupported
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_disables_core_dumps_without_locking_memory() {
        let report = apply(HardenOptions { lock_memory: false });
        assert!(report.core_limit_zero.is_on(), "{report:?}");
        assert!(report.not_dumpable.is_on() || report.not_dumpable == Status::Unsupported);
        assert!(!report.memory_locked.is_on());
        assert!(
            report
                .warnings()
                .iter()
                .any(|w| w.starts_with("memory locking"))
        );
        assert!(probe().core_limit_zero.is_on());
    }
}
