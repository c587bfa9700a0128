//! The depth lab's rules, stated exactly: a layer's weight gradient is Σ ∂L/∂f · input and its
//! input gradient Σ ∂L/∂f · k, so from zero it needs a non-zero input below it and non-zero
//! weights above it. Where PyTorch's gradient is exactly 0.0, ours is exactly 0.0.

mod common;

use initlab::{
    Activation, Arch, BackendKind, Experiment, ExperimentConfig, Init, Norm, Snapshot, Target, Trainable,
    reference::Fixture,
};

fn stack(depth: u64, activation: Activation, norm: Norm) -> ExperimentConfig {
    ExperimentConfig {
        arch: Arch::Stack,
        depth,
        channels: 4,
        norm,
        activation,
        init: Init::Zeros,
        height: 9,
        width: 11,
        batch: 2,
        epochs: 6,
        lr: 0.1,
        ..Default::default()
    }
}

/// Runs every step, handing each snapshot to `check`.
fn each_step(
    config: ExperimentConfig,
    backend: BackendKind,
    mut check: impl FnMut(&Snapshot, &initlab::Record),
) {
    config.validate().unwrap();
    let mut experiment = Experiment::from_seed(config, backend);
    while let Ok(record) = experiment.step() {
        check(experiment.snapshot().unwrap(), &record);
    }
}

/// The last snapshot's parameter values, as `blockMaps` takes them.
fn snapshot_params(experiment: &Experiment) -> Vec<(String, Vec<f64>)> {
    experiment.snapshot().unwrap().params.iter().map(|p| (p.name.clone(), p.value.clone())).collect()
}

fn grad<'a>(snapshot: &'a Snapshot, name: &str) -> &'a [f64] {
    snapshot
        .param(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .grad
        .as_deref()
        .unwrap_or_else(|| panic!("{name} has no gradient"))
}

#[test]
fn zero_init_freezes_every_weight_when_act_of_zero_is_zero() {
    for &backend in BackendKind::CPU {
        for depth in 2..=8 {
            for activation in [Activation::Relu, Activation::Tanh, Activation::Linear] {
                for norm in [Norm::Batch, Norm::None] {
                    let config = stack(depth, activation, norm);
                    let what = format!("{backend} depth {depth} {} {}", activation.name(), norm.name());
                    each_step(config, backend, |snapshot, record| {
                        for k in 1..=depth {
                            let g = grad(snapshot, &format!("conv{k}.weight"));
                            assert!(
                                g.iter().all(|&x| x == 0.0),
                                "{what} step {}: conv{k} grad not exactly 0",
                                record.step
                            );
                            assert!(
                                snapshot
                                    .param(&format!("conv{k}.weight"))
                                    .unwrap()
                                    .value
                                    .iter()
                                    .all(|&w| w == 0.0)
                            );
                        }
                        assert!(record.layers("conv_grad_norm").unwrap().iter().all(|&g| g == 0.0), "{what}");
                        // Below the top block the output gradient is exactly 0 too: zero weights above.
                        let act_grad = record.layers("act_grad_norm").unwrap();
                        assert!(
                            act_grad[..depth as usize - 1].iter().all(|&g| g == 0.0),
                            "{what}: {act_grad:?}"
                        );
                    });
                }
            }
        }
    }
}

#[test]
fn tanh_with_biases_and_no_norm_learns_only_the_last_bias() {
    let config = ExperimentConfig { bias: true, epochs: 12, ..stack(4, Activation::Tanh, Norm::None) };
    for &backend in BackendKind::CPU {
        let mut losses = Vec::new();
        each_step(config.clone(), backend, |snapshot, record| {
            for k in 1..=4 {
                assert!(
                    grad(snapshot, &format!("conv{k}.weight")).iter().all(|&x| x == 0.0),
                    "{backend}: conv{k}.weight"
                );
                if k < 4 {
                    assert!(
                        grad(snapshot, &format!("conv{k}.bias")).iter().all(|&x| x == 0.0),
                        "{backend}: conv{k}.bias"
                    );
                }
            }
            assert!(
                grad(snapshot, "conv4.bias").iter().any(|&x| x != 0.0),
                "{backend}: the last bias learns"
            );
            let bias_norms = record.layers("bias_grad_norm").unwrap();
            assert_eq!(&bias_norms[..3], &[0.0; 3]);
            assert!(bias_norms[3] > 0.0);
            losses.push(record.loss());
        });
        assert!(losses[11] < losses[0] - 1e-3, "{backend}: the loss falls: {losses:?}");
    }
}

#[test]
fn sigmoid_from_zero_gives_the_top_layer_a_gradient_at_step_0() {
    let config = stack(3, Activation::Sigmoid, Norm::None);
    let mut experiment = Experiment::from_seed(config, BackendKind::Flex);
    let record = experiment.step().unwrap();
    let snapshot = experiment.snapshot().unwrap();
    // Its input is sigmoid(0) = 0.5 everywhere, not 0.
    assert!(grad(snapshot, "conv3.weight").iter().any(|&g| g != 0.0));
    assert!(record.layers("conv_grad_norm").unwrap()[2] > 0.0);
    assert_eq!(record.layers("act_mean").unwrap()[0], 0.5);
    assert_eq!(record.layers("act_std").unwrap()[0], 0.0);
}

#[test]
fn depth_one_linear_without_norm_learns_from_zero() {
    let config =
        ExperimentConfig { head_activation: false, epochs: 20, ..stack(1, Activation::Linear, Norm::None) };
    let mut experiment = Experiment::from_seed(config, BackendKind::Flex);
    let (t, stopped) = experiment.run();
    assert!(stopped.is_none());
    assert!(t.series("conv_grad_norm").unwrap().at(0)[0] > 0.0, "its input is the image");
    assert!(t.series("conv_var").unwrap().at(19)[0] > 0.0, "its weights move");
    assert!(t.scalar("loss")[19] < t.scalar("loss")[0]);
}

/// The seed's two_conv written as a stack is the same network: the same numbers (to float32
/// noise: a stack's convs are summed in f64) on every CPU backend.
#[test]
fn two_conv_is_a_stack_preset() {
    let seed = ExperimentConfig { height: 12, width: 10, epochs: 5, ..Default::default() };
    let as_stack = ExperimentConfig { arch: Arch::Stack, ..seed.clone() };
    for &backend in BackendKind::CPU {
        let a = Experiment::from_seed(seed.clone(), backend).run().0;
        let b = Experiment::from_seed(as_stack.clone(), backend).run().0;
        for step in 0..5 {
            let close = |x: f64, y: f64| (x - y).abs() <= 1e-6 * (1.0 + y.abs());
            assert!(close(a.scalar("loss")[step], b.scalar("loss")[step]), "{backend} loss step {step}");
            for (k, key) in [(0, "conv1"), (1, "conv2")] {
                let var = b.series("conv_var").unwrap().at(step)[k];
                let norm = b.series("conv_grad_norm").unwrap().at(step)[k];
                assert!(close(a.scalar(&format!("{key}_var"))[step], var), "{backend} {key}_var step {step}");
                assert!(
                    close(a.scalar(&format!("{key}_grad_norm"))[step], norm),
                    "{backend} {key}_grad_norm step {step}"
                );
            }
        }
    }
}

#[test]
fn frozen_parameters_keep_their_values_and_still_get_gradients() {
    let loaded = Fixture::load(&common::fixture("stack_norm_only_constant5")).unwrap();
    let config = ExperimentConfig { epochs: 5, ..loaded.fixture.config.clone() };
    assert_eq!(config.trainable, Trainable::NormOnly);
    let device = BackendKind::Flex.device().unwrap();
    let mut experiment = Experiment::new(config, &loaded.inputs, BackendKind::Flex, &device);
    let (t, _) = experiment.run();
    let last = t.series("conv_grad_norm").unwrap().at(4);
    assert!(last.iter().all(|&g| g > 0.0), "{last:?}");
    for (name, values) in experiment.current_params() {
        if name.starts_with("conv") {
            assert!(values.iter().all(|&w| w == 5.0), "{name} moved");
        }
    }
}

/// The backward view: under the seed's zero init every map's gradient is exactly 0 although
/// the loss is ln 3; from Kaiming they are not.
#[test]
fn block_maps_show_where_the_gradient_stops() {
    for (init, zero) in [(Init::Zeros, true), (Init::KaimingNormal, false)] {
        let config =
            ExperimentConfig { arch: Arch::Stack, init, height: 8, width: 6, batch: 2, ..Default::default() };
        let mut experiment = Experiment::from_seed(config, BackendKind::Flex);
        experiment.step().unwrap();
        let maps = experiment.block_maps(&snapshot_params(&experiment)).unwrap();
        assert_eq!(maps.blocks.len(), 2);
        let all_zero = |map: &[f32]| map.iter().all(|&g| g == 0.0);
        for (i, block) in maps.blocks.iter().enumerate() {
            assert_eq!(block.conv.len(), 3 * 8 * 6);
            // ∂L/∂f at both convs: exactly 0 from zero (the ReLUs pass nothing at 0).
            assert_eq!(all_zero(&block.conv_grad), zero, "{} block {i} ∂L/∂f", init.name());
        }
        assert_eq!(all_zero(&maps.blocks[0].output_grad), zero, "{} ∂L/∂(block 1 output)", init.name());
        // ∂L/∂logits = softmax − one-hot is never 0: the gradient dies inside the last block.
        assert!(!all_zero(&maps.blocks[1].output_grad));
    }
}

/// single_conv runs conv2 alone: its one block's maps, with ∂L/∂f = ∂L/∂(output) = ∂L/∂logits
/// (no norm, no activation between them). This used to panic (an untracked loss).
#[test]
fn block_maps_of_single_conv() {
    let config = ExperimentConfig {
        arch: Arch::SingleConv,
        init: Init::Zeros,
        height: 8,
        width: 6,
        ..Default::default()
    };
    let mut experiment = Experiment::from_seed(config, BackendKind::Flex);
    experiment.step().unwrap();
    let maps = experiment.block_maps(&snapshot_params(&experiment)).unwrap();
    assert_eq!(maps.blocks.len(), 1);
    let block = &maps.blocks[0];
    assert_eq!(block.channels, 3);
    assert!(block.conv.iter().all(|&v| v == 0.0), "zero weights: f = 0");
    assert!(block.conv_grad.iter().any(|&g| g != 0.0), "the logits' gradient reaches f");
    assert_eq!(block.conv_grad, block.output_grad);
}

#[test]
fn input_argmax_labels_follow_the_image() {
    let config = ExperimentConfig {
        target: Target::InputArgmax,
        init: Init::Constant,
        init_value: Some(0.5),
        init_noise: 1e-3,
        ..stack(2, Activation::Relu, Norm::Batch)
    };
    let mut experiment = Experiment::from_seed(config, BackendKind::Flex);
    let record = experiment.step().unwrap();
    let accuracy = record.get("accuracy").unwrap();
    assert!((0.0..=1.0).contains(&accuracy));
}
