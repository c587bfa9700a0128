//! A check of the conv weight gradient on any device against the CPU, for the wgpu hazard
//! (docs/wgpu-conv-weight-grad.md): burn 0.22.1's own wgpu weight-gradient kernel went wrong
//! above ~32,768 pixels on a software Vulkan adapter; ours avoids it. This measures both.

use burn::prelude::*;
use burn::tensor::{TensorData, module::conv2d, ops::ConvOptions};

use crate::config::ExperimentConfig;
use crate::inputs::{InitialTensors, WEIGHT_SHAPE};
use crate::kernels::conv3x3;

/// The largest relative error (max |error| / max |reference|) of the weight gradient of a
/// 3×3 conv on an image of `height × width`, computed on `device` by burn's stock conv and by
/// ours, against flex's direct kernel: `(stock, ours)`.
pub async fn conv_weight_grad_errors(
    device: &Device,
    height: usize,
    width: usize,
) -> Result<(f64, f64), String> {
    let config =
        ExperimentConfig { height: height as u64, width: width as u64, seed: 7, ..Default::default() };
    let inputs = InitialTensors::from_seed(&config);
    // A fixed, non-trivial upstream gradient: the image's sine.
    let upstream: Vec<f32> = inputs.image.iter().map(|v| v.sin()).collect();
    let shape = config.image_shape();

    let grad = |device: &Device, stock: bool| {
        let device = device.clone().autodiff();
        let x = Tensor::<4>::from_data(TensorData::new(inputs.image.clone(), shape), &device);
        let w = Tensor::<4>::from_data(TensorData::new(inputs.weights[0].clone(), WEIGHT_SHAPE), &device)
            .require_grad();
        let g = Tensor::<4>::from_data(TensorData::new(upstream.clone(), shape), &device);
        let y = if stock {
            conv2d(x, w.clone(), None, ConvOptions::new([1, 1], [1, 1], [1, 1], 1))
        } else {
            conv3x3(x, w.clone())
        };
        let grads = (y * g).sum().backward();
        w.grad(&grads).expect("the weight is tracked")
    };
    let read = |data: TensorData| data.try_into_vec::<f32>().map_err(|e| format!("{e:?}"));
    let reference =
        read(grad(&Device::flex(), false).into_data_async().await.map_err(|e| format!("{e:?}"))?)?;
    let stock = read(grad(device, true).into_data_async().await.map_err(|e| format!("{e:?}"))?)?;
    let ours = read(grad(device, false).into_data_async().await.map_err(|e| format!("{e:?}"))?)?;
    let scale = reference.iter().fold(0.0f64, |m, &v| m.max((v as f64).abs()));
    let error = |values: &[f32]| {
        values.iter().zip(&reference).fold(0.0f64, |m, (&a, &b)| m.max((a as f64 - b as f64).abs())) / scale
    };
    Ok((error(&stock), error(&ours)))
}
