//! A kernel never outlives its front end. Jupyter's launchers (jupyter_client, and so
//! JupyterLab, nbconvert and the console) start a kernel as their child and put their own
//! pid in `JPY_PARENT_PID`; when the front end dies without a shutdown_request (a crash, a
//! SIGKILL, a closed terminal), ipykernel notices that its parent is gone and exits. This
//! kernel does the same, by polling, which works on every Unix: it shuts down cleanly, so
//! the embedded cluster stops its tasks and the jq worker's pipe closes.
//!
//! What counts as gone:
//! - the parent it started with is no longer its parent (an orphan is adopted by init or
//!   by a subreaper, so its parent id changes);
//! - `JPY_PARENT_PID` names another process (a wrapper, such as a shell or `conda run`,
//!   stands between the front end and the kernel) and that process no longer exists.
//!
//! A kernel started by init, or with no parent to watch, watches nothing.

use std::time::Duration;

/// How often the parent is looked at (ipykernel: every second).
pub const POLL: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentWatch {
    /// The parent the kernel started with, when there is one to watch (not init).
    parent: Option<u32>,
    /// `JPY_PARENT_PID` when it names a process other than `parent`.
    front_end: Option<u32>,
}

impl ParentWatch {
    pub fn new(parent: u32, jpy_parent_pid: Option<&str>) -> Self {
        let parent = (parent > 1).then_some(parent);
        let front_end = jpy_parent_pid
            .and_then(|p| p.trim().parse::<u32>().ok())
            .filter(|p| *p > 1 && Some(*p) != parent);
        ParentWatch { parent, front_end }
    }

    /// The watch for this process: its parent now, and `JPY_PARENT_PID`.
    pub fn from_env() -> Self {
        let jpy = std::env::var("JPY_PARENT_PID").ok();
        Self::new(parent_id(), jpy.as_deref())
    }

    /// Whether there is anything to watch.
    pub fn watching(&self) -> bool {
        self.parent.is_some() || self.front_end.is_some()
    }

    /// Why the front end is gone, if it is, given the kernel's parent now and a test for
    /// whether a process exists.
    pub fn gone(&self, parent_now: u32, exists: impl Fn(u32) -> bool) -> Option<String> {
        if let Some(parent) = self.parent {
            if parent_now != parent {
                return Some(format!("the kernel's parent process {parent} exited"));
            }
        }
        if let Some(front_end) = self.front_end {
            if !exists(front_end) {
                return Some(format!(
                    "the front end's process {front_end} (JPY_PARENT_PID) exited"
                ));
            }
        }
        None
    }

    /// Returns once the front end is gone, with why.
    pub async fn wait(self) -> String {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Some(why) = self.gone(parent_id(), process_exists) {
                return why;
            }
        }
    }
}

fn parent_id() -> u32 {
    std::os::unix::process::parent_id()
}

/// Whether process `pid` exists: signal 0 checks without sending anything; EPERM means it
/// exists but belongs to someone else.
fn process_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill(2) with signal 0 sends nothing and touches no memory.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_orphan_notices_its_new_parent() {
        let w = ParentWatch::new(4242, Some("4242"));
        assert!(w.watching());
        assert_eq!(w.gone(4242, |_| true), None);
        let why = w.gone(1, |_| true).unwrap();
        assert!(why.contains("4242"), "{why}");
        // Adopted by a subreaper rather than init: gone all the same.
        assert!(w.gone(77, |_| true).is_some());
    }

    #[test]
    fn a_front_end_behind_a_wrapper_is_watched_by_pid() {
        // jupyter (100) started `sh -c` (200), which started the kernel.
        let w = ParentWatch::new(200, Some("100"));
        assert_eq!(w.gone(200, |pid| pid == 100), None);
        let why = w.gone(200, |_| false).unwrap();
        assert!(
            why.contains("100") && why.contains("JPY_PARENT_PID"),
            "{why}"
        );
    }

    #[test]
    fn init_and_nonsense_are_not_watched() {
        assert!(!ParentWatch::new(1, None).watching());
        assert!(!ParentWatch::new(0, Some("1")).watching());
        assert!(!ParentWatch::new(1, Some("not a pid")).watching());
        assert_eq!(ParentWatch::new(1, None).gone(1, |_| false), None);
    }

    #[test]
    fn this_process_and_its_parent_exist() {
        assert!(process_exists(std::process::id()));
        assert!(process_exists(parent_id()));
        let w = ParentWatch::new(parent_id(), None);
        assert_eq!(w.gone(parent_id(), process_exists), None);
    }
}
