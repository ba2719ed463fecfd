//! Opening inputs: transparent gzip, byte counting for progress, content keys.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

use crate::{Error, Result};

/// Counts the bytes read from the underlying file (compressed bytes for a
/// gzip input), for progress reporting.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Opens `path` for reading, decompressing it if it starts with the gzip
/// magic bytes. `counter` receives the number of file bytes consumed.
pub fn open_input(path: &Path, counter: Arc<AtomicU64>) -> Result<Box<dyn BufRead + Send>> {
    let io_err = |e| Error::Io { path: path.to_path_buf(), source: e };
    let mut file = BufReader::with_capacity(1 << 16, File::open(path).map_err(io_err)?);
    let gz = file.fill_buf().map_err(io_err)?.starts_with(&[0x1f, 0x8b]);
    let counted = Counting { inner: file, count: counter };
    Ok(if gz {
        Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(counted)))
    } else {
        Box::new(BufReader::with_capacity(1 << 16, counted))
    })
}

/// A key that identifies the content of `path` (xxh3-128 of its bytes, as
/// stored on disk) together with how it is read (`how`: the format and any
/// option that changes the records).
pub fn file_key(path: &Path, how: &str) -> Result<String> {
    let hash = content_hash(path).map_err(|e| Error::Io { path: path.to_path_buf(), source: e })?;
    Ok(format!("{hash}:{how}"))
}

/// xxh3-128 of the bytes of `path` as stored on disk, hex, read in 1 MiB
/// blocks.
pub(crate) fn content_hash(path: &Path) -> std::io::Result<String> {
    let mut f = File::open(path)?;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("{:032x}", h.digest128()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_gzip_transparently_and_keys_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("a.tsv");
        std::fs::write(&plain, b"hello\nworld\n").unwrap();
        let gz = dir.path().join("a.tsv.gz");
        let mut enc = flate2::write::GzEncoder::new(File::create(&gz).unwrap(), flate2::Compression::fast());
        enc.write_all(b"hello\nworld\n").unwrap();
        enc.finish().unwrap();
        for p in [&plain, &gz] {
            let mut s = String::new();
            open_input(p, Default::default()).unwrap().read_to_string(&mut s).unwrap();
            assert_eq!(s, "hello\nworld\n");
        }
        let copy = dir.path().join("b.tsv");
        std::fs::copy(&plain, &copy).unwrap();
        assert_eq!(file_key(&plain, "x").unwrap(), file_key(&copy, "x").unwrap());
        assert_ne!(file_key(&plain, "x").unwrap(), file_key(&plain, "y").unwrap());
        assert_ne!(file_key(&plain, "x").unwrap(), file_key(&gz, "x").unwrap());
    }
}
