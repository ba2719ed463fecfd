#!/usr/bin/env bash
# Regenerates nondescriptive.txt and nouns.txt from WordNet 3.0 (Princeton
# University; licence in WORDNET-LICENSE) in Debian's wordnet-base package.
# nondescriptive.txt, words that do not describe how music sounds or feels:
# - verbs that are mostly verbs and never adjectives (more tagged verb senses
#   than noun and adjective senses together: "find", "finds"; "tour" and
#   "drums" stay as nouns, "spare" as an adjective), and the -ed and -ing forms of any verb (and verb.exc's irregular
#   forms: "toured", "found") unless that form is itself a WordNet adjective
#   ("driving", "layered", "distorted" stay) or a noun of a verb that is
#   mostly a noun ("recording" stays, "playing" goes);
# - adverbs used mostly as adverbs ("together", "finally"; "loud" stays).
# The text model drops these words from terms. nouns.txt: WordNet's
# single-word nouns; an artist whose one-word name is an English word
# ("Ember") is linked only with evidence (see link.rs).
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
(cd "$tmp" && apt-get download wordnet-base >/dev/null 2>&1 && dpkg -x wordnet-base_*.deb x)
python3 - "$tmp/x/usr/share/wordnet" <<'PY'
import re, sys
wn = sys.argv[1]

def index(pos):
    tagged = {}
    for line in open(f"{wn}/index.{pos}", encoding="latin-1"):
        if line.startswith("  "):
            continue
        f = line.split()
        lemma, p_cnt = f[0], int(f[3])
        tagged[lemma] = int(f[4 + p_cnt + 1])  # tagsense_cnt
    return tagged

noun, verb, adj, adv = (index(p) for p in ("noun", "verb", "adj", "adv"))
word = re.compile(r"^[a-z]+$")
vowels = set("aeiou")

def s_form(v):
    if re.search(r"(s|x|z|ch|sh)$", v):
        return v + "es"
    if re.search(r"[^aeiou]y$", v):
        return v[:-1] + "ies"
    return v + "s"

def forms(v):
    """-ed and -ing forms of verb v (a superset is harmless: each form is checked)."""
    out = set()
    if v.endswith("e"):
        out |= {v + "d", v[:-1] + "ing"}
    elif re.search(r"[^aeiou]y$", v):
        out |= {v[:-1] + "ied", v + "ing"}
    else:
        out |= {v + "ed", v + "ing"}
        if len(v) >= 3 and v[-1] not in vowels | set("wxy") and v[-2] in vowels and v[-3] not in vowels:
            out |= {v + v[-1] + "ed", v + v[-1] + "ing"}
    return out

drop = set()
for v, t in verb.items():
    if not word.match(v):
        continue
    if t > noun.get(v, 0) + adj.get(v, 0) and v not in adj:
        # "finds" goes with "find"; "drums", "strings", "records" stay
        # plurals; "spare" stays an adjective.
        drop |= {v, s_form(v)}
    for f in forms(v):
        # "playing" and "singing" are nouns too, but their verb comes first.
        if f not in adj and (f not in noun or t > noun.get(v, 0) + adj.get(v, 0)):
            drop.add(f)
for line in open(f"{wn}/verb.exc", encoding="latin-1"):
    f = line.split()
    if word.match(f[0]) and f[0] not in noun and f[0] not in adj:
        drop.add(f[0])
for a, t in adv.items():
    if word.match(a) and a not in adj and a not in noun:
        drop.add(a)
    elif word.match(a) and t > adj.get(a, 0) + noun.get(a, 0):
        drop.add(a)
open("nondescriptive.txt", "w").write("\n".join(sorted(drop)) + "\n")
open("nouns.txt", "w").write("\n".join(sorted(w for w in noun if word.match(w))) + "\n")
PY
rm -rf "$tmp"
wc -l nondescriptive.txt nouns.txt
