//! Filters and targets: attribute bounds (tempo, key, mode, loudness,
//! duration) that leave songs out, and targets that penalise distance.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::{Attributes, Error, Played, Result};

/// Bounds and targets on song attributes (Spotify-Web-API style).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tunables {
    /// Minimum tempo, BPM.
    pub min_tempo: Option<f32>,
    /// Maximum tempo, BPM.
    pub max_tempo: Option<f32>,
    /// Preferred tempo, BPM.
    pub target_tempo: Option<f32>,
    /// Required key (pitch class, 0 = C).
    pub key: Option<u8>,
    /// Required mode: true = major.
    pub major: Option<bool>,
    /// Minimum loudness, LUFS.
    pub min_loudness: Option<f32>,
    /// Maximum loudness, LUFS.
    pub max_loudness: Option<f32>,
    /// Preferred loudness, LUFS.
    pub target_loudness: Option<f32>,
    /// Minimum duration, seconds.
    pub min_duration: Option<f32>,
    /// Maximum duration, seconds.
    pub max_duration: Option<f32>,
    /// Preferred duration, seconds.
    pub target_duration: Option<f32>,
}

impl Tunables {
    pub(crate) fn any_filter(&self) -> bool {
        self.min_tempo.is_some()
            || self.max_tempo.is_some()
            || self.key.is_some()
            || self.major.is_some()
            || self.min_loudness.is_some()
            || self.max_loudness.is_some()
            || self.min_duration.is_some()
            || self.max_duration.is_some()
    }

    pub(crate) fn admits(&self, a: Option<&Attributes>) -> bool {
        if !self.any_filter() {
            return true;
        }
        let Some(a) = a else { return false };
        let ge = |v: f32, m: Option<f32>| m.is_none_or(|m| v >= m);
        let le = |v: f32, m: Option<f32>| m.is_none_or(|m| v <= m);
        ge(a.tempo, self.min_tempo)
            && le(a.tempo, self.max_tempo)
            && self.key.is_none_or(|k| k == a.key)
            && self.major.is_none_or(|m| m == a.major)
            && ge(a.loudness, self.min_loudness)
            && le(a.loudness, self.max_loudness)
            && ge(a.duration, self.min_duration)
            && le(a.duration, self.max_duration)
    }

    /// Penalty (in logit units) for distance from the targets.
    pub(crate) fn penalty(&self, a: Option<&Attributes>) -> f32 {
        let Some(a) = a else {
            return if self.target_tempo.or(self.target_loudness).or(self.target_duration).is_some() {
                1.0
            } else {
                0.0
            };
        };
        let mut p = 0.0;
        if let Some(t) = self.target_tempo {
            p += (a.tempo - t).abs() / 10.0;
        }
        if let Some(t) = self.target_loudness {
            p += (a.loudness - t).abs() / 3.0;
        }
        if let Some(t) = self.target_duration {
            p += (a.duration - t).abs() / 60.0;
        }
        p
    }

    /// Checks the bounds make sense.
    pub fn validate(&self) -> Result<()> {
        let pair = |name: &str, lo: Option<f32>, hi: Option<f32>| -> Result<()> {
            for v in [lo, hi].into_iter().flatten() {
                if !v.is_finite() {
                    return Err(Error::BadRequest(format!("{name} bounds must be finite numbers")));
                }
            }
            if let (Some(l), Some(h)) = (lo, hi) {
                if l > h {
                    return Err(Error::BadRequest(format!("min_{name} {l} is above max_{name} {h}")));
                }
            }
            Ok(())
        };
        pair("tempo", self.min_tempo, self.max_tempo)?;
        pair("loudness", self.min_loudness, self.max_loudness)?;
        pair("duration", self.min_duration, self.max_duration)?;
        if self.key.is_some_and(|k| k > 11) {
            return Err(Error::BadRequest("key must be a pitch class 0–11".into()));
        }
        Ok(())
    }
}

/// The songs of `history` to leave out, sorted: all of them, or with
/// `Some(days)` those played within that many days of `now` (a song with
/// no date counts as recent).
pub(crate) fn played_songs(history: &[Played], days: Option<u32>, now: i64) -> Vec<usize> {
    let mut played: Vec<usize> = history
        .iter()
        .filter(|h| match days {
            None => true,
            Some(d) => h.last_played == 0 || h.last_played >= now - d as i64 * 86_400,
        })
        .map(|h| h.song)
        .collect();
    played.sort_unstable();
    played
}

/// Leaves out of the candidates (song, sources) the `played` songs
/// (sorted), the `exclude`d ones (served before) and those outside the
/// bounds; returns how many were left after each of the three.
pub(crate) fn leave_out(
    cand: &mut Vec<(usize, u16)>,
    played: &[usize],
    exclude: &HashSet<usize>,
    tunables: &Tunables,
    attrs: &[Option<Attributes>],
) -> (usize, usize, usize) {
    cand.retain(|e| played.binary_search(&e.0).is_err());
    let after_played = cand.len();
    cand.retain(|e| !exclude.contains(&e.0));
    let after_excluded = cand.len();
    cand.retain(|e| tunables.admits(attrs[e.0].as_ref()));
    (after_played, after_excluded, cand.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(tempo: f32, key: u8, major: bool) -> Attributes {
        Attributes { tempo, key, major, loudness: -10.0, duration: 200.0 }
    }

    fn played(song: usize, last_played: i64) -> Played {
        Played { song, plays: 1.0, skips: 0, last_played }
    }

    #[test]
    fn played_songs_are_left_out_for_ever_or_within_the_window() {
        let day = 86_400;
        let now = 100 * day;
        let h = [played(4, now - 2 * day), played(2, now - 40 * day), played(9, 0)];
        assert_eq!(played_songs(&h, None, now), vec![2, 4, 9]);
        assert_eq!(played_songs(&h, Some(30), now), vec![4, 9], "the song played 40 days ago may come back");
    }

    #[test]
    fn played_served_and_out_of_bounds_songs_never_pass() {
        let a = vec![Some(attrs(120.0, 0, true)), Some(attrs(90.0, 0, true)), None, Some(attrs(125.0, 2, false))];
        let mut cand: Vec<(usize, u16)> = (0..4).map(|s| (s, 1)).collect();
        let served: HashSet<usize> = [3].into();
        let t = Tunables { min_tempo: Some(100.0), ..Tunables::default() };
        let left = leave_out(&mut cand, &[1], &served, &t, &a);
        assert_eq!(left, (3, 2, 1));
        assert_eq!(cand, vec![(0, 1)], "song 2 has no attributes, so a bound cannot admit it");
        // No bound: a song without attributes passes.
        let mut cand: Vec<(usize, u16)> = (0..4).map(|s| (s, 1)).collect();
        leave_out(&mut cand, &[], &HashSet::new(), &Tunables::default(), &a);
        assert_eq!(cand.len(), 4);
    }

    #[test]
    fn bounds_key_and_mode_filter_and_targets_penalise_distance() {
        let t = Tunables { key: Some(2), major: Some(false), max_tempo: Some(130.0), ..Tunables::default() };
        assert!(t.admits(Some(&attrs(125.0, 2, false))));
        assert!(!t.admits(Some(&attrs(125.0, 2, true))), "mode");
        assert!(!t.admits(Some(&attrs(125.0, 3, false))), "key");
        assert!(!t.admits(Some(&attrs(131.0, 2, false))), "max tempo");
        let target = Tunables { target_tempo: Some(120.0), ..Tunables::default() };
        assert_eq!(target.penalty(Some(&attrs(120.0, 0, true))), 0.0);
        assert!((target.penalty(Some(&attrs(140.0, 0, true))) - 2.0).abs() < 1e-6, "10 BPM per logit unit");
        assert_eq!(target.penalty(None), 1.0, "unknown attributes pay a flat penalty");
        assert_eq!(Tunables::default().penalty(None), 0.0);
    }

    #[test]
    fn bounds_that_make_no_sense_are_refused() {
        let bad = [
            Tunables { min_tempo: Some(130.0), max_tempo: Some(120.0), ..Tunables::default() },
            Tunables { min_loudness: Some(f32::NAN), ..Tunables::default() },
            Tunables { key: Some(12), ..Tunables::default() },
        ];
        for t in bad {
            assert!(matches!(t.validate(), Err(Error::BadRequest(_))), "{t:?}");
        }
        let ok = Tunables { min_tempo: Some(120.0), max_tempo: Some(120.0), key: Some(11), ..Tunables::default() };
        assert!(ok.validate().is_ok());
    }
}
