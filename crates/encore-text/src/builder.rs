//! Building the term model: documents linked to the catalog, sentences
//! split into clauses, descriptive terms credited to the entities of their
//! clause, boilerplate blocks counted and skipped, co-mentions counted;
//! [`TermModelBuilder::finish`] weighs it all into a [`TermModel`] (the
//! weighting is described in [`crate::model`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};

use encore_types::{normalize_name, Document};
use serde::{Deserialize, Serialize};

use crate::clause::{clauses, Clause, ClauseKind};
use crate::link::{Entity, Linker, Mention};
use crate::model::{normalize, BuildStats, Silent, Sparse, TermModel};
use crate::terms::{negated, proper_nouns, terms, verbs_by_position, words, Term};
use crate::tokens::sentences;

/// Knobs of the term model. The defaults were chosen on the tuning half of
/// `fixtures/text/realistic` (see its README) and checked on the demo world.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TermModelConfig {
    /// Keep a term only if at least this many artists use it (or two
    /// sentences about one artist). `None`: 1 below `large_corpus_docs`
    /// documents, 2 from there on.
    pub min_df: Option<usize>,
    /// From this many documents on, the corpus is large enough for `min_df`
    /// 2 to remove typos and noise.
    pub large_corpus_docs: u32,
    /// Drop a term used for more than this share of artists (and by more
    /// than three).
    pub max_df_share: f32,
    /// Include bigrams.
    pub bigrams: bool,
    /// Strength of a song's back-off to its artist.
    pub backoff: f32,
    /// Co-mentions need at least this many documents.
    pub min_support: u32,
    /// Weight of an adjective (WordNet) or a genre name against other
    /// words: describing words are what the model is for.
    pub adjective_weight: f32,
    /// Weight of a sentence without mentions for the entities last
    /// mentioned before it.
    pub carry_weight: f32,
    /// Weight of a sentence without mentions for the one artist a document
    /// is about (documents that mention exactly one artist).
    pub subject_weight: f32,
    /// Share of a song's words that also describe its artist.
    pub song_share: f32,
    /// A block of text seen in at least this many documents is page
    /// furniture (0: keep everything).
    pub boilerplate_docs: u32,
    /// Attribute words per clause (false: per sentence, to every entity in
    /// it).
    pub clauses: bool,
    /// Skip words written with a capital inside a sentence (people, places,
    /// venues).
    pub skip_names: bool,
}

impl Default for TermModelConfig {
    fn default() -> Self {
        TermModelConfig {
            min_df: None,
            large_corpus_docs: 10_000,
            max_df_share: 0.5,
            bigrams: true,
            backoff: 5.0,
            min_support: 2,
            adjective_weight: 2.0,
            carry_weight: 0.5,
            subject_weight: 0.5,
            song_share: 1.0,
            boilerplate_docs: 5,
            clauses: true,
            skip_names: true,
        }
    }
}

/// Distinct blocks remembered by [`TermModelBuilder::observe`]; past this
/// (about 200 MB of counts) new blocks are no longer counted.
const MAX_BLOCKS: usize = 8_000_000;

/// Per (entity, term): weight, sentences it came from, last sentence seen.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    weight: f32,
    sentences: u32,
    last: u32,
}

/// What happened to an artist's mentions, to explain an empty vector.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    mentions: u32,
    negated: u32,
    weight: f32,
}

/// Accumulates documents into a [`TermModel`].
pub struct TermModelBuilder<'a> {
    config: TermModelConfig,
    linker: &'a Linker,
    song_artist: HashMap<i64, i64>,
    vocab: HashMap<String, u32>,
    terms: Vec<String>,
    counts: HashMap<Entity, HashMap<u32, Tally>>,
    seen: HashMap<i64, Seen>,
    blocks: HashMap<u64, u32>,
    pair_docs: HashMap<(i64, i64), u32>,
    artist_docs: HashMap<i64, u32>,
    song_pair_docs: HashMap<(i64, i64), u32>,
    song_docs: HashMap<i64, u32>,
    docs: u32,
    sentence: u32,
    mentions: u64,
    boilerplate: u64,
}

/// Counts one document's distinct entities and their pairs.
fn count_pairs(set: HashSet<i64>, docs: &mut HashMap<i64, u32>, pairs: &mut HashMap<(i64, i64), u32>) {
    let mut v: Vec<i64> = set.into_iter().collect();
    v.sort_unstable();
    for (k, &a) in v.iter().enumerate() {
        *docs.entry(a).or_default() += 1;
        for &b in &v[k + 1..] {
            *pairs.entry((a, b)).or_default() += 1;
        }
    }
}

/// Pairs with at least `min_support` documents, scored by PMI, the 50 best
/// per entity.
fn pmi_graph(
    pairs: &HashMap<(i64, i64), u32>,
    docs: &HashMap<i64, u32>,
    n_docs: u32,
    min_support: u32,
) -> BTreeMap<i64, Vec<(i64, f32, u32)>> {
    let n = n_docs.max(1) as f32;
    let mut out: BTreeMap<i64, Vec<(i64, f32, u32)>> = BTreeMap::new();
    for (&(a, b), &c) in pairs {
        if c < min_support {
            continue;
        }
        let pmi = (c as f32 * n / (docs[&a] as f32 * docs[&b] as f32)).ln();
        out.entry(a).or_default().push((b, pmi, c));
        out.entry(b).or_default().push((a, pmi, c));
    }
    for v in out.values_mut() {
        v.sort_by(|x, y| y.1.total_cmp(&x.1).then(y.2.cmp(&x.2)).then(x.0.cmp(&y.0)));
        v.truncate(50);
    }
    out
}

/// The blocks of a document: title segments ("Review | Site Name") and
/// lines of text.
fn blocks(doc: &Document) -> impl Iterator<Item = &str> {
    let title = doc.title.as_deref().unwrap_or_default();
    title
        .split(['|', '»', '·'])
        .flat_map(|s| s.split(" - "))
        .chain(doc.text.lines())
        .map(str::trim)
        .filter(|b| !b.is_empty())
}

/// A menu, breadcrumb or link bar: two or more separators between items
/// ("Home | Reviews | Contact", "Home > Artists > Q", "Edited 3 times ·
/// Last updated …").
fn is_navigation(block: &str) -> bool {
    [" | ", " · ", " • ", " > ", " » ", " / "].iter().map(|sep| block.matches(sep).count()).sum::<usize>() >= 2
}

fn block_key(block: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    normalize_name(block).hash(&mut h);
    h.finish()
}

/// Adds `w` for `e` to `to`, keeping the larger weight of one entity.
fn give(to: &mut Vec<(Entity, f32)>, e: Entity, w: f32) {
    match to.iter_mut().find(|x| x.0 == e) {
        Some(x) => x.1 = x.1.max(w),
        None => to.push((e, w)),
    }
}

impl<'a> TermModelBuilder<'a> {
    /// A builder linking with `linker`; `song_artist` maps songs to artists
    /// (for the back-off).
    pub fn new(config: TermModelConfig, linker: &'a Linker, song_artist: HashMap<i64, i64>) -> Self {
        TermModelBuilder {
            config,
            linker,
            song_artist,
            vocab: HashMap::new(),
            terms: Vec::new(),
            counts: HashMap::new(),
            seen: HashMap::new(),
            blocks: HashMap::new(),
            pair_docs: HashMap::new(),
            artist_docs: HashMap::new(),
            song_pair_docs: HashMap::new(),
            song_docs: HashMap::new(),
            docs: 0,
            sentence: 0,
            mentions: 0,
            boilerplate: 0,
        }
    }

    fn term_id(&mut self, t: String) -> u32 {
        if let Some(&id) = self.vocab.get(&t) {
            return id;
        }
        let id = self.terms.len() as u32;
        self.terms.push(t.clone());
        self.vocab.insert(t, id);
        id
    }

    /// First pass (optional): counts the blocks of `doc`, so that
    /// [`TermModelBuilder::add`] can skip the ones repeated across documents.
    pub fn observe(&mut self, doc: &Document) {
        let keys: HashSet<u64> = blocks(doc).map(block_key).collect();
        for k in keys {
            if self.blocks.len() < MAX_BLOCKS || self.blocks.contains_key(&k) {
                *self.blocks.entry(k).or_default() += 1;
            }
        }
    }

    fn is_boilerplate(&self, block: &str) -> bool {
        let min = self.config.boilerplate_docs;
        is_navigation(block)
            || (min > 0 && !self.blocks.is_empty() && self.blocks.get(&block_key(block)).is_some_and(|&c| c >= min))
    }

    /// Gives `terms` to `targets`, a song's also to its artist.
    fn credit(&mut self, targets: &[(Entity, f32)], terms: &[Term]) {
        let mut all: Vec<(Entity, f32)> = targets.to_vec();
        for &(e, w) in targets {
            if let Entity::Song(s) = e {
                if let Some(&a) = self.song_artist.get(&s) {
                    give(&mut all, Entity::Artist(a), w * self.config.song_share);
                }
            }
        }
        let ids: Vec<(u32, f32)> = terms.iter().map(|t| (self.term_id(t.text.clone()), t.factor)).collect();
        let sentence = self.sentence;
        for (e, w) in all {
            if w <= 0.0 {
                continue;
            }
            if let Entity::Artist(a) = e {
                self.seen.entry(a).or_default().weight += w * ids.len() as f32;
            }
            let c = self.counts.entry(e).or_default();
            for &(t, f) in &ids {
                let tally = c.entry(t).or_default();
                tally.weight += w * f;
                if tally.sentences == 0 || tally.last != sentence {
                    tally.sentences += 1;
                    tally.last = sentence;
                }
            }
        }
    }

    /// Reads one document.
    pub fn add(&mut self, doc: &Document) {
        self.docs += 1;
        let mut sents: Vec<&str> = Vec::new();
        for b in blocks(doc) {
            if self.is_boilerplate(b) {
                self.boilerplate += 1;
            } else {
                sents.extend(sentences(b));
            }
        }
        let norm: Vec<String> = sents.iter().map(|s| normalize_name(s)).collect();
        let mentions = self.linker.link(&sents, &norm);
        let mut in_doc: HashSet<i64> = HashSet::new();
        let mut songs_in_doc: HashSet<i64> = HashSet::new();
        let mut about: HashSet<i64> = HashSet::new();
        for m in mentions.iter().flatten() {
            if let Entity::Artist(a) = m.entity {
                let s = self.seen.entry(a).or_default();
                s.mentions += 1;
                s.negated += u32::from(m.negated);
            }
            if m.negated {
                continue;
            }
            match m.entity {
                Entity::Artist(a) => {
                    in_doc.insert(a);
                    about.insert(a);
                }
                Entity::Song(t) => {
                    songs_in_doc.insert(t);
                    about.extend(self.song_artist.get(&t));
                }
            }
        }
        let subject = (about.len() == 1).then(|| Entity::Artist(*about.iter().next().expect("one")));
        let mut prev: Vec<Entity> = Vec::new();
        for (i, ms) in mentions.iter().enumerate() {
            self.mentions += ms.len() as u64;
            self.sentence += 1;
            let mut carried: Vec<(Entity, f32)> = prev.iter().map(|&e| (e, self.config.carry_weight)).collect();
            if ms.is_empty() {
                if let Some(s) = subject {
                    give(&mut carried, s, self.config.subject_weight);
                }
            }
            let last = self.sentence_terms(sents[i], &norm[i], ms, carried);
            if ms.iter().any(|m| !m.negated) {
                prev = last;
            } else if !ms.is_empty() {
                prev.clear();
            }
        }
        count_pairs(in_doc, &mut self.artist_docs, &mut self.pair_docs);
        count_pairs(songs_in_doc, &mut self.song_docs, &mut self.song_pair_docs);
    }

    /// Attributes the terms of one sentence clause by clause; returns the
    /// entities of its last clause with a mention of its own.
    fn sentence_terms(
        &mut self,
        original: &str,
        norm: &str,
        ms: &[Mention],
        carried: Vec<(Entity, f32)>,
    ) -> Vec<Entity> {
        let spans = words(norm);
        let ws: Vec<&str> = spans.iter().map(|w| w.0).collect();
        let word_at = |byte: usize| spans.iter().position(|w| w.2 > byte).unwrap_or(spans.len());
        let mut masked = negated(&ws);
        if self.config.skip_names {
            for (m, p) in masked.iter_mut().zip(proper_nouns(original, ws.len())) {
                *m |= p;
            }
        }
        let mut at: Vec<(usize, &Mention)> = Vec::new();
        let mut name_end = vec![false; ws.len()];
        for m in ms {
            for (k, w) in spans.iter().enumerate() {
                if w.1 < m.span.1 && w.2 > m.span.0 {
                    masked[k] = true;
                    name_end[k] = w.2 >= m.span.1;
                }
            }
            at.push((word_at(m.span.0), m));
        }
        let cls = if self.config.clauses && !ms.is_empty() {
            clauses(original)
        } else {
            vec![Clause { words: 0..ws.len(), kind: ClauseKind::Plain }]
        };
        // A verb follows its subject within a clause ("Dust Prophet (fuzzy)"
        // has none).
        for c in &cls {
            let r = c.words.clone();
            for (m, v) in masked[r.clone()].iter_mut().zip(verbs_by_position(&ws[r.clone()], &name_end[r])) {
                *m |= v;
            }
        }
        let (bigrams, adj) = (self.config.bigrams, self.config.adjective_weight);
        // Entities of the last clause with mentions, the last mention, and
        // bare names waiting for the next clause.
        let mut last: Vec<(Entity, f32)> = carried;
        let mut last_mention: Option<Entity> = None;
        let mut pending: Vec<(Entity, f32)> = Vec::new();
        let mut subjects: Vec<Entity> = Vec::new();
        for c in cls {
            let inside: Vec<&Mention> = at.iter().filter(|(k, _)| c.words.contains(k)).map(|x| x.1).collect();
            let own: Vec<(Entity, f32)> = inside.iter().filter(|m| !m.negated).map(|m| (m.entity, 1.0)).collect();
            let found = terms(&ws[c.words.clone()], &masked[c.words.clone()], bigrams, adj);
            if found.is_empty() && !own.is_empty() && c.kind == ClauseKind::Plain {
                pending.extend(own.iter().copied());
            } else {
                let targets: Vec<(Entity, f32)> = if !own.is_empty() {
                    let mut t = own.clone();
                    if c.kind == ClauseKind::Plain {
                        t.append(&mut pending);
                    }
                    t
                } else if !inside.is_empty() {
                    Vec::new()
                } else {
                    match c.kind {
                        ClauseKind::Relative => last_mention.map(|e| vec![(e, 1.0)]).unwrap_or_else(|| last.clone()),
                        ClauseKind::Target => Vec::new(),
                        ClauseKind::Plain | ClauseKind::Contrast => {
                            let mut t = last.clone();
                            t.append(&mut pending);
                            t
                        }
                    }
                };
                if !found.is_empty() && !targets.is_empty() {
                    self.credit(&targets, &found);
                }
            }
            if let Some(m) = inside.last() {
                last_mention = Some(m.entity);
            }
            if !own.is_empty() {
                last = own.clone();
                subjects = own.iter().map(|x| x.0).collect();
            } else if !inside.is_empty() {
                last.clear();
            }
        }
        subjects.extend(pending.iter().map(|x| x.0));
        subjects
    }

    /// Weighs everything read into the model.
    pub fn finish(self) -> TermModel {
        let cfg = self.config;
        let n_entities = self.counts.keys().filter(|e| matches!(e, Entity::Artist(_))).count().max(1);
        let min_df = cfg.min_df.unwrap_or(if self.docs >= cfg.large_corpus_docs { 2 } else { 1 });
        let mut df = vec![0usize; self.terms.len()];
        let mut evidence = vec![0u32; self.terms.len()];
        for (e, c) in &self.counts {
            for (&t, tally) in c {
                evidence[t as usize] = evidence[t as usize].max(tally.sentences);
                if matches!(e, Entity::Artist(_)) {
                    df[t as usize] += 1;
                }
            }
        }
        let furniture = |d: usize| (d as f32) > cfg.max_df_share * n_entities as f32 && d > 3;
        let keep: Vec<bool> =
            df.iter().zip(&evidence).map(|(&d, &ev)| d > 0 && (d >= min_df || ev >= 2) && !furniture(d)).collect();
        // Renumber the kept terms.
        let mut new_id = vec![u32::MAX; self.terms.len()];
        let mut terms = Vec::new();
        let mut idf = Vec::new();
        for (t, name) in self.terms.iter().enumerate() {
            if keep[t] {
                new_id[t] = terms.len() as u32;
                terms.push(name.clone());
                idf.push((((1 + n_entities) as f32) / ((1 + df[t]) as f32)).ln() + 1.0);
            }
        }
        let weigh = |c: &HashMap<u32, Tally>| -> Sparse {
            let mut v: Sparse = c
                .iter()
                .filter(|(t, _)| new_id[**t as usize] != u32::MAX)
                .map(|(t, tally)| {
                    let id = new_id[*t as usize];
                    (id, (1.0 + tally.weight.max(1e-6).ln().max(0.0)) * idf[id as usize])
                })
                .collect();
            v.sort_unstable_by_key(|e| e.0);
            normalize(&mut v);
            v
        };
        let mut artists = BTreeMap::new();
        let mut songs_raw = BTreeMap::new();
        for (e, c) in &self.counts {
            match e {
                Entity::Artist(a) => {
                    let v = weigh(c);
                    if !v.is_empty() {
                        artists.insert(*a, v);
                    }
                }
                Entity::Song(s) => {
                    songs_raw.insert(*s, (weigh(c), c.values().map(|t| t.weight).sum::<f32>()));
                }
            }
        }
        // Songs: own terms plus a back-off to the artist; songs without
        // text of their own take their artist's vector.
        let mut songs = BTreeMap::new();
        for (&s, &a) in &self.song_artist {
            let artist = artists.get(&a);
            let (own, mass) = songs_raw.get(&s).cloned().unwrap_or_default();
            let beta = cfg.backoff / (cfg.backoff + mass);
            let mut merged: BTreeMap<u32, f32> = own.into_iter().collect();
            if let Some(av) = artist {
                for &(t, w) in av {
                    *merged.entry(t).or_default() += beta * w;
                }
            }
            let mut v: Sparse = merged.into_iter().filter(|e| e.1 > 0.0).collect();
            normalize(&mut v);
            if !v.is_empty() {
                songs.insert(s, v);
            }
        }
        let mut silent: Vec<Silent> = self
            .seen
            .iter()
            .filter(|(a, _)| !artists.contains_key(a))
            .map(|(&artist, s)| {
                let reason = if s.negated == s.mentions {
                    "mentioned only after a negation (\"unlike X\", \"nothing like X\"), which describes someone else"
                } else if s.weight == 0.0 {
                    "no descriptive word in the clauses that mention it (or in the sentences after them)"
                } else {
                    "every word it got is used for too many artists (max_df_share) or too few (min_df)"
                };
                Silent { artist, mentions: s.mentions, reason: reason.into() }
            })
            .collect();
        silent.sort_by_key(|s| s.artist);
        let comentions = pmi_graph(&self.pair_docs, &self.artist_docs, self.docs, cfg.min_support);
        let song_comentions = pmi_graph(&self.song_pair_docs, &self.song_docs, self.docs, cfg.min_support);
        let stats = BuildStats {
            documents: self.docs,
            mentions: self.mentions,
            terms: terms.len(),
            artists: artists.len(),
            songs: songs.len(),
            boilerplate_blocks: self.boilerplate,
            min_df,
            silent,
        };
        TermModel { config: cfg, terms, idf, artists, songs, comentions, song_comentions, stats }
    }
}
