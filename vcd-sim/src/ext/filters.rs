//! API filters: which request paths vCD hands to which extension service.
//! A filter's `UrlPattern` is a Java regular expression that must match the
//! whole path (query string excluded); only enabled services route.

use regex::Regex;

use super::ExtensionTarget;

/// A pattern that is not a valid regular expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("API filter pattern '{pattern}' is not a valid regular expression: {reason}")]
pub struct FilterError {
    /// The pattern as registered.
    pub pattern: String,
    /// The regex engine's reason.
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
    /// Where requests for it go.
    pub target: ExtensionTarget,
    /// Its compiled API filters.
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
    first_routed(
        extensions
            .iter()
            .map(|e| (&e.target, e.target.enabled, &e.filters)),
        path,
    )
}

/// vCD's routing decision: the first candidate, in order, that is enabled
/// and has a filter matching the whole path (query string excluded). Each
/// candidate is `(what to return, enabled, its filters)`; the simulated vCD
/// state (`Sim::route_extension`) and [`find_extension`] both decide here.
pub fn first_routed<'a, T, F>(
    candidates: impl IntoIterator<Item = (T, bool, F)>,
    path: &str,
) -> Option<T>
where
    F: IntoIterator<Item = &'a ApiFilter>,
{
    let path = path.split('?').next().unwrap_or(path);
    candidates
        .into_iter()
        .find_map(|(candidate, enabled, filters)| {
            (enabled && filters.into_iter().any(|f| f.matches(path))).then_some(candidate)
        })
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
            mqtt: None,
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
    fn the_first_enabled_candidate_with_a_matching_filter_routes() {
        let cse = [ApiFilter::new("/api/cse/.*").unwrap()];
        let other = [ApiFilter::new("/api/.*").unwrap()];
        let candidates = || {
            [
                ("disabled", false, cse.iter()),
                ("cse", true, cse.iter()),
                ("other", true, other.iter()),
            ]
        };
        assert_eq!(
            first_routed(candidates(), "/api/cse/system?x=1"),
            Some("cse")
        );
        assert_eq!(first_routed(candidates(), "/api/org"), Some("other"));
        assert_eq!(first_routed(candidates(), "/cloudapi/1.0.0/sessions"), None);
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
