//! A minimal HTTP client over `std::net::TcpStream` for the exporter's tests: HTTP/1.0 requests,
//! one per connection (the server closes it, so the body is everything after the headers), and
//! an HTTP/1.1 keep-alive connection that scrapes again and again, as Prometheus does.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// `GET path` on `addr`: the status code and the body.
pub fn get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    request(addr, "GET", path)
}

/// One request with no body: the status code and the body.
pub fn request(addr: SocketAddr, method: &str, path: &str) -> std::io::Result<(u16, String)> {
    exchange(addr, method, path).map(|r| (r.status, r.body))
}

/// A response: its status code, its header lines (lowercase names) and its body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// The value of header `name` (case-insensitive), if present once or more (the first).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.0 request with no body, the whole response.
pub fn exchange(addr: SocketAddr, method: &str, path: &str) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(stream, "{method} {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let response = String::from_utf8_lossy(&response).into_owned();
    let invalid = || std::io::Error::new(std::io::ErrorKind::InvalidData, response.clone());
    let (head, body) = response.split_once("\r\n\r\n").ok_or_else(invalid)?;
    let (status, headers) = parse_head(head).ok_or_else(invalid)?;
    Ok(Response {
        status,
        headers,
        body: body.to_owned(),
    })
}

/// The status code and header lines of a response head (without the blank line).
fn parse_head(head: &str) -> Option<(u16, Vec<(String, String)>)> {
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some((status, headers))
}

/// An HTTP/1.1 connection kept open between requests.
pub struct KeepAlive {
    addr: SocketAddr,
    stream: TcpStream,
    /// Bytes read past the previous response.
    pending: Vec<u8>,
}

impl KeepAlive {
    /// Connects to `addr`; each read waits at most `timeout`.
    pub fn connect(addr: SocketAddr, timeout: Duration) -> std::io::Result<KeepAlive> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        stream.set_read_timeout(Some(timeout))?;
        Ok(KeepAlive {
            addr,
            stream,
            pending: Vec::new(),
        })
    }

    /// `GET path` on the open connection: the status code and the body (read by its
    /// `content-length`).
    pub fn get(&mut self, path: &str) -> std::io::Result<(u16, String)> {
        write!(
            self.stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n",
            self.addr
        )?;
        let invalid = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
        let head_end = loop {
            if let Some(at) = self.pending.windows(4).position(|w| w == b"\r\n\r\n") {
                break at;
            }
            self.fill()?;
        };
        let head = String::from_utf8_lossy(&self.pending[..head_end]).into_owned();
        let (status, headers) = parse_head(&head).ok_or_else(|| invalid(&head))?;
        let length: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .ok_or_else(|| invalid(&head))?;
        let body_start = head_end + 4;
        while self.pending.len() < body_start + length {
            self.fill()?;
        }
        let body =
            String::from_utf8_lossy(&self.pending[body_start..body_start + length]).into_owned();
        self.pending.drain(..body_start + length);
        Ok((status, body))
    }

    fn fill(&mut self) -> std::io::Result<()> {
        let mut buf = [0u8; 16 * 1024];
        let n = self.stream.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ));
        }
        self.pending.extend_from_slice(&buf[..n]);
        Ok(())
    }
}

/// Percent-encodes a query-string value (everything but RFC 3986's unreserved characters).
pub fn encode_query(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The value of the sample line `series` (name and labels exactly as the exporter writes them).
pub fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.parse().ok())
}
