//! Shutting the exporter down leaves no thread and no socket: the port can be bound again, an
//! open keep-alive connection is closed, and the server's thread is gone. One test in its own
//! binary, so no other test's exporter thread is counted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// Threads of this process named like the exporter's (`/proc` keeps 15 bytes of a name).
#[cfg(target_os = "linux")]
fn exporter_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter(|task| {
            let comm = task.as_ref().unwrap().path().join("comm");
            std::fs::read_to_string(comm).unwrap_or_default().trim() == "tickprof-export"
        })
        .count()
}

#[cfg(not(target_os = "linux"))]
fn exporter_threads() -> usize {
    0
}

/// Exporter threads once the kernel has reaped the joined ones: `join` returns when a thread
/// has cleared its thread id, a few microseconds before `/proc` stops listing it.
fn exporter_threads_after_join() -> usize {
    for _ in 0..100 {
        if exporter_threads() == 0 {
            return 0;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    exporter_threads()
}

/// An HTTP/1.1 scrape on a connection left open, as Prometheus keeps it between scrapes.
fn keep_alive_scrape(addr: std::net::SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(stream, "GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    // Read until the whole response is in: the body ends with the last metric's newline.
    while !String::from_utf8_lossy(&seen).contains("tickprof_run_active 0\n") {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    assert!(String::from_utf8_lossy(&seen).starts_with("HTTP/1.1 200"));
    stream
}

#[test]
fn shutdown_and_drop_leave_nothing_behind() {
    let collector = tickprof::MetricsCollector::builder().build().unwrap();
    assert_eq!(exporter_threads(), 0);

    let exporter = tickprof::prometheus::serve(&collector, "127.0.0.1:0").unwrap();
    let addr = exporter.local_addr();
    let mut open = keep_alive_scrape(addr);
    assert_eq!(exporter_threads(), 1);
    exporter.shutdown();
    // Joined before shutdown returned: no exporter thread, the port free, the connection closed.
    assert_eq!(exporter_threads_after_join(), 0);
    let rebound = TcpListener::bind(addr).unwrap();
    let mut rest = Vec::new();
    assert_eq!(
        open.read_to_end(&mut rest).unwrap(),
        0,
        "the server closed it"
    );
    drop(rebound);

    // Drop does the same.
    let exporter = tickprof::prometheus::serve(&collector, &addr.to_string()).unwrap();
    assert_eq!(exporter.local_addr(), addr);
    let mut open = keep_alive_scrape(addr);
    drop(exporter);
    assert_eq!(exporter_threads_after_join(), 0);
    TcpListener::bind(addr).unwrap();
    assert_eq!(open.read_to_end(&mut rest).unwrap(), 0);
}
