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

/// The tid in a `/proc/thread-self` target: `1234/task/1240` → 1240.
fn parse(link: &str) -> Option<u32> {
    let (_, tid) = link.rsplit_once("/task/")?;
    tid.parse().ok().filter(|&tid| tid != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

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
