//! The claims the page teaches, checked on the engine itself.

mod common;

use burn::prelude::*;
use burn::tensor::{DType, TensorData, module::conv2d, ops::ConvOptions};
use initlab::{
    Arch, BackendKind, Experiment, ExperimentConfig, Init, InitialTensors, StepError, reference::Fixture,
};

fn config(arch: Arch, init: Init, init_value: Option<f64>) -> ExperimentConfig {
    ExperimentConfig { arch, init, init_value, height: 24, width: 20, ..Default::default() }
}

/// Zero init on two layers is a fixed point: every gradient is exactly 0.0 (not tiny: zero),
/// the weights stay exactly 0.0, and the loss never moves from ln 3.
#[test]
fn zero_init_two_layers_is_frozen_exactly() {
    let loaded = Fixture::load(&common::fixture("seed_zeros")).unwrap();
    for &backend in BackendKind::CPU {
        let device = backend.device().unwrap();
        let mut experiment = Experiment::new(loaded.fixture.config.clone(), &loaded.inputs, backend, &device);
        let mut losses = Vec::new();
        while let Ok(record) = experiment.step() {
            let snapshot = experiment.snapshot().unwrap();
            for param in &snapshot.params {
                let grad = param
                    .grad
                    .as_ref()
                    .unwrap_or_else(|| panic!("{} has a gradient in two_conv", param.name));
                assert!(grad.iter().all(|&g| g == 0.0), "{backend}: {} grad {grad:?}", param.name);
            }
            let get = |key: &str| record.get(key).unwrap();
            assert_eq!((get("conv1_grad_norm"), get("conv2_grad_norm")), (0.0, 0.0));
            assert_eq!(
                (get("conv1_mean"), get("conv1_var"), get("conv2_mean"), get("conv2_var")),
                (0.0, 0.0, 0.0, 0.0)
            );
            losses.push(record.loss());
        }
        assert_eq!(losses.len(), 40);
        assert!(losses.iter().all(|&l| l == losses[0]), "{backend}: the loss moved: {losses:?}");
        // PyTorch's float32 run reports 1.098611831665039; ln 3 = 1.0986122886681098.
        assert!((losses[0] - 3f64.ln()).abs() < 1e-6, "{backend}: loss {}", losses[0]);
        assert!((losses[0] - 1.098611831665039).abs() < 1e-6, "{backend}: loss {}", losses[0]);
        for (name, values) in experiment.current_params() {
            if name.starts_with("conv") {
                assert!(values.iter().all(|&w| w == 0.0), "{backend}: {name} moved");
            }
        }
    }
}

/// One layer from zero learns: conv2 gets a gradient straight from the loss.
#[test]
fn zero_init_single_conv_learns() {
    for &backend in BackendKind::CPU {
        let mut experiment = Experiment::from_seed(config(Arch::SingleConv, Init::Zeros, None), backend);
        let (t, stopped) = experiment.run();
        assert!(stopped.is_none());
        let loss = t.scalar("loss");
        assert!((loss[0] - 3f64.ln()).abs() < 1e-6);
        // Slowly (a constant label from zero-mean noise), but it moves off ln 3 and keeps going.
        assert!(loss[39] < loss[0] - 1e-3, "{backend}: loss {} → {}", loss[0], loss[39]);
        assert!(t.scalar("conv2_var")[39] > 0.0 && t.scalar("conv2_grad_norm")[0] > 0.0);
        // conv1 is outside the graph: no gradient at all (PyTorch's .grad is None), never updated.
        let snapshot = experiment.snapshot().unwrap();
        assert!(snapshot.param("conv1.weight").unwrap().grad.is_none());
        assert!(snapshot.param("bn1.weight").unwrap().grad.is_none());
        assert!(t.scalar("conv1_grad_norm").iter().all(|&g| g == 0.0));
        assert!(t.scalar("conv1_var").iter().all(|&v| v == 0.0));
    }
}

/// Constant init keeps conv1's three filters identical at every step.
#[test]
fn constant_init_stays_symmetric() {
    let mut experiment =
        Experiment::from_seed(config(Arch::TwoConv, Init::Constant, Some(5.0)), BackendKind::Flex);
    for _ in 0..10 {
        experiment.step().unwrap();
    }
    let conv1 = experiment.current_params().into_iter().find(|(n, _)| n == "conv1.weight").unwrap().1;
    let filters: Vec<&[f64]> = conv1.chunks(27).collect();
    assert_eq!(filters[0], filters[1]);
    assert_eq!(filters[1], filters[2]);
    assert_ne!(conv1[0], 5.0, "it trains");
}

/// The blog's derivation on a 3×3 image and a 2×2 kernel: with L = Σ cᵢ fᵢ (so ∂L/∂fᵢ = cᵢ),
/// burn's gradient of k1 is Σᵢ ∂L/∂fᵢ · (the input pixel k1 meets in output i).
#[test]
fn conv_gradient_is_the_sum_of_upstream_gradient_times_input() {
    let device = Device::flex().autodiff();
    let image: [f32; 9] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]; // i1..i9, row-major
    let kernel: [f32; 4] = [0.5, -1.0, 2.0, 0.25]; // k1..k4
    let upstream: [f32; 4] = [1.0, -2.0, 0.5, 3.0]; // ∂L/∂f1..f4
    let x = Tensor::<4>::from_data(TensorData::new(image.to_vec(), [1, 1, 3, 3]), &device).require_grad();
    let k = Tensor::<4>::from_data(TensorData::new(kernel.to_vec(), [1, 1, 2, 2]), &device).require_grad();
    let f = conv2d(x.clone(), k.clone(), None, ConvOptions::new([1, 1], [0, 0], [1, 1], 1)); // [1,1,2,2]
    let c = Tensor::<4>::from_data(TensorData::new(upstream.to_vec(), [1, 1, 2, 2]), &device);
    let grads = (f * c).sum().backward();
    let dk: Vec<f32> = k.grad(&grads).unwrap().into_data().try_to_vec().unwrap();

    // Output fᵢ at (r, c) sees input (r + a, c + b) through kernel weight (a, b).
    let mut by_hand = [0.0f32; 4];
    for (i, &g) in upstream.iter().enumerate() {
        let (r, col) = (i / 2, i % 2);
        for (j, slot) in by_hand.iter_mut().enumerate() {
            let (a, b) = (j / 2, j % 2);
            *slot += g * image[(r + a) * 3 + col + b];
        }
    }
    // k1 by name: f1·i1 + f2·i2 + f3·i4 + f4·i5.
    assert_eq!(by_hand[0], 1.0 * 1.0 + -2.0 * 2.0 + 0.5 * 4.0 + 3.0 * 5.0);
    assert_eq!(dk, by_hand.to_vec());

    // And when the input is all zeros, the kernel's gradient is exactly zero whatever ∂L/∂f is:
    // the reason conv2 cannot learn once conv1 outputs zeros.
    let zeros = Tensor::<4>::zeros([1, 1, 3, 3], &device);
    let k = Tensor::<4>::from_data(TensorData::new(kernel.to_vec(), [1, 1, 2, 2]), &device).require_grad();
    let f = conv2d(zeros, k.clone(), None, ConvOptions::new([1, 1], [0, 0], [1, 1], 1));
    let c = Tensor::<4>::from_data(TensorData::new(upstream.to_vec(), [1, 1, 2, 2]), &device);
    let grads = (f * c).sum().backward();
    let dk: Vec<f32> = k.grad(&grads).unwrap().into_data().try_to_vec().unwrap();
    assert_eq!(dk, vec![0.0; 4]);
}

/// Our 3×3 kernels (flex: the seed's f32 ones and a stack's f64 ones) against burn's own conv
/// (ndarray), on random shapes, through autodiff: outputs and both gradients.
#[test]
fn our_conv_matches_burns_conv() {
    for (dtype, tolerance) in [(DType::F32, 1e-4), (DType::F64, 1e-12)] {
        for (n, cin, h, w, seed) in [
            (1, 3, 1, 1, 1),
            (2, 3, 5, 7, 2),
            (1, 3, 16, 20, 3),
            (3, 3, 9, 33, 4),
            (1, 3, 64, 40, 5),
            (2, 16, 13, 11, 6),
        ] {
            // 16 → 16 takes Winograd's algorithm in f64 (conv64::WINOGRAD_PAIRS).
            let c = ExperimentConfig {
                arch: Arch::Stack,
                depth: 3,
                channels: cin,
                batch: n,
                height: h,
                width: w,
                seed,
                ..Default::default()
            };
            let inputs = InitialTensors::from_seed(&c);
            let image: Vec<f32> =
                inputs.image.iter().cycle().take((n * cin * h * w) as usize).copied().collect();
            let shape = [n as usize, cin as usize, h as usize, w as usize];
            let kernel = inputs.weights[1].clone();
            let run = |device: Device, ours: bool| {
                let device = device.autodiff();
                let tensor = |values: Vec<f32>, shape: [usize; 4]| {
                    Tensor::<4>::from_data(TensorData::new(values, shape), (&device, dtype))
                };
                let x = tensor(image.clone(), shape).require_grad();
                let k = tensor(kernel.clone(), [cin as usize, cin as usize, 3, 3]).require_grad();
                let y = if ours {
                    initlab::kernels::conv3x3(x.clone(), k.clone())
                } else {
                    conv2d(x.clone(), k.clone(), None, ConvOptions::new([1, 1], [1, 1], [1, 1], 1))
                };
                let grads =
                    (y.clone() * tensor(image.iter().map(|v| v.sin()).collect(), shape)).sum().backward();
                let read = |t: Tensor<4>| t.into_data().try_into_vec_as::<f64>().unwrap();
                (read(y.inner()), read(x.grad(&grads).unwrap()), read(k.grad(&grads).unwrap()))
            };
            #[allow(deprecated)]
            let stock = run(Device::ndarray(), false);
            let direct = run(Device::flex(), true);
            for (what, a, b) in [
                ("output", &direct.0, &stock.0),
                ("input grad", &direct.1, &stock.1),
                ("weight grad", &direct.2, &stock.2),
            ] {
                assert_eq!(a.len(), b.len());
                for (i, (&p, &q)) in a.iter().zip(b).enumerate() {
                    assert!(
                        (p - q).abs() <= tolerance * (1.0 + q.abs()),
                        "{dtype:?} {n}x{cin}x{h}x{w} {what}[{i}]: ours {p}, burn {q}"
                    );
                }
            }
        }
    }
}

/// Our BatchNorm+ReLU and row-summed cross-entropy kernels (flex, f32 and f64) against burn's
/// own ops (ndarray), through autodiff: outputs and the gradients of x, γ and β. Widths past
/// 64 pixels take the loss's product of sums over more than one group of 8 chunks; odd widths
/// take the tail lanes.
#[test]
fn our_norm_and_loss_match_burns_ops() {
    for (dtype, tolerance) in [(DType::F32, 1e-4), (DType::F64, 1e-12)] {
        for (n, h, w, label, seed) in
            [(1, 1, 1, 0, 1), (2, 5, 7, 1, 2), (1, 3, 70, 2, 3), (3, 4, 130, 2, 4), (1, 9, 64, 0, 5)]
        {
            let c = ExperimentConfig { batch: n, height: h, width: w, seed, ..Default::default() };
            let inputs = InitialTensors::from_seed(&c);
            let run = |device: Device| {
                let device = device.autodiff();
                let options = (&device, dtype);
                let x =
                    Tensor::<4>::from_data(TensorData::new(inputs.image.clone(), c.image_shape()), options)
                        .require_grad();
                let gamma = Tensor::<1>::from_data([1.5f32, -0.5, 2.0], options).require_grad();
                let beta = Tensor::<1>::from_data([0.2f32, 0.1, -0.3], options).require_grad();
                let y = initlab::kernels::batch_norm(x.clone(), gamma.clone(), beta.clone(), true);
                let rows = initlab::kernels::pixel_nll_rows(y.clone() * 2.0, label);
                // Unequal weights per row, so the backward's broadcast along rows is checked.
                let weights: Vec<f32> = (0..n * h).map(|r| 1.0 + r as f32 / 7.0).collect();
                let weights =
                    Tensor::<2>::from_data(TensorData::new(weights, [n as usize, h as usize]), options);
                let grads = (rows.clone() * weights).sum().backward();
                let read = |t: Tensor<4>| t.into_data().try_into_vec_as::<f64>().unwrap();
                let read1 = |t: Tensor<1>| t.into_data().try_into_vec_as::<f64>().unwrap();
                [
                    read(y.inner()),
                    rows.inner().into_data().try_into_vec_as::<f64>().unwrap(),
                    read(x.grad(&grads).unwrap()),
                    read1(gamma.grad(&grads).unwrap()),
                    read1(beta.grad(&grads).unwrap()),
                ]
            };
            #[allow(deprecated)]
            let stock = run(Device::ndarray());
            let direct = run(Device::flex());
            for (what, a, b) in ["output", "row losses", "x grad", "gamma grad", "beta grad"]
                .iter()
                .zip(&direct)
                .zip(&stock)
                .map(|((w, a), b)| (w, a, b))
            {
                assert_eq!(a.len(), b.len(), "{what}");
                for (i, (&p, &q)) in a.iter().zip(b).enumerate() {
                    assert!(
                        (p - q).abs() <= tolerance * (1.0 + q.abs()),
                        "{dtype:?} {n}x{h}x{w} {what}[{i}]: ours {p}, burn {q}"
                    );
                }
            }
        }
    }
}

/// Same seed, same numbers: twice on one backend bit for bit, and across the CPU backends
/// within float32 noise (the inputs themselves are bit-identical: our own seeded RNG).
#[test]
fn same_seed_same_trajectory() {
    let c = config(Arch::TwoConv, Init::KaimingNormal, None);
    let a = Experiment::from_seed(c.clone(), BackendKind::Flex).run().0;
    let b = Experiment::from_seed(c.clone(), BackendKind::Flex).run().0;
    assert_eq!(a, b);
    let nd = Experiment::from_seed(c.clone(), BackendKind::Ndarray).run().0;
    let nd2 = Experiment::from_seed(c, BackendKind::Ndarray).run().0;
    assert_eq!(nd, nd2);
    for key in initlab::record::SEED_KEYS {
        for (step, (&x, &y)) in a.scalar(key).iter().zip(nd.scalar(key)).enumerate() {
            assert!((x - y).abs() <= 1e-5 + 1e-4 * y.abs(), "{key} step {step}: flex {x}, ndarray {y}");
        }
    }
}

/// A step far too large overflows float32; the run stops with "diverged at step k" and keeps
/// every record before k, all finite.
#[test]
fn divergence_stops_the_run_and_keeps_the_records() {
    let c = ExperimentConfig { lr: 1e20, momentum: 0.9, ..config(Arch::TwoConv, Init::KaimingNormal, None) };
    for &backend in BackendKind::CPU {
        let mut experiment = Experiment::from_seed(c.clone(), backend);
        let (t, stopped) = experiment.run();
        let Some(StepError::Diverged { step }) = stopped else {
            panic!("{backend}: expected divergence, got {stopped:?}")
        };
        assert_eq!(t.len() as u64, step, "records 0..k are kept");
        assert!(step >= 1);
        assert!(t.scalar("loss").iter().all(|l| l.is_finite()));
        assert!(stopped.unwrap().to_string().starts_with(&format!("diverged at step {step}")));
        // It stays stopped.
        assert_eq!(experiment.step(), Err(StepError::Diverged { step }));
    }
}

#[test]
fn finished_runs_refuse_more_steps() {
    let c = ExperimentConfig { epochs: 2, ..config(Arch::TwoConv, Init::Zeros, None) };
    let mut experiment = Experiment::from_seed(c, BackendKind::Flex);
    assert_eq!(experiment.run().0.len(), 2);
    assert_eq!(experiment.step(), Err(StepError::Finished { epochs: 2 }));
}

#[test]
fn snapshot_names_every_parameter() {
    let mut experiment =
        Experiment::from_seed(config(Arch::TwoConv, Init::KaimingNormal, None), BackendKind::Flex);
    assert!(experiment.snapshot().is_none());
    experiment.step().unwrap();
    let snapshot = experiment.snapshot().unwrap();
    let names: Vec<&str> = snapshot.params.iter().map(|p| p.name.as_str()).collect();
    // PyTorch's state-dict names and order for the seed's net.
    assert_eq!(names, ["conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight", "bn2.weight", "bn2.bias"]);
    assert_eq!(snapshot.param("conv1.weight").unwrap().value.len(), 81);
    assert_eq!(snapshot.param("bn2.bias").unwrap().grad.as_ref().unwrap().len(), 3);
}
