//! Descriptive terms per artist and song, weighted; similarity, co-mentions
//! and search over them.
//!
//! Terms are the unigrams and bigrams of a sentence, stop words and the
//! linked names themselves removed, and a word within three words after a
//! negation cue dropped ("not summery" says nothing summery). A sentence's
//! terms go to the entities it mentions (weight 1); a sentence that mentions
//! none lends its terms to the previous sentence's entities (weight ½) —
//! "±1 sentence", never the whole page. Negated mentions get nothing, and a
//! sentence whose only mentions are negated lends its terms to no one.
//!
//! Adjectives (the single-word adjectives of WordNet 3.0, shipped in
//! `data/adjectives.txt` with their licence) count `adjective_weight` times.
//!
//! Weights are TF-IDF over entities: `(1 + ln tf) · idf`, `idf = ln((1 + N)
//! / (1 + df)) + 1` (smoothed), vectors at unit length. Terms used for fewer
//! than `min_df` entities (noise) or for more than `max_df_share` of them
//! (page furniture) are dropped — the "medium rarity" of the Echo Nest's
//! cultural vectors. A song's vector backs off to its artist's: `song +
//! backoff / (backoff + song mass) · artist`, so a song with little text of
//! its own is described by its artist.
//!
//! Co-mentions: artists (and, separately, songs) named (not negated) in the
//! same document, scored by
//! pointwise mutual information `ln(c(a, b) · N / (c(a) c(b)))` over
//! documents, pairs below `min_support` documents left out.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use encore_types::{normalize_name, Document};
use serde::{Deserialize, Serialize};

use crate::link::{Entity, Linker, Mention};
use crate::tokens::{is_negation, is_stop, sentences};
use crate::{Error, Result};

/// Artifact kind of the text model.
pub const KIND: &str = "text-terms";
/// Layout version of the artifact.
pub const FORMAT_VERSION: u32 = 1;

/// Knobs of the term model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TermModelConfig {
    /// Keep a term only if at least this many entities use it.
    pub min_df: usize,
    /// Drop a term used for more than this share of entities.
    pub max_df_share: f32,
    /// Include bigrams.
    pub bigrams: bool,
    /// Strength of a song's back-off to its artist.
    pub backoff: f32,
    /// Co-mentions need at least this many documents.
    pub min_support: u32,
    /// Weight of an adjective (WordNet) against other words: describing
    /// words are what the model is for.
    pub adjective_weight: f32,
}

impl Default for TermModelConfig {
    fn default() -> Self {
        TermModelConfig {
            min_df: 2,
            max_df_share: 0.5,
            bigrams: true,
            backoff: 5.0,
            min_support: 2,
            adjective_weight: 2.0,
        }
    }
}

type Sparse = Vec<(u32, f32)>;

/// WordNet 3.0's single-word adjectives, one per line.
const ADJECTIVES: &str = include_str!("../data/adjectives.txt");

/// Whether `w` is an adjective in WordNet.
pub fn is_adjective(w: &str) -> bool {
    static SET: std::sync::OnceLock<HashSet<&'static str>> = std::sync::OnceLock::new();
    SET.get_or_init(|| ADJECTIVES.lines().collect()).contains(w)
}

/// Accumulates documents into a [`TermModel`].
pub struct TermModelBuilder<'a> {
    config: TermModelConfig,
    linker: &'a Linker,
    song_artist: HashMap<i64, i64>,
    vocab: HashMap<String, u32>,
    terms: Vec<String>,
    counts: HashMap<Entity, HashMap<u32, f32>>,
    pair_docs: HashMap<(i64, i64), u32>,
    artist_docs: HashMap<i64, u32>,
    song_pair_docs: HashMap<(i64, i64), u32>,
    song_docs: HashMap<i64, u32>,
    docs: u32,
    mentions: u64,
}

/// A trained term model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TermModel {
    config: TermModelConfig,
    terms: Vec<String>,
    idf: Vec<f32>,
    artists: BTreeMap<i64, Sparse>,
    songs: BTreeMap<i64, Sparse>,
    comentions: BTreeMap<i64, Vec<(i64, f32, u32)>>,
    #[serde(default)]
    song_comentions: BTreeMap<i64, Vec<(i64, f32, u32)>>,
    /// Documents read and mentions linked while training.
    pub stats: BuildStats,
}

/// Counts of a build.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildStats {
    /// Documents read.
    pub documents: u32,
    /// Mentions linked (negated ones included).
    pub mentions: u64,
    /// Terms kept.
    pub terms: usize,
    /// Artists with a vector.
    pub artists: usize,
    /// Songs with a vector.
    pub songs: usize,
}

/// One entity with its top terms.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Described {
    /// Top terms, heaviest first.
    pub terms: Vec<(String, f32)>,
    /// Most co-mentioned artists (for an artist) or songs (for a song):
    /// (id, PMI, documents).
    pub comentioned: Vec<(i64, f32, u32)>,
}

fn normalize(v: &mut Sparse) {
    let n = v.iter().map(|e| e.1 * e.1).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|e| e.1 /= n);
    }
}

fn cosine(a: &Sparse, b: &Sparse) -> f32 {
    let (mut i, mut j, mut s) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                s += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    s
}

/// Terms of a normalised sentence, skipping `skip` byte spans (names) and
/// words negated by a cue up to three words before.
fn sentence_terms(norm: &str, skip: &[(usize, usize)], bigrams: bool) -> Vec<String> {
    let mut words: Vec<Option<&str>> = Vec::new();
    let mut pos = 0;
    let mut negate_left = 0u32;
    for w in norm.split(' ') {
        let (s, e) = (pos, pos + w.len());
        pos = e + 1;
        if w.is_empty() {
            continue;
        }
        if is_negation(w) {
            negate_left = 3;
            words.push(None);
            continue;
        }
        let named = skip.iter().any(|&(a, b)| s < b && e > a);
        let keep = !named && !is_stop(w) && negate_left == 0;
        negate_left = negate_left.saturating_sub(1);
        words.push(keep.then_some(w));
    }
    let mut out: Vec<String> = words.iter().flatten().map(|w| w.to_string()).collect();
    if bigrams {
        for pair in words.windows(2) {
            if let [Some(a), Some(b)] = pair {
                out.push(format!("{a} {b}"));
            }
        }
    }
    out
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
            pair_docs: HashMap::new(),
            artist_docs: HashMap::new(),
            song_pair_docs: HashMap::new(),
            song_docs: HashMap::new(),
            docs: 0,
            mentions: 0,
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

    /// Reads one document.
    pub fn add(&mut self, doc: &Document) {
        self.docs += 1;
        let mut sents: Vec<&str> = Vec::new();
        if let Some(t) = &doc.title {
            sents.push(t.as_str());
        }
        sents.extend(sentences(&doc.text));
        let norm: Vec<String> = sents.iter().map(|s| normalize_name(s)).collect();
        let mentions = self.linker.link(&sents, &norm);
        let mut in_doc: HashSet<i64> = HashSet::new();
        let mut songs_in_doc: HashSet<i64> = HashSet::new();
        let mut prev: Vec<Entity> = Vec::new();
        for (i, ms) in mentions.iter().enumerate() {
            self.mentions += ms.len() as u64;
            let spans: Vec<(usize, usize)> = ms.iter().map(|m| m.span).collect();
            let here: Vec<Entity> = ms.iter().filter(|m| !m.negated).map(|m: &Mention| m.entity).collect();
            for e in &here {
                match e {
                    Entity::Artist(a) => in_doc.insert(*a),
                    Entity::Song(t) => songs_in_doc.insert(*t),
                };
            }
            // A sentence whose only mentions are negated describes someone
            // else ("nothing like X, whose records are sunny"): nobody's terms.
            let only_negated = here.is_empty() && !ms.is_empty();
            let (targets, w) = if !here.is_empty() {
                (here.clone(), 1.0)
            } else if only_negated {
                (Vec::new(), 0.0)
            } else {
                (prev.clone(), 0.5)
            };
            if !targets.is_empty() {
                let terms = sentence_terms(&norm[i], &spans, self.config.bigrams);
                let adj = self.config.adjective_weight;
                let ids: Vec<(u32, f32)> = terms
                    .into_iter()
                    .map(|t| {
                        let f = if is_adjective(&t) { adj } else { 1.0 };
                        (self.term_id(t), f)
                    })
                    .collect();
                for e in &targets {
                    let c = self.counts.entry(*e).or_default();
                    for &(t, f) in &ids {
                        *c.entry(t).or_default() += w * f;
                    }
                }
            }
            if !here.is_empty() {
                prev = here;
            } else if ms.iter().any(|m| m.negated) {
                prev.clear();
            }
        }
        count_pairs(in_doc, &mut self.artist_docs, &mut self.pair_docs);
        count_pairs(songs_in_doc, &mut self.song_docs, &mut self.song_pair_docs);
    }

    /// Weighs everything read into the model.
    pub fn finish(self) -> TermModel {
        let cfg = self.config;
        let n_entities = self.counts.keys().filter(|e| matches!(e, Entity::Artist(_))).count().max(1);
        let mut df = vec![0usize; self.terms.len()];
        for (e, c) in &self.counts {
            if matches!(e, Entity::Artist(_)) {
                for &t in c.keys() {
                    df[t as usize] += 1;
                }
            }
        }
        let keep: Vec<bool> =
            df.iter().map(|&d| d >= cfg.min_df && (d as f32) <= cfg.max_df_share * n_entities as f32).collect();
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
        let weigh = |c: &HashMap<u32, f32>| -> Sparse {
            let mut v: Sparse = c
                .iter()
                .filter(|(t, _)| new_id[**t as usize] != u32::MAX)
                .map(|(t, tf)| {
                    let id = new_id[*t as usize];
                    (id, (1.0 + tf.max(1e-6).ln().max(0.0)) * idf[id as usize])
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
                    artists.insert(*a, weigh(c));
                }
                Entity::Song(s) => {
                    songs_raw.insert(*s, (weigh(c), c.values().sum::<f32>()));
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
        let comentions = pmi_graph(&self.pair_docs, &self.artist_docs, self.docs, cfg.min_support);
        let song_comentions = pmi_graph(&self.song_pair_docs, &self.song_docs, self.docs, cfg.min_support);
        let stats = BuildStats {
            documents: self.docs,
            mentions: self.mentions,
            terms: terms.len(),
            artists: artists.len(),
            songs: songs.len(),
        };
        TermModel { config: cfg, terms, idf, artists, songs, comentions, song_comentions, stats }
    }
}

impl TermModel {
    fn vector(&self, e: Entity) -> Option<&Sparse> {
        match e {
            Entity::Artist(a) => self.artists.get(&a),
            Entity::Song(s) => self.songs.get(&s),
        }
    }

    /// The top `n` terms of `e` and, for an artist, its most co-mentioned
    /// artists.
    pub fn describe(&self, e: Entity, n: usize) -> Option<Described> {
        let v = self.vector(e)?;
        let mut t: Vec<(String, f32)> = v.iter().map(|&(id, w)| (self.terms[id as usize].clone(), w)).collect();
        t.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        t.truncate(n);
        let comentioned = match e {
            Entity::Artist(a) => {
                self.comentions.get(&a).map(|c| c.iter().take(n).copied().collect()).unwrap_or_default()
            }
            Entity::Song(s) => {
                self.song_comentions.get(&s).map(|c| c.iter().take(n).copied().collect()).unwrap_or_default()
            }
        };
        Some(Described { terms: t, comentioned })
    }

    /// Entities of the same kind as `e`, by cosine of their term vectors.
    pub fn similar(&self, e: Entity, n: usize) -> Vec<(Entity, f32)> {
        let Some(q) = self.vector(e) else { return Vec::new() };
        let mut out: Vec<(Entity, f32)> = match e {
            Entity::Artist(_) => self.artists.iter().map(|(&a, v)| (Entity::Artist(a), cosine(q, v))).collect(),
            Entity::Song(_) => self.songs.iter().map(|(&s, v)| (Entity::Song(s), cosine(q, v))).collect(),
        };
        out.retain(|x| x.0 != e && x.1 > 0.0);
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out.truncate(n);
        out
    }

    /// Artists and songs ranked for a description ("summery nostalgic
    /// guitar"): cosine between the query's TF-IDF vector and theirs.
    pub fn search(&self, query: &str, n: usize) -> Vec<(Entity, f32)> {
        let norm = normalize_name(query);
        let mut q: BTreeMap<u32, f32> = BTreeMap::new();
        let index: HashMap<&str, u32> = self.terms.iter().enumerate().map(|(i, t)| (t.as_str(), i as u32)).collect();
        for t in sentence_terms(&norm, &[], self.config.bigrams) {
            if let Some(&id) = index.get(t.as_str()) {
                *q.entry(id).or_default() += self.idf[id as usize];
            }
        }
        let mut qv: Sparse = q.into_iter().collect();
        normalize(&mut qv);
        if qv.is_empty() {
            return Vec::new();
        }
        let mut out: Vec<(Entity, f32)> = self
            .artists
            .iter()
            .map(|(&a, v)| (Entity::Artist(a), cosine(&qv, v)))
            .chain(self.songs.iter().map(|(&s, v)| (Entity::Song(s), cosine(&qv, v))))
            .filter(|x| x.1 > 0.0)
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out.truncate(n);
        out
    }

    /// The TF-IDF vector of song `id` (term index, weight), L2-normalised.
    pub fn song_vector(&self, id: i64) -> Option<&[(u32, f32)]> {
        self.songs.get(&id).map(|v| v.as_slice())
    }

    /// Artist ids with a vector.
    pub fn artist_ids(&self) -> Vec<i64> {
        self.artists.keys().copied().collect()
    }

    /// Writes `model.json` into `dir`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let p = dir.join("model.json");
        std::fs::write(&p, serde_json::to_vec(self).expect("serialisable"))
            .map_err(|e| Error::Io { path: p, source: e })
    }

    /// Reads a model written by [`TermModel::save`].
    pub fn load(dir: &Path) -> Result<TermModel> {
        let p = dir.join("model.json");
        let bytes = std::fs::read(&p).map_err(|e| Error::Io { path: p.clone(), source: e })?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Artifact { path: p, reason: e.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Document {
        Document { url: text.into(), text: text.into(), ..Default::default() }
    }

    #[test]
    fn terms_go_to_the_entities_of_their_sentence_not_the_page() {
        let linker = Linker::new(
            &[
                (1, "The Sunbeams".into()),
                (2, "Moon Pilots".into()),
                (3, "Nova Vance".into()),
                (4, "Glass Owls".into()),
            ],
            &[(10, Some(2), "Night Drive".into())],
        );
        let mut b = TermModelBuilder::new(
            TermModelConfig { min_df: 1, max_df_share: 1.0, ..Default::default() },
            &linker,
            [(10, 2)].into_iter().collect(),
        );
        b.add(&doc("Moon Pilots make dreamy, hazy music. Truly wistful. It sounds nothing like The Sunbeams."));
        b.add(&doc("Nova Vance is loud and brash. Glass Owls are loud too, and not summery at all."));
        b.add(&doc("The Sunbeams are sunny and upbeat. Moon Pilots toured with Nova Vance."));
        let m = b.finish();
        let terms = |a: i64| -> Vec<String> {
            m.describe(Entity::Artist(a), 20).map(|d| d.terms.into_iter().map(|t| t.0).collect()).unwrap_or_default()
        };
        let moon = terms(2);
        assert!(moon.contains(&"dreamy".to_string()) && moon.contains(&"wistful".to_string()), "{moon:?}");
        let sun = terms(1);
        assert!(!sun.contains(&"dreamy".to_string()) && !sun.contains(&"wistful".to_string()), "{sun:?}");
        assert!(sun.contains(&"sunny".to_string()));
        // "not summery" gives Glass Owls nothing summery; names are not terms.
        let owls = terms(4);
        assert!(owls.contains(&"loud".to_string()) && !owls.contains(&"summery".to_string()), "{owls:?}");
        assert!(!moon.iter().any(|t| t.contains("pilots")), "{moon:?}");
        // The song backs off to its artist.
        let song = m.describe(Entity::Song(10), 5).unwrap();
        assert!(song.terms.iter().any(|t| t.0 == "dreamy"));
        // Search finds the dreamy band first.
        assert_eq!(m.search("hazy dreamy", 3)[0].0, Entity::Artist(2));
        // Nova Vance and Glass Owls (both loud) are each other's nearest.
        assert_eq!(m.similar(Entity::Artist(3), 1)[0].0, Entity::Artist(4));
    }

    #[test]
    fn songs_mentioned_together_are_linked() {
        let linker = Linker::new(
            &[(1, "Moon Pilots".into())],
            &[(10, Some(1), "Night Drive".into()), (11, Some(1), "Glass Sky".into())],
        );
        let mut b = TermModelBuilder::new(
            TermModelConfig { min_df: 1, max_df_share: 1.0, ..Default::default() },
            &linker,
            [(10, 1), (11, 1)].into_iter().collect(),
        );
        b.add(&doc("Moon Pilots play Night Drive and Glass Sky back to back."));
        b.add(&doc("Moon Pilots closed with Glass Sky after Night Drive."));
        let m = b.finish();
        let d = m.describe(Entity::Song(10), 5).unwrap();
        assert_eq!(d.comentioned.iter().map(|c| (c.0, c.2)).collect::<Vec<_>>(), vec![(11, 2)]);
    }
}
