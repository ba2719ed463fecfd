//! The streaming JSON-array scanner against parsing the whole array at once.

use encore_ingest::{Format, Parsed};
use encore_types::Record;
use proptest::prelude::*;
use serde_json::json;

fn title() -> impl Strategy<Value = String> {
    // Quotes, backslashes, brackets, commas, newlines and non-ASCII: all the
    // characters a byte scanner could trip on.
    proptest::string::string_regex("[a-zA-Z0-9 ,\\[\\]{}\"\\\\\n\u{e9}\u{65e5}]{0,12}")
        .unwrap()
        .prop_map(|t| format!("x{t}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn scanner_yields_every_element_in_order(
        titles in proptest::collection::vec(title(), 0..20),
        pretty in any::<bool>(),
    ) {
        let listens: Vec<_> = titles.iter().enumerate().map(|(i, t)| json!({
            "listened_at": 1_700_000_000 + i as i64,
            "user_name": "u",
            "track_metadata": { "artist_name": "A", "track_name": t, "additional_info": { "tags": [t, [1, {"x": t}]] } },
        })).collect();
        let text = if pretty { serde_json::to_string_pretty(&listens) } else { serde_json::to_string(&listens) }.unwrap();
        let mut got = Vec::new();
        Format::ListenBrainz
            .parse(Box::new(std::io::Cursor::new(text.into_bytes())), &Default::default(), 0, &mut |item| {
                got.push(item);
                true
            })
            .unwrap();
        prop_assert_eq!(got.len(), titles.len());
        for (item, t) in got.iter().zip(&titles) {
            match &item.parsed {
                Parsed::Record(Record::Listen { track, .. }) => prop_assert_eq!(&track.title, t.trim()),
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
    }
}
