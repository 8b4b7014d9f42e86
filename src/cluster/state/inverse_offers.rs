//! Inverse offers as Mesos 1.11 makes and answers them (the allocator's
//! `generateInverseOffers`, `Master::inverseOffer`, `acceptInverseOffers`,
//! `declineInverseOffers`, `inverseOfferTimeout`, `removeInverseOffer`): after each
//! allocation, one per agent of a machine with an unavailability to each framework with
//! resources there, as an `INVERSE_OFFERS` event; the answer kept for the maintenance status
//! and a filter for the agent; `RESCIND_INVERSE_OFFER` when withdrawn.

use super::maintenance::{agent_url, Answer, Outstanding};
use super::{now_secs, Effect, Master, Timer};
use crate::mesos::v1::maintenance::{InverseOfferAnswer, InverseOfferStatus};
use crate::mesos::v1::scheduler::{Event, EventType, InverseOffers, RescindInverseOffer};
use crate::mesos::v1::{AgentId, FrameworkId, InverseOffer, OfferId, TimeInfo};
use std::time::{Duration, Instant};

impl Master {
    /// Every inverse offer for an agent is withdrawn (`RESCIND_INVERSE_OFFER`).
    pub(super) fn rescind_inverse_offers_of(&mut self, agent_id: &str) {
        let (gone, kept): (Vec<Outstanding>, Vec<Outstanding>) =
            std::mem::take(&mut self.maintenance.inverse_offers)
                .into_iter()
                .partition(|o| o.agent_id == agent_id);
        self.maintenance.inverse_offers = kept;
        for o in gone {
            self.maintenance
                .outstanding
                .remove(&(o.agent_id.clone(), o.framework_id.clone()));
            self.send_rescind_inverse_offer(&o);
        }
    }

    /// RESCIND_INVERSE_OFFER to the framework an inverse offer went to.
    fn send_rescind_inverse_offer(&self, o: &Outstanding) {
        let event = Event {
            kind: Some(EventType::RescindInverseOffer),
            rescind_inverse_offer: Some(RescindInverseOffer {
                inverse_offer_id: OfferId::new(o.id.as_str()),
                ..Default::default()
            }),
            ..Default::default()
        };
        if let (Some(f), Ok(event)) = (
            self.framework(&o.framework_id),
            serde_json::to_value(&event),
        ) {
            f.send(&event);
        }
    }

    /// The allocator's `generateInverseOffers`, run after each allocation: every active,
    /// connected framework with resources offered or allocated on an active agent of a
    /// machine with an unavailability gets one inverse offer per agent, unless one is out
    /// or it answered one lately (its filter).
    pub(super) fn send_inverse_offers(&mut self, fx: &mut Vec<Effect>) {
        if self.maintenance.machines.is_empty() {
            return;
        }
        let now = Instant::now();
        self.maintenance.filters.retain(|f| f.2 > now);
        let mut made: Vec<Outstanding> = Vec::new();
        for a in self.agents.iter().filter(|a| a.active) {
            let mid = self.machine_of(a);
            let Some(u) = self
                .machine_index(&mid)
                .and_then(|i| self.maintenance.machines[i].unavailability.clone())
            else {
                continue;
            };
            for f in &self.frameworks {
                if !(f.active && f.connected()) {
                    continue;
                }
                let holds = f
                    .tasks
                    .iter()
                    .any(|t| t.agent_id == a.id && !t.is_terminal())
                    || self
                        .offers
                        .iter()
                        .any(|o| o.agent_id == a.id && o.framework_id == f.id);
                let key = (a.id.clone(), f.id.clone());
                let filtered = self
                    .maintenance
                    .filters
                    .iter()
                    .any(|(fid, aid, _)| fid == &f.id && aid == &a.id);
                if !holds || filtered || self.maintenance.outstanding.contains(&key) {
                    continue;
                }
                made.push(Outstanding {
                    id: String::new(),
                    framework_id: f.id.clone(),
                    agent_id: a.id.clone(),
                    unavailability: u.clone(),
                });
            }
        }
        if made.is_empty() {
            return;
        }
        for o in &mut made {
            o.id = self.ids.offer();
            self.maintenance
                .outstanding
                .insert((o.agent_id.clone(), o.framework_id.clone()));
        }
        let framework_ids: Vec<String> = self.frameworks.iter().map(|f| f.id.clone()).collect();
        for fid in framework_ids {
            let mine: Vec<InverseOffer> = made
                .iter()
                .filter(|o| o.framework_id == fid)
                .map(|o| self.inverse_offer_message(o))
                .collect();
            if mine.is_empty() {
                continue;
            }
            let ids: Vec<&str> = mine.iter().map(|o| o.id.as_str()).collect();
            self.log_info(&format!(
                "Sending inverse offers [ {} ] to framework {fid}",
                ids.join(", ")
            ));
            // `evolve(InverseOffersMessage)`: an INVERSE_OFFERS event.
            let event = Event {
                kind: Some(EventType::InverseOffers),
                inverse_offers: Some(InverseOffers {
                    inverse_offers: mine,
                    ..Default::default()
                }),
                ..Default::default()
            };
            if let (Some(f), Ok(event)) = (self.framework(&fid), serde_json::to_value(&event)) {
                f.send(&event);
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
        self.maintenance.inverse_offers.extend(made);
    }

    /// An inverse offer as the framework gets it (and GET_FRAMEWORKS shows it).
    fn inverse_offer_message(&self, o: &Outstanding) -> InverseOffer {
        InverseOffer {
            id: OfferId::new(o.id.as_str()),
            url: self.agent(&o.agent_id).map(|a| agent_url(self, a)),
            framework_id: FrameworkId::new(o.framework_id.as_str()),
            agent_id: Some(AgentId::new(o.agent_id.as_str())),
            unavailability: o.unavailability.clone(),
            ..Default::default()
        }
    }

    /// A framework's outstanding inverse offers (`model(Framework)`'s `inverse_offers`).
    pub fn inverse_offers_of(&self, framework_id: &str) -> Vec<InverseOffer> {
        self.maintenance
            .inverse_offers
            .iter()
            .filter(|o| o.framework_id == framework_id)
            .map(|o| self.inverse_offer_message(o))
            .collect()
    }

    /// An inverse offer nobody answered within `--offer_timeout` is rescinded.
    pub(super) fn inverse_offer_timeout(&mut self, offer_id: &str) -> bool {
        let Some(pos) = self
            .maintenance
            .inverse_offers
            .iter()
            .position(|o| o.id == offer_id)
        else {
            return false;
        };
        let o = self.maintenance.inverse_offers.remove(pos);
        self.maintenance
            .outstanding
            .remove(&(o.agent_id.clone(), o.framework_id.clone()));
        self.send_rescind_inverse_offer(&o);
        true
    }

    /// ACCEPT_INVERSE_OFFERS / DECLINE_INVERSE_OFFERS: each inverse offer of this framework
    /// that is still out is answered; the answer shows in the maintenance status, and the
    /// framework gets no new inverse offer for that agent for `refuse_seconds` (5 s by
    /// default, as Mesos's `Filters`). Unknown ids are ignored, as Mesos ignores them.
    pub fn answer_inverse_offers(
        &mut self,
        framework_id: &str,
        offer_ids: &[String],
        accepted: bool,
        refuse_seconds: f64,
        fx: &mut Vec<Effect>,
    ) {
        let what = if accepted { "ACCEPT" } else { "DECLINE" };
        for offer_id in offer_ids {
            let Some(pos) = self
                .maintenance
                .inverse_offers
                .iter()
                .position(|o| &o.id == offer_id && o.framework_id == framework_id)
            else {
                self.log_warning(&format!(
                    "Ignoring {} of inverse offer {offer_id} since it is no longer valid",
                    what.to_lowercase()
                ));
                continue;
            };
            let o = self.maintenance.inverse_offers.remove(pos);
            self.maintenance
                .outstanding
                .remove(&(o.agent_id.clone(), o.framework_id.clone()));
            self.maintenance.answers.retain(|a| {
                !(a.agent_id == o.agent_id && a.status.framework_id.as_str() == framework_id)
            });
            self.maintenance.answers.push(Answer {
                agent_id: o.agent_id.clone(),
                status: InverseOfferStatus {
                    status: if accepted {
                        InverseOfferAnswer::Accept
                    } else {
                        InverseOfferAnswer::Decline
                    },
                    framework_id: FrameworkId::new(framework_id),
                    timestamp: TimeInfo::from_secs(now_secs()),
                    ..Default::default()
                },
            });
            self.log_info(&format!(
                    "Processing {what}_INVERSE_OFFERS call for inverse offers: [ {offer_id} ] for framework {framework_id}"
                ),
            );
            // Mesos caps the filter at 365 days and takes a negative one as the default.
            let secs = if refuse_seconds < 0.0 || !refuse_seconds.is_finite() {
                5.0
            } else {
                refuse_seconds.min(365.0 * 86400.0)
            };
            if secs > 0.0 {
                let until = Instant::now() + Duration::from_secs_f64(secs);
                self.maintenance.filters.push((
                    framework_id.to_string(),
                    o.agent_id.clone(),
                    until,
                ));
                fx.push(Effect::Timer(until, Timer::Allocate));
            }
        }
    }
}
