//! Deterministic names for artists, songs and users.

use rand::seq::IndexedRandom;
use rand::Rng;

const ADJ: &[&str] = &[
    "Velvet",
    "Silver",
    "Crimson",
    "Hollow",
    "Neon",
    "Golden",
    "Quiet",
    "Electric",
    "Paper",
    "Wild",
    "Midnight",
    "Broken",
    "Lunar",
    "Amber",
    "Glass",
    "Iron",
    "Secret",
    "Northern",
    "Solar",
    "Static",
    "Wandering",
    "Cosmic",
    "Faded",
    "Burning",
    "Frozen",
    "Distant",
    "Little",
    "Dusty",
    "Scarlet",
    "Violet",
];
const NOUN: &[&str] = &[
    "Harbors",
    "Kites",
    "Engines",
    "Foxes",
    "Rivers",
    "Echoes",
    "Lanterns",
    "Mirrors",
    "Wolves",
    "Satellites",
    "Orchards",
    "Pilots",
    "Shadows",
    "Tides",
    "Gardens",
    "Ghosts",
    "Horizons",
    "Signals",
    "Sparrows",
    "Canyons",
    "Machines",
    "Poets",
    "Comets",
    "Islands",
    "Strangers",
    "Thieves",
    "Circles",
    "Waves",
    "Owls",
    "Bridges",
];
const FIRST: &[&str] = &[
    "Nova",
    "Mira",
    "Jonas",
    "Lena",
    "Oskar",
    "Ada",
    "Felix",
    "Ines",
    "Theo",
    "Yara",
    "Milo",
    "Saskia",
    "Emil",
    "Noor",
    "Aurelio",
    "Björn",
    "Zoë",
    "Renée",
    "Joaquín",
    "Ségolène",
];
const LAST: &[&str] = &[
    "Vance",
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Castellano",
    "Hart",
    "Sato",
    "Brennan",
    "Novak",
    "Adeyemi",
    "Kowalski",
    "Silva",
    "Fischer",
    "Dubois",
    "Marlowe",
    "Quinn",
    "Halloran",
    "Reyes",
    "Ström",
    "Whitlock",
];
const TITLE_A: &[&str] = &[
    "Summer", "Last", "Blue", "Falling", "Endless", "Golden", "Neon", "Slow", "Open", "Lost", "Paper", "Silent",
    "Electric", "Morning", "Broken", "Sweet", "Burning", "Faraway", "Hidden", "Wild", "Velvet", "Crystal",
];
const TITLE_B: &[&str] = &[
    "Lights",
    "Roads",
    "Hearts",
    "Skies",
    "Dreams",
    "Letters",
    "Nights",
    "Rain",
    "Fires",
    "Waters",
    "Streets",
    "Days",
    "Lines",
    "Echo",
    "Signal",
    "Motion",
    "Gravity",
    "Season",
    "Parade",
    "Highway",
    "Garden",
    "静かな夜",
];

/// A fresh artist name: "The Velvet Harbors", "Velvet Harbors" or "Nova Vance".
pub(crate) fn artist(rng: &mut impl Rng) -> String {
    match rng.random_range(0..3) {
        0 => format!("The {} {}", ADJ.choose(rng).unwrap(), NOUN.choose(rng).unwrap()),
        1 => format!("{} {}", ADJ.choose(rng).unwrap(), NOUN.choose(rng).unwrap()),
        _ => format!("{} {}", FIRST.choose(rng).unwrap(), LAST.choose(rng).unwrap()),
    }
}

/// A song title.
pub(crate) fn title(rng: &mut impl Rng) -> String {
    let a = TITLE_A.choose(rng).unwrap();
    let b = TITLE_B.choose(rng).unwrap();
    match rng.random_range(0..4) {
        0 => format!("{a} {b}"),
        1 => format!("The {a} {b}"),
        2 => format!("{a} {b} (Part {})", rng.random_range(2..4)),
        _ => format!("{b} of {a}"),
    }
}

/// A UUID-shaped MusicBrainz id.
pub(crate) fn mbid(rng: &mut impl Rng) -> String {
    let b: [u8; 16] = rng.random();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        u16::from_be_bytes([b[4], b[5]]),
        u16::from_be_bytes([b[6], b[7]]) & 0x0fff,
        (u16::from_be_bytes([b[8], b[9]]) & 0x3fff) | 0x8000,
        u64::from_be_bytes([0, 0, b[10], b[11], b[12], b[13], b[14], b[15]])
    )
}
