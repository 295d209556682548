//! How a session learns its client: the `initialize` handshake of the 2025 era, or the
//! per-request `_meta` of the stateless 2026-07-28 era; the version and capabilities decided
//! here bound every later answer (elicitation is asked only where it was declared).

use super::*;

/// Validates the stateless era's per-request `_meta`.
pub(super) fn read_meta(params: &Map<String, Value>) -> Result<Modern, RpcError> {
    let meta = params.get("_meta").and_then(Value::as_object);
    let version = meta.and_then(|m| m.get(META_PROTOCOL_VERSION));
    let Some(version) = version.and_then(Value::as_str) else {
        return Err(RpcError::invalid_params(format!(
            "_meta[\"{META_PROTOCOL_VERSION}\"] must be a string"
        )));
    };
    if !STATELESS.contains(&version) {
        return Err(
            RpcError::new(UNSUPPORTED_PROTOCOL_VERSION, "Unsupported protocol version")
                .with_data(json!({"supported": STATELESS, "requested": version})),
        );
    }
    let Some(capabilities) = meta
        .and_then(|m| m.get(META_CLIENT_CAPABILITIES))
        .filter(|c| c.is_object())
    else {
        return Err(RpcError::invalid_params(format!(
            "_meta[\"{META_CLIENT_CAPABILITIES}\"] is required and must be an object"
        )));
    };
    let info = meta.and_then(|m| m.get(META_CLIENT_INFO));
    let text = |k: &str| {
        info.and_then(|i| i.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .chars()
            .take(100)
            .collect::<String>()
    };
    Ok(Modern {
        capabilities: capabilities.clone(),
        client_name: text("name"),
        client_version: text("version"),
    })
}
impl Session {
    pub(super) fn handshake_request(
        self: &Arc<Self>,
        id: Id,
        method: &str,
        params: Map<String, Value>,
    ) {
        let config = &self.shared.config;
        let phase = lock(&self.life).phase;
        let outcome = match method {
            "ping" => Ok(json!({})),
            "initialize" => self.initialize(&params),
            // A probe without `_meta`: answer as a stateless server would.
            "server/discover" => Ok(methods::discover_result(
                config,
                self.shared.host.instructions(),
            )),
            _ if phase == Phase::AwaitingInit => {
                let e = RpcError::invalid_params(format!(
                    "Not initialized: send initialize first (or a 2026-07-28 request with \
                     _meta[\"{META_PROTOCOL_VERSION}\"]) before {method}"
                ));
                self.audit_refused_call(method, &params, &e);
                Err(e)
            }
            "tools/list" => methods::tools_page(
                self.shared.host.tools(),
                params.get("cursor"),
                config.page_size,
            ),
            "logging/setLevel" => self.set_level(&params),
            "tools/call" => {
                let version = lock(&self.life).version.clone();
                return self.start_call(id, params, None, version);
            }
            _ => Err(RpcError::method_not_found(method)),
        };
        self.respond(&id, outcome);
    }

    pub(super) fn initialize(&self, params: &Map<String, Value>) -> Result<Value, RpcError> {
        let mut life = lock(&self.life);
        if life.phase != Phase::AwaitingInit {
            return Err(RpcError::new(
                INVALID_REQUEST,
                "Invalid Request: the session is already initialized",
            ));
        }
        let Some(requested) = params.get("protocolVersion").and_then(Value::as_str) else {
            return Err(
                RpcError::invalid_params("initialize needs a string protocolVersion")
                    .with_data(json!({"supported": versions::HANDSHAKE})),
            );
        };
        let capabilities = match params.get("capabilities") {
            None => Value::Object(Map::new()),
            Some(c @ Value::Object(_)) => c.clone(),
            Some(_) => {
                return Err(RpcError::invalid_params(
                    "initialize: capabilities must be an object",
                ));
            }
        };
        let client = params.get("clientInfo");
        if client.is_some_and(|c| !c.is_object()) {
            return Err(RpcError::invalid_params(
                "initialize: clientInfo must be an object",
            ));
        }
        let text = |k: &str| {
            client
                .and_then(|c| c.get(k))
                .and_then(Value::as_str)
                .unwrap_or("")
                .chars()
                .take(100)
                .collect::<String>()
        };
        let version = versions::negotiate(requested);
        life.phase = Phase::AwaitingInitialized;
        life.version = version.to_owned();
        life.form = client_has_form(&capabilities);
        life.client_name = text("name");
        life.client_version = text("version");
        log::info!(
            "session {}: initialize from {:?} {:?}, protocol {version} (asked {requested:?}), \
             elicitation form: {}",
            self.id,
            life.client_name,
            life.client_version,
            life.form
        );
        Ok(methods::initialize_result(
            &self.shared.config,
            version,
            self.shared.host.instructions(),
        ))
    }

    pub(super) fn set_level(&self, params: &Map<String, Value>) -> Result<Value, RpcError> {
        match params.get("level").and_then(Value::as_str) {
            Some(level) if methods::LOG_LEVELS.contains(&level) => {
                lock(&self.life).log_level = Some(level.to_owned());
                Ok(json!({}))
            }
            _ => Err(RpcError::invalid_params(format!(
                "level must be one of {}",
                methods::LOG_LEVELS.join(", ")
            ))),
        }
    }

    pub(super) fn stateless_request(
        self: &Arc<Self>,
        id: Id,
        method: &str,
        params: Map<String, Value>,
    ) {
        let config = &self.shared.config;
        if !matches!(method, "server/discover" | "tools/list" | "tools/call") {
            // `ping` and `logging/setLevel` do not exist in 2026-07-28.
            return self.respond(
                &id,
                Err(RpcError::new(
                    jsonrpc::METHOD_NOT_FOUND,
                    format!("Method not found: {method} (not part of 2026-07-28)"),
                )),
            );
        }
        let modern = match read_meta(&params) {
            Ok(m) => m,
            Err(e) => {
                self.audit_refused_call(method, &params, &e);
                return self.respond(&id, Err(e));
            }
        };
        let outcome = match method {
            "server/discover" => Ok(methods::discover_result(
                config,
                self.shared.host.instructions(),
            )),
            "tools/list" => methods::tools_page(
                self.shared.host.tools(),
                params.get("cursor"),
                config.page_size,
            )
            .map(|page| {
                let mut page = page;
                if let Some(m) = page.as_object_mut() {
                    m.insert("ttlMs".into(), 0.into());
                    m.insert("cacheScope".into(), "private".into());
                }
                methods::stateless(config, page)
            }),
            _ => return self.start_call(id, params, Some(modern), String::new()),
        };
        self.respond(&id, outcome);
    }
}
