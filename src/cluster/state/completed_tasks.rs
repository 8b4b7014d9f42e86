//! A framework's completed tasks (up to `--max_completed_tasks_per_framework`, oldest
//! dropped first), as the master keeps them. A completed task never changes, so every 16 of
//! them are written once, per task its v1 JSON, its legacy JSON and a record of the task,
//! into one LZ4 frame (a chunk); the last few wait as tasks. The views copy the texts;
//! `/master/tasks` sorts the chunks' index of ids and start times and reads back only the
//! page; the agent's views and `/files` read the records back as tasks (`read_back`).
//!
//! Why: the 100,000-task soak (`bench/cluster_load.py frameworks --waves 10`) held each
//! wave's 10,000 finished tasks at ~5.8 KB each (heaptrack), and the 50 completed frameworks
//! of a wave beside the next wave's: RSS rose by 70 % after the first wave and stayed
//! there. Written out, a finished task is ~5.3 KB of text in its three forms, and tasks of
//! one framework, alike but for their ids and times, compress about tenfold.

use super::stored_status::Acknowledged;
use super::{StoredInfo, StoredStatus, Task};
use crate::cluster::resources::Resources;
use crate::cluster::{legacy, views};
use crate::mesos::v1::TaskState;
use lz4_flex::frame::{BlockMode, FrameDecoder, FrameEncoder, FrameInfo};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::path::PathBuf;

/// How many completed tasks wait as tasks before they are written into a chunk.
const CHUNK: usize = 16;

#[derive(Debug, Default)]
pub struct CompletedTasks {
    chunks: VecDeque<Chunk>,
    /// How many of the first chunk's tasks the cap has dropped.
    skip: usize,
    /// How many tasks the chunks hold, `skip` included.
    packed: usize,
    recent: Vec<Task>,
}

/// A completed task as the views that do not read it back see it.
pub struct Summary<'a> {
    /// When it started (its first status), for `/master/tasks`'s order.
    pub start: f64,
    pub task_id: &'a str,
    pub agent_id: &'a str,
    pub state: &'a str,
}

impl CompletedTasks {
    /// Keeps `task`, and at most `max` tasks in all.
    pub fn push(&mut self, task: Task, max: usize) {
        self.recent.push(task);
        if self.recent.len() >= CHUNK {
            self.seal();
        }
        while self.len() > max {
            self.drop_oldest();
        }
    }

    /// Writes the tasks that wait into a chunk (as a removed framework's are: no more come).
    pub fn seal(&mut self) {
        if self.recent.is_empty() {
            return;
        }
        let chunk = Chunk::pack(&self.recent);
        self.packed += chunk.entries.len();
        self.chunks.push_back(chunk);
        self.recent = Vec::new();
    }

    fn drop_oldest(&mut self) {
        let Some(first) = self.chunks.front() else {
            if !self.recent.is_empty() {
                self.recent.remove(0);
            }
            return;
        };
        self.skip += 1;
        if self.skip >= first.entries.len() {
            self.packed -= first.entries.len();
            self.skip = 0;
            self.chunks.pop_front();
        }
    }

    pub fn len(&self) -> usize {
        self.packed - self.skip + self.recent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each task's id, agent, state and start, oldest first, without reading any back.
    pub fn summaries(&self) -> impl Iterator<Item = Summary<'_>> {
        let packed = self.chunks.iter().flat_map(|c| c.summaries());
        let held = self.recent.iter().map(|t| Summary {
            start: legacy::task_start(t),
            task_id: &t.task_id,
            agent_id: &t.agent_id,
            state: &t.state,
        });
        packed.skip(self.skip).chain(held)
    }

    /// All of them as tasks, oldest first.
    pub fn read_back(&self) -> Vec<Task> {
        self.read_back_where(|_| true)
    }

    /// Those on agent `agent_id` as tasks, oldest first; the others are not read back.
    pub fn read_back_on(&self, agent_id: &str) -> Vec<Task> {
        self.read_back_where(|agent| agent == agent_id)
    }

    fn read_back_where(&self, keep: impl Fn(&str) -> bool) -> Vec<Task> {
        let mut out = Vec::new();
        for (n, chunk) in self.chunks.iter().enumerate() {
            let from = if n == 0 { self.skip } else { 0 };
            let wanted: Vec<usize> = (from..chunk.entries.len())
                .filter(|i| keep(chunk.id(chunk.entries[*i].agent_id)))
                .collect();
            if wanted.is_empty() {
                continue;
            }
            let texts = chunk.texts();
            for i in wanted {
                match serde_json::from_slice::<Record>(texts.piece(i, RECORD)) {
                    Ok(r) => out.push(r.into_task()),
                    Err(e) => tracing::error!("a completed task is unreadable: {e}"),
                }
            }
        }
        let recent = self.recent.iter().filter(|t| keep(&t.agent_id));
        out.extend(recent.map(Record::of).map(Record::into_task));
        out
    }

    /// Writes each as a v1 `Task` into `seq`.
    pub fn write_v1<S: SerializeSeq>(&self, seq: &mut S) -> Result<(), S::Error> {
        self.write(seq, V1)?;
        for t in &self.recent {
            seq.serialize_element(&views::TaskV1(t))?;
        }
        Ok(())
    }

    /// Writes each as `json(Task)` does into `seq`.
    pub fn write_legacy<S: SerializeSeq>(&self, seq: &mut S) -> Result<(), S::Error> {
        self.write(seq, LEGACY)?;
        for t in &self.recent {
            seq.serialize_element(&legacy::TaskLegacy(t))?;
        }
        Ok(())
    }

    fn write<S: SerializeSeq>(&self, seq: &mut S, kind: usize) -> Result<(), S::Error> {
        for (n, chunk) in self.chunks.iter().enumerate() {
            let texts = chunk.texts();
            let from = if n == 0 { self.skip } else { 0 };
            for i in from..texts.len() {
                if let Some(raw) = texts.raw(i, kind) {
                    seq.serialize_element(raw)?;
                }
            }
        }
        Ok(())
    }

    /// The `i`th (in `summaries`' order) as `json(Task)` writes it.
    pub fn legacy_value(&self, i: usize) -> Value {
        let mut at = i + self.skip;
        for chunk in &self.chunks {
            if at < chunk.entries.len() {
                let texts = chunk.texts();
                let raw = texts.raw(at, LEGACY);
                return raw
                    .and_then(|r| serde_json::from_str(r.get()).ok())
                    .unwrap_or(Value::Null);
            }
            at -= chunk.entries.len();
        }
        self.recent.get(at).map_or(Value::Null, legacy::task_legacy)
    }
}

/// Where a task's three texts are in a chunk, in order.
const V1: usize = 0;
const LEGACY: usize = 1;
const RECORD: usize = 2;

/// Up to `CHUNK` completed tasks, written out and compressed, and their index.
#[derive(Debug)]
struct Chunk {
    packed: Box<[u8]>,
    /// How long the text in `packed` is.
    text_len: usize,
    entries: Box<[Entry]>,
    /// The entries' ids, one after the other.
    ids: Box<str>,
}

#[derive(Debug)]
struct Entry {
    start: f64,
    state: TaskState,
    task_id: (u32, u32),
    agent_id: (u32, u32),
}

impl Chunk {
    fn pack(tasks: &[Task]) -> Chunk {
        let info = FrameInfo::new().block_mode(BlockMode::Linked);
        let mut out = FrameEncoder::with_frame_info(info, Vec::new());
        let mut piece = Vec::new();
        let mut written = 0;
        let mut ids = String::new();
        let mut entries = Vec::with_capacity(tasks.len());
        let mut last_agent: Option<(u32, u32)> = None;
        for t in tasks {
            written += put(&mut out, &mut piece, &views::TaskV1(t));
            written += put(&mut out, &mut piece, &legacy::TaskLegacy(t));
            written += put(&mut out, &mut piece, &Record::of(t));
            let task_id = add_id(&mut ids, &t.task_id);
            // Tasks of a framework run on few agents: the same one is written once.
            let same =
                last_agent.filter(|(a, b)| ids.get(*a as usize..*b as usize) == Some(&t.agent_id));
            let agent_id = match same {
                Some(range) => range,
                None => add_id(&mut ids, &t.agent_id),
            };
            last_agent = Some(agent_id);
            entries.push(Entry {
                start: legacy::task_start(t),
                state: TaskState::from_name(&t.state),
                task_id,
                agent_id,
            });
        }
        let packed = out.finish().unwrap_or_else(|e| {
            tracing::error!("cannot keep {} completed tasks: {e}", tasks.len());
            Vec::new()
        });
        Chunk {
            packed: packed.into_boxed_slice(),
            text_len: written,
            entries: entries.into_boxed_slice(),
            ids: ids.into_boxed_str(),
        }
    }

    fn id(&self, (from, to): (u32, u32)) -> &str {
        self.ids.get(from as usize..to as usize).unwrap_or_default()
    }

    fn summaries(&self) -> impl Iterator<Item = Summary<'_>> {
        self.entries.iter().map(|e| Summary {
            start: e.start,
            task_id: self.id(e.task_id),
            agent_id: self.id(e.agent_id),
            state: e.state.as_str(),
        })
    }

    fn texts(&self) -> Texts {
        let mut text = Vec::with_capacity(self.text_len);
        if let Err(e) = FrameDecoder::new(&self.packed[..]).read_to_end(&mut text) {
            tracing::error!("completed tasks unreadable: {e}");
        }
        let mut pieces = Vec::with_capacity(3 * self.entries.len());
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
}

/// Appends `id` to `ids`: where it is.
fn add_id(ids: &mut String, id: &str) -> (u32, u32) {
    let from = ids.len();
    ids.push_str(id);
    (from as u32, ids.len() as u32)
}

/// Writes what `v` writes after its length in 4 bytes (`piece`: room to write it in
/// first), and says how many bytes that was. Not RecordIO: `texts` finds the pieces in
/// place, where `recordio::Decoder` copies each. The views and the record are strings,
/// numbers and JSON values: writing them cannot fail, and a `Vec` takes what the encoder
/// gives it.
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

/// A chunk, read back: per task its v1 JSON, its legacy JSON and its record.
struct Texts {
    text: Vec<u8>,
    pieces: Vec<(usize, usize)>,
}

impl Texts {
    fn len(&self) -> usize {
        self.pieces.len() / 3
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
}

/// What a completed task keeps, as written into its chunk: everything a view reads.
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

#[cfg(test)]
mod tests {
    use super::super::tests::{launched, master, subscribed};
    use super::*;
    use serde_json::json;

    /// 20 tasks of one framework, as a test master launched them, some updated.
    fn twenty_tasks() -> Vec<Task> {
        let mut m = master();
        let mut fx = Vec::new();
        let (fid, _rx, offer) = subscribed(&mut m, json!({"user": "u", "name": "n"}), &mut fx);
        let tasks: Vec<Value> = (1..=20)
            .map(|i| {
                let port = 9000 + i;
                json!({"name": format!("t \"{i}\""), "task_id": {"value": format!("t{i}")},
                    "agent_id": offer["agent_id"],
                    "resources": [
                        {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.05}},
                        {"name": "mem", "type": "SCALAR", "scalar": {"value": 8}},
                        {"name": "ports", "type": "RANGES",
                         "ranges": {"range": [{"begin": port, "end": port}]}}],
                    "command": {"value": "sleep 60", "user": "nobody"},
                    "labels": {"labels": [{"key": "k", "value": "ü"}]},
                    "kill_policy": {"grace_period": {"nanoseconds": 5}}})
            })
            .collect();
        launched(&mut m, &fid, &offer, tasks, &mut fx);
        for i in 1..=20 {
            let state = if i % 3 == 0 {
                "TASK_FAILED"
            } else {
                "TASK_RUNNING"
            };
            m.status_update(&fid, &format!("t{i}"), state, None, None, &mut fx);
        }
        let Some(f) = m.frameworks.iter_mut().find(|f| f.id == fid) else {
            panic!("no framework {fid}");
        };
        let tasks: Vec<Task> = f.tasks.drain().collect();
        assert_eq!(tasks.len(), 20);
        tasks
    }

    /// A list as the views write it: v1 or legacy.
    struct Written<'a>(&'a CompletedTasks, bool);

    impl Serialize for Written<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut seq = s.serialize_seq(None)?;
            if self.1 {
                self.0.write_v1(&mut seq)?;
            } else {
                self.0.write_legacy(&mut seq)?;
            }
            seq.end()
        }
    }

    fn value(raw: &impl Serialize) -> Value {
        serde_json::to_value(raw).unwrap_or(Value::Null)
    }

    /// Every view of a task reads the same from its chunk as from the task, and the cap
    /// drops the oldest first.
    #[test]
    fn completed_tasks_read_back_as_they_were_and_the_oldest_go_first() {
        let tasks = twenty_tasks();
        let v1: Vec<Value> = tasks.iter().map(views::task_v1).collect();
        let old: Vec<Value> = tasks.iter().map(legacy::task_legacy).collect();
        let kept: Vec<(Resources, Resources, PathBuf)> = tasks
            .iter()
            .map(|t| {
                (
                    t.resources.clone(),
                    t.executor_resources.clone(),
                    t.sandbox.clone(),
                )
            })
            .collect();
        let mut list = CompletedTasks::default();
        for t in tasks {
            list.push(t, 18);
        }
        // 16 written out, 4 waiting, the 2 oldest dropped.
        assert_eq!(
            (list.chunks.len(), list.recent.len(), list.len()),
            (1, 4, 18)
        );
        let ids: Vec<&str> = list.summaries().map(|s| s.task_id).collect();
        let want: Vec<String> = (3..=20).map(|i| format!("t{i}")).collect();
        assert_eq!(ids, want);
        let states: Vec<&str> = list.summaries().map(|s| s.state).collect();
        assert_eq!(states[0], "TASK_FAILED");
        assert_eq!(states[1], "TASK_RUNNING");
        let v1_out = value(&Written(&list, true));
        let legacy_out = value(&Written(&list, false));
        assert_eq!(v1_out, Value::Array(v1[2..].to_vec()));
        assert_eq!(legacy_out, Value::Array(old[2..].to_vec()));
        assert_eq!(list.legacy_value(0), old[2]);
        assert_eq!(list.legacy_value(17), old[19]);
        assert_eq!(list.legacy_value(18), Value::Null);
        let read = list.read_back();
        assert_eq!(read.len(), 18);
        assert_eq!(list.read_back_on("elsewhere").len(), 0);
        let agent = read[0].agent_id.clone();
        assert_eq!(list.read_back_on(&agent).len(), 18);
        for (i, t) in read.iter().enumerate() {
            assert_eq!(views::task_v1(t), v1[i + 2]);
            assert_eq!(legacy::task_legacy(t), old[i + 2]);
            assert_eq!(
                (&t.resources, &t.executor_resources, &t.sandbox),
                (&kept[i + 2].0, &kept[i + 2].1, &kept[i + 2].2)
            );
        }
        assert_eq!(
            read[0].statuses.last().map(|s| s.state().as_str()),
            Some("TASK_FAILED")
        );
        assert_eq!(value(&read[0].statuses), v1[2]["statuses"]);
        // Sealed, the rest is written out too; past the first chunk's end, it goes whole.
        list.seal();
        assert_eq!(
            (list.chunks.len(), list.recent.len(), list.len()),
            (2, 0, 18)
        );
        for t in read.into_iter().take(15) {
            list.push(t, 18);
        }
        assert_eq!(list.len(), 18);
        assert_eq!(
            list.summaries().next().map(|s| s.task_id.to_string()),
            Some("t18".into())
        );
        assert_eq!(list.legacy_value(0), old[17]);
    }
}
