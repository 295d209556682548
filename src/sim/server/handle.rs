//! [`Sim`], the handle a test or `loxwarden sim` holds: start, addresses and credentials, the
//! command log, and the in-process fault knobs (the same ones the admin channel offers).

use super::*;

impl Sim {
    /// Starts a simulator on 127.0.0.1. Returns when it accepts connections.
    pub fn start(opts: SimOptions) -> io::Result<Sim> {
        let invalid = |e: String| io::Error::new(io::ErrorKind::InvalidData, e);
        let bytes = match &opts.house {
            HouseSource::Demo => DEMO_HOUSE.to_vec(),
            HouseSource::File(p) => std::fs::read(p)?,
            HouseSource::Json(b) => b.clone(),
            HouseSource::Generated(n) => generate::structure(*n).into_bytes(),
        };
        let started = Instant::now();
        let now = Now {
            sim: 0.0,
            unix: unix_now(),
        };
        let house = House::load(&bytes, now).map_err(|e| invalid(e.to_string()))?;
        let serial = opts
            .serial
            .clone()
            .or_else(|| {
                let s = house.structure.ms_info.serial_nr.to_ascii_uppercase();
                (s.len() == 12 && s.bytes().all(|c| c.is_ascii_hexdigit())).then_some(s)
            })
            .unwrap_or_else(|| DEFAULT_SERIAL.to_string());
        let (hash, hash_field) = match opts.hash {
            Some(h) => (h, true),
            None => hash_for_firmware(&opts.firmware),
        };
        let auth = Auth::new(AuthConfig {
            user: opts.user.clone(),
            password: opts.password.clone(),
            visu_password: opts.visu_password.clone(),
            hash,
            hash_field,
            token_lifetime_s: opts.token_lifetime.as_secs(),
        });
        let tls = match (&opts.tls, &opts.tls_files) {
            (false, _) => None,
            (true, Some((c, k))) => Some(TlsConfigs::from_files(c, k)?),
            (true, None) => Some(TlsConfigs::embedded()?),
        };
        let listener = TcpListener::bind(("127.0.0.1", opts.port))?;
        let admin = TcpListener::bind(("127.0.0.1", opts.admin_port))?;
        let addr = listener.local_addr()?;
        let admin_addr = admin.local_addr()?;
        let shared = Arc::new(Shared {
            started,
            scale: if opts.time_scale.is_finite() && opts.time_scale > 0.0 {
                opts.time_scale
            } else {
                1.0
            },
            key: ServerKey::embedded()?,
            house: Mutex::new(house),
            auth: Mutex::new(auth),
            faults: Mutex::new(Faults::default()),
            http_salts: Mutex::new(HashMap::new()),
            log: Mutex::new(CommandLog::default()),
            sessions: Mutex::new(HashMap::new()),
            conns: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            active: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            tls,
            serial,
            firmware: opts.firmware.clone(),
            allow_basic: opts.allow_basic_auth,
            auth_timeout: opts.auth_timeout,
            idle_timeout: opts.idle_timeout,
            max_connections: opts.max_connections.max(1),
            ws_in_flight_max: AtomicUsize::new(0),
        });
        let mut threads = Vec::new();
        let sh = shared.clone();
        threads.push(spawn("sim-accept", move || accept_loop(sh, listener)));
        let sh = shared.clone();
        threads.push(spawn("sim-admin", move || {
            admin_loop(sh, admin, admin_addr)
        }));
        let sh = shared.clone();
        threads.push(spawn("sim-ticker", move || ticker(sh)));
        log::info!("sim: Miniserver on {addr}, admin on {admin_addr}");
        Ok(Sim {
            shared,
            addr,
            admin_addr,
            user: opts.user,
            password: opts.password,
            visu_password: opts.visu_password,
            threads,
        })
    }

    /// `http://127.0.0.1:PORT` (or `https://…` with TLS).
    pub fn url(&self) -> String {
        let scheme = if self.shared.is_tls() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// `ws://127.0.0.1:PORT/ws/rfc6455` (or `wss://…`).
    pub fn ws_url(&self) -> String {
        let scheme = if self.shared.is_tls() { "wss" } else { "ws" };
        format!("{scheme}://{}/ws/rfc6455", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    pub fn admin_url(&self) -> String {
        format!("http://{}", self.admin_addr)
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn password(&self) -> &str {
        &self.password
    }

    pub fn visu_password(&self) -> &str {
        &self.visu_password
    }

    pub fn serial(&self) -> &str {
        &self.shared.serial
    }

    pub fn firmware(&self) -> &str {
        &self.shared.firmware
    }

    /// PEM of the test CA that signed the embedded certificates (trust it in tests only).
    pub fn test_ca_pem(&self) -> &'static str {
        crate::sim::tls::TEST_CA_PEM
    }

    /// PEM of the certificate presented now (`None` without TLS).
    pub fn server_cert_pem(&self) -> Option<String> {
        let t = self.shared.tls.as_ref()?;
        Some(if lock(&self.shared.faults).alt_cert {
            t.alt_pem.clone()
        } else {
            t.primary_pem.clone()
        })
    }

    /// The structure file as served now.
    pub fn structure_json(&self) -> Arc<str> {
        self.shared.house().file()
    }

    /// The parsed structure as served now.
    pub fn structure(&self) -> crate::loxone::structure::Structure {
        self.shared.house().structure.clone()
    }

    /// A state's current value.
    pub fn state(&self, uuid: &Uuid) -> Option<StateValue> {
        self.tick();
        self.shared.house().state(uuid).cloned()
    }

    /// The state `name` of the control at `addr`.
    pub fn control_state(&self, addr: &ControlAddr, name: &str) -> Option<StateValue> {
        self.tick();
        let h = self.shared.house();
        let (_, c) = h.find(addr)?;
        let u = c.state(name)?;
        h.state(&u).cloned()
    }

    /// The address of the first control with this name (test convenience).
    pub fn control_named(&self, name: &str) -> Option<ControlAddr> {
        self.shared
            .house()
            .structure
            .controls
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.addr.clone())
    }

    pub(super) fn tick(&self) {
        let now = self.shared.now();
        self.shared.house().tick(now);
        self.shared.flush_changes();
    }

    /// Every request received so far (decrypted, without query strings).
    pub fn commands(&self) -> Vec<LogEntry> {
        self.shared.commands()
    }

    /// Only the device commands (`jdev/sps/io|ios`, not reads), whatever their outcome.
    pub fn device_commands(&self) -> Vec<LogEntry> {
        self.commands().into_iter().filter(|e| e.device).collect()
    }

    pub fn clear_log(&self) {
        self.shared.clear_log();
    }

    /// The instant the command log's `at_ms` counts from (for latency figures).
    pub fn log_epoch(&self) -> Instant {
        self.shared.started
    }

    /// A mark in the log: pass it to [`Sim::commands_since`] to see only what came after.
    pub fn log_mark(&self) -> u64 {
        self.shared.last_seq()
    }

    /// Requests received after `mark` (see [`Sim::log_mark`]).
    pub fn commands_since(&self, mark: u64) -> Vec<LogEntry> {
        self.shared.commands_since(mark)
    }

    /// Tokens the simulated Miniserver has issued and not killed.
    pub fn tokens(&self) -> Vec<Token> {
        self.shared.tokens()
    }

    /// Open Miniserver connections.
    pub fn connections(&self) -> usize {
        self.shared.connections()
    }

    /// Out-of-service to every websocket, close every connection, answer 503 for `down_for`.
    pub fn reboot(&self, down_for: Duration) {
        self.shared.reboot(down_for);
    }

    /// Stop answering requests and keepalives (`true`) or resume (`false`).
    pub fn hang(&self, hung: bool) {
        self.shared.set_hung(hung);
    }

    /// Close every socket abruptly, without a close frame.
    pub fn drop_sockets(&self) {
        self.shared.drop_sockets();
    }

    /// Delay every reply by `d` (zero: no delay): a command is carried out and logged when it
    /// arrives, over HTTP and on the websocket alike, and its answer goes out `d` later.
    pub fn delay_replies(&self, d: Duration) {
        self.shared.set_delay(d);
    }

    /// Answer every command to `addr` with LL code `code` without acting (`None`: normal).
    pub fn answer_with(&self, addr: &ControlAddr, code: Option<u16>) {
        self.shared.set_forced_code(addr.clone(), code);
    }

    /// Carry out and log every websocket command to `addr`, but never send its answer (`true`),
    /// or answer it again (`false`). Plain (not `enc`) commands on the websocket only.
    pub fn never_answer(&self, addr: &ControlAddr, on: bool) {
        self.shared.set_silent(addr.clone(), on);
    }

    /// The most commands one websocket had sent that were received here and not yet answered,
    /// at any one moment since the start: above 1 only for a client that sends a command
    /// before the answer to the previous one came (pipelining).
    pub fn max_ws_in_flight(&self) -> usize {
        self.shared.ws_in_flight_max()
    }

    /// Put the (first) smoke alarm into main alarm. False if the house has none.
    pub fn trigger_smoke_alarm(&self) -> bool {
        self.shared.trigger_smoke_alarm()
    }

    /// Ring the (first) intercom. False if the house has none.
    pub fn ring_bell(&self) -> bool {
        self.shared.ring_bell()
    }

    /// A person presses the push button (or switches the switch) at `addr` in the Loxone app
    /// (the consent channel's approval, `consent::house`): the Miniserver's own change, not a
    /// command, so the command log stays as it was.
    pub fn press_in_app(&self, addr: &ControlAddr) -> bool {
        self.shared.app_input(addr, None)
    }

    /// A person writes `text` into the virtual text input at `addr` in the Loxone app (an empty
    /// text declines the consent channel's question).
    pub fn type_in_app(&self, addr: &ControlAddr, text: &str) -> bool {
        self.shared.app_input(addr, Some(text))
    }

    /// A sensor reading: sets the number state `state` of `addr` as the device itself would
    /// (someone walks into a room, the burglar alarm starts sounding). Nothing is logged as a
    /// command. False if there is no such control or state.
    pub fn sense(&self, addr: &ControlAddr, state: &str, v: f64) -> bool {
        self.shared.sense(addr, state, v)
    }

    /// [`Sim::sense`] for a text state (an irrigation block's `zones` set by the house's logic).
    pub fn sense_text(&self, addr: &ControlAddr, state: &str, text: &str) -> bool {
        self.shared.sense_text(addr, state, text)
    }

    /// Reconfigure: bump `lastModified`, and rename or remove a control.
    pub fn change_structure(&self, change: &StructureChange) -> bool {
        self.shared.change_structure(change)
    }

    /// Every issued token expires now.
    pub fn expire_tokens(&self) {
        self.shared.expire_tokens();
    }

    /// Answer `fenc` requests that fail (wrong password, blocked user, …) in clear instead of
    /// sealed (`false`: sealed, the default). Loxone's documents do not say which a Miniserver
    /// does; its reference clients accept both.
    pub fn clear_fenc_errors(&self, on: bool) {
        self.shared.set_clear_fenc_errors(on);
    }

    /// Refuse every token request (`getjwt`/`gettoken`) with LL `code` after the request was
    /// decrypted: 423 (user disabled), 403 (no right), 429 (blocked); `None`: normal.
    pub fn refuse_logins(&self, code: Option<u16>) {
        self.shared.set_login_refusal(code);
    }

    /// Seal `fenc` answers with a random key instead of the request's (`false`: normal), so
    /// that no client can decrypt them.
    pub fn garble_fenc(&self, on: bool) {
        self.shared.set_garble_fenc(on);
    }

    /// Present the alternative certificate to new TLS connections (`false`: the normal one).
    pub fn present_alt_cert(&self, alt: bool) {
        self.shared.set_alt_cert(alt);
    }

    /// Stops listening and closes every connection.
    pub fn stop(mut self) {
        self.shutdown();
    }

    pub(super) fn shutdown(&mut self) {
        if self.shared.stop.swap(true, Ordering::SeqCst) {
            return;
        }
        // Wake the blocking accept loops.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        let _ = TcpStream::connect_timeout(&self.admin_addr, Duration::from_millis(200));
        self.shared.shut(true);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
