//! The Miniserver's address: `https://host[:port]` or `http://…` for a local Gen 1, parsed once
//! into [`MsUrl`], and shown with any credentials in it redacted.

/// The parts of `miniserver.url` the link uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsUrl {
    pub tls: bool,
    /// Host name or IP address as written (IPv6 without brackets).
    pub host: String,
    pub port: u16,
}

impl MsUrl {
    /// `scheme://host[:port]` for building request URLs.
    pub fn base(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default_port = if self.tls { 443 } else { 80 };
        if self.port == default_port {
            format!("{scheme}://{host}")
        } else {
            format!("{scheme}://{host}:{}", self.port)
        }
    }
}

/// The URL for an error message, with any user information replaced by `***`.
pub(super) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}***{}", &url[..s + 3], &url[at..]),
        (None, Some(at)) => format!("***{}", &url[at..]),
        _ => url.to_owned(),
    }
}

/// Parses `http(s)://host[:port][/]`. No user info (credentials never go in a URL), no path,
/// query or fragment.
pub fn parse_ms_url(url: &str) -> Result<MsUrl, String> {
    // Never echo user information: it may be a password.
    let shown = redact_url(url);
    let bad = |why: &str| format!("miniserver.url {shown:?}: {why}");
    let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(bad("must start with http:// or https://"));
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains('@') {
        return Err(bad(
            "must not contain a user or password (loxwarden never sends credentials in a URL; use 'loxwarden login')",
        ));
    }
    if rest.contains(['/', '?', '#']) {
        return Err(bad(
            "must be only scheme, host and optional port, without a path",
        ));
    }
    let default_port = if tls { 443 } else { 80 };
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("unclosed [ in an IPv6 address"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| bad("the port must be 1 to 65535"))?,
            None if after.is_empty() => default_port,
            None => return Err(bad("unexpected text after the IPv6 address")),
        };
        if h.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(bad("not an IPv6 address inside [ ]"));
        }
        (h.to_owned(), port)
    } else {
        let (h, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse::<u16>()
                    .map_err(|_| bad("the port must be 1 to 65535"))?,
            ),
            None => (rest, default_port),
        };
        if h.is_empty()
            || h.len() > 253
            || !h
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
        {
            return Err(bad("the host must be a name or an IP address"));
        }
        (h.to_ascii_lowercase(), port)
    };
    if port == 0 {
        return Err(bad("the port must be 1 to 65535"));
    }
    Ok(MsUrl { tls, host, port })
}

/// Parses `miniserver.address`: an IP address, optionally with a port (`192.168.1.47`,
/// `192.168.1.47:8443`, `[fd00::2]:443`).
pub fn parse_address(s: &str, default_port: u16) -> Result<std::net::SocketAddr, String> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<std::net::IpAddr>() {
        return Ok(std::net::SocketAddr::new(ip, default_port));
    }
    s.parse::<std::net::SocketAddr>().map_err(|_| {
        format!("miniserver.address {s:?} must be an IP address, optionally with :port")
    })
}
