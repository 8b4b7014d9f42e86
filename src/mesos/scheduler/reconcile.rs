//! The implicit reconciliation after a re-subscription: a scheduler that failed over (or
//! took a framework over) does not know the framework's tasks, and Mesos advises it to ask
//! the master for all of them (a RECONCILE naming no task). The master answers with one
//! UPDATE per task, `reason` REASON_RECONCILIATION, which fill `$tasks`.

use super::{error_message, update, MesosError, Session, Stream};
use crate::mesos::v1::scheduler::{Call, CallType, Reconcile};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// After the master accepted the implicit RECONCILE, its answers are in: they were written
/// to the stream before the 202 was, so this much quiet only covers the two connections
/// delivering at different speeds.
const RECONCILE_QUIET: Duration = Duration::from_millis(150);
/// The longest a SUBSCRIBE waits for the reconciliation (a framework with many tasks
/// still gets its SUBSCRIBE back; later answers update `$tasks` as they come).
pub const RECONCILE_WAIT: Duration = Duration::from_secs(5);

/// Where the implicit reconciliation after a re-subscription stands (Mesos advises a
/// failed-over scheduler to reconcile: it learns its tasks from the master's answers).
#[derive(Debug, Default, Clone, PartialEq)]
pub enum Reconciliation {
    /// A new framework has no tasks to learn.
    #[default]
    NotNeeded,
    Sent,
    /// The master accepted it; its answers arrive as UPDATE events.
    Accepted(Instant),
    Failed(String),
}

impl Session {
    /// Waits (up to `limit`) until the implicit reconciliation was answered: accepted, and
    /// then no answer for `RECONCILE_QUIET`. A failed one is a notice, not an error.
    pub(super) async fn reconciled(
        &self,
        limit: Duration,
        cancel: &CancellationToken,
    ) -> Result<(), MesosError> {
        let until = Instant::now() + limit;
        let mut rx = self.changes.clone();
        loop {
            let (stage, last) = self
                .with_state(|s| (s.reconciliation.clone(), s.last_reconciled))
                .unwrap_or_default();
            let quiet_from = match stage {
                Reconciliation::Sent => None,
                Reconciliation::Accepted(at) => Some(last.map_or(at, |l| l.max(at))),
                Reconciliation::NotNeeded | Reconciliation::Failed(_) => return Ok(()),
            };
            let wake = quiet_from.map_or(until, |t| (t + RECONCILE_QUIET).min(until));
            if Instant::now() >= wake || !self.is_active() {
                return Ok(());
            }
            tokio::select! {
                _ = tokio::time::sleep_until(wake.into()) => {}
                r = rx.changed() => if r.is_err() { return Ok(()) },
                _ = cancel.cancelled() => return Err(MesosError::Interrupted),
            }
        }
    }
}

impl Stream {
    /// Sends the implicit RECONCILE (no tasks named: the master answers with an UPDATE for
    /// each of the framework's tasks) on a task of its own, as acknowledgements go.
    pub(super) fn send_reconcile(&self) {
        let call = Call {
            reconcile: Some(Reconcile::default()),
            ..Call::new(CallType::Reconcile)
        };
        self.post_in_background(call, |result, shared, changes| {
            let failed = match result {
                Ok(r) if (200..300).contains(&r.status) => None,
                Ok(r) => Some(format!(
                    "{}: {}",
                    r.status,
                    error_message(&r.body, &r.status.to_string())
                )),
                Err(MesosError::Interrupted) => return,
                Err(e) => Some(e.to_string()),
            };
            update(shared, changes, |s| match failed {
                None => s.reconciliation = Reconciliation::Accepted(Instant::now()),
                Some(why) => {
                    s.notices.push(format!(
                        "The implicit RECONCILE after subscribing failed ({why}); RECONCILE asks again."
                    ));
                    s.reconciliation = Reconciliation::Failed(why);
                }
            });
        });
    }
}

impl Session {
    /// Waits (up to `limit`) until `$tasks` has a status of each of `ids`: the answers of
    /// the implicit reconciliation for tasks the master listed. On a busy machine (or a busy
    /// master) they can trail the RECONCILE's 202 by more than `RECONCILE_QUIET`.
    pub async fn has_tasks(
        &self,
        ids: &[String],
        limit: Duration,
        cancel: &CancellationToken,
    ) -> Result<(), MesosError> {
        let until = tokio::time::Instant::now() + limit;
        let mut rx = self.changes.clone();
        loop {
            let all = self
                .with_state(|s| ids.iter().all(|id| s.tasks.contains_key(id)))
                .unwrap_or(true);
            if all || !self.is_active() {
                return Ok(());
            }
            tokio::select! {
                _ = tokio::time::sleep_until(until) => return Ok(()),
                r = rx.changed() => if r.is_err() { return Ok(()) },
                _ = cancel.cancelled() => return Err(MesosError::Interrupted),
            }
        }
    }
}
