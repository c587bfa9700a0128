//! The conv weight gradient as nine shifted elementwise products, each summed over batch and
//! pixels: `dW[:, :, ky, kx] = Σ_{n,y,x} grad[n, o, y, x] · x_pad[n, i, y + ky, x + kx]`.
//! Only slices, products and reductions, so it avoids burn 0.22.1's wgpu conv weight-gradient
//! kernel, which went wrong above about 32,768 pixels per image.

use burn::backend::ops::PadMode;
use burn::backend::{Backend, TensorMetadata, tensor::FloatTensor};
use burn::tensor::{Shape, Slice};

pub fn weight_grad<B: Backend>(x: FloatTensor<B>, grad: FloatTensor<B>) -> FloatTensor<B> {
    let [n, cin, h, w] = x.shape().dims::<4>();
    let cout = grad.shape().dims::<4>()[1];
    let padded = B::float_pad(x, &[(0, 0), (0, 0), (1, 1), (1, 1)], PadMode::Constant(0.0));
    // [N, cout, 1, H, W] against [N, 1, cin, H, W] broadcasts to [N, cout, cin, H, W].
    let grad = B::float_reshape(grad, Shape::new([n, cout, 1, h, w]));
    let mut taps = Vec::with_capacity(9);
    for ky in 0..3 {
        for kx in 0..3 {
            let window = B::float_slice(
                padded.clone(),
                &[Slice::from(0..n), Slice::from(0..cin), Slice::from(ky..ky + h), Slice::from(kx..kx + w)],
            );
            let window = B::float_reshape(window, Shape::new([n, 1, cin, h, w]));
            let product = B::float_mul(grad.clone(), window); // [N, cout, cin, H, W]
            let summed = B::float_sum_dims(product, &[0, 3, 4]); // [1, cout, cin, 1, 1]
            taps.push(B::float_reshape(summed, Shape::new([cout, cin, 1])));
        }
    }
    // [cout, cin, 9] → [cout, cin, 3, 3], tap index ky·3 + kx.
    B::float_reshape(B::float_cat(taps, 2), Shape::new([cout, cin, 3, 3]))
}
