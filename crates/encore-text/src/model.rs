//! Descriptive terms per artist and song, weighted; similarity, co-mentions
//! and search over them.
//!
//! **Which words.** Terms are the descriptive words of a sentence
//! ([`crate::terms`]): stop words and the furniture of music writing
//! (numbers, dates, line-ups, venues, web pages), the linked names and other
//! capitalised words inside a sentence (people, places), verbs and adverbs
//! that describe nothing (WordNet-derived, `data/nondescriptive.txt`), the
//! word right after a subject ("they opened", "Ember sings") and
//! words within three words after a negation cue ("not summery") are dropped;
//! genre names ("doom metal", "post-punk") are one term; adjectives and genre
//! names count `adjective_weight` times; bigrams join two neighbouring kept
//! words.
//!
//! **Whose words.** A sentence is cut into clauses ([`crate::clause`]); a
//! clause's words go to the artists and songs mentioned in it (weight 1). A
//! clause without a mention goes, by how it starts, to the mentions of the
//! clause before (plain clauses, "but …", "while …"), to the nearest mention
//! before ("…, who are ferocious"), or to nobody ("… rather than heavy"). A
//! clause of bare names ("A, B and C all play fast") joins the next one. A
//! sentence without a mention lends its words to the last mentioned
//! entities (`carry_weight`) and, in a document about one artist only, to
//! that artist (`subject_weight`). Negated mentions ("unlike X") get
//! nothing, and a sentence whose only mentions are negated lends nothing.
//! A song's words also describe its artist (`song_share`).
//!
//! **Page furniture.** [`TermModelBuilder::observe`] counts the blocks
//! (lines, title segments) of every document first; a block seen in
//! `boilerplate_docs` documents or more ("Subscribe to our newsletter",
//! "Share this: Twitter | Facebook" on every page of a site) is skipped by
//! [`TermModelBuilder::add`], and so is a block with two or more item
//! separators (menus, breadcrumbs: "Home | Reviews | Contact", "Home >
//! Artists > Q"). Five documents, not two: short lines that two writers
//! happen to share ("Bring earplugs.") are prose, not furniture.
//!
//! **Weights.** TF-IDF over artists: `(1 + ln tf) · idf`, `idf = ln((1 +
//! N) / (1 + df)) + 1` (smoothed), vectors at unit length. How rare a term
//! may be scales with the corpus: below `large_corpus_docs` documents every
//! term is kept (an artist written about once keeps its most distinctive
//! words); above, a term needs `min_df` artists or two sentences about one
//! artist. Terms used for more than `max_df_share` of the artists (and by
//! more than three) are dropped as page furniture. A song's vector backs off
//! to its artist's: `song + backoff / (backoff + song mass) · artist`.
//!
//! **Co-mentions**: artists (and, separately, songs) named (not negated) in
//! the same document, scored by pointwise mutual information `ln(c(a, b) ·
//! N / (c(a) c(b)))` over documents, pairs below `min_support` documents
//! left out.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use encore_types::normalize_name;
use encore_types::vector::sparse_dot;
use serde::{Deserialize, Serialize};

use crate::link::Entity;
use crate::terms::{terms, words};
use crate::{Error, Result, TermModelConfig};

/// Artifact kind of the text model.
pub const KIND: &str = "text-terms";

/// Layout version of the artifact.
pub const FORMAT_VERSION: u32 = 1;

pub(crate) type Sparse = Vec<(u32, f32)>;

/// A trained term model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TermModel {
    pub(crate) config: TermModelConfig,
    pub(crate) terms: Vec<String>,
    pub(crate) idf: Vec<f32>,
    pub(crate) artists: BTreeMap<i64, Sparse>,
    pub(crate) songs: BTreeMap<i64, Sparse>,
    pub(crate) comentions: BTreeMap<i64, Vec<(i64, f32, u32)>>,
    #[serde(default)]
    pub(crate) song_comentions: BTreeMap<i64, Vec<(i64, f32, u32)>>,
    /// Documents read and mentions linked while training.
    pub stats: BuildStats,
}

/// Counts of a build.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
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
    /// Blocks of text skipped as page furniture.
    pub boilerplate_blocks: u64,
    /// The smallest document frequency a term needed (see
    /// [`TermModelConfig::min_df`]).
    pub min_df: usize,
    /// Artists mentioned in the text that got no terms, and why.
    pub silent: Vec<Silent>,
}

/// An artist the text mentions but the model cannot describe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Silent {
    /// The artist.
    pub artist: i64,
    /// Mentions (negated ones included).
    pub mentions: u32,
    /// Why it has no terms.
    pub reason: String,
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

/// Entities ranked for a description, and which of its words the model knows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResult {
    /// Entities and cosine scores, best first.
    pub hits: Vec<(Entity, f32)>,
    /// Query terms found in the vocabulary (as the vocabulary spells them:
    /// "guitars" may be found as "guitar").
    pub known_terms: Vec<String>,
    /// Query words that are not in the vocabulary (stop words and verbs are
    /// neither).
    pub unknown_terms: Vec<String>,
}

pub(crate) fn normalize(v: &mut Sparse) {
    let n = v.iter().map(|e| e.1 * e.1).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|e| e.1 /= n);
    }
}

/// Cosine of two unit term vectors: their dot product.
fn cosine(a: &Sparse, b: &Sparse) -> f32 {
    sparse_dot(a, b)
}

impl TermModel {
    fn vector(&self, e: Entity) -> Option<&Sparse> {
        match e {
            Entity::Artist(a) => self.artists.get(&a),
            Entity::Song(s) => self.songs.get(&s),
        }
    }

    /// The top `n` terms of `e` and its most co-mentioned artists (for an
    /// artist) or songs (for a song); `None` when it has neither.
    pub fn describe(&self, e: Entity, n: usize) -> Option<Described> {
        let v: &[(u32, f32)] = self.vector(e).map(Vec::as_slice).unwrap_or_default();
        let mut t: Vec<(String, f32)> = v.iter().map(|&(id, w)| (self.terms[id as usize].clone(), w)).collect();
        t.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        t.truncate(n);
        let comentioned: Vec<(i64, f32, u32)> = match e {
            Entity::Artist(a) => {
                self.comentions.get(&a).map(|c| c.iter().take(n).copied().collect()).unwrap_or_default()
            }
            Entity::Song(s) => {
                self.song_comentions.get(&s).map(|c| c.iter().take(n).copied().collect()).unwrap_or_default()
            }
        };
        if t.is_empty() && comentioned.is_empty() {
            return None;
        }
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
        self.search_explained(query, n).hits
    }

    /// [`TermModel::search`], saying which query words the model knows.
    /// Words match by their normalised form ("Jangly," is "jangly"), then
    /// by a plural or singular form ("guitars" finds "guitar"); genre names
    /// match whole ("doom metal", "synthpop").
    pub fn search_explained(&self, query: &str, n: usize) -> SearchResult {
        let norm = normalize_name(query);
        let ws: Vec<&str> = words(&norm).into_iter().map(|w| w.0).collect();
        let index: HashMap<&str, u32> = self.terms.iter().enumerate().map(|(i, t)| (t.as_str(), i as u32)).collect();
        let lookup = |w: &str| -> Option<u32> {
            let variants = [
                Some(w.to_string()),
                w.strip_suffix("ies").map(|s| format!("{s}y")),
                w.strip_suffix("es").map(str::to_string),
                w.strip_suffix('s').map(str::to_string),
                Some(format!("{w}s")),
                w.strip_suffix('y').map(|s| format!("{s}ies")),
            ];
            variants.into_iter().flatten().find_map(|v| index.get(v.as_str()).copied())
        };
        let mut q: BTreeMap<u32, f32> = BTreeMap::new();
        let (mut known, mut unknown) = (Vec::new(), Vec::new());
        let found = terms(&ws, &vec![false; ws.len()], false, 1.0);
        for t in &found {
            match lookup(&t.text) {
                Some(id) => {
                    *q.entry(id).or_default() += self.idf[id as usize];
                    known.push(self.terms[id as usize].clone());
                }
                None => unknown.push(t.text.clone()),
            }
        }
        for pair in ws.windows(2) {
            if let Some(&id) = index.get(format!("{} {}", pair[0], pair[1]).as_str()) {
                *q.entry(id).or_default() += self.idf[id as usize];
            }
        }
        let mut qv: Sparse = q.into_iter().collect();
        normalize(&mut qv);
        let mut hits: Vec<(Entity, f32)> = if qv.is_empty() {
            Vec::new()
        } else {
            self.artists
                .iter()
                .map(|(&a, v)| (Entity::Artist(a), cosine(&qv, v)))
                .chain(self.songs.iter().map(|(&s, v)| (Entity::Song(s), cosine(&qv, v))))
                .filter(|x| x.1 > 0.0)
                .collect()
        };
        // Scores within 1e-5 tie (a song without text of its own has its
        // artist's vector up to rounding): artists first, then by id.
        let key = |s: f32| (s * 1e5).round() as i64;
        hits.sort_by(|a, b| key(b.1).cmp(&key(a.1)).then(a.0.cmp(&b.0)));
        hits.truncate(n);
        SearchResult { hits, known_terms: known, unknown_terms: unknown }
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
    use crate::{Linker, TermModelBuilder};
    use encore_types::Document;

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
            TermModelConfig { min_df: Some(1), max_df_share: 1.0, ..Default::default() },
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
            TermModelConfig { min_df: Some(1), max_df_share: 1.0, ..Default::default() },
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
