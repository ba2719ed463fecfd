#!/usr/bin/env bash
# `encore library scan` on real recordings nobody on this project made:
# Debian's game-music packages (asc-music: MP3, singularity-music: Ogg Vorbis
# with ARTIST/TITLE tags, warzone2100-music: Opus), fetched with
# `apt-get download` into the ignored bench/data/debian-music (never
# committed: their licences are their own). The ignored test
# `library_scan_on_debian_recordings` copies and re-tags them in every tag
# format (ffmpeg converts copies to FLAC, M4A, WAV and AIFF), links them to a
# ListenBrainz listens file and checks that a re-scan is a no-op.
#
#   bench/library_debian.sh          (.ci/run calls it)
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=bench/data/debian-music
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! command -v ffmpeg >/dev/null; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null
fi
if [ ! -f "$DIR/.done" ]; then
  rm -rf "$DIR"; mkdir -p "$DIR/deb"
  (cd "$DIR/deb" && apt-get download asc-music singularity-music warzone2100-music 2>&1 | grep -v "^W: Download is performed unsandboxed" || true)
  for f in "$DIR"/deb/*.deb; do dpkg-deb -x "$f" "$DIR/x"; done
  rm -rf "$DIR/deb"
  touch "$DIR/.done"
fi
echo "$(find "$DIR/x" -name '*.mp3' | wc -l) mp3, $(find "$DIR/x" -name '*.ogg' | wc -l) ogg, $(find "$DIR/x" -name '*.opus' | wc -l) opus under $DIR"
ENCORE_DEBIAN_MUSIC="$PWD/$DIR/x" \
  cargo test --workspace --test library library_scan_on_debian_recordings -- --ignored --nocapture
