use std::path::PathBuf;

/// `tests/fixtures/` at the repository root.
pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

#[allow(dead_code)] // not every test file uses it
/// Every fixture JSON there, sorted.
pub fn fixtures() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .expect("tests/fixtures exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
}

#[allow(dead_code)] // not every test file uses it
pub fn fixture(name: &str) -> PathBuf {
    fixture_dir().join(format!("{name}.json"))
}
