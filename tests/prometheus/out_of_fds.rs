//! The exporter in a process out of file descriptors (`ulimit -n 40` and 60 idle connections):
//! it backs off instead of retrying `accept` at once, goes on serving the connections it has,
//! counts the failed accepts in `tickprof_exporter_accept_errors_total`, and accepts again once
//! descriptors are free.
//!
//! The exporter runs in a child process of its own (this test binary again, running only the
//! ignored `exporter_process`), so the lowered limit is that process's alone.

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::http::{KeepAlive, get, sample};
use crate::common::process::test_path;

/// Set in the child's environment: `exporter_process` serves only when it is.
const CHILD: &str = "TICKPROF_OUT_OF_FDS_CHILD";
/// The child's file descriptor limit: its own few (stdio, the runtime's, the listener) and room
/// for about 30 connections.
const FD_LIMIT: u32 = 40;
/// Idle connections opened to it: more than it can hold.
const IDLE: usize = 60;

/// The exporter's side: serves on a free loopback port, prints the address, and stops when its
/// stdin closes. Run by `an_exporter_out_of_file_descriptors_backs_off_and_keeps_serving`.
#[test]
#[ignore = "the exporter process of an_exporter_out_of_file_descriptors_backs_off_and_keeps_serving, which runs it"]
fn exporter_process() {
    if std::env::var_os(CHILD).is_none() {
        eprintln!("exporter_process: nothing to do outside the test that runs it");
        return;
    }
    let exporter = tickprof::prometheus::serve_with("127.0.0.1:0", || Ok(None)).unwrap();
    println!("listening on {}", exporter.local_addr());
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    exporter.shutdown();
}

/// CPU time (user + system) the process `pid` has used, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces), which ends with the last ')'.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // USER_HZ is 100 on every Linux the tests run on.
    ticks as f64 / 100.0
}

/// The exporter's count of failed accepts, scraped over `connection`.
fn accept_errors(connection: &mut KeepAlive) -> f64 {
    let (status, body) = connection
        .get("/metrics")
        .unwrap_or_else(|e| panic!("a scrape on an open connection was not answered: {e}"));
    assert_eq!(status, 200, "{body}");
    sample(&body, "tickprof_exporter_accept_errors_total")
        .unwrap_or_else(|| panic!("no tickprof_exporter_accept_errors_total in\n{body}"))
}

#[test]
fn an_exporter_out_of_file_descriptors_backs_off_and_keeps_serving() {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {FD_LIMIT} && exec \"$0\" \"$@\""))
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            test_path(module_path!(), "exporter_process").as_str(),
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr: SocketAddr = lines
        .by_ref()
        .map_while(Result::ok)
        // libtest writes `test exporter_process ... ` before it on the same line.
        .find_map(|line| line.split("listening on ").nth(1)?.trim().parse().ok())
        .expect("the exporter process printed its address");

    // A scraper's connection, opened while descriptors are free and kept open.
    let mut scraper = KeepAlive::connect(addr, Duration::from_secs(10)).unwrap();
    assert_eq!(accept_errors(&mut scraper), 0.0);

    // More idle connections than the exporter has descriptors for: it runs out.
    let idle: Vec<TcpStream> = (0..IDLE)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut errors = accept_errors(&mut scraper);
    while errors == 0.0 {
        assert!(
            Instant::now() < deadline,
            "no failed accept counted in 30 s"
        );
        std::thread::sleep(Duration::from_millis(20));
        errors = accept_errors(&mut scraper);
    }

    // Out of descriptors for a second: the scraper's connection is still served, and the
    // exporter retries `accept` once per back-off, not at once (it burned a core doing so).
    let (start, cpu_start) = (Instant::now(), cpu_seconds(pid));
    std::thread::sleep(Duration::from_secs(1));
    let later = accept_errors(&mut scraper);
    let (elapsed, cpu) = (start.elapsed(), cpu_seconds(pid) - cpu_start);
    let backoff = tickprof::prometheus::ACCEPT_BACKOFF;
    let most = (elapsed.as_secs_f64() / backoff.as_secs_f64()).ceil() + 2.0;
    eprintln!(
        "out of descriptors for {elapsed:?}: {} more failed accepts (at most {most}), {cpu:.2} s of CPU",
        later - errors
    );
    assert!(
        later - errors <= most,
        "{} failed accepts in {elapsed:?}: retried without backing off",
        later - errors
    );
    // An idle exporter that backs off uses next to no CPU; the busy loop used 48-91 % of a core.
    assert!(
        cpu < 0.2,
        "{cpu:.2} s of CPU in {elapsed:?} out of descriptors"
    );

    // Descriptors free again: new connections are accepted and answered.
    drop(idle);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match get(addr, "/metrics") {
            Ok((200, body)) => {
                assert!(
                    sample(&body, "tickprof_exporter_accept_errors_total") >= Some(later),
                    "{body}"
                );
                break;
            }
            other => assert!(
                Instant::now() < deadline,
                "no new connection served 30 s after descriptors were freed: {other:?}"
            ),
        }
        std::thread::sleep(Duration::from_millis(50));
    }

    drop(scraper);
    drop(child.stdin.take());
    let status = child.wait().unwrap();
    assert!(status.success(), "the exporter process: {status}");
}
