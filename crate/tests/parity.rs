//! Parity with PyTorch: every fixture in `tests/fixtures/` (the shared reference runs, and any
//! other file of that format dropped there) replayed on every CPU backend, at every step and for
//! every key, within `1e-6 + 10·max_abs_f32_vs_f64[key] + 1e-4·|ref|`.

mod common;

use initlab::{BackendKind, Experiment, reference::Fixture};

#[test]
fn every_fixture_on_every_cpu_backend() {
    let fixtures = common::fixtures();
    assert!(fixtures.len() >= 14, "the five seed and nine stack fixtures are in tests/fixtures");
    let mut failures = Vec::new();
    for path in &fixtures {
        let loaded = Fixture::load(path).unwrap();
        let fixture = &loaded.fixture;
        for &backend in BackendKind::CPU {
            let device = backend.device().unwrap();
            let mut experiment = Experiment::new(fixture.config.clone(), &loaded.inputs, backend, &device);
            let (trajectory, stopped) = experiment.run();
            assert!(stopped.is_none(), "{}: stopped early: {stopped:?}", fixture.name);
            let worst = fixture.worst_ratio(&trajectory);
            println!("{:<28} {backend:<8} worst |ours-ref|/tol: {worst}", fixture.name);
            failures.extend(fixture.compare(&trajectory, 1.0).into_iter().map(|f| format!("{backend}: {f}")));
            failures.extend(final_mismatches(fixture, &experiment, backend));
        }
    }
    assert!(failures.is_empty(), "{} values out of tolerance:\n{}", failures.len(), failures.join("\n"));
}

/// Parameters after the last update, against PyTorch's `final`: the same formula, with the
/// largest float32/float64 gap of the run standing in for the per-key noise.
fn final_mismatches(fixture: &Fixture, experiment: &Experiment, backend: BackendKind) -> Vec<String> {
    let noise = fixture.max_noise();
    let mut out = Vec::new();
    let ours = experiment.current_params();
    for (name, reference) in &fixture.final_params {
        let Some((_, values)) = ours.iter().find(|(n, _)| n == name) else {
            out.push(format!("{backend}: {} final {name}: we have no such parameter", fixture.name));
            continue;
        };
        for (k, (&x, &r)) in values.iter().zip(reference).enumerate() {
            let tol = 1e-6 + 10.0 * noise + 1e-4 * r.abs();
            if (x as f64 - r).abs() > tol {
                out.push(format!("{backend}: {} final {name}[{k}]: ours {x:e}, PyTorch {r:e}", fixture.name));
            }
        }
    }
    out
}
