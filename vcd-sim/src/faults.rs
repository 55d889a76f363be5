//! The simulator's one fault vocabulary, shared by vCD REST, vCenter SOAP and
//! guest faults: a [`FaultRule`] is a match (what a surface's request must
//! look like), a count (`times`), a `delay`, a `probability` and an effect
//! (what happens instead of the normal answer); a [`FaultSet`] holds the
//! rules of one surface with one API: [`FaultSet::add`] → [`RuleId`],
//! [`FaultSet::list`] (with hit counts), [`FaultSet::remove`],
//! [`FaultSet::clear`] and [`FaultSet::stats`].
//!
//! Each surface brings its own match type (implementing [`Match`] for its
//! requests) and effect type (implementing [`Effect`]):
//! `rest::faults` (method and path → HTTP status), `vsphere::faults`
//! (SOAP method or transfer → vim25 fault or stall) and `guest::faults`
//! (VM scope → guest misbehaviour).
//!
//! Rule semantics, the same on every surface:
//! - Rules are looked at in the order they were added. A rule is a candidate
//!   for a request when it is not used up and its match accepts the request.
//! - A candidate takes part when it has a delay, or when the surface takes its
//!   effect (each surface says which effects it takes, given the ones taken so
//!   far: REST and vCenter take the first, guests every relevant one).
//! - A rule with a `probability` then takes part only when a draw from the
//!   set's seeded generator says so; the same seed and the same requests give
//!   the same draws, so tests are reproducible. A draw that says no counts as
//!   a skip in [`FaultStats`].
//! - A rule that takes part counts a hit and uses up one of its `times`;
//!   a used-up rule stays listed by [`FaultSet::list`] (so its hits can still
//!   be read) but never takes part again.
//! - The delays of every rule taking part add up. Delays are real time, never
//!   scaled by the simulator's clock (a fault is about the network and the
//!   client's time-outs, not simulated work).

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};
use serde::{Deserialize, Serialize};

/// The seed of a [`FaultSet`] made with [`FaultSet::new`].
pub const DEFAULT_SEED: u64 = 0x5eed_fa17;

/// What a surface's match type does: accept or refuse one request.
pub trait Match<R: ?Sized> {
    /// Whether a rule with this match applies to `request`.
    fn matches(&self, request: &R) -> bool;
}

/// What a surface's effect type must say about the rules that carry it.
pub trait Effect: Clone + Debug + Send + 'static {
    /// The surface's name in logs and errors (`REST`, `vCenter`, `guest`).
    const SURFACE: &'static str;

    /// Whether the surface can wait for a rule's delay (a surface that cannot
    /// refuses rules with one, instead of ignoring it).
    const DELAYS: bool = true;

    /// Checks the effect is one the surface can produce.
    fn check(&self) -> Result<(), FaultError> {
        Ok(())
    }
}

/// Why a rule cannot be added.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaultError {
    /// The probability is not a number from 0 to 1.
    #[error("fault rule probability {0} is not between 0 and 1")]
    BadProbability(f64),
    /// The surface cannot delay its answers.
    #[error("{0} faults cannot have a delay")]
    DelayNotSupported(&'static str),
    /// The effect is one the surface cannot produce.
    #[error("{0}")]
    BadEffect(String),
}

/// One fault rule: when (`matcher`), how often (`times`, `probability`) and
/// what (`delay`, `effect`).
///
/// In JSON (the control API): `{"match": ..., "effect": ..., "delay_ms": 50,
/// "times": 3, "probability": 0.5}`, every field but `match` optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    deny_unknown_fields,
    bound(deserialize = "M: Deserialize<'de>, E: Deserialize<'de>")
)]
pub struct FaultRule<M, E> {
    /// Which requests the rule applies to.
    #[serde(rename = "match")]
    pub matcher: M,
    /// What happens instead of the normal answer (`None`: only the delay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<E>,
    /// Real time to wait before answering.
    #[serde(
        default,
        rename = "delay_ms",
        with = "delay_ms",
        skip_serializing_if = "Option::is_none"
    )]
    pub delay: Option<Duration>,
    /// How many requests the rule takes part in (`None`: until removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// The chance, from 0 to 1, that the rule takes part in a request it
    /// matches (`None`: always).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
}

/// A delay as whole milliseconds in JSON.
mod delay_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

impl<M, E> FaultRule<M, E> {
    /// A rule with this match and effect, for every matching request, no delay.
    pub fn new(matcher: M, effect: E) -> Self {
        Self {
            matcher,
            effect: Some(effect),
            delay: None,
            times: None,
            probability: None,
        }
    }

    /// A rule that only delays the requests it matches.
    pub fn delay_only(matcher: M, delay: Duration) -> Self {
        Self {
            matcher,
            effect: None,
            delay: Some(delay),
            times: None,
            probability: None,
        }
    }

    /// The same rule with a delay.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// The same rule, taking part in at most `times` requests.
    pub fn times(mut self, times: u32) -> Self {
        self.times = Some(times);
        self
    }

    /// The same rule, taking part with this chance (0 to 1).
    pub fn with_probability(mut self, probability: f64) -> Self {
        self.probability = Some(probability);
        self
    }
}

impl<M, E: Effect> FaultRule<M, E> {
    /// Checks the rule can be applied by its surface.
    pub fn check(&self) -> Result<(), FaultError> {
        if let Some(p) = self.probability
            && !(0.0..=1.0).contains(&p)
        {
            return Err(FaultError::BadProbability(p));
        }
        if self.delay.is_some() && !E::DELAYS {
            return Err(FaultError::DelayNotSupported(E::SURFACE));
        }
        self.effect.as_ref().map_or(Ok(()), Effect::check)
    }
}

/// Identifies a rule added to a [`FaultSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RuleId(pub u64);

/// A rule as listed by [`FaultSet::list`] (in JSON: the id, the rule's
/// fields, `hits` and `remaining`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListedRule<M, E> {
    /// The rule's id.
    pub id: RuleId,
    /// The rule as added.
    #[serde(flatten)]
    pub rule: FaultRule<M, E>,
    /// Requests the rule took part in so far.
    pub hits: u32,
    /// Requests it may still take part in (`None`: unlimited).
    pub remaining: Option<u32>,
}

impl<M, E> ListedRule<M, E> {
    /// Whether the rule is used up.
    pub fn used_up(&self) -> bool {
        self.remaining == Some(0)
    }
}

/// Counters of one [`FaultSet`] since it was made (not reset by `clear`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FaultStats {
    /// Rules listed now (used-up ones included).
    pub rules: usize,
    /// Rules added.
    pub added: u64,
    /// Requests the set was asked about.
    pub requests: u64,
    /// Requests at least one rule took part in.
    pub faulted: u64,
    /// Times a matching rule was left out by its probability draw.
    pub skipped: u64,
}

/// What the rules decided for one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision<E> {
    /// Total real-time delay before answering.
    pub delay: Duration,
    /// The effects taken, with their rules, in rule order.
    pub effects: Vec<(RuleId, E)>,
}

impl<E> Default for Decision<E> {
    fn default() -> Self {
        Self {
            delay: Duration::ZERO,
            effects: Vec::new(),
        }
    }
}

impl<E> Decision<E> {
    /// The first effect taken, with its rule.
    pub fn first(&self) -> Option<&(RuleId, E)> {
        self.effects.first()
    }

    /// Whether no rule took part.
    pub fn is_empty(&self) -> bool {
        self.delay.is_zero() && self.effects.is_empty()
    }
}

#[derive(Debug)]
struct Entry<M, E> {
    id: RuleId,
    rule: FaultRule<M, E>,
    hits: u32,
}

impl<M, E> Entry<M, E> {
    fn remaining(&self) -> Option<u32> {
        self.rule.times.map(|t| t.saturating_sub(self.hits))
    }
}

#[derive(Debug)]
struct Rules<M, E> {
    next_id: u64,
    entries: Vec<Entry<M, E>>,
    rng: StdRng,
    stats: FaultStats,
}

/// The rules of one surface. Cheap to clone: clones share the rules.
#[derive(Debug)]
pub struct FaultSet<M, E> {
    rules: Arc<Mutex<Rules<M, E>>>,
}

impl<M, E> Clone for FaultSet<M, E> {
    fn clone(&self) -> Self {
        Self {
            rules: Arc::clone(&self.rules),
        }
    }
}

impl<M, E> FaultSet<M, E>
where
    M: Clone + Debug,
    E: Effect,
{
    /// No rules; probability draws from [`DEFAULT_SEED`].
    pub fn new() -> Self {
        Self::with_seed(DEFAULT_SEED)
    }

    /// No rules; probability draws from `seed`.
    pub fn with_seed(seed: u64) -> Self {
        Self {
            rules: Arc::new(Mutex::new(Rules {
                next_id: 0,
                entries: Vec::new(),
                rng: StdRng::seed_from_u64(seed),
                stats: FaultStats::default(),
            })),
        }
    }

    /// Restarts the probability draws from `seed`.
    pub fn reseed(&self, seed: u64) {
        self.rules.lock().rng = StdRng::seed_from_u64(seed);
    }

    /// Adds a rule after the existing ones, once [`FaultRule::check`] accepts it.
    pub fn add(&self, rule: FaultRule<M, E>) -> Result<RuleId, FaultError> {
        rule.check()?;
        let mut rules = self.rules.lock();
        rules.next_id += 1;
        rules.stats.added += 1;
        let id = RuleId(rules.next_id);
        tracing::info!(
            surface = E::SURFACE,
            ?id,
            ?rule,
            "vcd-sim: fault rule added"
        );
        rules.entries.push(Entry { id, rule, hits: 0 });
        Ok(id)
    }

    /// Removes a rule; returns whether it existed.
    pub fn remove(&self, id: RuleId) -> bool {
        self.remove_where(|listed| listed.id == id) > 0
    }

    /// Removes the rules `pred` picks; returns how many.
    pub fn remove_where(&self, mut pred: impl FnMut(&ListedRule<M, E>) -> bool) -> usize {
        let mut rules = self.rules.lock();
        let before = rules.entries.len();
        rules.entries.retain(|e| !pred(&listed(e)));
        before - rules.entries.len()
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.rules.lock().entries.clear();
    }

    /// Every rule, used-up ones included, in order, with its hits.
    pub fn list(&self) -> Vec<ListedRule<M, E>> {
        self.rules.lock().entries.iter().map(listed).collect()
    }

    /// The rules that may still take part (used-up ones left out), in order.
    pub fn active(&self) -> Vec<ListedRule<M, E>> {
        let mut rules = self.list();
        rules.retain(|r| !r.used_up());
        rules
    }

    /// How many requests a rule took part in (0 for a rule removed or unknown).
    pub fn hits(&self, id: RuleId) -> u32 {
        self.rules
            .lock()
            .entries
            .iter()
            .find(|e| e.id == id)
            .map_or(0, |e| e.hits)
    }

    /// The set's counters.
    pub fn stats(&self) -> FaultStats {
        let rules = self.rules.lock();
        FaultStats {
            rules: rules.entries.len(),
            ..rules.stats
        }
    }

    /// Decides what happens to a request and counts the hits, in one atomic
    /// step (concurrent requests use up `times` exactly). `takes` says
    /// whether the surface takes a matching rule's effect, given the
    /// decision so far.
    pub fn decide<R: ?Sized>(
        &self,
        request: &R,
        mut takes: impl FnMut(&E, &Decision<E>) -> bool,
    ) -> Decision<E>
    where
        M: Match<R>,
    {
        let mut guard = self.rules.lock();
        let rules = &mut *guard;
        rules.stats.requests += 1;
        let mut decision = Decision::default();
        let mut faulted = false;
        for entry in rules.entries.iter_mut() {
            if entry.remaining() == Some(0) || !entry.rule.matcher.matches(request) {
                continue;
            }
            let taken = entry
                .rule
                .effect
                .as_ref()
                .is_some_and(|e| takes(e, &decision));
            if !taken && entry.rule.delay.is_none() {
                continue;
            }
            if let Some(p) = entry.rule.probability
                && rules.rng.random::<f64>() >= p
            {
                rules.stats.skipped += 1;
                continue;
            }
            entry.hits = entry.hits.saturating_add(1);
            faulted = true;
            if let Some(delay) = entry.rule.delay {
                decision.delay = decision.delay.saturating_add(delay);
            }
            if taken && let Some(effect) = &entry.rule.effect {
                decision.effects.push((entry.id, effect.clone()));
            }
        }
        if faulted {
            rules.stats.faulted += 1;
        }
        decision
    }

    /// [`FaultSet::decide`] taking only the first effect (REST, vCenter).
    pub fn decide_first<R: ?Sized>(&self, request: &R) -> Decision<E>
    where
        M: Match<R>,
    {
        self.decide(request, |_, so_far| so_far.effects.is_empty())
    }
}

impl<M: Clone + Debug, E: Effect> Default for FaultSet<M, E> {
    fn default() -> Self {
        Self::new()
    }
}

fn listed<M: Clone, E: Clone>(e: &Entry<M, E>) -> ListedRule<M, E> {
    ListedRule {
        id: e.id,
        rule: e.rule.clone(),
        hits: e.hits,
        remaining: e.remaining(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Matches requests that start with its text.
    #[derive(Debug, Clone, PartialEq)]
    struct Prefix(&'static str);

    impl Match<str> for Prefix {
        fn matches(&self, request: &str) -> bool {
            request.starts_with(self.0)
        }
    }

    #[derive(Debug, Clone, PartialEq)]
    struct Fail(u8);

    impl Effect for Fail {
        const SURFACE: &'static str = "test";
        fn check(&self) -> Result<(), FaultError> {
            if self.0 == 0 {
                return Err(FaultError::BadEffect("code 0 is no failure".into()));
            }
            Ok(())
        }
    }

    #[derive(Debug, Clone, PartialEq)]
    struct Instant;

    impl Effect for Instant {
        const SURFACE: &'static str = "instant";
        const DELAYS: bool = false;
    }

    fn set() -> FaultSet<Prefix, Fail> {
        FaultSet::new()
    }

    fn codes(d: &Decision<Fail>) -> Vec<u8> {
        d.effects.iter().map(|(_, e)| e.0).collect()
    }

    #[test]
    fn times_limits_the_requests_a_rule_takes_part_in() {
        let f = set();
        let id = f
            .add(FaultRule::new(Prefix("a"), Fail(1)).times(2))
            .unwrap();
        let first = |f: &FaultSet<Prefix, Fail>| codes(&f.decide_first("abc"));
        assert_eq!(
            (first(&f), first(&f), first(&f)),
            (vec![1], vec![1], vec![])
        );
        assert_eq!(f.hits(id), 2);
        assert!(f.active().is_empty());
        let listed = f.list();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].used_up());
    }

    #[test]
    fn the_match_narrows_a_rule() {
        let f = set();
        let id = f.add(FaultRule::new(Prefix("ab"), Fail(1))).unwrap();
        assert!(f.decide_first("ba").is_empty());
        assert_eq!(codes(&f.decide_first("abba")), vec![1]);
        assert_eq!(f.hits(id), 1);
    }

    #[test]
    fn delays_add_up_and_a_rule_whose_effect_is_not_taken_is_not_used_up() {
        let f = set();
        let slow = f
            .add(FaultRule::delay_only(Prefix(""), Duration::from_millis(30)))
            .unwrap();
        let first = f
            .add(FaultRule::new(Prefix(""), Fail(2)).with_delay(Duration::from_millis(20)))
            .unwrap();
        let second = f.add(FaultRule::new(Prefix(""), Fail(3)).times(1)).unwrap();
        let d = f.decide_first("x");
        assert_eq!(d.delay, Duration::from_millis(50));
        assert_eq!(d.first(), Some(&(first, Fail(2))));
        assert_eq!((f.hits(slow), f.hits(first), f.hits(second)), (1, 1, 0));
        assert!(f.remove(first));
        assert!(!f.remove(first));
        assert_eq!(codes(&f.decide_first("x")), vec![3]);
        assert_eq!(f.active().len(), 1);
    }

    #[test]
    fn a_surface_may_take_every_effect() {
        let f = set();
        f.add(FaultRule::new(Prefix(""), Fail(1))).unwrap();
        f.add(FaultRule::new(Prefix(""), Fail(2))).unwrap();
        f.add(FaultRule::new(Prefix(""), Fail(3))).unwrap();
        let d = f.decide("x", |e, _| e.0 != 2);
        assert_eq!(codes(&d), vec![1, 3]);
    }

    #[test]
    fn probability_draws_are_reproducible_from_the_seed() {
        let run = |seed| {
            let f: FaultSet<Prefix, Fail> = FaultSet::with_seed(seed);
            let id = f
                .add(FaultRule::new(Prefix(""), Fail(1)).with_probability(0.5))
                .unwrap();
            let pattern: Vec<bool> = (0..64).map(|_| !f.decide_first("x").is_empty()).collect();
            (pattern, f.hits(id), f.stats())
        };
        let (a, hits, stats) = run(7);
        assert_eq!(run(7).0, a, "same seed, same draws");
        assert_ne!(run(8).0, a, "another seed, other draws");
        let taken = a.iter().filter(|t| **t).count() as u32;
        assert_eq!(hits, taken);
        assert!((16..=48).contains(&taken), "about half of 64: {taken}");
        assert_eq!(stats.skipped, u64::from(64 - taken));
        assert_eq!(stats.faulted, u64::from(taken));

        let f = set();
        let never = f
            .add(FaultRule::new(Prefix(""), Fail(1)).with_probability(0.0))
            .unwrap();
        let always = f
            .add(FaultRule::new(Prefix(""), Fail(2)).with_probability(1.0))
            .unwrap();
        for _ in 0..10 {
            assert_eq!(codes(&f.decide_first("x")), vec![2]);
        }
        assert_eq!((f.hits(never), f.hits(always)), (0, 10));
    }

    #[test]
    fn reseeding_repeats_the_draws() {
        let f = set();
        f.add(FaultRule::new(Prefix(""), Fail(1)).with_probability(0.3))
            .unwrap();
        let draws = |f: &FaultSet<Prefix, Fail>| -> Vec<bool> {
            (0..32).map(|_| !f.decide_first("x").is_empty()).collect()
        };
        f.reseed(42);
        let a = draws(&f);
        f.reseed(42);
        assert_eq!(draws(&f), a);
    }

    #[test]
    fn stats_count_requests_faults_and_rules_and_clear_keeps_them() {
        let f = set();
        f.add(FaultRule::new(Prefix("a"), Fail(1)).times(1))
            .unwrap();
        f.add(FaultRule::new(Prefix("b"), Fail(2))).unwrap();
        for r in ["a", "a", "b", "c"] {
            f.decide_first(r);
        }
        assert_eq!(
            f.stats(),
            FaultStats {
                rules: 2,
                added: 2,
                requests: 4,
                faulted: 2,
                skipped: 0
            }
        );
        f.clear();
        assert!(f.list().is_empty());
        assert!(f.decide_first("b").is_empty());
        assert_eq!(f.stats().rules, 0);
        assert_eq!(f.stats().requests, 5);
    }

    #[test]
    fn remove_where_picks_rules() {
        let f = set();
        f.add(FaultRule::new(Prefix("a"), Fail(1))).unwrap();
        f.add(FaultRule::new(Prefix("b"), Fail(1))).unwrap();
        f.add(FaultRule::new(Prefix("a"), Fail(2))).unwrap();
        assert_eq!(f.remove_where(|r| r.rule.matcher == Prefix("a")), 2);
        assert_eq!(f.list().len(), 1);
    }

    #[test]
    fn bad_rules_are_refused_with_the_reason() {
        let f = set();
        assert_eq!(
            f.add(FaultRule::new(Prefix(""), Fail(1)).with_probability(1.5)),
            Err(FaultError::BadProbability(1.5))
        );
        assert!(matches!(
            f.add(FaultRule::new(Prefix(""), Fail(1)).with_probability(f64::NAN)),
            Err(FaultError::BadProbability(_))
        ));
        assert_eq!(
            f.add(FaultRule::new(Prefix(""), Fail(0)))
                .unwrap_err()
                .to_string(),
            "code 0 is no failure"
        );
        let instant: FaultSet<Prefix, Instant> = FaultSet::new();
        assert_eq!(
            instant
                .add(FaultRule::new(Prefix(""), Instant).with_delay(Duration::from_secs(1)))
                .unwrap_err()
                .to_string(),
            "instant faults cannot have a delay"
        );
        assert_eq!(f.stats().added, 0);
    }
}
