//! API filters: which request paths vCD hands to which extension service.
//! A filter's `UrlPattern` is a Java regular expression that must match the
//! whole path (query string excluded); only enabled services route.

use regex::Regex;

use super::ExtensionTarget;

/// A pattern that is not a valid regular expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("API filter pattern '{pattern}' is not a valid regular expression: {reason}")]
pub struct FilterError {
    pub pattern: String,
    pub reason: String,
}

/// One compiled `UrlPattern`.
#[derive(Debug, Clone)]
pub struct ApiFilter {
    pattern: String,
    regex: Regex,
}

impl ApiFilter {
    /// Compiles a pattern, anchored at both ends as Java's `matches()` is.
    pub fn new(pattern: &str) -> Result<Self, FilterError> {
        let regex = Regex::new(&format!("^(?:{pattern})$")).map_err(|e| FilterError {
            pattern: pattern.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(ApiFilter {
            pattern: pattern.to_owned(),
            regex,
        })
    }

    /// The pattern as registered.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Whether the path (no query string) is this filter's.
    pub fn matches(&self, path: &str) -> bool {
        self.regex.is_match(path)
    }
}

/// An extension service with its API filters.
#[derive(Debug, Clone)]
pub struct RegisteredExtension {
    pub target: ExtensionTarget,
    pub filters: Vec<ApiFilter>,
}

impl RegisteredExtension {
    /// Compiles the patterns of a registration.
    pub fn new<S: AsRef<str>>(
        target: ExtensionTarget,
        patterns: &[S],
    ) -> Result<Self, FilterError> {
        let filters = patterns
            .iter()
            .map(|p| ApiFilter::new(p.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(RegisteredExtension { target, filters })
    }

    /// Whether an HTTP request path goes to this extension (enabled and a filter matches).
    pub fn routes(&self, path: &str) -> bool {
        self.target.enabled && self.filters.iter().any(|f| f.matches(path))
    }
}

/// The enabled extension a request path goes to, if any (the first registered wins).
pub fn find_extension<'a>(
    extensions: &'a [RegisteredExtension],
    path: &str,
) -> Option<&'a ExtensionTarget> {
    let path = path.split('?').next().unwrap_or(path);
    extensions
        .iter()
        .find(|e| e.routes(path))
        .map(|e| &e.target)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn cse_target(enabled: bool) -> ExtensionTarget {
        ExtensionTarget {
            name: "cse".into(),
            namespace: "cse".into(),
            exchange: "vcdext".into(),
            routing_key: "cse".into(),
            enabled,
            id: "urn:vcloud:service:1".into(),
        }
    }

    const CSE_PATTERNS: [&str; 3] = ["/api/cse", "/api/cse/.*", "/api/cse/.*/.*"];

    #[test]
    fn cse_patterns_route_the_cse_paths_only() {
        let ext = [RegisteredExtension::new(cse_target(true), &CSE_PATTERNS).unwrap()];
        for path in [
            "/api/cse",
            "/api/cse/",
            "/api/cse/system",
            "/api/cse/c1/info",
            "/api/cse/c1/node-abcd/info",
            "/api/cse/system?x=1",
        ] {
            assert!(find_extension(&ext, path).is_some(), "{path}");
        }
        for path in [
            "/api/csex",
            "/api/org",
            "/api/cse2/x",
            "/cloudapi/cse",
            "/x/api/cse",
        ] {
            assert!(find_extension(&ext, path).is_none(), "{path}");
        }
    }

    #[test]
    fn disabled_extension_does_not_route() {
        let ext = [RegisteredExtension::new(cse_target(false), &CSE_PATTERNS).unwrap()];
        assert!(find_extension(&ext, "/api/cse/system").is_none());
    }

    #[test]
    fn invalid_pattern_is_a_typed_error() {
        let err = ApiFilter::new("/api/(").unwrap_err();
        assert_eq!(err.pattern, "/api/(");
    }

    proptest::proptest! {
        #[test]
        fn anchored_match_never_matches_a_prefix_extension(suffix in "[a-z0-9]{1,8}") {
            let f = ApiFilter::new("/api/cse").unwrap();
            let path = format!("/api/cse{suffix}");
            proptest::prop_assert!(!f.matches(&path));
        }
    }
}
