//! Role names and their hierarchy (`src/common/roles.cpp`): `eng/web` is a subrole of `eng`;
//! `*` is the default role, which nothing is reserved to.

/// Why a role name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RoleError(pub String);

/// Checks a role name as Mesos does: `*`, or `/`-separated components that are not empty,
/// `.`, `..` or `*`, do not start with `-` and hold no whitespace.
pub fn validate(role: &str) -> Result<(), RoleError> {
    if role == "*" {
        return Ok(());
    }
    let bad = |why: String| Err(RoleError(why));
    if role.starts_with('/') {
        return bad(format!("Role '{role}' cannot start with a slash"));
    }
    if role.ends_with('/') {
        return bad(format!("Role '{role}' cannot end with a slash"));
    }
    if role.contains("//") {
        return bad(format!("Role '{role}' cannot contain two adjacent slashes"));
    }
    if role.is_empty() {
        return bad("Role names cannot be the empty string".into());
    }
    for component in role.split('/') {
        match component {
            "." => return bad(format!("Role '{role}' cannot include '.' as a component")),
            ".." => return bad(format!("Role '{role}' cannot include '..' as a component")),
            "*" => return bad(format!("Role '{role}' cannot include '*' as a component")),
            c if c.starts_with('-') => {
                return bad(format!(
                    "Role component '{c}' is invalid because it starts with a dash"
                ))
            }
            c if c.contains(['\t', '\n', '\x0b', '\x0c', '\r', ' ', '\x7f']) => {
                return bad(format!(
                    "Role component '{c}' is invalid because it contains backspace or whitespace"
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether `role` lies strictly below `ancestor` (`eng/web` below `eng`, not `eng` itself).
pub fn is_strict_subrole_of(role: &str, ancestor: &str) -> bool {
    role.len() > ancestor.len()
        && role.as_bytes()[ancestor.len()] == b'/'
        && role.starts_with(ancestor)
}

/// The roles above `role`, nearest first: `a/b/c` gives `a/b`, `a`.
pub fn ancestors(role: &str) -> impl Iterator<Item = &str> {
    let mut rest = role;
    std::iter::from_fn(move || {
        let i = rest.rfind('/')?;
        rest = &rest[..i];
        Some(rest)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names() {
        for ok in ["*", "web", "eng/web", "a-b", "a.b", "x*"] {
            assert!(validate(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "/a", "a/", "a//b", ".", "a/..", "a/*", "-a", "a b", "a/\tb",
        ] {
            assert!(validate(bad).is_err(), "{bad:?}");
        }
        assert!(is_strict_subrole_of("eng/web", "eng"));
        assert!(!is_strict_subrole_of("eng", "eng"));
        assert!(!is_strict_subrole_of("engine", "eng"));
        assert_eq!(ancestors("a/b/c").collect::<Vec<_>>(), ["a/b", "a"]);
        assert_eq!(ancestors("a").count(), 0);
    }
}
