//! The README's tables of config keys against the engine's field table: every key has a row,
//! and the row of a choice names every choice, so the documentation cannot fall behind the
//! engine (a new initializer or key fails here until its row says so).

use initlab::config::{FIELDS, Kind};

/// The README's table rows: the keys in the first cell (backticked), the whole row's text.
fn rows() -> Vec<(Vec<String>, String)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    readme
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let first = l.split('|').nth(1).unwrap_or("");
            let keys = first.split('`').skip(1).step_by(2).map(str::to_string).collect();
            (keys, l.to_string())
        })
        .collect()
}

#[test]
fn every_config_key_and_choice_is_in_the_readme() {
    let rows = rows();
    for field in FIELDS.iter() {
        let row = rows
            .iter()
            .find(|(keys, _)| keys.iter().any(|k| k == field.key))
            .unwrap_or_else(|| panic!("README.md: no row for the config key `{}`", field.key));
        if let Kind::Choice(names) = field.kind {
            for name in names {
                assert!(
                    row.1.contains(&format!("`{name}`")),
                    "README.md, row of `{}`: no `{name}`",
                    field.key
                );
            }
        }
    }
}
