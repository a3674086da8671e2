//! Inputs: paths given on the command line, expanded and opened.
//!
//! A file named explicitly must be readable and in a format dwell decodes, or the run
//! stops with an error naming it (exit status 2). A directory is walked recursively in
//! name order (hidden entries skipped); files inside it that are not telemetry (a
//! README, a pcap before the pcap decoder lands) are skipped and listed in the summary,
//! never silently.

use std::path::{Path, PathBuf};

use dwell_decode::{DecodeError, DecodeErrorKind, DecodeOptions, FileDecoder, Format};
use dwell_model::FileId;

use crate::EngineError;

/// One file of the run.
#[derive(Clone, Debug)]
pub struct InputFile {
    /// Path as found (relative paths stay relative).
    pub path: PathBuf,
    /// Sniffed format.
    pub format: Format,
    /// Zeek log type from the header or first record (`conn`, `x509`, ...).
    pub log_hint: Option<String>,
    /// Size on disk.
    pub size: u64,
    /// Time of the first event, if the file has one (to open rotated logs in time order;
    /// not read when the run has a single file, which has nothing to be ordered with).
    pub first_ts: Option<dwell_model::Timestamp>,
}

/// A file found in a directory and not decoded, with the reason.
#[derive(Clone, Debug)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

/// The inputs of a run.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// Decodable files, indexed by [`FileId`].
    pub files: Vec<InputFile>,
    /// Files skipped inside directories.
    pub skipped: Vec<Skipped>,
    /// The paths as given.
    pub given: Vec<PathBuf>,
}

impl Inputs {
    /// Expands and sniffs `paths`.
    pub fn resolve(paths: &[PathBuf], opts: &DecodeOptions) -> Result<Inputs, EngineError> {
        let mut inputs = Inputs { given: paths.to_vec(), ..Inputs::default() };
        if paths.is_empty() {
            return Err(EngineError::Usage("no input given".into()));
        }
        // Every candidate first: with one file there is nothing to order, and where it
        // starts need not be read before decoding.
        let mut candidates: Vec<(PathBuf, bool)> = Vec::new();
        for p in paths {
            let meta = std::fs::metadata(p).map_err(|e| {
                EngineError::Input(DecodeError { path: p.clone(), kind: DecodeErrorKind::Io(e) })
            })?;
            if meta.is_dir() {
                let mut found = Vec::new();
                walk(p, &mut found).map_err(|e| {
                    EngineError::Input(DecodeError {
                        path: p.clone(),
                        kind: DecodeErrorKind::Io(e),
                    })
                })?;
                candidates.extend(found.into_iter().map(|f| (f, true)));
            } else {
                candidates.push((p.clone(), false));
            }
        }
        let order = candidates.len() > 1;
        for (f, in_dir) in candidates {
            match sniff_file(&f, opts, order) {
                Ok(i) => inputs.files.push(i),
                Err(e) if in_dir => {
                    inputs.skipped.push(Skipped { path: f, reason: e.kind.to_string() })
                }
                Err(e) => return Err(EngineError::Input(e)),
            }
        }
        if inputs.files.is_empty() {
            return Err(EngineError::Usage(format!(
                "no Zeek, Suricata EVE or other supported telemetry found in {}{}",
                paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
                if inputs.skipped.is_empty() {
                    String::new()
                } else {
                    format!(" ({} files skipped)", inputs.skipped.len())
                }
            )));
        }
        Ok(inputs)
    }

    /// Total bytes on disk.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// Opens file `id` for decoding.
    pub fn open(&self, id: usize, opts: &DecodeOptions) -> Result<FileDecoder, DecodeError> {
        let f = self.files.get(id).ok_or_else(|| DecodeError {
            path: PathBuf::new(),
            kind: DecodeErrorKind::Io(std::io::Error::other("no such input")),
        })?;
        FileDecoder::open(&f.path, FileId(id as u32), opts)
    }

    /// Display name of a file id (its path).
    pub fn name(&self, id: FileId) -> String {
        self.files.get(id.0 as usize).map(|f| f.path.display().to_string()).unwrap_or_default()
    }
}

/// A file's format, size and (when inputs are to be ordered, `order`) where it starts.
fn sniff_file(path: &Path, opts: &DecodeOptions, order: bool) -> Result<InputFile, DecodeError> {
    let mut d = FileDecoder::open(path, FileId(0), opts)?;
    let first_ts = if order { d.first_ts_hint() } else { None };
    Ok(InputFile {
        path: path.to_path_buf(),
        format: d.format(),
        log_hint: d.log_hint().map(str::to_string),
        size: d.file_size(),
        first_ts,
    })
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    // The entry's type comes with the directory listing; only a symbolic link needs a
    // look at what it points to.
    let mut entries: Vec<(PathBuf, Option<std::fs::FileType>)> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| (e.path(), e.file_type().ok())))
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (p, ty) in entries {
        let hidden = p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        let (is_dir, is_file) = match ty {
            Some(t) if !t.is_symlink() => (t.is_dir(), t.is_file()),
            _ => (p.is_dir(), p.is_file()),
        };
        if is_dir {
            walk(&p, out)?;
        } else if is_file {
            out.push(p);
        }
    }
    Ok(())
}
