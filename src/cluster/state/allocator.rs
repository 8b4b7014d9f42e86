//! The allocator, as Mesos 1.11's hierarchical allocator decides
//! (`src/master/allocator/mesos/hierarchical.cpp`, `__allocate`; the sorters of
//! `src/master/allocator/mesos/sorter/`):
//!
//! - Each agent in turn; the roles that want offers are sorted by weighted DRF (a role's
//!   dominant share of the cluster, what its frameworks hold and are offered, divided by
//!   its weight; hierarchically: `eng` competes with `ops` with all of `eng/*` counted, then
//!   `eng/dev` with `eng/web` inside it), again for every agent.
//! - A role's framework gets, as one offer, everything on the agent allocatable to that
//!   role: unreserved resources and those reserved to the role or one of its ancestors.
//!   So a framework of several roles gets one offer per agent and role.
//! - Quota (`quota.rs`): first the roles below their guarantees, up to them; then every
//!   role, never past its limit.
//! - Within a role, frameworks take turns in registration order (Mesos sorts them by DRF
//!   too; the embedded cluster keeps the order frameworks came in, which is what a single
//!   framework per role sees either way).

use super::super::resources::Resources;
use super::super::views;
use super::{Effect, Master, Offer, Timer, MIN_CPUS, MIN_MEM};
use crate::mesos::v1::roles::is_strict_subrole_of;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

/// Mesos's `--min_allocatable_resources` default (`cpus:0.01|mem:32`): any one will do.
fn allocatable(r: &Resources) -> bool {
    r.cpus() >= MIN_CPUS || r.mem() >= MIN_MEM
}

/// A role's dominant share: the largest fraction of any scalar of the cluster it holds.
fn dominant_share(held: &Resources, total: &Resources) -> f64 {
    total
        .iter()
        .filter(|r| r.scalar.is_some())
        .map(|r| r.name.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|name| {
            let t = total.scalar(name);
            if t > 0.0 {
                held.scalar(name) / t
            } else {
                0.0
            }
        })
        .fold(0.0, f64::max)
}

/// What each framework (by index) holds, by role (a framework has few roles).
type ByFramework = HashMap<usize, Vec<(String, Resources)>>;

fn holding<'a>(by: &'a mut ByFramework, framework: usize, role: &str) -> &'a mut Resources {
    let by_role = by.entry(framework).or_default();
    let at = match by_role.iter().position(|(r, _)| r == role) {
        Some(at) => at,
        None => {
            by_role.push((role.to_string(), Resources::default()));
            by_role.len() - 1
        }
    };
    &mut by_role[at].1
}

/// `role` itself or a role below it.
fn in_subtree(role: &str, of: &str) -> bool {
    role == of || is_strict_subrole_of(role, of)
}

impl Master {
    /// What each role holds, and what each framework (by index) holds in each of its roles
    /// (their live tasks and executors, and the offers outstanding): the two levels of
    /// Mesos's hierarchical DRF (roles, then frameworks within a role).
    fn holdings(&self) -> (BTreeMap<String, Resources>, ByFramework) {
        let mut by_role: BTreeMap<String, Resources> = BTreeMap::new();
        let mut by_framework = ByFramework::new();
        let mut add = |i: usize, role: &str, r: &Resources| {
            by_role.entry(role.to_string()).or_default().add(r);
            holding(&mut by_framework, i, role).add(r);
        };
        for (i, f) in self.frameworks.iter().enumerate() {
            let mut executors: HashSet<(&str, &str)> = HashSet::new();
            for t in f.tasks.iter().filter(|t| !t.is_terminal()) {
                add(i, &t.role, &t.resources);
                if t.executor.is_some() && executors.insert((&t.executor_id, &t.container_id)) {
                    add(i, &t.role, &t.executor_resources);
                }
            }
        }
        let index: HashMap<&str, usize> = self
            .frameworks
            .iter()
            .enumerate()
            .map(|(i, f)| (f.id.as_str(), i))
            .collect();
        for o in &self.offers {
            // An offer always has its framework; `usize::MAX` keeps the role's sum right
            // were one left behind.
            let i = index
                .get(o.framework_id.as_str())
                .copied()
                .unwrap_or(usize::MAX);
            add(i, &o.role, &o.resources);
        }
        (by_role, by_framework)
    }

    /// The cluster's total: every active agent's resources.
    pub fn total_resources(&self) -> Resources {
        let mut total = Resources::default();
        for a in self.agents.iter().filter(|a| a.active) {
            total.add(&a.total);
        }
        total
    }

    /// The roles of `wanting` in the order the weighted, hierarchical DRF sorter gives.
    fn role_order(
        &self,
        wanting: &[String],
        held: &BTreeMap<String, Resources>,
        total: &Resources,
    ) -> Vec<String> {
        let share = |node: &str, subtree: bool| {
            let sum = held
                .iter()
                .filter(|(r, _)| {
                    if subtree {
                        in_subtree(r, node)
                    } else {
                        r.as_str() == node
                    }
                })
                .fold(Resources::default(), |acc, (_, r)| acc.plus(r));
            dominant_share(&sum, total) / self.tenancy.weight(node)
        };
        let mut out = Vec::new();
        self.order_below(None, wanting, &share, &mut out);
        out
    }

    /// Sorts the nodes just below `parent` (the top level when `None`) and walks each: a
    /// role that wants offers and has wanting roles below it takes part as a leaf of its
    /// own beside its children, as Mesos's sorter's virtual leaves do.
    fn order_below(
        &self,
        parent: Option<&str>,
        wanting: &[String],
        share: &dyn Fn(&str, bool) -> f64,
        out: &mut Vec<String>,
    ) {
        let mut nodes: Vec<(String, bool)> = Vec::new();
        for role in wanting {
            let child = match parent {
                None => role.split('/').next().unwrap_or(role).to_string(),
                Some(p) if is_strict_subrole_of(role, p) => {
                    let rest = &role[p.len() + 1..];
                    format!("{p}/{}", rest.split('/').next().unwrap_or(rest))
                }
                Some(p) if role == p => {
                    // The parent itself, as a leaf beside its children.
                    if !nodes.iter().any(|(n, leaf)| *leaf && n == p) {
                        nodes.push((p.to_string(), true));
                    }
                    continue;
                }
                Some(_) => continue,
            };
            if !nodes.iter().any(|(n, leaf)| !*leaf && *n == child) {
                nodes.push((child, false));
            }
        }
        let mut keyed: Vec<(f64, String, bool)> = nodes
            .into_iter()
            .map(|(n, leaf)| (share(&n, !leaf), n, leaf))
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        for (_, node, leaf) in keyed {
            let deeper = wanting.iter().any(|r| is_strict_subrole_of(r, &node));
            if leaf || !deeper {
                out.push(node);
            } else {
                self.order_below(Some(&node), wanting, share, out);
            }
        }
    }

    /// Each agent's free resources (neither used nor offered) go to the roles in DRF
    /// order, one offer per role and agent, to the first of the role's frameworks in DRF
    /// order that wants them: not suppressed, let in by its offer constraints, not
    /// refusing them.
    pub fn allocate(&mut self, fx: &mut Vec<Effect>) {
        let started = Instant::now();
        let now = started;
        self.counters.allocation_runs += 1;
        // Mesos's latency is from asking for the run to its start: a queued one waited
        // behind the work before it, the others run at once.
        let waited = self
            .allocation_queued
            .take()
            .map_or(Duration::ZERO, |asked| started.duration_since(asked));
        self.counters.allocation_run_latency.record(waited);
        for f in &mut self.frameworks {
            f.filters.retain(|flt| flt.until > now);
        }
        // Roles that want offers, each with its frameworks in registration order.
        let mut wanting: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, f) in self.frameworks.iter().enumerate() {
            if !(f.active && f.connected()) {
                continue;
            }
            for role in f.roles() {
                if !f.is_suppressed(&role) {
                    wanting.entry(role).or_default().push(i);
                }
            }
        }
        let mut made: Vec<Offer> = Vec::new();
        // Agents with something allocatable that is neither used nor offered. On a busy
        // cluster there are often none (every agent's rest is out in offers), and then the
        // sorting below, a pass over every live task, is skipped.
        let free_agents: Vec<(usize, Resources)> = if wanting.is_empty() {
            Vec::new()
        } else {
            let offered = self.offered_by_agent();
            let none = Resources::default();
            self.agents
                .iter()
                .enumerate()
                .filter(|(_, a)| a.active)
                .filter_map(|(i, a)| {
                    let offered = offered.get(a.id.as_str()).unwrap_or(&none);
                    let free = a.total.minus(&a.used).minus(offered);
                    allocatable(&free).then_some((i, free))
                })
                .collect()
        };
        if !free_agents.is_empty() {
            let total = self.total_resources();
            let (mut held, mut held_by_framework) = self.holdings();
            // Mesos's sorter breaks ties of share by how often a client was allocated to.
            let mut allocations: Vec<u64> = self
                .frameworks
                .iter()
                .map(|f| f.counts.get("offers/sent").unwrap_or(0))
                .collect();
            let roles: Vec<String> = wanting.keys().cloned().collect();
            for (a, mut free) in free_agents {
                let agent = &self.agents[a];
                let order = self.role_order(&roles, &held, &total);
                for stage in self.quota_stages() {
                    for role in &order {
                        let Some(chunk) = self.chunk_for(role, &free, &held, stage) else {
                            continue;
                        };
                        let share = |i: usize| {
                            held_by_framework
                                .get(&i)
                                .and_then(|by_role| by_role.iter().find(|(r, _)| r == role))
                                .map_or(0.0, |(_, h)| dominant_share(h, &total))
                        };
                        let taker = self.framework_for(
                            role,
                            agent,
                            &chunk,
                            &wanting[role],
                            share,
                            &allocations,
                        );
                        let Some(i) = taker else {
                            continue;
                        };
                        free = free.minus(&chunk);
                        held.entry(role.clone()).or_default().add(&chunk);
                        holding(&mut held_by_framework, i, role).add(&chunk);
                        allocations[i] += 1;
                        // A framework gets one offer per agent and role: a second stage
                        // adds to the first one's.
                        let fid = &self.frameworks[i].id;
                        match made.iter_mut().find(|o| {
                            &o.framework_id == fid && o.agent_id == agent.id && &o.role == role
                        }) {
                            Some(o) => o.resources = o.resources.plus(&chunk),
                            None => made.push(Offer {
                                id: String::new(),
                                framework_id: fid.clone(),
                                agent_id: agent.id.clone(),
                                resources: chunk,
                                role: role.clone(),
                            }),
                        }
                    }
                }
            }
        }
        self.counters.allocation_run.record(started.elapsed());
        if made.is_empty() {
            self.after_allocation(fx);
            return;
        }
        for offer in &mut made {
            offer.id = self.ids.offer();
        }
        self.counters.offers_sent += made.len() as u64;
        let framework_ids: Vec<String> = self.frameworks.iter().map(|f| f.id.clone()).collect();
        for fid in framework_ids {
            let mine: Vec<Value> = made
                .iter()
                .filter(|o| o.framework_id == fid)
                .map(|o| views::offer_v1(self, o))
                .collect();
            if mine.is_empty() {
                continue;
            }
            if let Some(f) = self.framework_mut(&fid) {
                f.counts.add("offers/sent", mine.len() as u64);
                f.send(&json!({"type": "OFFERS", "offers": {"offers": mine}}));
            }
        }
        if let Some(timeout) = self.settings.offer_timeout {
            for o in &made {
                fx.push(Effect::Timer(
                    now + timeout,
                    Timer::OfferTimeout {
                        offer_id: o.id.clone(),
                    },
                ));
            }
        }
        self.offers.extend(made);
        self.after_allocation(fx);
    }

    /// Resources came back (an ACCEPT's or DECLINE's rest, a finished task's): allocate
    /// once the work already waiting is done, as Mesos dispatches its allocations, so that
    /// a burst of them (hundreds of frameworks' accepts and updates a second) makes one
    /// allocation instead of one each, each a pass over every task. An idle cluster
    /// allocates at once all the same.
    pub fn allocate_soon(&mut self, fx: &mut Vec<Effect>) {
        if self.allocation_queued.is_none() {
            self.allocation_queued = Some(Instant::now());
            fx.push(Effect::Timer(Instant::now(), Timer::QueuedAllocation));
        }
    }

    /// The first of `candidates` (the frameworks of `role` that want offers) in DRF order
    /// that takes `chunk` of `agent`: Mesos's framework sorter of the role orders them by
    /// `share`, then by allocations so far, then by id; one whose offer constraints exclude
    /// the agent, or that refuses these resources there, is passed over.
    fn framework_for(
        &self,
        role: &str,
        agent: &super::Agent,
        chunk: &Resources,
        candidates: &[usize],
        share: impl Fn(usize) -> f64,
        allocations: &[u64],
    ) -> Option<usize> {
        candidates
            .iter()
            .copied()
            .filter(|&i| {
                let f = &self.frameworks[i];
                !f.offer_constraints.excludes(
                    role,
                    &agent.hostname,
                    &agent.attributes,
                    self.settings.flags.domain.as_ref(),
                ) && !f.filters.iter().any(|flt| {
                    flt.agent_id == agent.id && flt.role == role && flt.resources.contains(chunk)
                })
            })
            .map(|i| (share(i), allocations[i], i))
            .min_by(|a, b| {
                a.0.total_cmp(&b.0)
                    .then(a.1.cmp(&b.1))
                    .then_with(|| self.frameworks[a.2].id.cmp(&self.frameworks[b.2].id))
            })
            .map(|(_, _, i)| i)
    }

    /// What of `free` the role may be offered in this stage, if it is worth an offer.
    fn chunk_for(
        &self,
        role: &str,
        free: &Resources,
        held: &BTreeMap<String, Resources>,
        stage: super::quota::Stage,
    ) -> Option<Resources> {
        let chunk = self.within_quota(role, free.allocatable_to(role), held, stage);
        allocatable(&chunk).then_some(chunk)
    }

    /// Withdraws an outstanding offer: RESCIND to its framework; its resources are free.
    pub fn rescind(&mut self, offer_id: &str) {
        if let Some(offer) = self.take_offer(offer_id) {
            self.counters.offers_rescinded += 1;
            if let Some(f) = self.framework_mut(&offer.framework_id) {
                f.counts.bump("offers/rescinded");
                f.send(&json!({"type": "RESCIND", "rescind": {"offer_id": {"value": offer.id}}}));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mesos's second level of DRF: frameworks of one role are sorted by what they hold.
    /// Before, the role's first framework took every offer while it wanted them (fifty
    /// frameworks of `*`: the first done in 6 s, the last after 125 s).
    #[test]
    fn within_a_role_the_framework_holding_least_is_offered_first() {
        use super::super::tests::{events, master, subscribed};
        let mut m = master();
        let mut fx = Vec::new();
        let (a, _a_events, offer) = subscribed(&mut m, json!({"user": "u", "name": "a"}), &mut fx);
        let (_b, mut b_events, none) =
            subscribed(&mut m, json!({"user": "u", "name": "b"}), &mut fx);
        assert!(none.is_null(), "the agent was all offered to a: {none}");
        let offer_id = offer["id"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let task = json!({"name": "t", "task_id": {"value": "t1"}, "agent_id": offer["agent_id"],
            "command": {"value": "sleep 100"},
            "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1.0}},
                          {"name": "mem", "type": "SCALAR", "scalar": {"value": 100.0}}]});
        let op = json!({"type": "LAUNCH", "launch": {"task_infos": [task]}});
        // a keeps half the agent and refuses nothing of the rest.
        fx.clear();
        assert!(m.accept(&a, &[offer_id], &[op], 0.0, &mut fx).is_ok());
        // The rest is offered by the allocation the accept queued, once.
        let queued = fx
            .iter()
            .filter(|e| matches!(e, Effect::Timer(_, Timer::QueuedAllocation)))
            .count();
        assert_eq!(queued, 1);
        m.decline(&a, &[], 0.0, &mut fx);
        let queued = fx
            .iter()
            .filter(|e| matches!(e, Effect::Timer(_, Timer::QueuedAllocation)))
            .count();
        assert_eq!(queued, 1, "a second trigger before it ran queues none");
        // Its latency is the wait from the first trigger to the run, as Mesos's is.
        std::thread::sleep(Duration::from_millis(2));
        m.fire(Timer::QueuedAllocation, &mut fx);
        let mut metrics = crate::cluster::metrics::Metrics::new();
        m.counters
            .allocation_run_latency
            .write("latency", &mut metrics);
        assert!(metrics["latency_ms"] >= 2.0, "{metrics:?}");
        let offers: Vec<Value> = events(&mut b_events)
            .into_iter()
            .filter(|e| e["type"] == "OFFERS")
            .collect();
        assert_eq!(
            offers.len(),
            1,
            "b, holding nothing, gets the rest: {offers:?}"
        );
        assert!(m.offers.iter().all(|o| o.framework_id != a));
    }

    #[test]
    fn dominant_shares() {
        let total = Resources::flat(4.0, 1000.0, 0.0, 0.0, &[]);
        assert_eq!(
            dominant_share(&Resources::flat(1.0, 500.0, 0.0, 0.0, &[]), &total),
            0.5
        );
        assert_eq!(dominant_share(&Resources::default(), &total), 0.0);
        assert!(in_subtree("eng/dev", "eng") && in_subtree("eng", "eng"));
        assert!(!in_subtree("engine", "eng"));
    }
}
