//! Offers going back to the allocator: taken, rescinded, declined (with their filters);
//! REVIVE and SUPPRESS.

use super::*;

impl Master {
    /// Removes an offer and returns its resources to the agent's free pool.
    pub(super) fn take_offer(&mut self, offer_id: &str) -> Option<Offer> {
        let pos = self.offers.iter().position(|o| o.id == offer_id)?;
        Some(self.offers.remove(pos))
    }

    /// Every outstanding offer of an agent goes back, with a RESCIND to its framework (an
    /// agent lost, disconnected, going down for maintenance).
    pub(super) fn rescind_offers_of(&mut self, agent_id: &str) {
        let offers: Vec<String> = self
            .offers
            .iter()
            .filter(|o| o.agent_id == agent_id)
            .map(|o| o.id.clone())
            .collect();
        for offer_id in offers {
            if let Some(offer) = self.take_offer(&offer_id) {
                self.counters.offers_rescinded += 1;
                if let Some(f) = self.framework_mut(&offer.framework_id) {
                    f.counts.bump("offers/rescinded");
                    f.send(&json!({"type": "RESCIND", "rescind": {"offer_id": id(&offer.id)}}));
                }
            }
        }
    }

    pub(super) fn add_filter(
        &mut self,
        framework_id: &str,
        offer: (&str, &str),
        resources: Resources,
        secs: f64,
        fx: &mut Vec<Effect>,
    ) {
        if secs <= 0.0 || !secs.is_finite() {
            return;
        }
        let (agent_id, role) = offer;
        let until = Instant::now() + Duration::from_secs_f64(secs.min(1e9));
        if let Some(f) = self.framework_mut(framework_id) {
            f.filters.push(Filter {
                agent_id: agent_id.to_string(),
                role: role.to_string(),
                resources,
                until,
            });
            fx.push(Effect::Timer(until, Timer::Allocate));
        }
    }

    /// DECLINE: the offers go back, refused to this framework for `refuse_seconds`.
    pub fn decline(
        &mut self,
        framework_id: &str,
        offer_ids: &[String],
        refuse_seconds: f64,
        fx: &mut Vec<Effect>,
    ) {
        for offer_id in offer_ids {
            let mine = self
                .offers
                .iter()
                .any(|o| &o.id == offer_id && o.framework_id == framework_id);
            if !mine {
                continue;
            }
            if let Some(offer) = self.take_offer(offer_id) {
                self.counters.offers_declined += 1;
                if let Some(f) = self.framework_mut(framework_id) {
                    f.counts.bump("offers/declined");
                }
                self.add_filter(
                    framework_id,
                    (&offer.agent_id, &offer.role),
                    offer.resources,
                    refuse_seconds,
                    fx,
                );
            }
        }
        self.allocate_soon(fx);
    }

    /// The roles a REVIVE or SUPPRESS names, or all the framework's when it names none.
    pub(super) fn named_roles(f: &Framework, roles: &[String]) -> Vec<String> {
        if roles.is_empty() {
            f.roles()
        } else {
            roles
                .iter()
                .filter(|r| f.roles().contains(r))
                .cloned()
                .collect()
        }
    }

    /// REVIVE: the roles get offers again and their refusals are forgotten.
    pub fn revive(&mut self, framework_id: &str, roles: &[String], fx: &mut Vec<Effect>) {
        if let Some(f) = self.framework_mut(framework_id) {
            let roles = Self::named_roles(f, roles);
            for role in &roles {
                f.suppressed_roles.remove(role);
            }
            f.filters.retain(|flt| !roles.contains(&flt.role));
        }
        self.allocate(fx);
    }

    /// SUPPRESS: the roles get no offers until revived (outstanding ones stay).
    pub fn suppress(&mut self, framework_id: &str, roles: &[String]) {
        if let Some(f) = self.framework_mut(framework_id) {
            let roles = Self::named_roles(f, roles);
            f.suppressed_roles.extend(roles);
        }
    }
}
