//! Tests that measure the process itself (its resident set, its threads) or hold process-wide
//! state for a while (tracing-core's interest rebuilds) run in a child process of their own:
//! the same test binary, running only that test. The other tests of a binary share its process.

use std::process::Command;

/// Set in the child's environment: there, [`alone`] lets the test run its body.
const CHILD: &str = "TICKPROF_TEST_ALONE";

/// Runs the test `name` of module `module` (the caller's `module_path!()`) alone in a child
/// process of this test binary and fails unless it ran there and passed. Returns `true` in that
/// child, where the test goes on with its body, and `false` in the parent, which returns.
///
/// The child must be seen to run the test: a name that matches nothing (a module renamed,
/// a test moved) would otherwise pass without testing anything.
pub fn alone(module: &str, name: &str) -> bool {
    if std::env::var_os(CHILD).is_some() {
        return true;
    }
    let path = test_path(module, name);
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            path.as_str(),
            "--exact",
            "--test-threads=1",
            "--include-ignored",
            "--nocapture",
        ])
        .env(CHILD, &path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("test result: ok. 1 passed"),
        "{path} in a process of its own ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    false
}

/// The name libtest knows the test `name` of module `module` (a `module_path!()`) by, for a
/// filter with `--exact`: its path inside the test crate, without the crate's own name.
pub fn test_path(module: &str, name: &str) -> String {
    match module.split_once("::") {
        Some((_, inside)) => format!("{inside}::{name}"),
        None => name.to_owned(),
    }
}
