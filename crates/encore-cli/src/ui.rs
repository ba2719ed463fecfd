//! Terminal output helpers: logging, progress bars, JSON.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

pub fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

/// A byte-progress bar on stderr (hidden when stderr is not a terminal).
pub fn bytes_bar(len: u64, msg: String) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:30!} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(msg);
    bar
}

/// A count-progress bar on stderr.
pub fn count_bar(len: u64, msg: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:30!} [{bar:30}] {pos}/{len} eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(msg.to_string());
    bar
}

/// Progress bars for the [`encore_train::Step`]s a library step reports:
/// one bar per stage, replaced when the stage changes, cleared at the end.
pub struct Bars {
    current: std::sync::Mutex<Option<(String, ProgressBar)>>,
}

impl Bars {
    pub fn new() -> Bars {
        Bars { current: std::sync::Mutex::new(None) }
    }

    /// Shows `s` (the callback to hand to a library step).
    pub fn step(&self, s: encore_train::Step<'_>) {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if current.as_ref().is_none_or(|(stage, _)| stage != s.stage) {
            if let Some((_, bar)) = current.take() {
                bar.finish_and_clear();
            }
            *current = Some((s.stage.to_string(), count_bar(s.total, s.stage)));
        }
        let (_, bar) = current.as_ref().expect("set above");
        bar.set_length(s.total);
        bar.set_position(s.done);
        if let Some(note) = s.note {
            bar.set_message(note.to_string());
        }
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        if let Some((_, bar)) = self.current.get_mut().unwrap_or_else(|e| e.into_inner()).take() {
            bar.finish_and_clear();
        }
    }
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Opens the data directory's store, naming it in the error.
pub fn open_store(data_dir: &Path) -> anyhow::Result<encore_store::Store> {
    encore_store::Store::open(data_dir).with_context(|| format!("opening data directory {}", data_dir.display()))
}

/// A flattened clap argument group with every default, as the command line
/// gives them (for commands that run other commands' steps).
pub fn defaults<T: clap::Args>() -> T {
    #[derive(clap::Parser)]
    struct P<T: clap::Args> {
        #[command(flatten)]
        a: T,
    }
    <P<T> as clap::Parser>::parse_from(["encore"]).a
}

/// Writes `bytes` to `path` through a temporary file in the same folder and
/// a rename, so a reader (a player importing playlists) never sees half a
/// file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("writing into {}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, bytes).with_context(|| format!("writing {}", path.display()))?;
    tmp.persist(path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
