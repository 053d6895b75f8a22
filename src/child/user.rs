//! The account a child runs as, read from `/etc/passwd` and `/etc/group` directly.
//!
//! The release binary is static, and glibc's `getpwnam` in a static binary needs the NSS modules
//! of the glibc it was built with (or silently finds nothing), so names are looked up in the
//! files themselves. Accounts that only exist in LDAP or systemd-homed are therefore unknown:
//! the error says so instead of running the command as someone else.

use std::io;

/// Where the accounts are; tests parse strings instead.
const PASSWD: &str = "/etc/passwd";
const GROUP: &str = "/etc/group";

/// What `setgroups`/`setgid`/`setuid` need, computed before `fork` so that the child allocates
/// nothing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Account {
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    /// The primary group and every group listing the user as a member: a service user is often
    /// given access through a supplementary group (`systemd-journal`, `adm`), and dropping them
    /// would make such a command fail; keeping root's groups instead would be a privilege leak.
    pub(crate) groups: Vec<u32>,
}

/// Looks `name` up in the system's account files.
pub(crate) fn lookup(name: &str) -> io::Result<Account> {
    let passwd = std::fs::read_to_string(PASSWD)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot read {PASSWD}: {e}")))?;
    // A missing /etc/group only loses supplementary groups; the primary group is in passwd.
    let group = std::fs::read_to_string(GROUP).unwrap_or_default();
    account(name, &passwd, &group)
}

/// The account `name` as described by the two files' contents.
pub(crate) fn account(name: &str, passwd: &str, group: &str) -> io::Result<Account> {
    let unknown = || {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("no user {name:?} in {PASSWD} (accounts from NSS/LDAP are not looked up)"),
        )
    };
    if name.is_empty() || name.contains(':') || name.contains('\n') {
        return Err(unknown());
    }
    let entry = passwd
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.len() >= 4 && fields[0] == name)
        .ok_or_else(unknown)?;
    let id = |field: &str, what: &str| {
        field
            .parse::<u32>()
            .ok()
            .filter(|&v| v != u32::MAX) // -1 means "unchanged" to set*id: never a real id
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("user {name:?} has an invalid {what} {field:?} in {PASSWD}"),
                )
            })
    };
    let uid = id(entry[2], "uid")?;
    let gid = id(entry[3], "gid")?;
    let mut groups = vec![gid];
    for fields in group
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
    {
        if fields.len() < 4 || !fields[3].split(',').any(|m| m.trim() == name) {
            continue;
        }
        if let Ok(g) = fields[2].parse::<u32>()
            && g != u32::MAX
            && !groups.contains(&g)
        {
            groups.push(g);
        }
    }
    Ok(Account { uid, gid, groups })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD_TEXT: &str = "root:x:0:0:root:/root:/bin/bash\n\
        nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n\
        app:x:1000:1000::/home/app:/bin/sh\n\
        broken:x:abc:1::/:/bin/sh\n\
        minus:x:4294967295:1::/:/bin/sh\n";
    const GROUP_TEXT: &str = "root:x:0:\n\
        adm:x:4:syslog,app\n\
        systemd-journal:x:101:app\n\
        app:x:1000:\n\
        other:x:7:application\n";

    #[test]
    fn finds_uid_gid_and_supplementary_groups() {
        let a = account("app", PASSWD_TEXT, GROUP_TEXT).unwrap();
        assert_eq!(a.uid, 1000);
        assert_eq!(a.gid, 1000);
        // The primary group once, then the groups naming "app" exactly (not "application").
        assert_eq!(a.groups, vec![1000, 4, 101]);
        let n = account("nobody", PASSWD_TEXT, GROUP_TEXT).unwrap();
        assert_eq!((n.uid, n.gid, n.groups), (65534, 65534, vec![65534]));
    }

    #[test]
    fn unknown_or_malformed_users_are_clear_errors() {
        let e = account("ghost", PASSWD_TEXT, GROUP_TEXT).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(e.to_string().contains("ghost"), "{e}");
        // A name that would match a different field of the line is refused, not matched.
        assert!(account("x", PASSWD_TEXT, GROUP_TEXT).is_err());
        assert!(account("", PASSWD_TEXT, GROUP_TEXT).is_err());
        assert!(account("app:x", PASSWD_TEXT, GROUP_TEXT).is_err());
        let e = account("broken", PASSWD_TEXT, GROUP_TEXT).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(account("minus", PASSWD_TEXT, GROUP_TEXT).is_err());
    }

    #[test]
    fn reads_the_real_files() {
        let root = lookup("root").unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
    }
}
