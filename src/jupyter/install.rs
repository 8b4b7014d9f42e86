//! Installing the kernelspec: kernel.json and logos into a Jupyter data directory, found
//! the way Jupyter finds it.

use serde_json::json;
use std::path::{Path, PathBuf};

const LOGO_32: &[u8] =
    include_bytes!("../../kernelspec/data/share/jupyter/kernels/mesos/logo-32x32.png");
const LOGO_64: &[u8] =
    include_bytes!("../../kernelspec/data/share/jupyter/kernels/mesos/logo-64x64.png");
const LOGO_SVG: &[u8] =
    include_bytes!("../../kernelspec/data/share/jupyter/kernels/mesos/logo-svg.svg");

#[derive(Debug, Clone, PartialEq)]
pub enum Location {
    /// The user's Jupyter data dir (JUPYTER_DATA_DIR, else XDG_DATA_HOME/jupyter, else
    /// ~/.local/share/jupyter; ~/Library/Jupyter on macOS).
    User,
    /// The running Python environment's prefix (an active venv or conda env).
    SysPrefix,
    /// `DIR/share/jupyter`.
    Prefix(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("cannot find the home directory (set HOME or JUPYTER_DATA_DIR)")]
    NoHome,
    #[error("cannot find the Python prefix: no VIRTUAL_ENV or CONDA_PREFIX, and python3 did not answer ({0})")]
    NoPrefix(String),
    #[error("cannot find this program's own path: {0}")]
    NoExe(std::io::Error),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

pub fn data_dir(location: &Location) -> Result<PathBuf, InstallError> {
    match location {
        Location::Prefix(dir) => Ok(dir.join("share").join("jupyter")),
        Location::SysPrefix => {
            for var in ["VIRTUAL_ENV", "CONDA_PREFIX"] {
                if let Some(p) = std::env::var_os(var).filter(|p| !p.is_empty()) {
                    return Ok(PathBuf::from(p).join("share").join("jupyter"));
                }
            }
            let out = std::process::Command::new("python3")
                .args(["-c", "import sys; print(sys.prefix)"])
                .output()
                .map_err(|e| InstallError::NoPrefix(e.to_string()))?;
            let prefix = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if !out.status.success() || prefix.is_empty() {
                return Err(InstallError::NoPrefix(
                    String::from_utf8_lossy(&out.stderr).trim().to_string(),
                ));
            }
            Ok(PathBuf::from(prefix).join("share").join("jupyter"))
        }
        Location::User => {
            if let Some(dir) = std::env::var_os("JUPYTER_DATA_DIR").filter(|p| !p.is_empty()) {
                return Ok(PathBuf::from(dir));
            }
            let home = std::env::var_os("HOME")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from);
            if cfg!(target_os = "macos") {
                return home
                    .map(|h| h.join("Library").join("Jupyter"))
                    .ok_or(InstallError::NoHome);
            }
            if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|p| !p.is_empty()) {
                return Ok(PathBuf::from(xdg).join("jupyter"));
            }
            home.map(|h| h.join(".local").join("share").join("jupyter"))
                .ok_or(InstallError::NoHome)
        }
    }
}

pub fn kernel_json(exe: &Path, display_name: &str) -> serde_json::Value {
    json!({
        "argv": [exe.to_string_lossy(), "kernel", "--connection-file", "{connection_file}"],
        "display_name": display_name,
        "language": "mesos",
        "interrupt_mode": "message",
        "metadata": { "debugger": false },
    })
}

/// Writes the kernelspec and returns its directory.
pub fn install(
    location: &Location,
    name: &str,
    display_name: &str,
) -> Result<PathBuf, InstallError> {
    let exe = std::env::current_exe().map_err(InstallError::NoExe)?;
    let exe = exe.canonicalize().unwrap_or(exe);
    let dir = data_dir(location)?.join("kernels").join(name);
    let write = |file: &str, bytes: &[u8]| -> Result<(), InstallError> {
        let path = dir.join(file);
        std::fs::write(&path, bytes).map_err(|source| InstallError::Write {
            path: path.display().to_string(),
            source,
        })
    };
    std::fs::create_dir_all(&dir).map_err(|source| InstallError::Write {
        path: dir.display().to_string(),
        source,
    })?;
    let spec = serde_json::to_vec_pretty(&kernel_json(&exe, display_name)).unwrap_or_default();
    write("kernel.json", &spec)?;
    write("logo-32x32.png", LOGO_32)?;
    write("logo-64x64.png", LOGO_64)?;
    write("logo-svg.svg", LOGO_SVG)?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_layout() {
        let dir = data_dir(&Location::Prefix(PathBuf::from("/opt/x"))).unwrap();
        assert_eq!(dir, PathBuf::from("/opt/x/share/jupyter"));
    }

    #[test]
    fn kernel_json_shape() {
        let spec = kernel_json(Path::new("/usr/bin/mesos-kernel"), "Mesos");
        assert_eq!(spec["argv"][0], "/usr/bin/mesos-kernel");
        assert_eq!(spec["argv"][3], "{connection_file}");
        assert_eq!(spec["language"], "mesos");
        assert_eq!(spec["interrupt_mode"], "message");
    }

    /// The kernelspec the wheel installs (kernelspec/data/...) starts the same kernel as the
    /// one `mesos-kernel install` writes, through the environment's Python.
    #[test]
    fn the_wheels_kernelspec_matches_the_written_one() {
        let wheel: serde_json::Value = serde_json::from_str(include_str!(
            "../../kernelspec/data/share/jupyter/kernels/mesos/kernel.json"
        ))
        .unwrap();
        let written = kernel_json(Path::new("/usr/bin/mesos-kernel"), "Mesos");
        for key in ["display_name", "language", "interrupt_mode", "metadata"] {
            assert_eq!(wheel[key], written[key], "{key}");
        }
        let argv = |v: &serde_json::Value| v["argv"].as_array().cloned().unwrap_or_default();
        let (wheel, written) = (argv(&wheel), argv(&written));
        assert_eq!(
            wheel[..3],
            [json!("python"), json!("-m"), json!("mesos_kernel")]
        );
        assert_eq!(wheel[3..], written[1..]);
    }

    #[test]
    fn logos_are_pngs_of_the_right_size() {
        for (png, size) in [(LOGO_32, 32u32), (LOGO_64, 64)] {
            assert_eq!(&png[1..4], b"PNG");
            let w = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
            let h = u32::from_be_bytes([png[20], png[21], png[22], png[23]]);
            assert_eq!((w, h), (size, size));
        }
    }
}
