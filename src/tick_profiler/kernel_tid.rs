//! The kernel's id of the calling thread (Linux `gettid`), read once per thread when it
//! registers its shard, so that the resource sampler can read that thread's scheduler counters
//! (`/proc/self/task/<tid>/…`) and a slow tick can name the thread the kernel knows.
//!
//! `#![forbid(unsafe_code)]` rules out `libc::gettid`; `/proc/thread-self` is a symlink to
//! `<pid>/task/<tid>` (Linux ≥ 3.17), read with safe `std::fs::read_link`: a few µs, once per
//! thread and collector, never per span. Elsewhere, or if `/proc` is not mounted: `None`.

/// The calling thread's kernel id, if this platform says.
pub(crate) fn current() -> Option<u32> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    parse(link.to_str()?)
}

/// The calling thread's time on a CPU so far, ns (`/proc/thread-self/schedstat`), if this
/// platform says: read once, as a ticking thread exits, so that its CPU time over the run is
/// known although the resource sampler can no longer read it.
pub(crate) fn cpu_ns() -> Option<u64> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// The tid in a `/proc/thread-self` target: `1234/task/1240` → 1240.
fn parse(link: &str) -> Option<u32> {
    let (_, tid) = link.rsplit_once("/task/")?;
    tid.parse().ok().filter(|&tid| tid != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn reads_its_own_cpu_time() {
        let before = cpu_ns().unwrap();
        let mut x = 0_u64;
        for i in 0..1_000_000 {
            x = std::hint::black_box(x.wrapping_add(i));
        }
        assert!(cpu_ns().unwrap() > before);
    }

    #[test]
    fn parses_the_link() {
        assert_eq!(parse("1234/task/1240"), Some(1240));
        assert_eq!(parse("/proc/1234/task/7"), Some(7));
        assert_eq!(parse("1234"), None);
        assert_eq!(parse("1234/task/x"), None);
        assert_eq!(parse("1234/task/0"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn threads_have_their_own_ids() {
        let main = current().unwrap();
        let other = std::thread::spawn(current).join().unwrap().unwrap();
        assert_ne!(main, other);
        // A task of this process (the spawned one has exited by now).
        assert!(std::path::Path::new(&format!("/proc/self/task/{main}")).exists());
    }
}
