#!/usr/bin/env bash
# Regenerates adjectives.txt: the single-word adjectives of WordNet 3.0
# (Princeton University; licence in WORDNET-LICENSE), from Debian's
# wordnet-base package. Hyphenated adjectives are left out: the text model
# splits words at hyphens.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
(cd "$tmp" && apt-get download wordnet-base >/dev/null && dpkg -x wordnet-base_*.deb x)
grep -v '^  ' "$tmp/x/usr/share/wordnet/index.adj" | awk '{print $1}' | grep -v '_' | grep -E '^[a-z]+$' > adjectives.txt
rm -rf "$tmp"
wc -l adjectives.txt
