//! The simulator's sockets: the accept loop, one thread per connection (HTTP or websocket,
//! TLS where configured), the clock ticker, and the admin listener.

use super::*;

pub(super) fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> JoinHandle<()> {
    match std::thread::Builder::new().name(name.into()).spawn(f) {
        Ok(h) => h,
        // Out of threads at start-up is fatal for a test tool.
        Err(e) => panic!("sim: cannot spawn {name}: {e}"),
    }
}

pub(super) fn ticker(sh: Arc<Shared>) {
    while !sh.stopping() {
        std::thread::sleep(Duration::from_millis(50));
        let now = sh.now();
        sh.house().tick(now);
        sh.flush_changes();
    }
}

/// Decrements the live-connection count when a connection thread ends.
pub(super) struct Live(Arc<Shared>);

impl Drop for Live {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

pub(super) fn accept_loop(sh: Arc<Shared>, listener: TcpListener) {
    for stream in listener.incoming() {
        if sh.stopping() {
            break;
        }
        let Ok(tcp) = stream else { continue };
        let _ = tcp.set_nodelay(true);
        if sh.active.load(Ordering::SeqCst) >= sh.max_connections {
            // CWM 901: maximum number of concurrent connections reached. The request is read
            // first so closing does not reset the connection before the answer is seen.
            let _ = std::thread::Builder::new()
                .name("sim-refuse".into())
                .spawn(move || refuse_901(tcp));
            continue;
        }
        sh.active.fetch_add(1, Ordering::SeqCst);
        let sh2 = sh.clone();
        let r = std::thread::Builder::new()
            .name("sim-conn".into())
            .spawn(move || {
                let _live = Live(sh2.clone());
                serve_conn(&sh2, tcp);
            });
        if r.is_err() {
            sh.active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

pub(super) fn refuse_901(tcp: TcpStream) {
    let _ = tcp.set_read_timeout(Some(Duration::from_millis(500)));
    let Ok(mut w) = tcp.try_clone() else { return };
    let _ = http::read_request(&mut BufReader::new(tcp));
    let body = Ll::new("", serde_json::json!(""), 901, CodeStyle::UpperString).to_json();
    let _ = http::write_response(&mut w, 503, "application/json", body.as_bytes(), false);
    let _ = w.shutdown(Shutdown::Write);
}

pub(super) fn serve_conn(sh: &Arc<Shared>, tcp: TcpStream) {
    let id = sh.register(&tcp);
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(60)));
    let (conn, http_ch, ws_ch) = match sh.tls_config() {
        Some(cfg) => match rustls::ServerConnection::new(cfg) {
            Ok(sc) => (
                Conn::Tls(Box::new(rustls::StreamOwned::new(sc, tcp))),
                Channel::Https,
                Channel::Wss,
            ),
            Err(_) => return sh.unregister(id),
        },
        None => (Conn::Plain(tcp), Channel::Http, Channel::Ws),
    };
    let mut reader = BufReader::new(conn);
    while let Ok(Some(req)) = http::read_request(&mut reader) {
        if req.is_upgrade() && req.target.trim_start_matches('/').starts_with("ws/rfc6455") {
            if sh.is_down() {
                let _ = write_down(reader.get_mut(), &req.target);
                break;
            }
            let key = req
                .header("sec-websocket-key")
                .unwrap_or_default()
                .to_string();
            let wants = req
                .header("sec-websocket-protocol")
                .is_some_and(|p| p.split(',').any(|x| x.trim() == "remotecontrol"));
            if http::write_upgrade(reader.get_mut(), &key, wants.then_some("remotecontrol"))
                .is_err()
            {
                break;
            }
            let buffered = reader.buffer().to_vec();
            let conn = reader.into_inner();
            sh.mark_ws(id);
            ws::serve(sh, conn, buffered, ws_ch, id);
            sh.unregister(id);
            return;
        }
        let keep = req.keep_alive();
        while sh.hung() && !sh.stopping() && sh.is_registered(id) {
            std::thread::sleep(Duration::from_millis(20));
        }
        if sh.stopping() || !sh.is_registered(id) {
            break;
        }
        // A slow Miniserver: the command is carried out (and logged) when it arrives, and its
        // answer goes out `delay` later, as on the websocket (`sim::ws`).
        let reply = if sh.is_down() {
            None
        } else {
            let mut ctx = Ctx {
                ch: http_ch,
                basic: req.basic_auth(),
                sock: None,
                encrypted: false,
            };
            Some(api::handle(sh, &req.target, &mut ctx))
        };
        let d = sh.delay();
        if !d.is_zero() {
            std::thread::sleep(d);
        }
        let w = reader.get_mut();
        let written = match reply {
            None => write_down(w, &req.target),
            Some(Reply::Ll(ll)) => {
                http::write_response(w, 200, "application/json", ll.to_json().as_bytes(), keep)
            }
            Some(Reply::File(text)) => {
                http::write_response(w, 200, "application/json", text.as_bytes(), keep)
            }
            Some(Reply::Sealed(text)) => {
                http::write_response(w, 200, "text/plain", text.as_bytes(), keep)
            }
            Some(Reply::Unauthorized) => {
                http::write_response(w, 401, "text/html", HTML_401.as_bytes(), keep)
            }
            Some(Reply::Keepalive) => http::write_response(w, 404, "text/plain", b"", keep),
        };
        if written.is_err() || !keep {
            break;
        }
    }
    let _ = reader.get_mut().flush();
    sh.unregister(id);
}

/// HTTP 503 while "rebooting" (CWM "Error-Codes": 503 the Miniserver is restarting).
pub(super) fn write_down(w: &mut impl Write, target: &str) -> io::Result<()> {
    let path = target
        .trim_start_matches('/')
        .split('?')
        .next()
        .unwrap_or("");
    let body = Ll::new(
        crate::sim::wire::echo(path, CodeStyle::UpperString),
        serde_json::json!(""),
        503,
        CodeStyle::UpperString,
    )
    .to_json();
    http::write_response(w, 503, "application/json", body.as_bytes(), false)
}

pub(super) fn admin_loop(sh: Arc<Shared>, listener: TcpListener, _addr: SocketAddr) {
    for stream in listener.incoming() {
        if sh.stopping() {
            break;
        }
        let Ok(tcp) = stream else { continue };
        let sh2 = sh.clone();
        let _ = std::thread::Builder::new()
            .name("sim-admin-conn".into())
            .spawn(move || crate::sim::admin::serve(&sh2, tcp));
    }
}
