//! `loxwarden serve`: the SSH forced command. Copies stdin to the daemon's socket and the
//! socket to stdout, byte for byte, and nothing else.
//!
//! Why a dumb pipe: the daemon owns the session (protocol, limits, audit); anything this
//! process added would be a second place where the protocol could go wrong. Two threads, one
//! per direction, each writing every chunk as soon as it is read and flushing it (no line
//! buffering, no batching), so the bridge adds one extra copy and no waiting. It ends as soon
//! as either side closes: stdin EOF → the socket's write half is shut so the daemon sees EOF
//! and ends the session, then whatever the daemon still sends is delivered; the daemon
//! closing → the process exits at once, even while stdin is still open.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use crate::error::Error;

/// After stdin closed, how long the daemon may take to finish the session.
const DRAIN: Duration = Duration::from_secs(5);

/// How the bridge ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// The client closed stdin and the daemon finished.
    ClientClosed,
    /// The daemon closed the connection first (restart, shutdown).
    DaemonClosed,
    /// The daemon refused the session (its first line was a [`REFUSED`] error); the message.
    Refused(String),
}

/// The JSON-RPC error code of the daemon's refusal line (`id: null`), sent before it closes a
/// connection it will not serve.
pub const REFUSED: i64 = -32001;

/// The message of a refusal line, if `line` is one.
pub fn refusal(line: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(line).ok()?;
    (v.get("id") == Some(&serde_json::Value::Null) && v["error"]["code"] == REFUSED)
        .then(|| v["error"]["message"].as_str().unwrap_or("").to_owned())
}

/// Connects to the daemon, explaining every way that can fail.
pub fn connect(socket: &Path) -> Result<UnixStream, Error> {
    UnixStream::connect(socket).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => Error::Failed(format!(
            "no loxwarden daemon is running (nothing listens on {}).\n\
             Start it: sudo systemctl start loxwarden   (or run 'loxwarden daemon' in the foreground)\n\
             Or run everything in this process instead: loxwarden serve --standalone",
            socket.display()
        )),
        io::ErrorKind::PermissionDenied => Error::Failed(format!(
            "permission denied on {}: this user must be in the group loxwarden (sudo adduser USER loxwarden, then log in again)",
            socket.display()
        )),
        _ => Error::io(format!("cannot connect to {}", socket.display()), e),
    })
}

/// Bridges `input`/`output` to `stream` until one side closes.
pub fn pump<R, W>(stream: UnixStream, mut input: R, mut output: W) -> io::Result<End>
where
    R: Read + Send + 'static,
    W: Write,
{
    let mut up = stream.try_clone()?;
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("serve-up".into())
        .spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            let input_ended = loop {
                match input.read(&mut buf) {
                    Ok(0) => break true,
                    Ok(n) => {
                        if up.write_all(&buf[..n]).is_err() {
                            break false;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => break true,
                }
            };
            // Told before the daemon can see EOF, so its closing is not taken for its own.
            let _ = tx.send(input_ended);
            let _ = up.set_read_timeout(Some(DRAIN));
            let _ = up.shutdown(Shutdown::Write);
        })?;
    let mut down = stream;
    let mut buf = [0u8; 16 * 1024];
    let mut client_closed = false;
    // The first line, kept until it is complete, to recognise a refusal.
    let mut first: Option<Vec<u8>> = Some(Vec::new());
    let mut refused = None;
    loop {
        if !client_closed && rx.try_recv() == Ok(true) {
            client_closed = true;
            down.set_read_timeout(Some(DRAIN))?;
        }
        match down.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if let Some(f) = &mut first {
                    f.extend_from_slice(&buf[..n]);
                    if let Some(end) = f.iter().position(|b| *b == b'\n') {
                        refused = refusal(&f[..end]);
                        first = None;
                    } else if f.len() > 4096 {
                        first = None;
                    }
                }
                output.write_all(&buf[..n])?;
                output.flush()?;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // The daemon closed with our unread input still queued (a refusal): it is gone.
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break,
            Err(e)
                if client_closed
                    && matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
            {
                break;
            }
            Err(e) => return Err(e),
        }
    }
    if let Some(message) = refused {
        return Ok(End::Refused(message));
    }
    Ok(if client_closed || rx.try_recv() == Ok(true) {
        End::ClientClosed
    } else {
        End::DaemonClosed
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};

    #[test]
    fn bytes_pass_both_ways_and_stdin_eof_reaches_the_daemon() {
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        let daemon = std::thread::spawn(move || {
            let mut r = BufReader::new(theirs.try_clone().unwrap());
            let mut got = String::new();
            let mut line = String::new();
            while r.read_line(&mut line).unwrap() > 0 {
                got.push_str(&line);
                theirs.write_all(format!("echo {line}").as_bytes()).unwrap();
                line.clear();
            }
            // EOF seen: the session ends after a last word.
            theirs.write_all(b"bye\n").unwrap();
            got
        });
        let input = io::Cursor::new(b"{\"a\":1}\n{\"b\":2}\n".to_vec());
        let mut out = Vec::new();
        let end = pump(ours, input, &mut out).unwrap();
        assert_eq!(end, End::ClientClosed);
        assert_eq!(daemon.join().unwrap(), "{\"a\":1}\n{\"b\":2}\n");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "echo {\"a\":1}\necho {\"b\":2}\nbye\n"
        );
    }

    #[test]
    fn the_daemon_closing_ends_the_bridge_while_stdin_stays_open() {
        let (ours, theirs) = UnixStream::pair().unwrap();
        // stdin that never ends: the read end of a pipe whose writer stays open.
        let (never, _keep) = UnixStream::pair().unwrap();
        std::thread::spawn(move || {
            let mut t = theirs;
            t.write_all(b"refused\n").unwrap();
            drop(t);
        });
        let mut out = Vec::new();
        let end = pump(ours, never, &mut out).unwrap();
        assert_eq!(end, End::DaemonClosed);
        assert_eq!(out, b"refused\n");
    }

    #[test]
    fn a_refusal_line_is_recognised_and_still_delivered() {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let (never, _keep) = UnixStream::pair().unwrap();
        std::thread::spawn(move || {
            let mut t = theirs;
            t.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32001,\"message\":\"no\"}}\n")
                .unwrap();
        });
        let mut out = Vec::new();
        assert_eq!(
            pump(ours, never, &mut out).unwrap(),
            End::Refused("no".into())
        );
        assert!(out.starts_with(b"{\"jsonrpc\""));
        assert_eq!(
            refusal(br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32001,"message":"x"}}"#),
            None
        );
    }

    #[test]
    fn a_missing_socket_says_how_to_start_the_daemon() {
        let e = connect(Path::new("/nonexistent/loxwarden/mcp.sock"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("systemctl start loxwarden"), "{e}");
        assert!(e.contains("serve --standalone"), "{e}");
    }
}
