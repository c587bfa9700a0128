//! Property tests of everything that parses outside input: configs (from fields, from JSON) and
//! safetensors files. They never panic; what they accept is valid and round-trips; what they
//! reject is named.
//!
//! A normal `cargo test` runs a few thousand cases. For a long fuzzing session, give it time:
//!
//! ```sh
//! INITLAB_FUZZ_SECONDS=600 cargo test -p initlab --test fuzz -- --nocapture
//! ```

mod common;

use std::time::{Duration, Instant};

use initlab::{ExperimentConfig, FieldValue, InitialTensors, config::FIELDS};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Runs `strategy` against `check` for the default case count, or for INITLAB_FUZZ_SECONDS.
fn fuzz<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    check: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let seconds: u64 = std::env::var("INITLAB_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut total = 0u64;
    loop {
        let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
        if let Err(e) = runner.run(&strategy, &check) {
            panic!("{name}: {e}");
        }
        total += cases as u64;
        if Instant::now() >= deadline {
            break;
        }
    }
    if seconds > 0 {
        println!("{name}: {total} cases in {seconds} s, no failure");
    }
}

fn field_value() -> impl Strategy<Value = FieldValue> {
    prop_oneof![
        any::<f64>().prop_map(FieldValue::Number),
        prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(-0.0), Just(1e300), Just(2f64.powi(53))]
            .prop_map(FieldValue::Number),
        (-5i64..300).prop_map(|n| FieldValue::Number(n as f64)),
        any::<bool>().prop_map(FieldValue::Bool),
        Just(FieldValue::Null),
        "\\PC{0,12}".prop_map(FieldValue::Text),
        prop_oneof![
            Just("two_conv"),
            Just("single_conv"),
            Just("zeros"),
            Just("constant"),
            Just("normal"),
            Just("stack"),
            Just("batch"),
            Just("none"),
            Just("tanh"),
            Just("sigmoid"),
            Just("norm_only"),
            Just("input_argmax"),
            Just("orthogonal"),
            Just("1e-3"),
            Just("0x10"),
            Just(" 7 ")
        ]
        .prop_map(|s| FieldValue::Text(s.to_string())),
    ]
}

fn key() -> impl Strategy<Value = String> {
    let keys: Vec<&str> = FIELDS.iter().map(|f| f.key).collect();
    prop_oneof![4 => proptest::sample::select(keys).prop_map(String::from), 1 => "\\PC{0,8}"]
}

#[test]
fn configs_from_any_fields_are_valid_or_named() {
    fuzz("config fields", 2000, proptest::collection::vec((key(), field_value()), 0..8), |fields| {
        match ExperimentConfig::from_fields(fields.clone()) {
            Ok(config) => {
                prop_assert!(config.validate().is_ok());
                let back =
                    ExperimentConfig::from_json(&config.to_json()).expect("an accepted config round-trips");
                prop_assert_eq!(back, config);
            }
            Err(error) => {
                let text = error.to_string();
                let shown = error.shown_field();
                prop_assert!(!shown.is_empty() && text.starts_with(&format!("{shown}: ")), "{}", text);
                prop_assert!(
                    text.contains("must be")
                        || text.contains("unknown field")
                        || text.contains("needs a value")
                        || text.contains("only for arch \"stack\"")
                        || text.contains("needs norm \"batch\""),
                    "{}",
                    text
                );
            }
        }
        Ok(())
    });
}

#[test]
fn configs_from_any_json_text_never_panic() {
    let json = prop_oneof![
        "\\PC{0,64}",
        proptest::collection::vec((key(), field_value()), 0..6).prop_map(|fields| {
            let body: Vec<String> = fields
                .iter()
                .map(|(k, v)| {
                    let value = match v {
                        FieldValue::Number(x) if x.is_finite() => format!("{x}"),
                        FieldValue::Number(_) => "1e999".to_string(),
                        FieldValue::Text(s) => serde_json::to_string(s).unwrap(),
                        FieldValue::Bool(b) => b.to_string(),
                        FieldValue::Null => "null".to_string(),
                    };
                    format!("{}: {value}", serde_json::to_string(k).unwrap())
                })
                .collect();
            format!("{{{}}}", body.join(", "))
        }),
    ];
    fuzz("config json", 2000, json, |text| {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text)
            && let Ok(config) = ExperimentConfig::from_json(&value)
        {
            prop_assert!(config.validate().is_ok());
        }
        Ok(())
    });
}

/// A valid file to start mutating from, and the config it matches.
fn valid_file() -> (Vec<u8>, ExperimentConfig) {
    let config = ExperimentConfig { batch: 2, height: 5, width: 4, ..Default::default() };
    (InitialTensors::from_seed(&config).to_safetensors(&config), config)
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    HeaderLength(u64),
}

#[test]
fn safetensors_loader_never_panics() {
    let (file, config) = valid_file();
    let len = file.len();
    let mutation = prop_oneof![
        (0..len, any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (0..len).prop_map(Mutation::Truncate),
        (0..len, proptest::collection::vec(any::<u8>(), 1..16)).prop_map(|(i, v)| Mutation::Insert(i, v)),
        any::<u64>().prop_map(Mutation::HeaderLength),
    ];
    let configs = prop_oneof![
        Just(config.clone()),
        (1u64..4, 1u64..8, 1u64..8).prop_map(move |(b, h, w)| ExperimentConfig {
            batch: b,
            height: h,
            width: w,
            ..Default::default()
        }),
    ];
    fuzz("safetensors", 3000, (proptest::collection::vec(mutation, 1..4), configs), |(mutations, config)| {
        let mut bytes = file.clone();
        for m in mutations {
            match m {
                Mutation::Flip(i, b) if i < bytes.len() => bytes[i] ^= b,
                Mutation::Truncate(n) => bytes.truncate(n),
                Mutation::Insert(i, v) if i <= bytes.len() => {
                    bytes.splice(i..i, v);
                }
                Mutation::HeaderLength(n) if bytes.len() >= 8 => bytes[..8].copy_from_slice(&n.to_le_bytes()),
                _ => {}
            }
        }
        if let Ok(inputs) = InitialTensors::from_safetensors(&bytes, &config) {
            prop_assert_eq!(inputs.image.len() as u64, config.batch * 3 * config.height * config.width);
            prop_assert_eq!(inputs.weights.len(), 2);
            prop_assert!(inputs.weights.iter().all(|w| w.len() == 81));
            prop_assert!(inputs.image.iter().chain(inputs.weights.iter().flatten()).all(|v| v.is_finite()));
        }
        Ok(())
    });
}

#[test]
fn arbitrary_bytes_are_not_safetensors() {
    let config = ExperimentConfig { height: 2, width: 2, ..Default::default() };
    fuzz("random bytes", 3000, proptest::collection::vec(any::<u8>(), 0..512), |bytes| {
        prop_assert!(InitialTensors::from_safetensors(&bytes, &config).is_err());
        Ok(())
    });
}
