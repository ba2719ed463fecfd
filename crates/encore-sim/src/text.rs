//! Articles about artists and songs, written from the genre and mood
//! vocabularies with noise, mentioning related artists together.

use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::world::{World, GENRES, MOODS};

const FILLER: &[&str] = &[
    "The record arrived last week and has barely left the turntable.",
    "Fans have waited a long time for this.",
    "Tickets for the tour went on sale on Friday.",
    "It was recorded over three weeks in a converted barn.",
    "The label calls it a return to form.",
    "Critics were divided at first.",
    "The video premiered online yesterday.",
    "The band played it live for the first time in Berlin.",
];
const NOISE_ADJ: &[&str] = &["new", "great", "interesting", "important", "good", "big", "long", "first"];

/// One generated article with its ground truth.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Article {
    pub url: String,
    pub title: String,
    pub text: String,
    pub published: String,
    /// The artist the article is about.
    pub about: usize,
    /// The song it reviews, if any.
    pub song: Option<usize>,
    /// Related artists mentioned together with it (same genre).
    pub related: Vec<usize>,
    /// An artist mentioned only in a negated comparison.
    pub contrast: Option<usize>,
}

fn words<'a>(rng: &mut impl Rng, pool: &[&'a str], n: usize) -> Vec<&'a str> {
    let mut v: Vec<&str> = pool.choose_multiple(rng, n.min(pool.len())).copied().collect();
    v.shuffle(rng);
    v
}

fn sentence_about(rng: &mut impl Rng, name: &str, genre_vocab: &[&str], mood_vocab: &[&str]) -> String {
    let g = words(rng, genre_vocab, 2);
    let m = words(rng, mood_vocab, 1);
    let noise = NOISE_ADJ.choose(rng).unwrap();
    match rng.random_range(0..5) {
        0 => format!("{name} make {} and {} music that feels {}.", g[0], g[1], m[0]),
        1 => format!("The {noise} songs by {name} are {}, {} and {}.", g[0], m[0], g[1]),
        2 => format!("Expect something {} from {name}: {} grooves and a {} mood.", m[0], g[0], g[1]),
        3 => format!("{name} sound {} here, {} but never less than {}.", g[0], m[0], g[1]),
        _ => format!("Few acts are as {} as {name}, and the {} edge keeps it {}.", g[0], g[1], m[0]),
    }
}

pub(crate) fn articles(world: &World) -> Vec<Article> {
    let mut rng = ChaCha8Rng::seed_from_u64(world.config.seed ^ 0x7e47);
    let mut out = Vec::new();
    let n_artist_pieces = world.artists.len() * 3;
    let playable: Vec<usize> = (0..world.songs.len()).collect();
    let n_song_pieces = world.songs.len() / 3 + world.songs.iter().filter(|s| s.new_release).count();
    for k in 0..(n_artist_pieces + n_song_pieces) {
        let (about, song) = if k < n_artist_pieces {
            (k % world.artists.len(), None)
        } else if k - n_artist_pieces < world.songs.iter().filter(|s| s.new_release).count() {
            // Every new release gets a review.
            let s = world.songs.iter().filter(|s| s.new_release).nth(k - n_artist_pieces).expect("in range");
            (s.artist, Some(s.id))
        } else {
            let &s = playable.choose(&mut rng).expect("songs exist");
            (world.songs[s].artist, Some(s))
        };
        let a = &world.artists[about];
        let genre = &GENRES[a.genre];
        let mood = song.map_or(a.mood, |s| world.songs[s].mood);
        let mood_vocab = MOODS[mood].1;
        let peers: Vec<usize> =
            world.artists.iter().filter(|b| b.genre == a.genre && b.id != a.id).map(|b| b.id).collect();
        let n_related = rng.random_range(1..=3).min(peers.len());
        let related: Vec<usize> = peers.choose_multiple(&mut rng, n_related).copied().collect();
        let others: Vec<usize> = world.artists.iter().filter(|b| b.genre != a.genre).map(|b| b.id).collect();
        let contrast = (rng.random::<f32>() < 0.3).then(|| others.choose(&mut rng).copied()).flatten();

        let mut sentences = Vec::new();
        let title = match song {
            Some(s) => {
                let t = &world.songs[s].title;
                sentences.push(format!(
                    "\"{t}\" by {} is {} and {}.",
                    a.name,
                    words(&mut rng, genre.vocab, 1)[0],
                    words(&mut rng, mood_vocab, 1)[0]
                ));
                format!("Review: {} – {t}", a.name)
            }
            None => {
                format!("{}: {} {} sounds", a.name, genre.vocab[rng.random_range(0..genre.vocab.len())], mood_vocab[0])
            }
        };
        for _ in 0..rng.random_range(2..4) {
            sentences.push(sentence_about(&mut rng, &a.name, genre.vocab, mood_vocab));
        }
        sentences.push(FILLER.choose(&mut rng).unwrap().to_string());
        for &r in &related {
            let name = &world.artists[r].name;
            sentences.push(match rng.random_range(0..3) {
                0 => format!("Fans of {name} will feel at home with {}.", a.name),
                1 => format!("{} toured with {name} last year, and it shows.", a.name),
                _ => format!("Like {name}, {} keep things {}.", a.name, words(&mut rng, genre.vocab, 1)[0]),
            });
        }
        if let Some(c) = contrast {
            sentences.push(format!("It sounds nothing like {}.", world.artists[c].name));
        }
        sentences.push(FILLER.choose(&mut rng).unwrap().to_string());
        let day = rng.random_range(0..world.config.days.max(1) as i64);
        let published = chrono::DateTime::from_timestamp(crate::world::HISTORY_START + day * 86_400, 0)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        out.push(Article {
            url: format!("https://demo.encore.invalid/articles/{k:05}"),
            title,
            text: sentences.join(" "),
            published,
            about,
            song,
            related,
            contrast,
        });
    }
    out
}

/// The article as a web page with the boilerplate a reader must drop.
pub(crate) fn html(a: &Article) -> String {
    let paras: String = a
        .text
        .split_inclusive(". ")
        .collect::<Vec<_>>()
        .chunks(3)
        .map(|c| format!("<p>{}</p>\n", escape(c.concat().trim())))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title>\n\
         <script>var tracking = {{ page: \"{u}\" }};</script><style>body {{ font-family: serif; }}</style></head>\n\
         <body><nav><a href=\"/\">Home</a> | <a href=\"/reviews\">Reviews</a> | <a href=\"/news\">News</a></nav>\n\
         <article><h1>{t}</h1>\n<time datetime=\"{d}\">{d}</time>\n{paras}</article>\n\
         <footer>© Demo Music Weekly. Subscribe to our newsletter.</footer></body></html>\n",
        t = escape(&a.title),
        u = a.url,
        d = a.published,
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
