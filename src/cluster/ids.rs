//! Identifiers as Mesos 1.x spells them: a UUID master id, frameworks `<master>-0000`, agents
//! `<master>-S0`, offers `<master>-O0`. All randomness of the cluster comes from one generator,
//! so a seeded cluster repeats its ids run to run.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The id source of one master.
pub struct Ids {
    rng: StdRng,
    master_id: String,
    next_framework: u64,
    next_agent: u64,
    next_offer: u64,
}

impl Ids {
    /// Seeded ids repeat run to run; unseeded ones come from the OS.
    pub fn new(seed: Option<u64>) -> Ids {
        let mut rng = match seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_entropy(),
        };
        let master_id = random_uuid(&mut rng).to_string();
        Ids {
            rng,
            master_id,
            next_framework: 0,
            next_agent: 0,
            next_offer: 0,
        }
    }

    pub fn master_id(&self) -> &str {
        &self.master_id
    }

    pub fn framework(&mut self) -> String {
        let id = format!("{}-{:04}", self.master_id, self.next_framework);
        self.next_framework += 1;
        id
    }

    pub fn agent(&mut self) -> String {
        let id = format!("{}-S{}", self.master_id, self.next_agent);
        self.next_agent += 1;
        id
    }

    pub fn offer(&mut self) -> String {
        let id = format!("{}-O{}", self.master_id, self.next_offer);
        self.next_offer += 1;
        id
    }

    /// A fresh UUID (stream ids, status update uuids, container ids).
    pub fn uuid(&mut self) -> uuid::Uuid {
        random_uuid(&mut self.rng)
    }
}

fn random_uuid(rng: &mut StdRng) -> uuid::Uuid {
    let bytes: [u8; 16] = rng.gen();
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_ids_repeat() {
        let mut a = Ids::new(Some(7));
        let mut b = Ids::new(Some(7));
        assert_eq!(a.master_id(), b.master_id());
        assert_eq!(a.framework(), b.framework());
        assert_eq!(a.uuid(), b.uuid());
        assert!(a.agent().ends_with("-S0"));
        assert!(a.offer().ends_with("-O0"));
        assert!(a.framework().ends_with("-0001"));
    }
}
