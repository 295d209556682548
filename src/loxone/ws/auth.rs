//! Authentication on the socket (decision 8: `keyexchange`, `getkey`, encrypted
//! `authwithtoken`, then `enablebinstatusupdate`) and the token refresh on the same socket
//! (`refreshjwt` in `fenc`, decision 7).
//!
//! Why on the socket: the document names the websocket for both, and every reference client
//! refreshes there (docs/protocol-review.md, D3).

use std::time::Instant;

use super::{Ws, WsEnd};
use crate::loxone::auth::{self, AuthError, Token, TokenVerb};
use crate::loxone::crypto;
use crate::loxone::events::Frame;
use crate::loxone::ll::LlReply;

impl Ws {
    /// `refreshjwt` on this authenticated socket (decision 7): a one-time key from `getkey`,
    /// then the token hash inside `fenc`, whose sealed reply carries the new token. On the
    /// websocket, as the document says ("via websocket (HTTP support not verified)") and every
    /// reference client does; LxCommunicator.NET refuses to refresh over HTTP
    /// (docs/protocol-review.md, D3). The reply is opened, not yet applied: see
    /// [`Token::refreshed`].
    pub fn refresh(
        &mut self,
        token: &Token,
        deadline: Instant,
        other: &mut dyn FnMut(Frame),
    ) -> Result<LlReply, AuthStep> {
        let key = self.one_time_key(token, deadline, other)?;
        let cmd = self
            .session
            .ws_command(&token.command(TokenVerb::Refresh, &key)?, true);
        let body = self.request_text(&cmd, "refreshjwt", deadline, other)?;
        self.session
            .open_reply(&body)
            .map(|o| o.reply)
            .map_err(|e| AuthStep::Auth(AuthError::Protocol(format!("refreshjwt: {e}"))))
    }

    /// `jdev/sys/getkey`: a one-time key (hex) for the next token hash.
    fn one_time_key(
        &mut self,
        token: &Token,
        deadline: Instant,
        other: &mut dyn FnMut(Frame),
    ) -> Result<String, AuthStep> {
        let r = self.request("jdev/sys/getkey", "getkey", deadline, other)?;
        auth::check_code(&r, &token.user, "getkey")?;
        let key = r.value_text();
        if crypto::unhex(&key).is_none() {
            return Err(AuthStep::Auth(AuthError::Protocol(
                "getkey returned no hex key".into(),
            )));
        }
        Ok(key)
    }

    /// keyexchange → getkey → encrypted authwithtoken → enablebinstatusupdate.
    /// Returns the `authwithtoken` reply (it carries the token's `validUntil`).
    pub fn authenticate(
        &mut self,
        token: &Token,
        deadline: Instant,
        other: &mut dyn FnMut(Frame),
    ) -> Result<LlReply, AuthStep> {
        let kx = self.session.keyexchange_command();
        let r = self.request(&kx, "keyexchange", deadline, other)?;
        auth::check_code(&r, &token.user, "keyexchange")?;
        let key = self.one_time_key(token, deadline, other)?;
        let cmd = self.session.ws_command(&token.authwithtoken(&key)?, false);
        let auth_reply = self.request(&cmd, "authwithtoken", deadline, other)?;
        auth::check_code(&auth_reply, &token.user, "authwithtoken")?;
        let r = self.request(
            "jdev/sps/enablebinstatusupdate",
            "enablebinstatusupdate",
            deadline,
            other,
        )?;
        auth::check_code(&r, &token.user, "enablebinstatusupdate")?;
        Ok(auth_reply)
    }
}

/// Authentication on the socket failed: the socket itself, or the Miniserver said no.
#[derive(Debug)]
pub enum AuthStep {
    Socket(WsEnd),
    Auth(AuthError),
}

impl From<WsEnd> for AuthStep {
    fn from(e: WsEnd) -> AuthStep {
        match e {
            WsEnd::Closed {
                code: Some(4003), ..
            } => AuthStep::Auth(AuthError::Blocked),
            other => AuthStep::Socket(other),
        }
    }
}

impl From<AuthError> for AuthStep {
    fn from(e: AuthError) -> AuthStep {
        AuthStep::Auth(e)
    }
}
