//! What the demo server remembers: each caller's variables and paper tape, and the
//! sessions `fn.login` opens, all within one memory limit.
//!
//! The server is open to anyone who can reach it, and every caller may name a new
//! user, so everything kept is charged against the limit (its text and a fixed cost
//! per entry). A save that would pass the limit is refused; the paper tape drops its
//! oldest lines instead.

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::calculator::{Evaluation, Expression};

/// Whose variables and paper tape a call uses.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Owner {
    /// Callers without `@auth_`: one set, shared by all of them.
    Everyone,
    /// A user named in `@auth_`, directly or through a session.
    User(String),
}

/// How many evaluations a paper tape keeps; older ones roll off.
pub(super) const TAPE_LENGTH: usize = 1000;

/// What each kept item costs beyond its text: map entries, allocations, the number.
/// The costs here were set against the process's memory, measured as it filled up
/// (the README gives the measurements).
const ENTRY_COST: usize = 96;

/// What the allocator adds to each allocation: its header and rounding.
const ALLOCATION_COST: usize = 16;

/// What an owner's namespace costs beyond its name: its slot in the table of
/// namespaces and the first node of its variable map, which holds room for eleven
/// variables however few it has.
const NAMESPACE_COST: usize = 512;

/// The memory limit would be passed.
#[derive(Debug, thiserror::Error)]
#[error("the demo server's memory limit is reached")]
pub(super) struct Full;

/// One owner's variables and paper tape.
#[derive(Debug, Default)]
struct Namespace {
    variables: BTreeMap<String, f64>,
    /// Oldest first, each with its cost.
    tape: VecDeque<(Evaluation, usize)>,
}

impl Namespace {
    fn is_empty(&self) -> bool {
        self.variables.is_empty() && self.tape.is_empty()
    }

    /// The cost of what it holds.
    fn contents_cost(&self) -> usize {
        let variables: usize = self.variables.keys().map(|name| variable_cost(name)).sum();
        let tape: usize = self.tape.iter().map(|(_, cost)| cost).sum();
        variables + tape
    }
}

/// Every owner's namespace and the open sessions, with what they cost.
#[derive(Debug)]
pub(super) struct Ledger {
    namespaces: HashMap<Owner, Namespace>,
    /// The user of each session token.
    users: HashMap<String, String>,
    /// The session token of each user who has one.
    tokens: HashMap<String, String>,
    used: usize,
    limit: usize,
}

/// Nothing saved: what an owner without a namespace reads.
static NO_VARIABLES: BTreeMap<String, f64> = BTreeMap::new();

impl Ledger {
    /// An empty ledger that keeps at most `limit` bytes (as it counts them).
    pub(super) fn new(limit: usize) -> Self {
        Ledger {
            namespaces: HashMap::new(),
            users: HashMap::new(),
            tokens: HashMap::new(),
            used: 0,
            limit,
        }
    }

    /// The value saved under `name`.
    pub(super) fn variable(&self, owner: &Owner, name: &str) -> Option<f64> {
        self.variables(owner).get(name).copied()
    }

    /// Every saved variable, in order of name.
    pub(super) fn variables(&self, owner: &Owner) -> &BTreeMap<String, f64> {
        self.namespaces
            .get(owner)
            .map_or(&NO_VARIABLES, |namespace| &namespace.variables)
    }

    /// Saves each value under its name (the names are distinct), all or none.
    pub(super) fn save(
        &mut self,
        owner: &Owner,
        variables: impl IntoIterator<Item = (String, f64)>,
    ) -> Result<(), Full> {
        let variables: Vec<(String, f64)> = variables.into_iter().collect();
        let saved = self.variables(owner);
        let new_names: usize = variables
            .iter()
            .filter(|(name, _)| !saved.contains_key(name))
            .map(|(name, _)| variable_cost(name))
            .sum();
        let namespace = self.namespace_charged(owner, new_names)?;
        namespace.variables.extend(variables);
        Ok(())
    }

    /// Forgets the variables saved under `names`.
    pub(super) fn delete<'a>(&mut self, owner: &Owner, names: impl IntoIterator<Item = &'a str>) {
        let Some(namespace) = self.namespaces.get_mut(owner) else {
            return;
        };
        let freed: usize = names
            .into_iter()
            .filter(|name| namespace.variables.remove(*name).is_some())
            .map(variable_cost)
            .sum();
        self.used -= freed;
        self.tidy(owner);
    }

    /// Notes `evaluation` on the owner's paper tape, rolling off the oldest lines past
    /// [`TAPE_LENGTH`] or the limit. A line the limit has no room for is not kept.
    pub(super) fn record(&mut self, owner: &Owner, evaluation: Evaluation) {
        let cost = ENTRY_COST + expression_cost(&evaluation.expression);
        if self.namespace_charged(owner, 0).is_err() {
            return;
        }
        let (limit, mut used) = (self.limit, self.used);
        if let Some(namespace) = self.namespaces.get_mut(owner) {
            while let Some((_, oldest)) = namespace.tape.front() {
                if namespace.tape.len() < TAPE_LENGTH && used + cost <= limit {
                    break;
                }
                used -= oldest;
                namespace.tape.pop_front();
            }
            if used + cost <= limit {
                namespace.tape.push_back((evaluation, cost));
                used += cost;
            }
        }
        self.used = used;
        self.tidy(owner);
    }

    /// The latest `limit` evaluations, the latest first.
    pub(super) fn tape(&self, owner: &Owner, limit: usize) -> Vec<Evaluation> {
        let Some(namespace) = self.namespaces.get(owner) else {
            return Vec::new();
        };
        let lines = namespace.tape.iter().rev().take(limit);
        lines.map(|(evaluation, _)| evaluation.clone()).collect()
    }

    /// The owner's variables and paper tape (oldest first), as `fn.export` gives them.
    pub(super) fn snapshot(&self, owner: &Owner) -> (BTreeMap<String, f64>, Vec<Evaluation>) {
        let tape = self.tape(owner, TAPE_LENGTH).into_iter().rev().collect();
        (self.variables(owner).clone(), tape)
    }

    /// Replaces the owner's variables and paper tape (oldest first; the latest
    /// [`TAPE_LENGTH`] are kept), or changes nothing if they would pass the limit.
    pub(super) fn replace(
        &mut self,
        owner: &Owner,
        variables: BTreeMap<String, f64>,
        evaluations: Vec<Evaluation>,
    ) -> Result<(), Full> {
        let skipped = evaluations.len().saturating_sub(TAPE_LENGTH);
        let tape: VecDeque<(Evaluation, usize)> = evaluations
            .into_iter()
            .skip(skipped)
            .map(|evaluation| {
                let cost = ENTRY_COST + expression_cost(&evaluation.expression);
                (evaluation, cost)
            })
            .collect();
        let replacement = Namespace { variables, tape };
        let old = self.namespace_cost(owner);
        let new = match replacement.is_empty() {
            true => 0,
            false => owner_cost(owner) + replacement.contents_cost(),
        };
        if self.used - old + new > self.limit {
            return Err(Full);
        }
        self.used = self.used - old + new;
        match replacement.is_empty() {
            true => self.namespaces.remove(owner),
            false => self.namespaces.insert(owner.clone(), replacement),
        };
        Ok(())
    }

    /// Opens a session for `username` with `token`; `false` if it has one already.
    pub(super) fn open_session(&mut self, username: &str, token: String) -> Result<bool, Full> {
        if self.tokens.contains_key(username) {
            return Ok(false);
        }
        self.charge(session_cost(username, &token))?;
        self.users.insert(token.clone(), username.to_string());
        self.tokens.insert(username.to_string(), token);
        Ok(true)
    }

    /// The user whose session `token` is.
    pub(super) fn user_of(&self, token: &str) -> Option<&str> {
        self.users.get(token).map(String::as_str)
    }

    /// Ends the session of `username` and forgets its variables and paper tape.
    pub(super) fn close_session(&mut self, username: &str) {
        if let Some(token) = self.tokens.remove(username) {
            self.users.remove(&token);
            self.used -= session_cost(username, &token);
        }
        let owner = Owner::User(username.to_string());
        self.used -= self.namespace_cost(&owner);
        self.namespaces.remove(&owner);
    }

    /// The owner's namespace, with `cost` more charged (and the namespace's own cost
    /// when it is made), or nothing changed if that would pass the limit.
    fn namespace_charged(&mut self, owner: &Owner, cost: usize) -> Result<&mut Namespace, Full> {
        let made = match self.namespaces.contains_key(owner) {
            true => 0,
            false => owner_cost(owner),
        };
        self.charge(cost + made)?;
        Ok(self.namespaces.entry(owner.clone()).or_default())
    }

    /// What the owner's namespace costs in all (0 without one).
    fn namespace_cost(&self, owner: &Owner) -> usize {
        self.namespaces
            .get(owner)
            .map_or(0, |namespace| owner_cost(owner) + namespace.contents_cost())
    }

    /// Forgets the owner's namespace once it holds nothing.
    fn tidy(&mut self, owner: &Owner) {
        if self.namespaces.get(owner).is_some_and(Namespace::is_empty) {
            self.namespaces.remove(owner);
            self.used -= owner_cost(owner);
        }
    }

    fn charge(&mut self, cost: usize) -> Result<(), Full> {
        let used = self
            .used
            .checked_add(cost)
            .filter(|&used| used <= self.limit);
        self.used = used.ok_or(Full)?;
        Ok(())
    }

    /// What the ledger holds, counted afresh (for tests of the running count).
    #[cfg(test)]
    fn recount(&self) -> usize {
        let namespaces: usize = self
            .namespaces
            .keys()
            .map(|owner| self.namespace_cost(owner))
            .sum();
        let sessions: usize = self
            .tokens
            .iter()
            .map(|(username, token)| session_cost(username, token))
            .sum();
        namespaces + sessions
    }
}

fn owner_cost(owner: &Owner) -> usize {
    match owner {
        Owner::Everyone => NAMESPACE_COST,
        Owner::User(username) => NAMESPACE_COST + username.len(),
    }
}

fn variable_cost(name: &str) -> usize {
    ENTRY_COST + name.len()
}

/// Two map entries, each holding the username and the token in allocations of their own.
fn session_cost(username: &str, token: &str) -> usize {
    2 * (ENTRY_COST + 2 * ALLOCATION_COST + username.len() + token.len())
}

/// The expression's nodes (each its own allocation) and the names in them.
fn expression_cost(expression: &Expression) -> usize {
    let node = std::mem::size_of::<Expression>() + ALLOCATION_COST;
    match expression {
        Expression::Constant(_) => node,
        Expression::Variable(variable) => node + ALLOCATION_COST + variable.name.len(),
        Expression::Add(operation) => node + both(&operation.left, &operation.right),
        Expression::Sub(operation) => node + both(&operation.left, &operation.right),
        Expression::Mul(operation) => node + both(&operation.left, &operation.right),
        Expression::Div(operation) => node + both(&operation.left, &operation.right),
    }
}

fn both(left: &Expression, right: &Expression) -> usize {
    expression_cost(left) + expression_cost(right)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::expression::tests::{add, constant, variable};

    fn user(name: &str) -> Owner {
        Owner::User(name.to_string())
    }

    fn evaluation(expression: Expression, timestamp: i64) -> Evaluation {
        Evaluation {
            expression,
            result: None,
            timestamp,
            successful: false,
        }
    }

    /// The running count matches a count from scratch.
    fn assert_counted(ledger: &Ledger) {
        assert_eq!(ledger.used, ledger.recount());
    }

    fn timestamps(tape: &[Evaluation]) -> Vec<i64> {
        tape.iter().map(|evaluation| evaluation.timestamp).collect()
    }

    #[test]
    fn variables_are_saved_per_owner_and_read_in_order_of_name() {
        let mut ledger = Ledger::new(10_000);
        let everyone = Owner::Everyone;
        ledger
            .save(&everyone, [("b".into(), 2.0), ("a".into(), 1.0)])
            .unwrap();
        ledger.save(&user("ada"), [("a".into(), 7.0)]).unwrap();
        let names: Vec<&String> = ledger.variables(&everyone).keys().collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(ledger.variable(&user("ada"), "a"), Some(7.0));
        assert_eq!(ledger.variable(&user("bob"), "a"), None);
        // A user may be called what no caller is: the shared set stays apart.
        assert_eq!(ledger.variable(&user(""), "a"), None);
        assert_counted(&ledger);
    }

    #[test]
    fn replacing_a_value_costs_nothing_more_and_deleting_gives_it_all_back() {
        let mut ledger = Ledger::new(10_000);
        let owner = user("ada");
        ledger.save(&owner, [("x".into(), 1.0)]).unwrap();
        let used = ledger.used;
        ledger.save(&owner, [("x".into(), 2.0)]).unwrap();
        assert_eq!(
            (ledger.used, ledger.variable(&owner, "x")),
            (used, Some(2.0))
        );
        ledger.delete(&owner, ["x", "never saved"]);
        assert_eq!(ledger.used, 0);
        assert!(ledger.namespaces.is_empty());
    }

    #[test]
    fn a_save_past_the_limit_changes_nothing() {
        let owner = user("ada");
        let room = owner_cost(&owner) + variable_cost("a") + variable_cost("b");
        let mut ledger = Ledger::new(room);
        ledger.save(&owner, [("a".into(), 1.0)]).unwrap();
        let too_many = [("b".into(), 2.0), ("c".into(), 3.0)];
        assert!(ledger.save(&owner, too_many).is_err());
        assert_eq!(ledger.variables(&owner).len(), 1);
        ledger.save(&owner, [("b".into(), 2.0)]).unwrap();
        assert_eq!(ledger.used, room);
        assert!(ledger.save(&user("bob"), [("a".into(), 1.0)]).is_err());
        assert_counted(&ledger);
    }

    #[test]
    fn the_tape_keeps_its_latest_lines() {
        let mut ledger = Ledger::new(usize::MAX);
        let owner = Owner::Everyone;
        for timestamp in 0..(TAPE_LENGTH as i64 + 5) {
            ledger.record(&owner, evaluation(constant(1.0), timestamp));
        }
        let tape = ledger.tape(&owner, 3);
        assert_eq!(timestamps(&tape), [1004, 1003, 1002]);
        assert_eq!(ledger.tape(&owner, usize::MAX).len(), TAPE_LENGTH);
        assert_counted(&ledger);
    }

    #[test]
    fn the_limit_rolls_the_oldest_lines_off_and_keeps_no_line_too_large() {
        let owner = Owner::Everyone;
        let line = ENTRY_COST + expression_cost(&constant(1.0));
        let mut ledger = Ledger::new(owner_cost(&owner) + 2 * line);
        for timestamp in 0..3 {
            ledger.record(&owner, evaluation(constant(1.0), timestamp));
        }
        assert_eq!(timestamps(&ledger.tape(&owner, 10)), [2, 1]);
        let large = add(variable(&"x".repeat(3 * line)), constant(1.0));
        ledger.record(&owner, evaluation(large, 3));
        assert!(ledger.tape(&owner, 10).is_empty());
        assert_eq!(ledger.used, 0);
    }

    #[test]
    fn a_replacement_past_the_limit_changes_nothing() {
        let owner = user("ada");
        let mut ledger = Ledger::new(1_000);
        ledger.save(&owner, [("kept".into(), 1.0)]).unwrap();
        let many: BTreeMap<String, f64> = (0..100).map(|n| (format!("v{n}"), 0.0)).collect();
        assert!(ledger.replace(&owner, many, Vec::new()).is_err());
        assert_eq!(ledger.variable(&owner, "kept"), Some(1.0));
        let tape = (0..(TAPE_LENGTH as i64 + 1)).map(|t| evaluation(constant(0.0), t));
        let mut ledger = Ledger::new(usize::MAX);
        ledger
            .replace(&owner, BTreeMap::new(), tape.collect())
            .unwrap();
        let kept = ledger.tape(&owner, usize::MAX);
        assert_eq!(
            (kept.len(), kept.last().map(|line| line.timestamp)),
            (TAPE_LENGTH, Some(1))
        );
        ledger.replace(&owner, BTreeMap::new(), Vec::new()).unwrap();
        assert_eq!(ledger.used, 0);
    }

    #[test]
    fn a_session_is_one_per_user_and_closing_it_forgets_the_user() {
        let mut ledger = Ledger::new(10_000);
        assert_eq!(ledger.open_session("ada", "t1".into()).ok(), Some(true));
        assert_eq!(ledger.open_session("ada", "t2".into()).ok(), Some(false));
        assert_eq!(ledger.user_of("t1"), Some("ada"));
        assert_eq!(ledger.user_of("t2"), None);
        ledger.save(&user("ada"), [("x".into(), 1.0)]).unwrap();
        ledger.record(&user("ada"), evaluation(constant(1.0), 0));
        assert_counted(&ledger);
        ledger.close_session("ada");
        assert_eq!((ledger.user_of("t1"), ledger.used), (None, 0));
        assert!(ledger.namespaces.is_empty());
        let full = Ledger::new(10).open_session("ada", "t3".into());
        assert!(full.is_err());
    }
}
