//! A framework's live tasks, in launch order and found by id in constant time. A big
//! cluster has tens of thousands of them, and every acknowledgement, retried update, kill
//! and executor message looks one up: a list scanned per lookup made the master's tick
//! quadratic in its tasks (10,000 unacknowledged tasks kept a core busy comparing ids).

use super::Task;
use indexmap::IndexMap;

#[derive(Debug, Default)]
pub struct TaskList {
    by_id: IndexMap<String, Task>,
}

impl TaskList {
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Task> + Clone {
        self.by_id.values()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Task> {
        self.by_id.values_mut()
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn get(&self, task_id: &str) -> Option<&Task> {
        self.by_id.get(task_id)
    }

    pub fn get_mut(&mut self, task_id: &str) -> Option<&mut Task> {
        self.by_id.get_mut(task_id)
    }

    /// Adds a task after the others. Launching validates that its id is new among the
    /// framework's live tasks (`Task has duplicate ID`), so nothing is replaced.
    pub fn push(&mut self, task: Task) {
        self.by_id.insert(task.task_id.clone(), task);
    }

    /// Takes a task out, keeping the others in order.
    pub fn remove(&mut self, task_id: &str) -> Option<Task> {
        self.by_id.shift_remove(task_id)
    }

    /// Takes out the tasks `pred` picks, in order, keeping the others in order.
    pub fn take_where(&mut self, mut pred: impl FnMut(&Task) -> bool) -> Vec<Task> {
        self.by_id
            .extract_if(.., |_, t| pred(t))
            .map(|(_, t)| t)
            .collect()
    }

    /// Takes every task out, in order.
    pub fn drain(&mut self) -> impl Iterator<Item = Task> + '_ {
        self.by_id.drain(..).map(|(_, t)| t)
    }
}

impl<'a> IntoIterator for &'a TaskList {
    type Item = &'a Task;
    type IntoIter = indexmap::map::Values<'a, String, Task>;

    fn into_iter(self) -> Self::IntoIter {
        self.by_id.values()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{launched, master, subscribed};
    use super::super::Master;
    use serde_json::json;

    /// A framework with tasks t1..t4 on the test master's agent: its id.
    fn four_tasks(m: &mut Master) -> String {
        let mut fx = Vec::new();
        let (fid, _rx, offer) = subscribed(m, json!({"user": "u", "name": "n"}), &mut fx);
        let tasks: Vec<_> = (1..=4)
            .map(|i| {
                json!({"name": "t", "task_id": {"value": format!("t{i}")},
                    "agent_id": offer["agent_id"], "command": {"value": "sleep 60"},
                    "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}}]})
            })
            .collect();
        launched(m, &fid, &offer, tasks, &mut fx);
        fid
    }

    fn ids(m: &Master, fid: &str) -> Vec<String> {
        m.framework(fid)
            .map(|f| f.tasks.iter().map(|t| t.task_id.clone()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn tasks_keep_their_launch_order_and_are_found_by_id() {
        let mut m = master();
        let fid = four_tasks(&mut m);
        assert_eq!(ids(&m, &fid), ["t1", "t2", "t3", "t4"]);
        let mut fx = Vec::new();
        m.status_update(&fid, "t2", "TASK_FINISHED", None, None, &mut fx);
        // A finished task stays live until its last update is acknowledged.
        let uuid = m
            .framework(&fid)
            .and_then(|f| f.tasks.get("t2"))
            .and_then(|t| t.pending.front())
            .and_then(|s| s.uuid())
            .unwrap_or_default()
            .to_string();
        m.acknowledge(&fid, "t2", &uuid, &mut fx);
        assert_eq!(ids(&m, &fid), ["t1", "t3", "t4"]);
        let f = m.framework(&fid);
        assert!(f.is_some_and(|f| f.tasks.get("t2").is_none() && f.tasks.get("t4").is_some()));
        assert!(f.is_some_and(|f| f.completed_tasks.summaries().any(|t| t.task_id == "t2")));
        let mut list = std::mem::take(&mut m.framework_mut(&fid).unwrap().tasks);
        let taken = list.take_where(|t| t.task_id != "t3");
        let taken: Vec<&str> = taken.iter().map(|t| t.task_id.as_str()).collect();
        assert_eq!(taken, ["t1", "t4"]);
        assert_eq!(list.len(), 1);
        assert!(list.get("t3").is_some() && list.get("t1").is_none());
    }
}
