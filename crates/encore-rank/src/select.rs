//! Selection: the list from the scored candidates — maximal marginal
//! relevance (MMR) under a per-artist cap and a quota of artists the user
//! never played.

use std::collections::HashMap;

/// The rules of a selection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rules {
    /// How many songs.
    pub n: usize,
    /// At most this many songs per artist.
    pub max_per_artist: usize,
    /// 1 = score only, 0 = diversity only.
    pub mmr_lambda: f32,
    /// At least this share of the list from artists the user never played.
    pub min_new_artist_share: f32,
}

/// Picks up to `rules.n` of the `scored` candidates (slot, score), best
/// first by MMR: score (scaled to 0–1) weighted by λ minus the largest
/// `similarity` to a song already chosen weighted by 1 − λ. A candidate
/// whose `artist` already has `max_per_artist` songs is skipped; when the
/// slots left are no more than the new artists still owed, only new
/// artists (`is_new`, or no artist) qualify. Only the best `10 n` by score
/// are considered (a window wide enough for diversity to matter, narrow
/// enough that the pairwise similarities stay cheap). Returns (slot,
/// score) in the order chosen.
pub(crate) fn select(
    scored: Vec<(usize, f32)>,
    rules: &Rules,
    artist: impl Fn(usize) -> Option<i64>,
    is_new: impl Fn(i64) -> bool,
    similarity: impl Fn(usize, usize) -> f32,
) -> Vec<(usize, f32)> {
    let (lo, hi) = scored.iter().fold((f32::MAX, f32::MIN), |(l, h), e| (l.min(e.1), h.max(e.1)));
    let span = (hi - lo).max(1e-6);
    let mut left = scored;
    left.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    left.truncate(rules.n * 10);
    let need_new = (rules.min_new_artist_share * rules.n as f32).ceil() as usize;
    let mut chosen: Vec<(usize, f32)> = Vec::with_capacity(rules.n);
    let mut per_artist: HashMap<i64, usize> = HashMap::new();
    let mut new_count = 0;
    let mut max_sim = vec![0f32; left.len()];
    let mut taken = vec![false; left.len()];
    while chosen.len() < rules.n {
        let slots = rules.n - chosen.len();
        let must_new = need_new.saturating_sub(new_count) >= slots;
        let mut best: Option<(usize, f32)> = None;
        for (k, &(slot, v)) in left.iter().enumerate() {
            if taken[k] {
                continue;
            }
            let a = artist(slot);
            if a.is_some_and(|a| per_artist.get(&a).copied().unwrap_or(0) >= rules.max_per_artist) {
                continue;
            }
            if must_new && !a.is_none_or(&is_new) {
                continue;
            }
            let m = rules.mmr_lambda * (v - lo) / span - (1.0 - rules.mmr_lambda) * max_sim[k];
            if best.is_none_or(|b| m > b.1) {
                best = Some((k, m));
            }
        }
        let Some((k, _)) = best else { break };
        taken[k] = true;
        let (slot, v) = left[k];
        match artist(slot) {
            Some(a) => {
                *per_artist.entry(a).or_default() += 1;
                if is_new(a) {
                    new_count += 1;
                }
            }
            None => new_count += 1,
        }
        chosen.push((slot, v));
        if rules.mmr_lambda < 1.0 {
            for (j, &(t, _)) in left.iter().enumerate() {
                if !taken[j] {
                    max_sim[j] = max_sim[j].max(similarity(slot, t));
                }
            }
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: Rules = Rules { n: 3, max_per_artist: 10, mmr_lambda: 1.0, min_new_artist_share: 0.0 };

    /// Candidates 0..n scoring n, n − 1, …, 1.
    fn descending(n: usize) -> Vec<(usize, f32)> {
        (0..n).map(|i| (i, (n - i) as f32)).collect()
    }

    fn slots(chosen: &[(usize, f32)]) -> Vec<usize> {
        chosen.iter().map(|c| c.0).collect()
    }

    #[test]
    fn with_lambda_one_the_best_scores_win_in_order() {
        let chosen = select(descending(6), &RULES, |_| None, |_| true, |_, _| 0.0);
        assert_eq!(slots(&chosen), vec![0, 1, 2]);
        assert_eq!(chosen[0].1, 6.0, "scores come back unchanged");
    }

    #[test]
    fn no_artist_has_more_songs_than_the_cap() {
        // Slots 0–3 by artist 1, the rest by artists of their own.
        let artist = |s: usize| Some(if s < 4 { 1 } else { s as i64 });
        let rules = Rules { n: 4, max_per_artist: 2, ..RULES };
        assert_eq!(slots(&select(descending(8), &rules, artist, |_| true, |_, _| 0.0)), vec![0, 1, 4, 5]);
    }

    #[test]
    fn the_new_artist_quota_is_met_at_the_end_of_the_list() {
        // The user played artist 1; it has the best five songs.
        let artist = |s: usize| Some(if s < 5 { 1 } else { 100 + s as i64 });
        let is_new = |a: i64| a != 1;
        let rules = Rules { n: 4, min_new_artist_share: 0.5, ..RULES };
        let chosen = slots(&select(descending(8), &rules, artist, is_new, |_, _| 0.0));
        assert_eq!(chosen, vec![0, 1, 5, 6], "two of four from artists never played");
        // A song without an artist counts as new.
        let chosen = slots(&select(descending(8), &rules, |s| (s < 5).then_some(1), is_new, |_, _| 0.0));
        assert_eq!(chosen, vec![0, 1, 5, 6]);
    }

    #[test]
    fn mmr_trades_score_for_diversity() {
        // Slots 0 and 1 are near duplicates; slot 2 scores a little less
        // and is unlike both.
        let scored = vec![(0, 1.0), (1, 0.98), (2, 0.9), (3, 0.0)];
        let sim = |a: usize, b: usize| if a.min(b) == 0 && a.max(b) == 1 { 0.99 } else { 0.1 };
        let rules = Rules { n: 2, ..RULES };
        assert_eq!(slots(&select(scored.clone(), &rules, |_| None, |_| true, sim)), vec![0, 1]);
        let rules = Rules { n: 2, mmr_lambda: 0.5, ..RULES };
        assert_eq!(slots(&select(scored, &rules, |_| None, |_| true, sim)), vec![0, 2]);
    }

    #[test]
    fn fewer_candidates_than_asked_give_a_shorter_list() {
        let rules = Rules { n: 5, max_per_artist: 1, ..RULES };
        let chosen = select(descending(4), &rules, |s| Some(s as i64 % 2), |_| true, |_, _| 0.0);
        assert_eq!(slots(&chosen), vec![0, 1], "two artists, one song each");
        assert!(select(Vec::new(), &RULES, |_| None, |_| true, |_, _| 0.0).is_empty());
    }
}
