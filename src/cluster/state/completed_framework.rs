//! A removed framework as the master keeps it (`--max_completed_frameworks` of them, each
//! with up to `--max_completed_tasks_per_framework` tasks). Nothing about it changes once it
//! is removed, so its completed tasks are written once, as one record per task, into one
//! LZ4-compressed buffer, and read back (`completed_tasks`) by the views that show them.
//!
//! Why: the 100,000-task soak (`bench/cluster_load.py frameworks --waves 10`) keeps the 50
//! completed frameworks of one wave beside the 50 running ones of the next, 20,000 tasks at
//! ~5.8 KB each at the peak (heaptrack), and the cluster's RSS followed that peak up by
//! half again after the first wave. Written out, a finished task is ~3 KB of text, and the
//! records of one framework's tasks, alike but for their ids and times, compress about
//! tenfold; one buffer per framework is also given back whole when the framework is pruned.

use super::stored_status::Acknowledged;
use super::{Framework, StoredInfo, StoredStatus, Task};
use crate::cluster::resources::Resources;
use crate::cluster::{legacy, views};
use crate::mesos::v1::TaskState;
use lz4_flex::frame::{BlockMode, FrameDecoder, FrameEncoder, FrameInfo};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use serde_json::value::RawValue;
use serde_json::Value;
use std::path::PathBuf;

#[derive(Debug)]
pub struct CompletedFramework {
    /// The framework with no tasks of its own but its unreachable ones (few, and kept as
    /// they are): its completed tasks are in `packed`.
    pub framework: Framework,
    packed: Box<[u8]>,
    /// How long the text in `packed` is.
    text_len: usize,
    index: Box<[Entry]>,
}

/// What a completed task keeps, as written into the buffer: everything a view reads.
#[derive(Serialize, Deserialize)]
struct Record {
    task_id: String,
    name: String,
    framework_id: String,
    agent_id: String,
    executor_id: String,
    executor_name: String,
    container_id: String,
    info: Box<RawValue>,
    /// The v1 list (`Resources::to_v1`), read back by `Resources::from_v1`.
    resources: Value,
    executor_resources: Value,
    role: String,
    state: String,
    statuses: Vec<Box<RawValue>>,
    acked: Option<(String, Option<String>)>,
    sandbox: PathBuf,
    docker_image: Option<String>,
    executor: Option<Value>,
    nested_container_id: Option<String>,
}

impl Record {
    fn of(t: &Task) -> Record {
        Record {
            task_id: t.task_id.clone(),
            name: t.name.clone(),
            framework_id: t.framework_id.clone(),
            agent_id: t.agent_id.clone(),
            executor_id: t.executor_id.clone(),
            executor_name: t.executor_name.clone(),
            container_id: t.container_id.clone(),
            info: t.info.text().to_owned(),
            resources: t.resources.to_v1(),
            executor_resources: t.executor_resources.to_v1(),
            role: t.role.clone(),
            state: t.state.clone(),
            statuses: t.statuses.iter().map(|s| s.text().to_owned()).collect(),
            acked: t
                .acked_status
                .as_ref()
                .map(|a| (a.state.as_str().to_string(), a.uuid.clone())),
            sandbox: t.sandbox.clone(),
            docker_image: t.docker_image.clone(),
            executor: t.executor.clone(),
            nested_container_id: t.nested_container_id.clone(),
        }
    }

    fn into_task(self) -> Task {
        // Written by `of` from resources that were valid: read back, they are again.
        let resources = |v: &Value| Resources::from_v1(v).unwrap_or_default();
        Task {
            resources: resources(&self.resources),
            executor_resources: resources(&self.executor_resources),
            task_id: self.task_id,
            name: self.name,
            framework_id: self.framework_id,
            agent_id: self.agent_id,
            executor_id: self.executor_id,
            executor_name: self.executor_name,
            container_id: self.container_id,
            info: StoredInfo::from_text(self.info),
            role: self.role,
            state: self.state,
            statuses: self
                .statuses
                .into_iter()
                .map(StoredStatus::from_text)
                .collect(),
            pending: Default::default(),
            acked_status: self.acked.map(|(state, uuid)| Acknowledged {
                state: TaskState::from_name(&state),
                uuid,
            }),
            sandbox: self.sandbox,
            docker_image: self.docker_image,
            executor: self.executor,
            nested_container_id: self.nested_container_id,
            pid: None,
            kill: None,
            resources_recovered: true,
            json: Default::default(),
        }
    }
}

impl CompletedFramework {
    /// `f` once removed: its tasks all completed (`remove_framework` moved them there).
    pub fn new(mut f: Framework) -> CompletedFramework {
        let tasks = std::mem::take(&mut f.completed_tasks);
        // Its live tasks' map is empty by now: its room is given back too.
        let live = std::mem::take(&mut f.tasks);
        f.unreachable_tasks.shrink_to_fit();
        // Written as it is compressed, a block at a time: a framework's 1,000 tasks are
        // ~7 MB of text that is never held whole.
        let info = FrameInfo::new().block_mode(BlockMode::Linked);
        let mut out = FrameEncoder::with_frame_info(info, Vec::new());
        let mut piece = Vec::new();
        let mut index = Vec::new();
        let mut written = 0;
        for t in tasks.iter().chain(live.iter()) {
            written += put(&mut out, &mut piece, &views::TaskV1(t));
            written += put(&mut out, &mut piece, &legacy::TaskLegacy(t));
            written += put(&mut out, &mut piece, &Record::of(t));
            index.push(Entry {
                start: legacy::task_start(t),
                task_id: t.task_id.as_str().into(),
            });
        }
        let packed = out.finish().unwrap_or_else(|e| {
            tracing::error!(framework = %f.id, "cannot keep its completed tasks: {e}");
            Vec::new()
        });
        tracing::debug!(
            framework = %f.id,
            tasks = index.len(),
            "completed: {written} bytes of its tasks kept in {}",
            packed.len()
        );
        CompletedFramework {
            framework: f,
            packed: packed.into_boxed_slice(),
            text_len: written,
            index: index.into_boxed_slice(),
        }
    }

    pub fn id(&self) -> &str {
        &self.framework.id
    }

    /// How many completed tasks it keeps.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Each task's id and start, in order, without reading the tasks back.
    pub fn entries(&self) -> &[Entry] {
        &self.index
    }

    /// Its tasks' texts, read back.
    pub fn texts(&self) -> Texts {
        let mut text = Vec::with_capacity(self.text_len);
        if let Err(e) = FrameDecoder::new(&self.packed[..]).read_to_end(&mut text) {
            tracing::error!(framework = %self.framework.id, "completed tasks unreadable: {e}");
        }
        let mut pieces = Vec::with_capacity(3 * self.index.len());
        let mut at = 0;
        while let Some(len) = text.get(at..at + 4) {
            let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
            let (from, to) = (at + 4, at + 4 + len);
            if to > text.len() {
                break;
            }
            pieces.push((from, to));
            at = to;
        }
        Texts { text, pieces }
    }

    /// Its completed tasks, read back, oldest first.
    pub fn completed_tasks(&self) -> Vec<Task> {
        let texts = self.texts();
        (0..texts.len())
            .filter_map(|i| match serde_json::from_slice::<Record>(texts.piece(i, 2)) {
                Ok(r) => Some(r.into_task()),
                Err(e) => {
                    tracing::error!(framework = %self.framework.id, "completed task unreadable: {e}");
                    None
                }
            })
            .collect()
    }

    /// The size of what it keeps of its tasks, compressed.
    pub fn packed_len(&self) -> usize {
        self.packed.len()
    }
}

/// Writes what `v` writes, after its length (`piece`: room to write it in first): the
/// bytes written. The views and the record are strings, numbers and JSON values: writing
/// them cannot fail, and a `Vec` takes what the encoder gives it.
fn put(out: &mut FrameEncoder<Vec<u8>>, piece: &mut Vec<u8>, v: &impl Serialize) -> usize {
    piece.clear();
    if serde_json::to_writer(&mut *piece, v).is_err() {
        piece.clear();
    }
    let len = u32::try_from(piece.len()).unwrap_or(0);
    let ok = out.write_all(&len.to_le_bytes()).is_ok() && out.write_all(piece).is_ok();
    if ok {
        4 + piece.len()
    } else {
        0
    }
}

/// A completed task's id and when it started (its first status), kept beside the buffer for
/// `/master/tasks`, which sorts all tasks and shows a page of them.
#[derive(Debug)]
pub struct Entry {
    pub start: f64,
    pub task_id: Box<str>,
}

/// A completed framework's buffer, read back: per task its v1 JSON, its legacy JSON and
/// its record.
pub struct Texts {
    text: Vec<u8>,
    pieces: Vec<(usize, usize)>,
}

impl Texts {
    pub fn len(&self) -> usize {
        self.pieces.len() / 3
    }

    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    fn piece(&self, task: usize, kind: usize) -> &[u8] {
        self.pieces
            .get(3 * task + kind)
            .map_or(&[][..], |(from, to)| &self.text[*from..*to])
    }

    fn raw(&self, task: usize, kind: usize) -> Option<&RawValue> {
        let raw = std::str::from_utf8(self.piece(task, kind))
            .ok()
            .and_then(|text| serde_json::from_str(text).ok());
        if raw.is_none() {
            tracing::error!("completed task {task}: its text is unreadable");
        }
        raw
    }

    /// Task `i` as a v1 `Task`, as it was written when its framework completed.
    pub fn v1(&self, i: usize) -> Option<&RawValue> {
        self.raw(i, 0)
    }

    /// Task `i` as `json(Task)` writes it.
    pub fn legacy(&self, i: usize) -> Option<&RawValue> {
        self.raw(i, 1)
    }
}

/// A framework's completed tasks for a view: those a live framework holds, or those of a
/// completed one, read back.
pub enum CompletedTasks<'a> {
    Held(&'a [Task]),
    Read(Vec<Task>),
}

impl CompletedTasks<'_> {
    pub fn of_live(f: &Framework) -> CompletedTasks<'_> {
        CompletedTasks::Held(&f.completed_tasks)
    }

    pub fn of_completed(c: &CompletedFramework) -> CompletedTasks<'static> {
        CompletedTasks::Read(c.completed_tasks())
    }
}

impl std::ops::Deref for CompletedTasks<'_> {
    type Target = [Task];

    fn deref(&self) -> &[Task] {
        match self {
            CompletedTasks::Held(tasks) => tasks,
            CompletedTasks::Read(tasks) => tasks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{master, subscribed};
    use super::*;
    use crate::cluster::{legacy, views};
    use serde_json::json;

    /// Every view of a task reads the same from its record as from the task.
    #[test]
    fn a_completed_frameworks_tasks_read_back_as_they_were() {
        let mut m = master();
        let mut fx = Vec::new();
        let (fid, _rx, offer) = subscribed(&mut m, json!({"user": "u", "name": "n"}), &mut fx);
        let tasks: Vec<Value> = (1..=3)
            .map(|i| {
                let port = 9000 + 2 * i;
                let resources = json!([
                    {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.25}},
                    {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}},
                    {"name": "ports", "type": "RANGES",
                     "ranges": {"range": [{"begin": port, "end": port + 1}]}}
                ]);
                json!({"name": format!("t \"{i}\""), "task_id": {"value": format!("t{i}")},
                    "agent_id": offer["agent_id"], "resources": resources,
                    "command": {"value": "sleep 60", "user": "nobody"},
                    "labels": {"labels": [{"key": "k", "value": "ü"}]},
                    "kill_policy": {"grace_period": {"nanoseconds": 5}}})
            })
            .collect();
        let op = json!({"type": "LAUNCH", "launch": {"task_infos": tasks}});
        let offer_id = offer["id"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(m.accept(&fid, &[offer_id], &[op], 0.0, &mut fx).is_ok());
        m.status_update(&fid, "t1", "TASK_RUNNING", None, None, &mut fx);
        m.status_update(&fid, "t2", "TASK_FAILED", None, None, &mut fx);
        let Some(at) = m.frameworks.iter().position(|f| f.id == fid) else {
            panic!("no framework {fid}");
        };
        let mut f = m.frameworks.remove(at);
        let taken: Vec<Task> = f.tasks.drain().collect();
        f.completed_tasks.extend(taken);
        let before: Vec<(Value, Value, Resources, Resources)> = f
            .completed_tasks
            .iter()
            .map(|t| {
                (
                    views::task_v1(t),
                    legacy::task_legacy(t),
                    t.resources.clone(),
                    t.executor_resources.clone(),
                )
            })
            .collect();
        let sandboxes: Vec<PathBuf> = f
            .completed_tasks
            .iter()
            .map(|t| t.sandbox.clone())
            .collect();
        assert_eq!(before.len(), 3);
        let c = CompletedFramework::new(f);
        assert_eq!(c.len(), 3);
        assert!(c.framework.completed_tasks.is_empty() && c.framework.tasks.is_empty());
        let read = c.completed_tasks();
        assert_eq!(read.len(), 3);
        for ((t, (v1, old, resources, executor)), sandbox) in
            read.iter().zip(&before).zip(&sandboxes)
        {
            assert_eq!(&views::task_v1(t), v1);
            assert_eq!(&legacy::task_legacy(t), old);
            assert_eq!(&t.resources, resources);
            assert_eq!(&t.executor_resources, executor);
            assert_eq!(&t.sandbox, sandbox);
        }
        assert_eq!(
            read[0].statuses.len(),
            before[0].0["statuses"].as_array().map_or(0, Vec::len)
        );
        assert_eq!(
            read[1].statuses.last().map(|s| s.state().as_str()),
            Some("TASK_FAILED")
        );
    }
}
