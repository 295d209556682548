//! The state every connection of the simulator shares: the house, the auth book, the command
//! log, and the fault knobs tests and the admin channel turn (delays, hangs, refused logins,
//! forced LL codes, a smoke alarm, a structure change).

use super::*;

impl Shared {
    pub fn now(&self) -> Now {
        Now {
            sim: self.started.elapsed().as_secs_f64() * self.scale,
            unix: unix_now(),
        }
    }

    /// Real milliseconds since start.
    pub fn ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Seconds since 2009-01-01 UTC (token lifetimes).
    pub fn secs_2009(&self) -> u64 {
        (unix_now() as u64).saturating_sub(EPOCH_2009)
    }

    pub fn house(&self) -> MutexGuard<'_, House> {
        lock(&self.house)
    }

    pub fn with_auth<R>(&self, f: impl FnOnce(&mut Auth) -> R) -> R {
        f(&mut lock(&self.auth))
    }

    pub fn log(&self, e: LogEntry) {
        lock(&self.log).push(e);
    }

    pub fn firmware(&self) -> &str {
        &self.firmware
    }

    pub fn serial(&self) -> &str {
        &self.serial
    }

    pub fn allow_basic(&self) -> bool {
        self.allow_basic
    }

    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    pub fn is_down(&self) -> bool {
        lock(&self.faults)
            .down_until
            .is_some_and(|t| Instant::now() < t)
    }

    pub fn hung(&self) -> bool {
        lock(&self.faults).hung
    }

    pub fn delay(&self) -> Duration {
        lock(&self.faults).delay
    }

    /// Checks `salt` for the HTTP session key `sk` with `follows(last salt)` and, when it
    /// passes, remembers it as the key's salt.
    pub fn http_salt(
        &self,
        sk: &str,
        follows: impl FnOnce(Option<&str>) -> bool,
        salt: &str,
    ) -> bool {
        let mut salts = lock(&self.http_salts);
        if !follows(salts.get(sk).map(String::as_str)) {
            return false;
        }
        if salts.len() >= HTTP_SALTS && !salts.contains_key(sk) {
            salts.clear();
        }
        salts.insert(sk.to_owned(), salt.to_owned());
        true
    }

    pub fn clear_fenc_errors(&self) -> bool {
        lock(&self.faults).clear_fenc_errors
    }

    pub fn set_clear_fenc_errors(&self, on: bool) {
        lock(&self.faults).clear_fenc_errors = on;
    }

    pub fn garble_fenc(&self) -> bool {
        lock(&self.faults).garble_fenc
    }

    pub fn set_garble_fenc(&self, on: bool) {
        lock(&self.faults).garble_fenc = on;
    }

    pub fn login_refusal(&self) -> Option<u16> {
        lock(&self.faults).login_refusal
    }

    pub fn set_login_refusal(&self, code: Option<u16>) {
        lock(&self.faults).login_refusal = code;
    }

    pub fn forced_code(&self, addr: &ControlAddr) -> Option<u16> {
        lock(&self.faults).codes.get(addr).copied()
    }

    /// Whether the answer to the plain command `cmd` is withheld (it names a control set with
    /// [`Shared::set_silent`]).
    pub fn silenced(&self, cmd: &str) -> bool {
        let f = lock(&self.faults);
        !f.silent.is_empty() && f.silent.iter().any(|a| cmd.contains(&a.to_string()))
    }

    /// Notes that a websocket has `n` commands received and not yet answered.
    pub fn note_ws_in_flight(&self, n: usize) {
        self.ws_in_flight_max.fetch_max(n, Ordering::SeqCst);
    }

    pub fn ws_in_flight_max(&self) -> usize {
        self.ws_in_flight_max.load(Ordering::SeqCst)
    }

    /// The pseudo-JSON of `jdev/cfg/apiKey` (`with_key`) or `jdev/cfg/api` (decision 11).
    pub fn api_key_text(&self, with_key: bool) -> String {
        let snr: Vec<String> = self
            .serial
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        let snr = snr.join(":");
        let https = u8::from(self.is_tls());
        if with_key {
            format!(
                "{{'snr': '{snr}', 'version':'{}', 'key':'{}', 'httpsStatus':{https}, 'local':true}}",
                self.firmware,
                crate::sim::crypto::hex_upper(self.serial.as_bytes())
            )
        } else {
            format!(
                "{{'snr': '{snr}', 'version':'{}', 'hasEventSlots':true, 'isInTrust':false, 'local':true, 'certTLD':'com', 'httpsStatus':{https}}}",
                self.firmware
            )
        }
    }

    /// Sends the house's pending changes to every websocket (not while hung: they wait).
    pub fn flush_changes(&self) {
        let mut house = lock(&self.house);
        if self.hung() {
            return;
        }
        let changes = house.take_changes();
        if changes.is_empty() {
            return;
        }
        let changes = Arc::new(changes);
        for tx in lock(&self.sessions).values() {
            let _ = tx.send(Push::Events(changes.clone()));
        }
    }

    /// Registers a websocket session for pushes.
    pub fn subscribe(&self, id: u64, tx: Sender<Push>) {
        lock(&self.sessions).insert(id, tx);
    }

    pub fn unsubscribe(&self, id: u64) {
        lock(&self.sessions).remove(&id);
    }

    pub(super) fn register(&self, tcp: &TcpStream) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        if let Ok(clone) = tcp.try_clone() {
            lock(&self.conns).insert(
                id,
                Registered {
                    tcp: clone,
                    ws: false,
                },
            );
        }
        id
    }

    pub(super) fn mark_ws(&self, id: u64) {
        if let Some(r) = lock(&self.conns).get_mut(&id) {
            r.ws = true;
        }
    }

    pub(super) fn unregister(&self, id: u64) {
        lock(&self.conns).remove(&id);
    }

    pub fn is_registered(&self, id: u64) -> bool {
        lock(&self.conns).contains_key(&id)
    }

    /// Closes sockets abruptly (no close frame): `ws_too` includes websockets.
    pub(super) fn shut(&self, ws_too: bool) {
        let mut conns = lock(&self.conns);
        conns.retain(|_, r| {
            if ws_too || !r.ws {
                let _ = r.tcp.shutdown(Shutdown::Both);
                false
            } else {
                true
            }
        });
    }

    pub(super) fn tls_config(&self) -> Option<Arc<rustls::ServerConfig>> {
        let t = self.tls.as_ref()?;
        Some(if lock(&self.faults).alt_cert {
            t.alt.clone()
        } else {
            t.primary.clone()
        })
    }

    // ------------------------------------------------------------ fault knobs

    pub fn reboot(&self, down_for: Duration) {
        lock(&self.faults).down_until = Some(Instant::now() + down_for);
        self.with_auth(Auth::forget_keys);
        for tx in lock(&self.sessions).values() {
            let _ = tx.send(Push::OutOfService);
        }
        self.shut(false);
    }

    pub fn set_hung(&self, hung: bool) {
        lock(&self.faults).hung = hung;
        if !hung {
            self.flush_changes();
        }
    }

    pub fn drop_sockets(&self) {
        self.shut(true);
    }

    pub fn set_delay(&self, d: Duration) {
        lock(&self.faults).delay = d;
    }

    pub fn set_silent(&self, addr: ControlAddr, on: bool) {
        let mut f = lock(&self.faults);
        if on {
            f.silent.insert(addr);
        } else {
            f.silent.remove(&addr);
        }
    }

    pub fn set_forced_code(&self, addr: ControlAddr, code: Option<u16>) {
        let mut f = lock(&self.faults);
        match code {
            Some(c) => f.codes.insert(addr, c),
            None => f.codes.remove(&addr),
        };
    }

    pub fn expire_tokens(&self) {
        let now = self.secs_2009();
        self.with_auth(|a| a.expire_all(now));
    }

    pub fn set_alt_cert(&self, alt: bool) {
        lock(&self.faults).alt_cert = alt;
    }

    pub fn commands(&self) -> Vec<LogEntry> {
        lock(&self.log).all()
    }

    pub fn commands_since(&self, seq: u64) -> Vec<LogEntry> {
        lock(&self.log).since(seq)
    }

    pub fn clear_log(&self) {
        lock(&self.log).clear();
    }

    pub fn last_seq(&self) -> u64 {
        lock(&self.log).last_seq()
    }

    pub fn tokens(&self) -> Vec<Token> {
        self.with_auth(|a| a.tokens().to_vec())
    }

    pub fn connections(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }
}

/// `YYYY-MM-DD HH:MM:SS` → unix seconds (UTC), for keeping `lastModified` increasing.
pub(super) fn parse_stamp(s: &str) -> Option<f64> {
    let (d, t) = s.split_once(' ')?;
    let mut dp = d.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (dp.next()??, dp.next()??, dp.next()??);
    let mut tp = t.split(':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) = (tp.next()??, tp.next()??, tp.next()??);
    // days_from_civil (H. Hinnant)
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hh * 3600 + mm * 60 + ss) as f64)
}
