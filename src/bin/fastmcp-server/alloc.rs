//! The allocator policy of the binary, the one place with `unsafe` (std has no way to set it).
//!
//! glibc's malloc serves a large allocation (a request body, its parsed JSON, an answer) with
//! `mmap` and gives it back with `munmap` on free, but only below a *dynamic* threshold: freeing
//! one such block raises the threshold to its size (up to 32 MiB), so later large blocks come from
//! the per-thread arenas instead, and freed arena memory stays with the process. Measured on the
//! static binary: 64 concurrent bodies of 3.9 MiB left RSS 256 MiB above its 2 MiB baseline ten
//! seconds later, 328 MiB after a second round, and rounds of malformed JSON kept it there. Fixing
//! the threshold at glibc's own default (128 KiB) turns the adjustment off: every large block goes
//! back to the system when it is freed, and RSS returns to its baseline at once.

/// The mmap threshold: glibc's starting value, made fixed.
const MMAP_THRESHOLD: i32 = 128 * 1024;

/// Sets the policy; false where the C library refused it (or is not glibc, which has no such
/// knob and needs none).
pub fn return_large_blocks() -> bool {
    #[cfg(target_env = "gnu")]
    {
        // SAFETY: `mallopt` takes two integers and no pointers; glibc documents it as MT-safe
        // (it takes the arena locks itself), and a threshold within glibc's documented range
        // (0 to 32 MiB on 64-bit) cannot put malloc in an invalid state.
        unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 }
    }
    #[cfg(not(target_env = "gnu"))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_env = "gnu")]
    fn glibc_takes_the_fixed_threshold() {
        assert!(super::return_large_blocks());
        // Idempotent: the server may be started again in the same process.
        assert!(super::return_large_blocks());
    }
}
