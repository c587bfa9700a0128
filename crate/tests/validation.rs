//! Bad input, table-driven: every rejection names its field (or file) and the allowed range,
//! in the library and in the CLI (exit code 2, one line on stderr, no panic).

mod common;

use std::process::Command;

use initlab::{ExperimentConfig, FieldValue, InitialTensors};

use FieldValue::{Bool, Null, Number, Text};

/// (field, value, what the message must contain besides the field name)
fn bad_fields() -> Vec<(&'static str, FieldValue, &'static str)> {
    vec![
        ("lr", Number(f64::NAN), "> 0"),
        ("lr", Number(f64::INFINITY), "> 0"),
        ("lr", Number(0.0), "> 0"),
        ("lr", Number(-0.01), "> 0"),
        ("lr", Number(1e31), "1e30"),
        ("lr", Text("fast".into()), "got \"fast\""),
        ("lr", Text("".into()), "> 0"),
        ("momentum", Number(1.0), "< 1"),
        ("momentum", Number(-0.1), "≥ 0"),
        ("momentum", Number(f64::NEG_INFINITY), "< 1"),
        ("epochs", Number(0.0), "1 to 100000"),
        ("epochs", Number(100_001.0), "1 to 100000"),
        ("epochs", Number(2.5), "integer"),
        ("epochs", Null, "integer"),
        ("batch", Number(0.0), "≥ 1"),
        ("height", Number(-3.0), "≥ 1"),
        ("width", Number(1e12), "pixels"),
        ("label", Number(3.0), "0 to 2"),
        ("label", Number(-1.0), "0 to 2"),
        ("seed", Number(-1.0), "0 to"),
        ("seed", Number(2f64.powi(60)), "0 to"),
        ("arch", Text("three_conv".into()), "\"two_conv\""),
        ("arch", Number(2.0), "\"single_conv\""),
        ("init", Text("he".into()), "\"kaiming_normal\""),
        ("init_value", Number(f64::NAN), "number"),
        ("zero_grad", Text("maybe".into()), "true or false"),
        ("zero_grad", Number(2.0), "true or false"),
        ("colour", Text("red".into()), "unknown field"),
        ("<script>", Bool(true), "unknown field"),
    ]
}

#[test]
fn library_rejects_each_bad_field_by_name() {
    for (field, value, expect) in bad_fields() {
        let error = ExperimentConfig::from_fields([(field, value.clone())])
            .expect_err(&format!("{field} = {value} was accepted"));
        assert_eq!(error.field, field, "{field} = {value}: named {}", error.field);
        let text = error.to_string();
        assert!(text.starts_with(&format!("{}: ", error.shown_field())), "{text}");
        assert!(text.contains(expect), "{field} = {value}: {text:?} lacks {expect:?}");
    }
}

#[test]
fn cross_field_rules() {
    let error = ExperimentConfig::from_fields([("init", Text("constant".into()))]).unwrap_err();
    assert_eq!(error.field, "init_value");
    let error =
        ExperimentConfig::from_fields([("init", Text("normal".into())), ("init_value", Number(-1.0))])
            .unwrap_err();
    assert_eq!(error.field, "init_value");
    let error = ExperimentConfig::from_fields([
        ("batch", Number(64.0)),
        ("height", Number(512.0)),
        ("width", Number(512.0)),
    ])
    .unwrap_err();
    assert!(error.to_string().contains("1048576 pixels"), "{error}");
    // The cap is inclusive: 1024 × 1024 is allowed.
    ExperimentConfig::from_fields([("height", Number(1024.0)), ("width", Number(1024.0))]).unwrap();
}

/// A bad-input case: (fields, the field the message names, what it must contain).
type Case = (Vec<(&'static str, FieldValue)>, &'static str, &'static str);

/// The depth lab's keys: (fields, the field the message names, what it must contain).
#[test]
fn stack_fields_are_checked() {
    let stack = || ("arch", Text("stack".into()));
    let cases: Vec<Case> = vec![
        (vec![stack(), ("depth", Number(0.0))], "depth", "1 to 32"),
        (vec![stack(), ("depth", Number(33.0))], "depth", "1 to 32"),
        (vec![stack(), ("channels", Number(0.0))], "channels", "1 to 32"),
        (vec![stack(), ("channels", Number(33.0))], "channels", "1 to 32"),
        (vec![stack(), ("norm", Text("layer".into()))], "norm", "\"batch\", \"none\""),
        (
            vec![stack(), ("activation", Text("gelu".into()))],
            "activation",
            "\"relu\", \"tanh\", \"sigmoid\", \"linear\"",
        ),
        (vec![stack(), ("target", Text("random".into()))], "target", "\"input_argmax\""),
        (vec![stack(), ("trainable", Text("bn".into()))], "trainable", "\"norm_only\""),
        (
            vec![stack(), ("norm", Text("none".into())), ("trainable", Text("norm_only".into()))],
            "trainable",
            "needs norm \"batch\"",
        ),
        (vec![stack(), ("init_noise", Number(-0.1))], "init_noise", "from 0"),
        (vec![stack(), ("init_noise", Number(f64::NAN))], "init_noise", "from 0"),
        (vec![stack(), ("bias", Text("yes".into()))], "bias", "true or false"),
        (vec![("depth", Number(3.0))], "depth", "only for arch \"stack\""),
        (
            vec![("arch", Text("single_conv".into())), ("activation", Text("tanh".into()))],
            "activation",
            "only for arch \"stack\"",
        ),
        (
            vec![stack(), ("depth", Number(32.0)), ("channels", Number(32.0))],
            "depth",
            "reduce batch, height, width, depth or channels",
        ),
        (
            vec![stack(), ("channels", Number(32.0)), ("height", Number(1024.0)), ("width", Number(1024.0))],
            "channels",
            "8388608 activations",
        ),
        // Within the plain bound (441,505 × 19 activations), but padded to 20 columns a row.
        (
            vec![
                stack(),
                ("depth", Number(2.0)),
                ("channels", Number(16.0)),
                ("height", Number(441505.0)),
                ("width", Number(1.0)),
            ],
            "height",
            "make it squarer",
        ),
        (
            vec![stack(), ("depth", Number(2.0)), ("height", Number(1.0)), ("width", Number(1000000.0))],
            "width",
            "≤ 16777216",
        ),
    ];
    for (fields, named, expect) in cases {
        let error =
            ExperimentConfig::from_fields(fields.clone()).expect_err(&format!("{fields:?} was accepted"));
        assert_eq!(error.field, named, "{fields:?}: named {}", error.field);
        assert!(error.to_string().contains(expect), "{fields:?}: {error} lacks {expect:?}");
    }
    // A struct literal goes through the same rules.
    let literal = ExperimentConfig { depth: 5, ..Default::default() };
    assert_eq!(literal.validate().unwrap_err().field, "depth");
    // At the bounds: accepted.
    ExperimentConfig::from_fields([
        stack(),
        ("depth", Number(32.0)),
        ("channels", Number(8.0)),
        ("height", Number(64.0)),
        ("width", Number(64.0)),
    ])
    .unwrap();
    ExperimentConfig::from_fields([stack(), ("depth", Number(1.0)), ("channels", Number(32.0))]).unwrap();
}

#[test]
fn stack_safetensors_are_checked_against_the_config() {
    let config = ExperimentConfig::from_fields([
        ("arch", Text("stack".into())),
        ("depth", Number(3.0)),
        ("channels", Number(4.0)),
        ("height", Number(6.0)),
        ("width", Number(5.0)),
    ])
    .unwrap();
    let bytes = InitialTensors::from_seed(&config).to_safetensors(&config);
    let inputs = InitialTensors::from_safetensors(&bytes, &config).unwrap();
    assert_eq!(inputs.weights.iter().map(Vec::len).collect::<Vec<_>>(), [4 * 3 * 9, 4 * 4 * 9, 3 * 4 * 9]);
    // A file without conv3.weight ("conv9.weight" instead: the same header length).
    let mut renamed = bytes.clone();
    let at = renamed.windows(12).position(|w| w == b"conv3.weight").unwrap();
    renamed[at + 4] = b'9';
    let error = InitialTensors::from_safetensors(&renamed, &config).unwrap_err();
    assert!(error.to_string().contains("has no tensor \"conv3.weight\""), "{error}");
    assert!(
        error.to_string().contains("expected image, conv1.weight, conv2.weight, conv3.weight"),
        "{error}"
    );
    // One block more than the file holds: the first tensor that differs is named.
    let deeper = ExperimentConfig { depth: 4, ..config.clone() };
    let error = InitialTensors::from_safetensors(&bytes, &deeper).unwrap_err();
    assert!(
        error.to_string().contains("tensor \"conv3.weight\" has shape [3, 4, 3, 3]; expected [4, 4, 3, 3]"),
        "{error}"
    );
    // Other widths.
    let wider = ExperimentConfig { channels: 5, ..config.clone() };
    let error = InitialTensors::from_safetensors(&bytes, &wider).unwrap_err();
    assert!(
        error.to_string().contains("tensor \"conv1.weight\" has shape [4, 3, 3, 3]; expected [5, 3, 3, 3]"),
        "{error}"
    );
}

#[test]
fn good_fields_are_accepted_from_text_too() {
    let c = ExperimentConfig::from_fields([
        ("lr", Text("0.5".into())),
        ("epochs", Text("12".into())),
        ("zero_grad", Text("1".into())),
        ("init", Text("normal".into())),
        ("init_value", Text("0.1".into())),
    ])
    .unwrap();
    assert_eq!((c.lr, c.epochs, c.zero_grad, c.init_value), (0.5, 12, true, Some(0.1)));
}

#[test]
fn bad_safetensors_are_named() {
    let config = ExperimentConfig::default();
    let good = std::fs::read(common::fixture_dir().join("seed_kaiming.safetensors")).unwrap();
    InitialTensors::from_safetensors(&good, &config).unwrap();
    let small = ExperimentConfig { height: 16, width: 20, ..Default::default() };
    let renamed = {
        let mut bytes = InitialTensors::from_seed(&small).to_safetensors(&small);
        let at = bytes.windows(12).position(|w| w == b"conv2.weight").unwrap();
        bytes[at + 4] = b'9'; // "conv9.weight": same header length, wrong name
        bytes
    };
    let seed3 = ExperimentConfig { height: 8, width: 8, ..Default::default() };
    let three_blocks = {
        let stack = ExperimentConfig::from_fields(vec![
            ("arch", FieldValue::Text("stack".into())),
            ("depth", FieldValue::Number(3.0)),
            ("channels", FieldValue::Number(3.0)),
            ("height", FieldValue::Number(8.0)),
            ("width", FieldValue::Number(8.0)),
        ])
        .unwrap();
        InitialTensors::from_seed(&stack).to_safetensors(&stack)
    };
    for (bytes, config, expect) in [
        (Vec::new(), &config, "not a readable safetensors file"),
        (good[..good.len() / 2].to_vec(), &config, "not a readable safetensors file"),
        (b"{\"not\": \"safetensors\"}".to_vec(), &config, "not a readable safetensors file"),
        (good.clone(), &small, "tensor \"image\" has shape [1, 3, 224, 224]; expected [1, 3, 16, 20]"),
        (renamed, &small, "has no tensor \"conv2.weight\""),
        // A three-block stack's file read as the seed's net: its conv3 was dropped silently.
        (
            three_blocks,
            &seed3,
            "holds \"conv3.weight\" this config has no place for; it reads image, conv1.weight, conv2.weight",
        ),
    ] {
        let error = InitialTensors::from_safetensors(&bytes, config).unwrap_err();
        assert!(error.to_string().contains(expect), "{error} lacks {expect:?}");
    }
}

fn cli(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_initlab")).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn cli_rejects_bad_input_with_code_2_and_one_line() {
    let missing = common::fixture_dir().join("no_such_fixture.json");
    let not_json = common::fixture_dir().join("seed_kaiming.safetensors");
    let readme = common::fixture_dir().join("../../README.md");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["run", "--lr", "NaN"], "lr: "),
        (vec!["run", "--lr", "-1"], "lr: "),
        (vec!["run", "--lr", "abc"], "lr: "),
        (vec!["run", "--momentum", "1"], "momentum: "),
        (vec!["run", "--epochs", "0"], "epochs: "),
        (vec!["run", "--epochs", "1e9"], "epochs: "),
        (vec!["run", "--height", "100000", "--width", "100000"], "pixels"),
        (vec!["run", "--label", "5"], "label: "),
        (vec!["run", "--arch", "resnet"], "arch: "),
        (vec!["run", "--init", "constant"], "init_value: "),
        (vec!["run", "--init", "constant", "--init-value", "inf"], "init_value: "),
        (vec!["run", "--seed", "-4"], "seed: "),
        (vec!["run", "--backend", "cuda"], "backend: "),
        (vec!["run", "--format", "xml"], "xml"),
        (vec!["run", "--frobnicate"], "frobnicate"),
        (vec!["seed", "--lr", "0"], "lr: "),
        (vec!["run", "--arch", "stack", "--depth", "0"], "depth: "),
        (vec!["run", "--arch", "stack", "--depth", "33"], "depth: "),
        (vec!["run", "--arch", "stack", "--channels", "33"], "channels: "),
        (vec!["run", "--arch", "stack", "--norm", "layer"], "norm: "),
        (vec!["run", "--arch", "stack", "--activation", "gelu"], "activation: "),
        (vec!["run", "--arch", "stack", "--target", "random"], "target: "),
        (vec!["run", "--arch", "stack", "--trainable", "some"], "trainable: "),
        (vec!["run", "--arch", "stack", "--norm", "none", "--trainable", "norm_only"], "trainable: "),
        (vec!["run", "--arch", "stack", "--init-noise", "-1"], "init_noise: "),
        (vec!["run", "--depth", "3"], "only for arch \"stack\""),
        (vec!["run", "--bias"], "only for arch \"stack\""),
        (
            vec!["run", "--arch", "stack", "--depth", "32", "--channels", "32"],
            "reduce batch, height, width, depth or channels",
        ),
        (vec!["bench", "--height", "0"], "height: "),
        // It panicked (an empty list of times), and overflowed near u64::MAX.
        (vec!["bench", "--steps", "0"], "--steps: must be an integer from 1 to 99997"),
        (vec!["bench", "--steps", "18446744073709551615"], "--steps: "),
        (vec!["bench", "--steps", "200000"], "--steps: "),
        (vec!["replay", missing.to_str().unwrap()], "cannot read"),
        (vec!["replay", not_json.to_str().unwrap()], "not a reference fixture"),
        (vec!["replay", readme.to_str().unwrap()], "not a reference fixture"),
    ]
    .into_iter()
    .map(|(args, expect)| (args.into_iter().map(String::from).collect(), expect))
    .collect();
    for (args, expect) in cases {
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, stdout, stderr) = cli(&argv);
        assert_eq!(code, 2, "{argv:?}: exit {code}, stderr {stderr}");
        assert!(stdout.is_empty(), "{argv:?}: printed {stdout}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{argv:?}: {stderr}");
        assert!(stderr.contains(expect), "{argv:?}: {stderr:?} lacks {expect:?}");
        assert!(!stderr.contains("panicked"), "{argv:?}: {stderr}");
    }
}

#[test]
fn cli_replay_reports_broken_tensor_files() {
    let dir = std::env::temp_dir().join(format!("initlab-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fixture = std::fs::read_to_string(common::fixture("seed_zeros")).unwrap();
    let tensors = std::fs::read(common::fixture_dir().join("seed_zeros.safetensors")).unwrap();
    std::fs::write(dir.join("seed_zeros.json"), &fixture).unwrap();
    // Truncated tensors.
    std::fs::write(dir.join("seed_zeros.safetensors"), &tensors[..1000]).unwrap();
    let (code, _, stderr) = cli(&["replay", dir.join("seed_zeros.json").to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("seed_zeros.safetensors") && stderr.contains("not a readable safetensors file"),
        "{stderr}"
    );
    // Tensors of the wrong shape for the config.
    let other = fixture.replace("\"height\": 224", "\"height\": 100");
    std::fs::write(dir.join("seed_zeros.json"), other).unwrap();
    std::fs::write(dir.join("seed_zeros.safetensors"), &tensors).unwrap();
    let (code, _, stderr) = cli(&["replay", dir.join("seed_zeros.json").to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("has shape [1, 3, 224, 224]; expected [1, 3, 100, 224]"), "{stderr}");
    // A trajectory with an empty series (`replay --check` panicked) or a ragged one.
    let parsed: serde_json::Value = serde_json::from_str(&fixture).unwrap();
    for (key, value, expect) in [
        ("loss", serde_json::json!([]), "trajectory.loss: must have one entry per epoch (40), has 0"),
        (
            "conv1_mean",
            serde_json::json!([0.0]),
            "trajectory.conv1_mean: must have one entry per epoch (40), has 1",
        ),
    ] {
        let mut broken = parsed.clone();
        broken["trajectory"][key] = value;
        std::fs::write(dir.join("seed_zeros.json"), broken.to_string()).unwrap();
        let (code, _, stderr) = cli(&["replay", dir.join("seed_zeros.json").to_str().unwrap(), "--check"]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(expect) && !stderr.contains("panicked"), "{stderr}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn cli_seed_json_has_the_four_experiments() {
    let (code, stdout, stderr) =
        cli(&["seed", "--height", "16", "--width", "16", "--epochs", "5", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    for key in ["zeros", "single_conv_zeros", "constant5", "kaiming"] {
        for series in initlab::record::SEED_KEYS {
            assert_eq!(json[key][series].as_array().map(Vec::len), Some(5), "{key}.{series}");
        }
    }
    assert!(json["zeros"]["conv1_var"].as_array().unwrap().iter().all(|v| v.as_f64() == Some(0.0)));
}

#[test]
fn cli_divergence_says_so_and_keeps_the_records() {
    let (code, stdout, stderr) = cli(&[
        "run",
        "--lr",
        "1e20",
        "--momentum",
        "0.9",
        "--height",
        "16",
        "--width",
        "16",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("diverged at step"), "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let step = json["diverged_at"].as_u64().unwrap();
    assert_eq!(json["loss"].as_array().unwrap().len() as u64, step);
}
