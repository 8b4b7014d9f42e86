//! The files of the agents' sandboxes and the processes' own logs (`/master/log`,
//! `/slave/log`), as Mesos's `/files` endpoints and the LIST_FILES and
//! READ_FILE calls show them: each run directory is reachable by its real path and by the
//! virtual path `/frameworks/<fid>/executors/<eid>/runs/latest` (and `runs/<container id>`).

use super::reply;
use super::runtime::Shared;
use super::state::Master;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// The most a single read returns (16 pages), as Mesos caps it.
pub const MAX_READ: u64 = 64 * 1024;

/// Attached directories: (what clients ask for, where it really is).
fn attachments(m: &Master, agent_id: Option<&str>) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    // The process's own log, as Mesos attaches `--log_dir`'s file.
    let (process, virt) = match agent_id {
        None => (super::logging::Process::Master, "/master/log"),
        Some(a) => (super::logging::Process::Agent(a.to_string()), "/slave/log"),
    };
    if let Some(log) = m.logs.of(&process) {
        out.push((virt.to_string(), log.link.clone()));
    }
    let all = m.tasks_on(agent_id);
    for t in all.iter() {
        let run_dir = t
            .sandbox
            .ancestors()
            .find(|p| {
                p.parent()
                    .and_then(Path::file_name)
                    .is_some_and(|n| n == "runs")
            })
            .map(Path::to_path_buf)
            .unwrap_or_else(|| t.sandbox.clone());
        let base = format!(
            "/frameworks/{}/executors/{}/runs",
            t.framework_id, t.executor_id
        );
        out.push((run_dir.to_string_lossy().into_owned(), run_dir.clone()));
        out.push((format!("{base}/{}", t.container_id), run_dir.clone()));
        out.push((format!("{base}/latest"), run_dir));
    }
    out
}

/// Maps a requested path to a real one inside an attached directory.
fn resolve(m: &Master, agent_id: Option<&str>, requested: &str) -> Option<PathBuf> {
    let wanted = requested.trim_end_matches('/');
    let mut best: Option<(usize, PathBuf)> = None;
    let mut base: Option<PathBuf> = None;
    for (virt, real) in attachments(m, agent_id) {
        let rest = if wanted == virt {
            Some("")
        } else {
            wanted.strip_prefix(&virt).and_then(|r| r.strip_prefix('/'))
        };
        if let Some(rest) = rest {
            if best.as_ref().is_none_or(|(len, _)| virt.len() > *len) {
                let rel = Path::new(rest);
                if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
                    return None;
                }
                // `join("")` would add a slash, which a file (a log) does not take.
                let path = if rest.is_empty() {
                    real.clone()
                } else {
                    real.join(rel)
                };
                best = Some((virt.len(), path));
                base = Some(real.clone());
            }
        }
    }
    // Like Mesos, follow symlinks but never out of the attached directory.
    let (_, path) = best?;
    let canonical = std::fs::canonicalize(&path).ok()?;
    let root = std::fs::canonicalize(base?).ok()?;
    canonical.starts_with(&root).then_some(path)
}

fn mode_string(mode: u32, is_dir: bool, is_link: bool) -> String {
    let mut s = String::with_capacity(10);
    s.push(if is_dir {
        'd'
    } else if is_link {
        'l'
    } else {
        '-'
    });
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
}

struct Entry {
    path: String,
    meta: std::fs::Metadata,
}

fn list(m: &Master, agent_id: Option<&str>, requested: &str) -> Result<Vec<Entry>, u16> {
    let real = resolve(m, agent_id, requested).ok_or(404u16)?;
    let meta = std::fs::metadata(&real).map_err(|_| 404u16)?;
    let shown = requested.trim_end_matches('/');
    if !meta.is_dir() {
        return Ok(vec![Entry {
            path: shown.to_string(),
            meta,
        }]);
    }
    let mut entries = Vec::new();
    for e in std::fs::read_dir(&real).map_err(|_| 404u16)?.flatten() {
        if let Ok(meta) = e.metadata() {
            entries.push(Entry {
                path: format!("{shown}/{}", e.file_name().to_string_lossy()),
                meta,
            });
        }
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(entries)
}

fn legacy_info(e: &Entry) -> Value {
    json!({
        "path": e.path,
        "nlink": e.meta.nlink(),
        "size": e.meta.len(),
        "mtime": e.meta.mtime(),
        "mode": mode_string(e.meta.mode(), e.meta.is_dir(), e.meta.file_type().is_symlink()),
        "uid": e.meta.uid().to_string(),
        "gid": e.meta.gid().to_string()
    })
}

fn v1_info(e: &Entry) -> Value {
    json!({
        "path": e.path,
        "nlink": e.meta.nlink(),
        "size": e.meta.len(),
        "mtime": {"nanoseconds": e.meta.mtime() * 1_000_000_000 + e.meta.mtime_nsec()},
        "mode": e.meta.mode(),
        "uid": e.meta.uid().to_string(),
        "gid": e.meta.gid().to_string()
    })
}

/// Reads `length` bytes (or to the end, when negative) at `offset`, capped at `MAX_READ`.
/// Answers (file size, bytes).
fn read(real: &Path, offset: u64, length: i64) -> std::io::Result<(u64, Vec<u8>)> {
    let mut f = std::fs::File::open(real)?;
    let size = f.metadata()?.len();
    if offset >= size {
        return Ok((size, Vec::new()));
    }
    let want = if length < 0 {
        MAX_READ
    } else {
        (length as u64).min(MAX_READ)
    };
    f.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::new();
    f.take(want).read_to_end(&mut buf)?;
    Ok((size, buf))
}

/// Mesos answers a path it cannot resolve with a bare 404.
fn not_found(_path: &str) -> Response {
    reply::text(404, "")
}

type Q = Query<HashMap<String, String>>;

fn browse(m: &Master, agent_id: Option<&str>, q: &HashMap<String, String>) -> Response {
    let Some(path) = q.get("path") else {
        return reply::text(400, "Expecting 'path=value' in query.\n");
    };
    match list(m, agent_id, path) {
        Ok(entries) => reply::json(&Value::Array(entries.iter().map(legacy_info).collect())),
        Err(_) => not_found(path),
    }
}

fn read_legacy(m: &Master, agent_id: Option<&str>, q: &HashMap<String, String>) -> Response {
    let Some(path) = q.get("path") else {
        return reply::text(400, "Expecting 'path=value' in query.\n");
    };
    let offset: i64 = match q.get("offset").map(|o| o.parse::<i64>()) {
        None => -1,
        Some(Ok(o)) => o,
        Some(Err(e)) => return reply::text(400, format!("Failed to parse offset: {e}.\n")),
    };
    let length: i64 = match q.get("length").map(|o| o.parse::<i64>()) {
        None => -1,
        Some(Ok(l)) => l,
        Some(Err(e)) => return reply::text(400, format!("Failed to parse length: {e}.\n")),
    };
    if offset < -1 {
        return reply::text(400, format!("Negative offset provided: {offset}.\n"));
    }
    let Some(real) = resolve(m, agent_id, path) else {
        return not_found(path);
    };
    if real.is_dir() {
        return reply::text(400, "Cannot read a directory.\n");
    }
    if offset == -1 {
        return match std::fs::metadata(&real) {
            Ok(meta) => reply::json(&json!({"data": "", "offset": meta.len()})),
            Err(_) => not_found(path),
        };
    }
    match read(&real, offset as u64, length) {
        // At or past the end, Mesos answers the file size as the offset.
        Ok((size, _)) if offset as u64 >= size => reply::json(&json!({"data": "", "offset": size})),
        Ok((_, bytes)) => {
            reply::json(&json!({"data": String::from_utf8_lossy(&bytes), "offset": offset}))
        }
        Err(_) => not_found(path),
    }
}

fn download(m: &Master, agent_id: Option<&str>, q: &HashMap<String, String>) -> Response {
    let Some(path) = q.get("path") else {
        return reply::text(400, "Expecting 'path=value' in query.\n");
    };
    let Some(real) = resolve(m, agent_id, path) else {
        return not_found(path);
    };
    if real.is_dir() {
        return reply::text(400, "Cannot download a directory.\n");
    }
    match std::fs::read(&real) {
        Ok(bytes) => {
            let name = real
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (
                [
                    (header::CONTENT_TYPE, "application/octet-stream".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename={name}"),
                    ),
                ],
                bytes,
            )
                .into_response()
        }
        Err(_) => not_found(path),
    }
}

// Master handlers: the master sees every agent's sandboxes (real Mesos shows only its log;
// here they share one process and it saves clients a hop).
pub async fn master_browse(State(shared): State<Arc<Shared>>, Query(q): Q) -> Response {
    browse(&shared.lock(), None, &q)
}
pub async fn master_read(State(shared): State<Arc<Shared>>, Query(q): Q) -> Response {
    read_legacy(&shared.lock(), None, &q)
}
pub async fn master_download(State(shared): State<Arc<Shared>>, Query(q): Q) -> Response {
    download(&shared.lock(), None, &q)
}

pub fn agent_browse(shared: &Shared, agent_id: &str, q: &HashMap<String, String>) -> Response {
    browse(&shared.lock(), Some(agent_id), q)
}
pub fn agent_read(shared: &Shared, agent_id: &str, q: &HashMap<String, String>) -> Response {
    read_legacy(&shared.lock(), Some(agent_id), q)
}
pub fn agent_download(shared: &Shared, agent_id: &str, q: &HashMap<String, String>) -> Response {
    download(&shared.lock(), Some(agent_id), q)
}

/// Operator LIST_FILES.
pub fn list_files_v1(m: &Master, agent_id: Option<&str>, call: &Value) -> Response {
    let Some(path) = call.pointer("/list_files/path").and_then(Value::as_str) else {
        return reply::text(
            400,
            "Failed to convert JSON into Call protobuf: Missing required fields: list_files.path",
        );
    };
    match list(m, agent_id, path) {
        Ok(entries) => reply::json(&json!({
            "type": "LIST_FILES",
            "list_files": {"file_infos": entries.iter().map(v1_info).collect::<Vec<_>>()}
        })),
        Err(_) => not_found(path),
    }
}

/// Operator READ_FILE: the data comes base64-encoded.
pub fn read_file_v1(m: &Master, agent_id: Option<&str>, call: &Value) -> Response {
    let Some(path) = call.pointer("/read_file/path").and_then(Value::as_str) else {
        return reply::text(
            400,
            "Failed to convert JSON into Call protobuf: Missing required fields: read_file.path",
        );
    };
    let Some(offset) = call.pointer("/read_file/offset").and_then(Value::as_u64) else {
        return reply::text(
            400,
            "Failed to convert JSON into Call protobuf: Missing required fields: read_file.offset",
        );
    };
    let length = call
        .pointer("/read_file/length")
        .and_then(Value::as_u64)
        .map(|l| l.min(i64::MAX as u64) as i64)
        .unwrap_or(-1);
    let Some(real) = resolve(m, agent_id, path) else {
        return not_found(path);
    };
    if real.is_dir() {
        return reply::text(400, "Cannot read a directory.\n");
    }
    match read(&real, offset, length) {
        Ok((size, bytes)) => reply::json(&json!({
            "type": "READ_FILE",
            "read_file": {"size": size, "data": base64::engine::general_purpose::STANDARD.encode(bytes)}
        })),
        Err(_) => not_found(path),
    }
}
