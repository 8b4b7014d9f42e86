//! A removed framework as the master keeps it (`--max_completed_frameworks` of them):
//! nothing about it changes any more, so all its completed tasks are written out
//! (`completed_tasks.rs`) and its live tasks' map given back.

use super::Framework;

#[derive(Debug)]
pub struct CompletedFramework {
    /// The framework, with no live tasks; its completed tasks all written out, its
    /// unreachable ones (few) kept as they are.
    pub framework: Framework,
}

impl CompletedFramework {
    /// `f` once removed: its tasks all completed (`remove_framework` moved them there).
    pub fn new(mut f: Framework) -> CompletedFramework {
        f.tasks = Default::default();
        f.unreachable_tasks.shrink_to_fit();
        f.completed_tasks.seal();
        CompletedFramework { framework: f }
    }

    pub fn id(&self) -> &str {
        &self.framework.id
    }
}
