//! Who is on the other end of a local socket, and what they may do.
//!
//! Why the daemon checks at all when the socket's mode already does: file modes are one
//! setting away from wrong (a `chmod` by hand, a different `UMask`, a packaging mistake), and
//! the two things behind the sockets matter — the MCP socket reaches the house, the control
//! socket lifts an emergency stop. So every connection is identified by the kernel
//! (`SO_PEERCRED`: the uid cannot be forged by the client) and checked against the user
//! database, and the answer is logged either way.
//!
//! The rules (pure functions over [`Users`], tested below):
//! - **MCP socket**: root, the daemon's own uid, and members of the socket's group (primary
//!   group in `/etc/passwd` or listed in `/etc/group`). The AI's SSH account is such a member.
//! - **Resume**: root, the daemon's own uid, and the Unix users named in `[control]
//!   resume_users`. Membership of the socket's group is deliberately *not* enough: the AI's
//!   account is in that group, and the AI must never lift a stop.
//! - **Emergency stop and status**: anyone who can reach the control socket.
//!
//! The user database is read from `/etc/passwd` and `/etc/group` (no NSS, no libc): on a Pi
//! those files are the database. A uid missing from them has no name and no groups, so it gets
//! nothing beyond what root/own-uid allow.

use std::fs;
use std::io;
use std::os::unix::net::UnixStream;
use std::path::Path;

/// The credentials the kernel recorded for a Unix-socket peer at `connect()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cred {
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
}

/// `SO_PEERCRED` of a connected Unix stream.
pub fn peer_cred(stream: &UnixStream) -> io::Result<Cred> {
    let c = rustix::net::sockopt::socket_peercred(stream)?;
    Ok(Cred {
        pid: c.pid.as_raw_nonzero().get(),
        uid: c.uid.as_raw(),
        gid: c.gid.as_raw(),
    })
}

/// One line of `/etc/passwd` that matters here.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Account {
    name: String,
    uid: u32,
    gid: u32,
}

/// One line of `/etc/group` that matters here.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Group {
    name: String,
    gid: u32,
    members: Vec<String>,
}

/// The local user database, as far as access decisions need it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Users {
    accounts: Vec<Account>,
    groups: Vec<Group>,
}

impl Users {
    /// Reads `/etc/passwd` and `/etc/group`. A missing or unreadable file counts as empty
    /// (nobody gains anything from it).
    pub fn load() -> Users {
        Users::from_files(Path::new("/etc/passwd"), Path::new("/etc/group"))
    }

    pub fn from_files(passwd: &Path, group: &Path) -> Users {
        let read = |p: &Path| fs::read_to_string(p).unwrap_or_default();
        Users::parse(&read(passwd), &read(group))
    }

    /// Parses the two files' text; malformed lines are skipped.
    pub fn parse(passwd: &str, group: &str) -> Users {
        let accounts = passwd
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() >= 4 && !f[0].is_empty()).then_some(())?;
                Some(Account {
                    name: f[0].to_owned(),
                    uid: f[2].parse().ok()?,
                    gid: f[3].parse().ok()?,
                })
            })
            .collect();
        let groups = group
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() >= 3 && !f[0].is_empty()).then_some(())?;
                Some(Group {
                    name: f[0].to_owned(),
                    gid: f[2].parse().ok()?,
                    members: f
                        .get(3)
                        .map(|m| {
                            m.split(',')
                                .map(str::trim)
                                .filter(|s| !s.is_empty())
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default(),
                })
            })
            .collect();
        Users { accounts, groups }
    }

    /// The user name of `uid`, if the database has one.
    pub fn name(&self, uid: u32) -> Option<&str> {
        self.accounts
            .iter()
            .find(|a| a.uid == uid)
            .map(|a| a.name.as_str())
    }

    /// The group name of `gid`, if the database has one.
    pub fn group_name(&self, gid: u32) -> Option<&str> {
        self.groups
            .iter()
            .find(|g| g.gid == gid)
            .map(|g| g.name.as_str())
    }

    /// True when `uid` has `gid` as its primary group or is listed as a member of it.
    pub fn in_group(&self, uid: u32, gid: u32) -> bool {
        let Some(account) = self.accounts.iter().find(|a| a.uid == uid) else {
            return false;
        };
        account.gid == gid
            || self
                .groups
                .iter()
                .any(|g| g.gid == gid && g.members.contains(&account.name))
    }

    /// `uid 1000 (alice)` — how logs and refusals name a peer.
    pub fn describe(&self, uid: u32) -> String {
        match self.name(uid) {
            Some(n) => format!("uid {uid} ({n})"),
            None => format!("uid {uid}"),
        }
    }
}

/// Who may do what on the daemon's sockets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// The daemon's own uid (the owner of the socket it bound).
    pub own_uid: u32,
    /// The MCP socket's group (the runtime directory's group under systemd).
    pub group: u32,
    /// `[control] resume_users`.
    pub resume_users: Vec<String>,
}

impl Policy {
    /// May `uid` open an MCP session? `Err` says why not, for the peer and the log.
    pub fn may_connect(&self, users: &Users, uid: u32) -> Result<(), String> {
        if uid == 0 || uid == self.own_uid || users.in_group(uid, self.group) {
            return Ok(());
        }
        let group = users
            .group_name(self.group)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("gid {}", self.group));
        Err(format!(
            "{} may not use the loxwarden socket: only root, the service user and members of the group '{group}' may (sudo adduser USER {group}, then log in again)",
            users.describe(uid)
        ))
    }

    /// May `uid` lift the emergency stop? Group membership is not enough (see the module docs).
    pub fn may_resume(&self, users: &Users, uid: u32) -> Result<(), String> {
        if uid == 0 || uid == self.own_uid {
            return Ok(());
        }
        if let Some(name) = users.name(uid)
            && self.resume_users.iter().any(|u| u == name)
        {
            return Ok(());
        }
        Err(format!(
            "{} may not lift the emergency stop: only root, the service user and the users in [control] resume_users may (try: sudo loxwarden resume)",
            users.describe(uid)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
        loxwarden:x:998:998::/var/lib/loxwarden:/usr/sbin/nologin\n\
        ai:x:1001:1001:AI client:/home/ai:/bin/sh\n\
        alice:x:1000:1000:Alice:/home/alice:/bin/bash\n\
        bob:x:1002:998::/home/bob:/bin/bash\n\
        broken line\n\
        nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
    const GROUP: &str = "root:x:0:\n\
        loxwarden:x:998:ai, alice\n\
        ai:x:1001:\n\
        alice:x:1000:\n\
        nogroup:x:65534:\n";

    fn users() -> Users {
        Users::parse(PASSWD, GROUP)
    }

    fn policy() -> Policy {
        Policy {
            own_uid: 998,
            group: 998,
            resume_users: vec!["alice".into()],
        }
    }

    #[test]
    fn names_and_groups_come_from_passwd_and_group() {
        let u = users();
        assert_eq!(u.name(1001), Some("ai"));
        assert_eq!(u.name(4242), None);
        assert_eq!(u.group_name(998), Some("loxwarden"));
        assert!(u.in_group(1001, 998), "listed member");
        assert!(u.in_group(1002, 998), "primary group");
        assert!(!u.in_group(65534, 998));
        assert!(!u.in_group(4242, 998), "unknown uid has no groups");
        assert_eq!(u.describe(1000), "uid 1000 (alice)");
        assert_eq!(u.describe(4242), "uid 4242");
    }

    #[test]
    fn the_mcp_socket_admits_root_itself_and_group_members_only() {
        let (u, p) = (users(), policy());
        for uid in [0, 998, 1001, 1000, 1002] {
            assert!(p.may_connect(&u, uid).is_ok(), "{uid}");
        }
        let e = p.may_connect(&u, 65534).unwrap_err();
        assert!(e.contains("uid 65534 (nobody)"), "{e}");
        assert!(e.contains("'loxwarden'"), "{e}");
        assert!(p.may_connect(&u, 4242).is_err());
    }

    #[test]
    fn group_membership_alone_never_authorises_resume() {
        let (u, p) = (users(), policy());
        assert!(p.may_resume(&u, 0).is_ok());
        assert!(p.may_resume(&u, 998).is_ok(), "the service user");
        assert!(p.may_resume(&u, 1000).is_ok(), "alice is in resume_users");
        // The AI's account is in the group, so it may connect, but never resume.
        assert!(p.may_connect(&u, 1001).is_ok());
        let e = p.may_resume(&u, 1001).unwrap_err();
        assert!(e.contains("uid 1001 (ai)"), "{e}");
        assert!(p.may_resume(&u, 1002).is_err(), "primary group member");
        assert!(p.may_resume(&u, 4242).is_err(), "unknown uid");
    }

    #[test]
    fn a_missing_database_grants_nothing_beyond_root_and_itself() {
        let u = Users::from_files(
            Path::new("/nonexistent/passwd"),
            Path::new("/nonexistent/g"),
        );
        let p = policy();
        assert!(p.may_connect(&u, 0).is_ok());
        assert!(p.may_connect(&u, 998).is_ok());
        assert!(p.may_connect(&u, 1001).is_err());
        assert!(p.may_resume(&u, 1000).is_err());
    }

    #[test]
    fn peer_credentials_name_this_process() {
        let (a, _b) = UnixStream::pair().unwrap();
        let c = peer_cred(&a).unwrap();
        assert_eq!(c.pid, std::process::id() as i32);
        let me = fs::metadata("/proc/self").map(|m| {
            use std::os::unix::fs::MetadataExt;
            m.uid()
        });
        if let Ok(uid) = me {
            assert_eq!(c.uid, uid);
        }
    }
}
