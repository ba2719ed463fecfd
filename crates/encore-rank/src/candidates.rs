//! Candidates: each source nominates its best songs, from the retrieval
//! indexes or from scores of the whole catalog.

use crate::features::Scores;
use crate::profile::Profile;
use crate::{Hybrid, Retrieval, AUDIO, CF, KNN, POPULAR, SEED, TEXT};

/// The positions of the `k` best (score, position) pairs, in no particular
/// order (ties to the lower position).
pub(crate) fn top_k(mut v: Vec<(f32, usize)>, k: usize) -> Vec<usize> {
    let k = k.min(v.len());
    if k == 0 {
        return Vec::new();
    }
    v.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    v.truncate(k);
    v.into_iter().map(|e| e.1).collect()
}

impl Hybrid<'_> {
    /// Each source's nominations from the retrieval indexes and lists.
    pub(crate) fn nominate_fast(
        &self,
        r: &Retrieval,
        p: &Profile,
        k: usize,
        n: usize,
    ) -> Vec<(&'static str, Vec<usize>)> {
        let c = self.catalog;
        let best = |mut v: Vec<(f32, usize)>| -> Vec<usize> {
            v.sort_unstable_by_key(|e| e.1);
            v.dedup_by_key(|e| e.1);
            top_k(v, k)
        };
        let cf = if p.has_cf { r.top_warm(&p.cf_vector, k, n) } else { Vec::new() };
        let cold = if p.has_cf { r.top_cold(&p.cf_vector, k, n) } else { Vec::new() };
        let knn = if p.recent.is_empty() { Vec::new() } else { r.top_unit(&p.recent_mean, k, n) };
        let audio = p.audio.as_ref().map(|a| r.top_audio(a, k, n)).unwrap_or_default();
        let text = p.text.as_ref().map(|t| r.top_text(c, t, k)).unwrap_or_default();
        let comention = best(
            p.comentioned
                .iter()
                .filter_map(|a| self.prep.by_artist.get(a))
                .flat_map(|v| v.iter().map(|&s| (self.popular(p, s as usize), s as usize)))
                .collect(),
        );
        // Within a genre the songs are in popularity order, so the top `k`
        // of each genre the user plays hold the top `k` overall.
        let mut pop: Vec<usize> = r.by_popularity.iter().take(k).map(|&s| s as usize).collect();
        for (g, &w) in &p.genre_share {
            if w > 0.0 {
                pop.extend(r.by_genre.get(g).into_iter().flat_map(|v| v.iter().take(k).map(|&s| s as usize)));
            }
        }
        let popular = best(pop.into_iter().map(|s| (self.popular(p, s), s)).collect());
        let mut out = vec![
            ("cf", cf),
            ("knn", knn),
            ("audio", audio),
            ("text", text),
            ("comention", comention),
            ("cold", cold),
            ("popular", popular),
        ];
        if !p.seeds.is_empty() {
            let mut near: Vec<usize> = Vec::new();
            for &q in &p.seeds {
                if let Some(u) = self.song_unit(q) {
                    near.extend(r.top_unit(u, k, n));
                }
                if let Some(a) = &c.audio[q] {
                    near.extend(r.top_audio(a, k, n));
                }
            }
            near.sort_unstable();
            near.dedup();
            let seed = best(
                near.into_iter()
                    .filter_map(|s| p.seeds.iter().map(|&q| self.similarity(s, q)).reduce(f32::max).map(|x| (x, s)))
                    .collect(),
            );
            out.push(("seed", seed));
        }
        out
    }

    /// Each source's nominations (catalog positions), named.
    pub(crate) fn nominations(&self, p: &Profile, sc: &Scores, per_source: usize) -> Vec<(&'static str, Vec<usize>)> {
        let c = self.catalog;
        let top = |f: usize, keep: &dyn Fn(usize) -> bool| -> Vec<usize> {
            top_k((0..c.len()).filter(|&s| keep(s)).filter_map(|s| sc.raw[s][f].map(|x| (x, s))).collect(), per_source)
        };
        let warm = |s: usize| c.cf_col[s].is_some();
        let cold = |s: usize| c.cf_col[s].is_none();
        let all = |_: usize| true;
        let comentioned = |s: usize| c.artist[s].is_some_and(|a| p.comentioned.contains(&a));
        let mut out = vec![
            ("cf", top(CF, &warm)),
            ("knn", top(KNN, &all)),
            ("audio", top(AUDIO, &all)),
            ("text", top(TEXT, &all)),
            ("comention", top(POPULAR, &comentioned)),
            ("cold", top(CF, &cold)),
            ("popular", top(POPULAR, &all)),
        ];
        if !p.seeds.is_empty() {
            out.push(("seed", top(SEED, &all)));
        }
        out
    }
}

/// The union of the nominations: (song, bit mask of the sources that
/// nominated it), by song.
pub(crate) fn unite(noms: &[(&'static str, Vec<usize>)]) -> Vec<(usize, u16)> {
    let mut cand: Vec<(usize, u16)> =
        noms.iter().enumerate().flat_map(|(i, (_, v))| v.iter().map(move |&s| (s, 1u16 << i))).collect();
    cand.sort_unstable_by_key(|e| e.0);
    cand.dedup_by(|b, a| {
        let same = a.0 == b.0;
        if same {
            a.1 |= b.1;
        }
        same
    });
    cand
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_keeps_the_best_and_breaks_ties_by_position() {
        let mut best = top_k(vec![(0.5, 0), (0.9, 1), (0.5, 2), (0.1, 3), (0.9, 4)], 3);
        best.sort_unstable();
        assert_eq!(best, vec![0, 1, 4]);
        assert!(top_k(vec![(1.0, 0)], 0).is_empty());
        assert_eq!(top_k(vec![(1.0, 7)], 5), vec![7]);
    }

    #[test]
    fn the_union_marks_every_source_of_a_song() {
        let noms = vec![("cf", vec![3, 1]), ("audio", vec![1, 5]), ("text", vec![])];
        assert_eq!(unite(&noms), vec![(1, 0b11), (3, 0b01), (5, 0b10)]);
    }
}
