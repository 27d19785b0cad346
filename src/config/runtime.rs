//! Lambda runtimes as far as SnapStart cares (snapstart, "Supported features and limitations";
//! Lambda pricing page, "SnapStart pricing"): SnapStart runs on the managed runtimes Java 11
//! and later, Python 3.12 and later and .NET 8 and later, and on no other runtime (Node.js,
//! Ruby, OS-only runtimes, container images). Its snapshot cache and restores are charged for
//! Python and .NET; for Java SnapStart has no charge.

/// The runtime families SnapStart supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapStartRuntime {
    Java,
    Python,
    DotNet,
}

/// The SnapStart family of an AWS runtime identifier (`java21`, `python3.12`, `dotnet8`), or
/// `None` when SnapStart does not support it.
pub fn snapstart_runtime(runtime: &str) -> Option<SnapStartRuntime> {
    let version = |rest: &str| -> Option<(u32, u32)> {
        let mut parts = rest.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = match parts.next() {
            Some(m) => m.parse().ok()?,
            None => 0,
        };
        parts.next().is_none().then_some((major, minor))
    };
    if let Some(rest) = runtime.strip_prefix("java") {
        return version(rest).filter(|&(major, minor)| major >= 11 && minor == 0).map(|_| SnapStartRuntime::Java);
    }
    if let Some(rest) = runtime.strip_prefix("python") {
        return version(rest).filter(|&v| v >= (3, 12)).map(|_| SnapStartRuntime::Python);
    }
    if let Some(rest) = runtime.strip_prefix("dotnet") {
        return version(rest).filter(|&(major, _)| major >= 8).map(|_| SnapStartRuntime::DotNet);
    }
    None
}

/// Whether AWS charges SnapStart's cache and restores on this runtime (Python and .NET).
pub fn snapstart_charged(runtime: &str) -> bool {
    matches!(snapstart_runtime(runtime), Some(SnapStartRuntime::Python | SnapStartRuntime::DotNet))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_runtimes_and_no_others() {
        for (runtime, family) in [
            ("java11", Some(SnapStartRuntime::Java)),
            ("java21", Some(SnapStartRuntime::Java)),
            ("java8.al2", None),
            ("java8", None),
            ("python3.12", Some(SnapStartRuntime::Python)),
            ("python3.13", Some(SnapStartRuntime::Python)),
            ("python3.11", None),
            ("dotnet8", Some(SnapStartRuntime::DotNet)),
            ("dotnet6", None),
            ("nodejs22.x", None),
            ("ruby3.4", None),
            ("provided.al2023", None),
        ] {
            assert_eq!(snapstart_runtime(runtime), family, "{runtime}");
        }
        assert!(!snapstart_charged("java21"));
        assert!(snapstart_charged("python3.12"));
        assert!(snapstart_charged("dotnet8"));
    }
}
