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
    /// Longest a client may take to send a request's headers, and longest
    /// an idle keep-alive connection stays open, seconds.
    #[arg(long, default_value_t = 5)]
    pub header_timeout: u64,
    /// Longest a client may take to send a request's body, seconds.
    #[arg(long, default_value_t = 10)]
    pub body_timeout: u64,
    /// Connections open at once; one more is closed at once.
    #[arg(long, default_value_t = 512)]
    pub max_connections: usize,
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
///
/// A generated key is 32 bytes from the operating system's random
/// generator, written with mode 0600 and never printed (only where it
/// lies); a key file readable by others is narrowed to 0600 on start.
fn api_key(data_dir: &Path, given: Option<String>) -> anyhow::Result<String> {
    if let Some(k) = given.filter(|k| !k.is_empty()) {
        return Ok(k);
    }
    let path = data_dir.join("api-key");
    if let Ok(k) = std::fs::read_to_string(&path) {
        if !k.trim().is_empty() {
            private(&path)?;
            return Ok(k.trim().to_string());
        }
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("the OS random generator failed: {e}"))?;
    let key: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(&path, key.as_bytes()).with_context(|| path.display().to_string())?;
    eprintln!("generated an API key for writes; it is in {} (readable by you only)", path.display());
    Ok(key)
}

/// Creates (or replaces) `path` readable and writable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    private(path).map_err(std::io::Error::other)
}

/// Narrows `path` to mode 0600 where it is wider (unix only).
fn private(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("narrowing {} to mode 0600", path.display()))?;
            eprintln!("{} was readable by others (mode {mode:o}); narrowed to 0600", path.display());
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

pub fn run(data_dir: &Path, a: Args) -> anyhow::Result<ExitCode> {
    let engine = encore_engine::Engine::open_with(data_dir, a.candidates).map_err(|e| anyhow::anyhow!(e))?;
    let mut cfg = encore_server::Config::new(&api_key(data_dir, a.api_key)?);
    cfg.bind = a.bind;
    cfg.timeout = Duration::from_secs(a.timeout.max(1));
    if a.concurrency > 0 {
        cfg.concurrency = a.concurrency;
    }
    cfg.media_root = a.media_root;
    cfg.header_timeout = Duration::from_secs(a.header_timeout.max(1));
    cfg.body_timeout = Duration::from_secs(a.body_timeout.max(1));
    cfg.max_connections = a.max_connections.max(1);
    encore_server::serve(engine, cfg, |addr| {
        println!("listening on http://{addr}");
        let _ = std::io::stdout().flush();
    })?;
    Ok(ExitCode::SUCCESS)
}
