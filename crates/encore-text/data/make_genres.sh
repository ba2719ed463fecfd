#!/usr/bin/env bash
# Regenerates genres.txt: the genre names beets' lastgenre plugin keeps
# (taken from Wikipedia's list of music genres), from the beets wheel on PyPI
# (MIT; licence in BEETS-LICENSE). One name a line, lowercase, as beets
# writes it ("doom metal", "post-punk", "slowcore").
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
python3 -m pip download --no-deps -q -d "$tmp" 'beets==2.14.1'
(cd "$tmp" && python3 -m zipfile -e beets-*.whl x)
tr 'A-Z' 'a-z' < "$tmp/x/beetsplug/lastgenre/genres.txt" | sed 's/[[:space:]]*$//' | grep -v '^$' | sort -u > genres.txt
cp "$tmp"/x/beets-*.dist-info/licenses/LICENSE BEETS-LICENSE
rm -rf "$tmp"
wc -l genres.txt
