//! `encore serve`: the HTTP service and web page.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

/// Serve the API and the web page.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Address to listen on (loopback by default; port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Key that writes (POST) must carry; generated and kept in the data
    /// directory when not given.
    #[arg(long, env = "ENCORE_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Longest a request may take, seconds.
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
    /// Requests served at once (0: twice the cores); the rest wait.
    #[arg(long, default_value_t = 0)]
    pub concurrency: usize,
    /// Folder that audio files registered over HTTP must lie in.
    #[arg(long)]
    pub media_root: Option<std::path::PathBuf>,
    /// How candidates are found: index (retrieval: HNSW for large sets,
    /// exact scans of small ones), scan (score every song per request) or
    /// ann (HNSW for every set).
    #[arg(long, default_value = "index")]
    pub candidates: encore_engine::Candidates,
}

impl Args {
    /// The defaults, as the command line gives them.
    pub fn defaults() -> Args {
        crate::ui::defaults()
    }
}

/// The API key: given, or read from (or first written to) `DATA/api-key`.
fn api_key(data_dir: &Path, given: Option<String>) -> anyhow::Result<String> {
    if let Some(k) = given.filter(|k| !k.is_empty()) {
        return Ok(k);
    }
    let path = data_dir.join("api-key");
    if let Ok(k) = std::fs::read_to_string(&path) {
        if !k.trim().is_empty() {
            return Ok(k.trim().to_string());
        }
    }
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos();
    let key = format!(
        "{:016x}{:016x}",
        xxhash_rust::xxh3::xxh3_64(&seed.to_le_bytes()),
        xxhash_rust::xxh3::xxh3_64(format!("{seed}/{}", std::process::id()).as_bytes())
    );
    std::fs::write(&path, &key).with_context(|| path.display().to_string())?;
    eprintln!("generated an API key for writes, kept in {}: {key}", path.display());
    Ok(key)
}

pub fn run(data_dir: &Path, a: Args) -> anyhow::Result<ExitCode> {
    let engine = encore_engine::Engine::open_with(data_dir, a.candidates).map_err(|e| anyhow::anyhow!(e))?;
    let cfg = encore_server::Config {
        bind: a.bind,
        api_key: api_key(data_dir, a.api_key)?,
        timeout: Duration::from_secs(a.timeout.max(1)),
        concurrency: if a.concurrency == 0 {
            2 * std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            a.concurrency
        },
        media_root: a.media_root,
    };
    encore_server::serve(engine, cfg, |addr| {
        println!("listening on http://{addr}");
        let _ = std::io::stdout().flush();
    })?;
    Ok(ExitCode::SUCCESS)
}
