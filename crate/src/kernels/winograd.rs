//! The depth lab's wide convolutions in f64 by Winograd's minimal filtering, F(4×4, 3×3) (Lavin
//! and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016): each 4 × 4 tile of
//! output takes 36 products per input channel where the definition takes 144. A stack runs in
//! f64 (`model::ModelConfig::dtype`), and these are its layers from [`super::conv64::WINOGRAD_PAIRS`]
//! channel pairs on.
//!
//! Per tile: `Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`, with `d` the 6 × 6 input patch under the tile
//! (the zero padding included), `g` the 3 × 3 kernel, and the sum over input channels taken in
//! the transformed domain, 36 small matrix products, one per position `ξ` of the 6 × 6. The
//! weight gradient is the same algebra run backwards: `∂L/∂g = Gᵀ [Σ_tiles (A Ẏ Aᵀ) ⊙ (Bᵀ d B)] G`.
//!
//! Accuracy: the transforms' coefficients reach 8, so their rounding is some 1e-15 of the terms'
//! size (`conv64`'s tests hold every pass to 1e-14 per term of the definition). Every operation
//! is a plain IEEE multiply or add, so native code and every browser give the same bits, except
//! in the page's fused build (the feature `fma`, where the browser has relaxed SIMD): there the
//! products, dot products and transforms fuse each multiply and add ([`super::madd`]), written so
//! that the plain build computes exactly what it did before.
//!
//! Exact zeros: a tile of zeros transforms to zeros, and so does a kernel of zeros, so zero
//! weights or a zero input give exactly 0, as the definition does. Where only the 3 × 3 window
//! of one output is zero (in every channel), the tile's other values would leave a rounding
//! residue where the definition has exactly 0: those outputs are set to 0 explicitly
//! ([`dead_windows`]), so a map of where the gradient dies shows exact zeros as PyTorch does.

// The loops index small fixed arrays by transform position on purpose: `ξ = a·6 + b` is the
// layout, and zipped iterators would hide it.
#![allow(clippy::needless_range_loop)]
use std::cell::RefCell;
use std::mem::MaybeUninit;

use wide::f64x4;

use super::{Nchw, load4, madd, nmadd, prefilled_output};

/// The 6 × 6 positions of a transformed tile.
const XI: usize = 36;
/// Tiles per GEMM step: one f64x4.
const TILE_CHUNK: usize = 4;
/// Output channels per GEMM step, one f64x4 accumulator each. 4 × 4 tiles keep wasm's
/// accumulators and operands within x86's 16 vector registers (an f64x4 is two v128); 6 × 8,
/// the first version, needs 24 for its accumulators alone, and took 0.75 ms per 16 → 16 conv
/// at 64² in Chromium against 0.69 (3 × 8: 0.75), with the same loops otherwise.
const OUT_BLOCK: usize = 4;

/// `Bᵀ d`: the input transform along one axis (6 → 6).
#[inline(always)]
fn input_transform(d: [f64x4; 6]) -> [f64x4; 6] {
    let k = f64x4::splat;
    [
        nmadd(k(5.0), d[2], k(4.0) * d[0]) + d[4],
        nmadd(k(4.0), d[1] + d[2], d[3] + d[4]),
        madd(k(4.0), d[1] - d[2], d[4] - d[3]),
        madd(k(2.0), d[3] - d[1], d[4] - d[2]),
        madd(k(2.0), d[1] - d[3], d[4] - d[2]),
        nmadd(k(5.0), d[3], k(4.0) * d[1]) + d[5],
    ]
}

/// `G g`: the kernel transform along one axis (3 → 6).
#[inline(always)]
fn kernel_transform(g: [f64; 3]) -> [f64; 6] {
    [
        g[0] / 4.0,
        -(g[0] + g[1] + g[2]) / 6.0,
        -(g[0] - g[1] + g[2]) / 6.0,
        g[0] / 24.0 + g[1] / 12.0 + g[2] / 6.0,
        g[0] / 24.0 - g[1] / 12.0 + g[2] / 6.0,
        g[2],
    ]
}

/// `Gᵀ s`: the kernel transform's transpose (6 → 3), for the weight gradient.
#[inline(always)]
fn kernel_transform_t(s: [f64; 6]) -> [f64; 3] {
    [
        s[0] / 4.0 - (s[1] + s[2]) / 6.0 + (s[3] + s[4]) / 24.0,
        (s[2] - s[1]) / 6.0 + (s[3] - s[4]) / 12.0,
        (s[3] + s[4] - s[1] - s[2]) / 6.0 + s[5],
    ]
}

/// `Aᵀ m`: the output transform along one axis (6 → 4).
#[inline(always)]
fn output_transform(m: [f64x4; 6]) -> [f64x4; 4] {
    let k = f64x4::splat;
    let (p12, m12, p34, m34) = (m[1] + m[2], m[1] - m[2], m[3] + m[4], m[3] - m[4]);
    [m[0] + p12 + p34, madd(k(2.0), m34, m12), madd(k(4.0), p34, p12), madd(k(8.0), m34, m12) + m[5]]
}

/// `A y`: the output transform's transpose (4 → 6), for the weight gradient.
#[inline(always)]
fn output_transform_t(y: [f64x4; 4]) -> [f64x4; 6] {
    let k = f64x4::splat;
    let (p02, p13) = (y[0] + y[2], y[1] + y[3]);
    let (q02, q13) = (madd(k(4.0), y[2], y[0]), madd(k(2.0), y[1], k(8.0) * y[3]));
    [y[0], p02 + p13, p02 - p13, q02 + q13, q02 - q13, y[3]]
}

/// Values between one transform position's block of a band's transformed tiles and the
/// next (`channels` × band tiles, plus a cache line), in the weight gradient: without the skew
/// the 36 blocks lie a power of two apart at 16 channels, all in one set of the L1 cache, and
/// the transforms, which touch all 36 for every group of four tiles, evict each other. The skew
/// took deep_bn's step to 0.885 and 0.899 of its time in Chromium (bench/ab.mjs, two runs),
/// when the convolution's own transforms used these bands too.
fn xi_stride(channels: usize, tiles: usize) -> usize {
    channels * tiles + 8
}

/// Tiles per band (at least): the weight gradient's transforms and dot products run over a band
/// of tile rows at a time, long enough to amortise their loops (32 was 2 to 3% slower in
/// Chromium), short enough to stay in cache: at 16 channels a band's transformed inputs and
/// gradients take 2 × 36 × (16 × 64 + 8) values, 595 KB, inside this machine's 1 MB L2 cache,
/// where 128 tiles took 1.2 MB (64 took deep_bn's step to 0.985 of its time in Chromium, in
/// both orders of bench/ab.mjs).
const BAND_TILES: usize = 64;

/// The tiling of one call: `[N, C, H, W]` planes cut into 4 × 4 tiles, each row of tiles padded
/// to whole GEMM chunks, rows of tiles grouped in bands, and every plane copied into f64 with
/// the convolution's zero border.
#[derive(Clone, Copy)]
struct Tiling {
    h: usize,
    w: usize,
    /// Tile rows and tiles per row.
    th: usize,
    tw: usize,
    /// Tiles per row rounded up to [`TILE_CHUNK`].
    twp: usize,
    /// Tile rows per band.
    band: usize,
    /// Padded plane rows: pixel row r at r + 1, zeros around.
    ph: usize,
    /// Entries of each phase of a padded row: column c + 1 of the padded row (pixel column c)
    /// sits in phase (c + 1) mod 4 at (c + 1) / 4, so that the four tiles starting at
    /// columns 4·tx .. 4·tx + 16 read each of their six columns as one vector.
    per_phase: usize,
}

impl Tiling {
    fn new(h: usize, w: usize) -> Self {
        let (th, tw) = (h.div_ceil(4), w.div_ceil(4));
        let twp = tw.div_ceil(TILE_CHUNK) * TILE_CHUNK;
        // The tiles read padded columns up to 4·twp + 1, phase entries up to twp.
        let band = BAND_TILES.div_ceil(twp).min(th);
        Tiling { h, w, th, tw, twp, band, ph: 4 * th + 2, per_phase: twp + 1 }
    }

    /// Values of one padded row (its four phases).
    fn pw(&self) -> usize {
        4 * self.per_phase
    }

    /// Tiles of one band.
    fn band_tiles(&self) -> usize {
        self.band * self.twp
    }

    /// `planes` (`channels` planes of h × w) into `padded` (`channels` padded planes, phase
    /// split; the border stays zero between calls).
    fn pad(&self, planes: &[f64], channels: usize, padded: &mut [f64]) {
        let (pw, per_phase) = (self.pw(), self.per_phase);
        for c in 0..channels {
            for r in 0..self.h {
                let src = &planes[(c * self.h + r) * self.w..][..self.w];
                split_row::<1>(src, &mut padded[(c * self.ph + r + 1) * pw..][..pw], per_phase);
            }
        }
    }

    /// `Bᵀ d B` of every tile in tile rows `ty0 ..` (one band) of every padded plane, into
    /// `v[ξ][c][tile of the band]`. The column transform runs along whole (phase-split) rows,
    /// four values a vector; the row transform then reads four adjacent tiles' values as one
    /// vector.
    #[cfg_attr(all(target_arch = "wasm32", feature = "fma"), target_feature(enable = "relaxed-simd"))]
    fn transform_inputs(
        &self,
        padded: &[f64],
        channels: usize,
        ty0: usize,
        phases: &mut [f64],
        v: &mut [f64],
    ) {
        let (pw, twp, per_phase, tiles) = (self.pw(), self.twp, self.per_phase, self.band_tiles());
        for ty in ty0..(ty0 + self.band).min(self.th) {
            let row_at = (ty - ty0) * twp;
            for c in 0..channels {
                let rows: [&[f64]; 6] =
                    std::array::from_fn(|a| &padded[(c * self.ph + 4 * ty + a) * pw..][..pw]);
                let base = c * tiles + row_at;
                transform_tile_row(
                    rows,
                    per_phase,
                    twp,
                    input_transform,
                    phases,
                    v,
                    xi_stride(channels, tiles),
                    base,
                );
            }
        }
    }
}

/// One row of pixels `src` into the four phases of `dst` (`per_phase` entries each, in f64):
/// pixel column c goes to phase (c + SHIFT) mod 4, entry (c + SHIFT) / 4. A padded row
/// ([`Tiling::pad`]) has SHIFT 1, its zero border column at 0; the weight gradient's split of
/// the output gradient has SHIFT 0. Four stores a group of four columns, zipped: no index
/// arithmetic and no bounds checks.
#[inline(always)]
fn split_row<const SHIFT: usize>(src: &[f64], dst: &mut [f64], per_phase: usize) {
    let (p0, rest) = dst.split_at_mut(per_phase);
    let (p1, rest) = rest.split_at_mut(per_phase);
    let (p2, p3) = rest.split_at_mut(per_phase);
    // Where columns 4j, 4j + 1, 4j + 2 and 4j + 3 go, at entry j of each.
    let (q0, q1, q2, q3) = match SHIFT {
        0 => (p0, p1, p2, p3),
        _ => (p1, p2, p3, &mut p0[1..]),
    };
    let groups = src.chunks_exact(4);
    let (tail, full) = (groups.remainder(), src.len() / 4);
    for ((((g, a), b), c), d) in groups.zip(&mut *q0).zip(&mut *q1).zip(&mut *q2).zip(q3) {
        (*a, *b, *c, *d) = (g[0], g[1], g[2], g[3]);
    }
    for (k, &value) in tail.iter().enumerate() {
        [&mut *q0, &mut *q1, &mut *q2][k][full] = value;
    }
}

/// One row of tiles through a separable transform `T` (`R` → 6 along each axis), four tiles at
/// a time: `T` down the tiles' `R` rows (whole rows, four values a vector) into `scratch`
/// (6 rows as long as `rows`), then across. The rows are split by column mod 4 (phase `q` from
/// `q · stride`), so tile `tx`'s column `b` is entry `tx + b / 4` of phase `b mod 4` and four
/// adjacent tiles' column is one vector. Position `ξ` of tile `tx` goes to
/// `out[ξ · xi_stride + base + tx]`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn transform_tile_row<const R: usize>(
    rows: [&[f64]; R],
    stride: usize,
    twp: usize,
    transform: impl Fn([f64x4; R]) -> [f64x4; 6],
    scratch: &mut [f64],
    out: &mut [f64],
    xi_stride: usize,
    base: usize,
) {
    // The furthest reach of every load and store below, checked once.
    let width = rows[0].len();
    assert!(width.is_multiple_of(4) && twp.is_multiple_of(4) && rows.iter().all(|row| row.len() == width));
    let reach = (0..R).map(|b| b % 4 * stride + b / 4).max().unwrap_or(0);
    assert!(5 * width + reach + twp <= scratch.len() && 6 * width <= scratch.len());
    assert!(35 * xi_stride + base + twp <= out.len());
    for k in (0..width).step_by(4) {
        let mut column = [f64x4::ZERO; R];
        for a in 0..R {
            // SAFETY: k + 4 <= width, the length of every row.
            column[a] = unsafe { load4_unchecked(rows[a], k) };
        }
        for (a, t) in transform(column).iter().enumerate() {
            // SAFETY: a·width + k + 4 <= 6·width <= scratch.len().
            unsafe { store4_unchecked(scratch, a * width + k, *t) };
        }
    }
    for a in 0..6 {
        for tx in (0..twp).step_by(4) {
            let mut d = [f64x4::ZERO; R];
            for b in 0..R {
                // SAFETY: a ≤ 5, b % 4 · stride + b / 4 <= reach and tx + 4 <= twp.
                d[b] = unsafe { load4_unchecked(scratch, a * width + b % 4 * stride + tx + b / 4) };
            }
            for (b, row) in transform(d).iter().enumerate() {
                // SAFETY: a · 6 + b <= 35 and tx + 4 <= twp.
                unsafe { store4_unchecked(out, (a * 6 + b) * xi_stride + base + tx, *row) };
            }
        }
    }
}

/// The 4 values of `values` from `at`, as one vector, without a bounds check: for the
/// transforms and dot products, which check the furthest reach of their loads and stores once,
/// up front. In the transforms, that took deep_bn's step to 0.965 and 0.978 of its time with a
/// check at every access, in Chromium (bench/ab.mjs, both orders); in the dot products, to a
/// further 0.978 and 0.985.
///
/// # Safety
/// `at + 4 <= values.len()`.
#[inline(always)]
unsafe fn load4_unchecked(values: &[f64], at: usize) -> f64x4 {
    debug_assert!(at + 4 <= values.len());
    // SAFETY: the caller's.
    let four = unsafe { values.get_unchecked(at..at + 4) };
    f64x4::new(four.try_into().expect("four values"))
}

/// Stores `value` at `values[at..at + 4]` without a bounds check (see [`load4_unchecked`]).
///
/// # Safety
/// `at + 4 <= values.len()`.
#[inline(always)]
unsafe fn store4_unchecked(values: &mut [f64], at: usize, value: f64x4) {
    debug_assert!(at + 4 <= values.len());
    // SAFETY: the caller's.
    unsafe { values.get_unchecked_mut(at..at + 4) }.copy_from_slice(&value.to_array());
}

/// A buffer kept from call to call (see [`Scratch`]).
#[derive(Default)]
struct Reused {
    data: Vec<f64>,
    /// The geometry (channels, height, width) of the zeros that [`Reused::zeroed`] keeps.
    key: (usize, usize, usize),
}

impl Reused {
    /// `len` values that are 0 wherever no call of the same geometry `key` writes: cleared the
    /// first time and whenever the geometry changes, else as the last such call left them.
    fn zeroed(&mut self, len: usize, key: (usize, usize, usize)) -> &mut [f64] {
        if self.key != key || self.data.len() != len {
            self.data.clear();
            self.data.resize(len, 0.0);
            self.key = key;
        }
        &mut self.data
    }

    /// `len` values as some earlier call left them: for buffers written before they are read.
    fn any(&mut self, len: usize) -> &mut [f64] {
        if self.data.len() < len {
            self.data.resize(len, 0.0);
        }
        &mut self.data[..len]
    }
}

/// The kernels' working buffers, kept per thread: the deep_bn benchmark's stack (blocks of 16
/// channels) makes 18 of these calls a step, and clearing fresh buffers took ~6% of its step
/// natively. The padded planes keep
/// their zero border (their interior is rewritten every call); the transforms' buffers are
/// written before they are read.
#[derive(Default)]
struct Scratch {
    padded: Reused,
    phases: Reused,
    v: Reused,
    split: Reused,
    /// The weight gradient's column transform of one row of gradient tiles.
    rows6: Reused,
    e: Reused,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// `conv(x, weight)` (3 × 3, stride 1, zero padding 1, no bias) summed in f64 and rounded once
/// to f32: `x` of geometry `s` (`[N, cin, H, W]`), `weight` `[cout, cin, 3, 3]` → `[N, cout, H, W]`.
///
/// Four tiles at a time go all the way through, their transformed inputs (`cin` × 36 × 4
/// values: 18 KiB at 16 channels) and each output block's products staying in the L1 cache.
/// The first version transformed a band of 128 tiles, multiplied the band and transformed it
/// back, through two buffers of 590 KiB each at 16 channels (more than this machine's L2 cache
/// together); with the same arithmetic this way took 0.946 and 0.982 of its deep_bn step in
/// Chromium (bench/ab.mjs), and gives the same bits.
#[cfg_attr(all(target_arch = "wasm32", feature = "fma"), target_feature(enable = "relaxed-simd"))]
pub fn conv3x3(x: &[f64], weight: &[f64], s: Nchw, cout: usize) -> Vec<f64> {
    let cin = s.channels;
    assert_eq!(x.len(), s.numel(), "winograd::conv3x3: input size");
    assert_eq!(weight.len(), cout * cin * 9, "winograd::conv3x3: weight size");
    let t = Tiling::new(s.height, s.width);
    let (h, w, pw) = (t.h, t.w, t.pw());
    let u = transformed_kernels(weight, cin, cout);
    let mut scratch = SCRATCH.with_borrow_mut(std::mem::take);
    let padded = scratch.padded.zeroed(cin * t.ph * pw, (cin, h, w));
    let v = scratch.v.any(XI * cin * TILE_CHUNK);
    let mut dead = vec![false; h * w];
    let write = |out: &mut [MaybeUninit<f64>]| {
        for n in 0..s.batch {
            let image = &x[n * cin * h * w..][..cin * h * w];
            t.pad(image, cin, padded);
            let dead = dead_windows(image, cin, h, w, &mut dead).then_some(&dead[..]);
            let planes = &mut out[n * cout * h * w..][..cout * h * w];
            for ty in 0..t.th {
                for tx in (0..t.tw).step_by(TILE_CHUNK) {
                    for c in 0..cin {
                        let rows: [&[f64]; 6] =
                            std::array::from_fn(|a| &padded[(c * t.ph + 4 * ty + a) * pw..][..pw]);
                        transform_chunk(rows, t.per_phase, tx, v, c, cin);
                    }
                    for o0 in (0..cout).step_by(OUT_BLOCK) {
                        let ub = &u[o0 * XI * cin..];
                        match cout - o0 {
                            1 => chunk_outputs::<1>(v, ub, cin, o0, &t, ty, tx, planes, dead),
                            2 => chunk_outputs::<2>(v, ub, cin, o0, &t, ty, tx, planes, dead),
                            3 => chunk_outputs::<3>(v, ub, cin, o0, &t, ty, tx, planes, dead),
                            _ => chunk_outputs::<OUT_BLOCK>(v, ub, cin, o0, &t, ty, tx, planes, dead),
                        }
                    }
                }
            }
        }
    };
    // Prefilled, though every output is written: the tiles write each plane 16 pixels at a
    // time, in four rows of every output channel at once (64 places at 16 channels), and their
    // first writes to each cache line cost more than one sequential pass that brings the whole
    // output into cache first. With it, deep_bn's step took 0.985, 0.949, 0.949 and 1.006 of
    // its time in Chromium (bench/ab.mjs, both orders; the last in a slow spell).
    // SAFETY: the tiles cover every row and column of every plane, and `chunk_outputs` writes
    // each of their outputs inside the image.
    let out = unsafe { prefilled_output(s.with_channels(cout).numel(), write) };
    SCRATCH.set(scratch);
    out
}

/// `Bᵀ d B` of input channel `c` of the four tiles from column `tx` of one row of tiles, whose
/// six padded rows are `rows` (phase split, `stride` entries a phase), into `v[ξ][c]` (`cin`
/// channels, four values each). Down the rows first, then across: the order of
/// [`transform_tile_row`], the weight gradient's, which the band-wise first version of this
/// convolution used too, so the bits did not change.
#[inline(always)]
fn transform_chunk(rows: [&[f64]; 6], stride: usize, tx: usize, v: &mut [f64], c: usize, cin: usize) {
    // The furthest reach of every load and store below, checked once: column b of the tiles
    // is at b % 4 · stride + tx + b / 4, furthest for b = 3 or 5.
    let reach = (3 * stride).max(stride + 1) + tx + 4;
    assert!(rows.iter().all(|row| reach <= row.len()) && c < cin && XI * cin * TILE_CHUNK <= v.len());
    let mut down = [[f64x4::ZERO; 6]; 6];
    for b in 0..6 {
        let mut d = [f64x4::ZERO; 6];
        for a in 0..6 {
            // SAFETY: b % 4 · stride + tx + b / 4 + 4 <= reach.
            d[a] = unsafe { load4_unchecked(rows[a], b % 4 * stride + tx + b / 4) };
        }
        down[b] = input_transform(d);
    }
    for a in 0..6 {
        let mut d = [f64x4::ZERO; 6];
        for b in 0..6 {
            d[b] = down[b][a];
        }
        for (b, value) in input_transform(d).iter().enumerate() {
            // SAFETY: a · 6 + b <= 35 and c < cin.
            unsafe { store4_unchecked(v, ((a * 6 + b) * cin + c) * TILE_CHUNK, *value) };
        }
    }
}

/// `u`, output block by output block: `u[o0 · 36 · cin ..]` holds the block from output channel
/// `o0` ([`OUT_BLOCK`] channels, fewer in a last block), as `[ξ][i][o − o0]`, so that the
/// products of one block read their taps in order. Each value is `(G g Gᵀ)[ξ]` of the kernel
/// `g` from input channel `i` to output channel `o`.
fn transformed_kernels(weight: &[f64], cin: usize, cout: usize) -> Vec<f64> {
    let mut u = vec![0.0f64; XI * cin * cout];
    for o in 0..cout {
        let o0 = o / OUT_BLOCK * OUT_BLOCK;
        let block = OUT_BLOCK.min(cout - o0);
        for i in 0..cin {
            let g = &weight[(o * cin + i) * 9..][..9];
            let cols: [[f64; 6]; 3] =
                std::array::from_fn(|kx| kernel_transform([0, 3, 6].map(|k| g[k + kx])));
            for a in 0..6 {
                for (b, &value) in kernel_transform([cols[0][a], cols[1][a], cols[2][a]]).iter().enumerate() {
                    u[o0 * XI * cin + ((a * 6 + b) * cin + i) * block + o - o0] = value;
                }
            }
        }
    }
    u
}

/// The four tiles of `v` (from column `tx` of tile row `ty`) through output channels
/// `o0 .. o0 + B`: `m[ξ] = Σ_i u[ξ][i][o] · v[ξ][i]` (the products: multiply, then add, never
/// fused, so that every target rounds alike), then `Aᵀ m A` into those channels' planes, rows
/// and columns past the image dropped and the `dead` windows' outputs set to 0.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn chunk_outputs<const B: usize>(
    v: &[f64],
    ub: &[f64],
    cin: usize,
    o0: usize,
    t: &Tiling,
    ty: usize,
    tx: usize,
    planes: &mut [MaybeUninit<f64>],
    dead: Option<&[bool]>,
) {
    // Whole rows by iterator, so the bounds checks leave the inner loop.
    let (v, ub) = (&v[..XI * cin * TILE_CHUNK], &ub[..XI * cin * B]);
    let mut m = [[f64x4::ZERO; XI]; B];
    for (xi, (vx, ux)) in v.chunks_exact(cin * TILE_CHUNK).zip(ub.chunks_exact(cin * B)).enumerate() {
        let mut acc = [f64x4::ZERO; B];
        for (vi, ui) in vx.chunks_exact(TILE_CHUNK).zip(ux.chunks_exact(B)) {
            let tiles = load4(vi, 0);
            for (acc, &tap) in acc.iter_mut().zip(ui) {
                *acc = madd(f64x4::splat(tap), tiles, *acc);
            }
        }
        for b in 0..B {
            m[b][xi] = acc[b];
        }
    }
    let (h, w) = (t.h, t.w);
    for (b, m) in m.iter().enumerate() {
        let plane = &mut planes[(o0 + b) * h * w..][..h * w];
        // Plain loops over fixed-size arrays: closures here (`array::from_fn`) were left as
        // calls in the release build, ~9% of a deep_bn step.
        let mut rows = [[f64x4::ZERO; 4]; 6];
        for a in 0..6 {
            let mut ms = [f64x4::ZERO; 6];
            ms.copy_from_slice(&m[a * 6..a * 6 + 6]);
            rows[a] = output_transform(ms);
        }
        // pixels[b2][a2], lane k: pixel (4·ty + a2, 4·(tx + k) + b2).
        let mut pixels = [[f64x4::ZERO; 4]; 4];
        for b2 in 0..4 {
            let mut column = [f64x4::ZERO; 6];
            for a in 0..6 {
                column[a] = rows[a][b2];
            }
            pixels[b2] = output_transform(column);
        }
        let x0 = 4 * tx;
        let len = (w - x0).min(16);
        for a2 in 0..(h - 4 * ty).min(4) {
            let at = (4 * ty + a2) * w + x0;
            let mut lanes = [[0.0f64; 4]; 4];
            for b2 in 0..4 {
                lanes[b2] = pixels[b2][a2].to_array();
            }
            let line = &mut plane[at..at + len];
            // A whole chunk's row is 16 pixels, a length known when compiling; copied from a
            // buffer with the length known only at run time, each row was a call to
            // memory.copy in wasm, four per output channel and chunk. Written in place, deep_bn
            // took 0.979 and 0.944 of its step time in Chromium (bench/ab.mjs, both orders).
            if let Ok(line) = <&mut [MaybeUninit<f64>; 16]>::try_from(&mut *line) {
                for k in 0..4 {
                    line[4 * k..4 * k + 4].write_copy_of_slice(&[
                        lanes[0][k],
                        lanes[1][k],
                        lanes[2][k],
                        lanes[3][k],
                    ]);
                }
            } else {
                for (x, slot) in line.iter_mut().enumerate() {
                    slot.write(lanes[x % 4][x / 4]);
                }
            }
            if let Some(dead) = dead {
                for (p, &d) in plane[at..at + len].iter_mut().zip(&dead[at..at + len]) {
                    if d {
                        p.write(0.0);
                    }
                }
            }
        }
    }
}

/// `sums[o · stride + i] += Σ_tile e[o][tile] · v[i][tile]` for `O` output and `I` input
/// channels at once, over the tiles of the rows (all of one length; lane by lane: tiles four
/// apart share a lane, so each sum takes its terms in the order of the first version, and the
/// bits are the same). Two by two, each step of the loop loads 4 vectors for 4 products; one
/// output channel by four input channels, the first version, loaded 5 for 4, and needed 18 of
/// V8's 15 vector registers on x64 (an f64x4 is two), so V8 kept three of them on the stack,
/// stored and reloaded at every step; two by two it keeps two there. Two by two took deep_bn's
/// step to 0.986 and 0.992 of its time in Chromium (bench/ab.mjs, both orders); three by one
/// and one by three were slower than the first version.
#[inline(always)]
fn tile_dots<const O: usize, const I: usize>(
    e: [&[f64]; O],
    v: [&[f64]; I],
    sums: &mut [f64x4],
    stride: usize,
) {
    let n = e[0].len();
    assert!(n.is_multiple_of(4) && e.iter().chain(&v).all(|row| row.len() == n));
    let mut acc = [[f64x4::ZERO; I]; O];
    for t0 in (0..n).step_by(4) {
        let mut es = [f64x4::ZERO; O];
        for o in 0..O {
            // SAFETY: t0 + 4 <= n, the length of every row.
            es[o] = unsafe { load4_unchecked(e[o], t0) };
        }
        for i in 0..I {
            // SAFETY: as above.
            let vi = unsafe { load4_unchecked(v[i], t0) };
            for o in 0..O {
                acc[o][i] = madd(es[o], vi, acc[o][i]);
            }
        }
    }
    for o in 0..O {
        for i in 0..I {
            sums[o * stride + i] += acc[o][i];
        }
    }
}

/// Whether some pixel of `image` is 0 in each of its `channels` planes of `plane` values.
/// Four pixels at a time, each group's planes read only until every one of its pixels has met
/// a non-zero value: after a ReLU about half of each channel is zero, so a group takes about
/// four reads, and a dense map (a gradient) one. Pixel by pixel, reading each one's channels
/// until one was non-zero, this took 2.4% of a deep_bn step in Chromium, 1.3% by groups.
fn some_pixel_zero_in_all(image: &[f64], channels: usize, plane: usize) -> bool {
    let planes: Vec<&[f64]> = image.chunks_exact(plane).take(channels).collect();
    let group_live = |p: usize| {
        let mut live = f64x4::ZERO;
        for values in &planes {
            live |= load4(values, p).simd_ne(f64x4::ZERO);
            if live.all() {
                return true;
            }
        }
        false
    };
    let whole = plane / 4 * 4;
    (0..whole).step_by(4).any(|p| !group_live(p))
        || (whole..plane).any(|p| planes.iter().all(|v| v[p] == 0.0))
}

/// `dead[y·w + x]`: whether the 3 × 3 window of output (y, x) reads zeros only, in every
/// channel of `image` (`channels` planes of h × w): the definition's sum is then exactly 0.
/// Returns whether any is.
fn dead_windows(image: &[f64], channels: usize, h: usize, w: usize, dead: &mut [bool]) -> bool {
    let zero_in_all = |p: usize| image.chunks_exact(h * w).take(channels).all(|plane| plane[p] == 0.0);
    // Every window holds its centre pixel: with no pixel zero in every channel there is no dead
    // window, which is the usual case.
    if !some_pixel_zero_in_all(image, channels, h * w) {
        return false;
    }
    // live[(r + 1)·(w + 2) + c + 1]: some channel is non-zero at pixel (r, c); the border is not.
    let lw = w + 2;
    let mut live = vec![false; (h + 2) * lw];
    for p in 0..h * w {
        live[(p / w + 1) * lw + p % w + 1] = !zero_in_all(p);
    }
    let mut any = false;
    for y in 0..h {
        for x in 0..w {
            dead[y * w + x] = !(0..3).any(|dy| live[(y + dy) * lw + x..][..3].iter().any(|&l| l));
            any |= dead[y * w + x];
        }
    }
    any
}

/// The weight gradient of [`conv3x3`]: `dW[o, i, ky, kx] = Σ_{n, y, x} grad[n, o, y, x] ·
/// x[n, i, y + ky − 1, x + kx − 1]`, summed in f64 as `Gᵀ [Σ_tiles (A Ẏ Aᵀ) ⊙ (Bᵀ d B)] G`.
/// `x` `[N, cin, H, W]`, `grad` `[N, cout, H, W]` → `[cout, cin, 3, 3]`.
#[cfg_attr(all(target_arch = "wasm32", feature = "fma"), target_feature(enable = "relaxed-simd"))]
pub fn conv3x3_weight_grad(x: &[f64], grad: &[f64], s: Nchw, cout: usize) -> Vec<f64> {
    let cin = s.channels;
    assert_eq!(x.len(), s.numel(), "winograd::conv3x3_weight_grad: input size");
    assert_eq!(grad.len(), s.with_channels(cout).numel(), "winograd::conv3x3_weight_grad: grad size");
    let t = Tiling::new(s.height, s.width);
    let (h, w, twp, tiles) = (t.h, t.w, t.twp, t.band_tiles());
    let mut scratch = SCRATCH.with_borrow_mut(std::mem::take);
    let padded = scratch.padded.zeroed(cin * t.ph * t.pw(), (cin, h, w));
    let phases = scratch.phases.any(6 * t.pw());
    let v = scratch.v.any(XI * xi_stride(cin, tiles));
    // The gradient's planes split by column mod 4 like `padded`, without a border: pixel
    // (r, c) at row r, phase c mod 4, entry c / 4 (`twp` entries a phase; zeros past the image).
    let gw = 4 * twp;
    let split = scratch.split.zeroed(cout * 4 * t.th * gw, (cout, h, w));
    let rows6 = scratch.rows6.any(6 * gw);
    // e[ξ][o][tile of the band] = (A Ẏ Aᵀ)[ξ] of the gradient's tile.
    let e = scratch.e.any(XI * xi_stride(cout, tiles));
    // sums[ξ][o][i]: Σ over tiles of e · v, tiles four apart in one lane.
    let mut sums = vec![f64x4::ZERO; XI * cout * cin];
    for n in 0..s.batch {
        t.pad(&x[n * cin * h * w..][..cin * h * w], cin, padded);
        for o in 0..cout {
            for r in 0..h {
                let src = &grad[((n * cout + o) * h + r) * w..][..w];
                split_row::<0>(src, &mut split[(o * 4 * t.th + r) * gw..][..gw], twp);
            }
        }
        for ty0 in (0..t.th).step_by(t.band) {
            let band_rows = t.band.min(t.th - ty0);
            t.transform_inputs(padded, cin, ty0, phases, v);
            for ty in ty0..ty0 + band_rows {
                let row_at = (ty - ty0) * twp;
                for o in 0..cout {
                    let rows: [&[f64]; 4] =
                        std::array::from_fn(|a| &split[(o * 4 * t.th + 4 * ty + a) * gw..][..gw]);
                    let base = o * tiles + row_at;
                    transform_tile_row(
                        rows,
                        twp,
                        twp,
                        output_transform_t,
                        rows6,
                        e,
                        xi_stride(cout, tiles),
                        base,
                    );
                }
            }
            // Only this band's tiles: a last, shorter band leaves the previous band's behind.
            let live = band_rows * twp;
            for xi in 0..XI {
                let (ex, vx) = (
                    &e[xi * xi_stride(cout, tiles)..][..cout * tiles],
                    &v[xi * xi_stride(cin, tiles)..][..cin * tiles],
                );
                let sx = &mut sums[xi * cout * cin..][..cout * cin];
                let e_row = |o: usize| &ex[o * tiles..][..live];
                let v_row = |i: usize| &vx[i * tiles..][..live];
                // Two output and two input channels at a time (one of each at an odd end).
                for o0 in (0..cout).step_by(2) {
                    let o1 = (o0 + 1).min(cout - 1);
                    for i0 in (0..cin).step_by(2) {
                        let i1 = (i0 + 1).min(cin - 1);
                        let (es, vs) = ([e_row(o0), e_row(o1)], [v_row(i0), v_row(i1)]);
                        let sums = &mut sx[o0 * cin + i0..];
                        match (o1 > o0, i1 > i0) {
                            (true, true) => tile_dots::<2, 2>(es, vs, sums, cin),
                            (true, false) => tile_dots::<2, 1>(es, [vs[0]], sums, cin),
                            (false, true) => tile_dots::<1, 2>([es[0]], vs, sums, cin),
                            (false, false) => tile_dots::<1, 1>([es[0]], [vs[0]], sums, cin),
                        }
                    }
                }
            }
        }
    }
    SCRATCH.set(scratch);
    // Each pair's 36 sums (lanes added) side by side, read in order: gathered from `sums`
    // pair by pair, 36 reads 8 KB apart at 16 channels, and through `array::from_fn` closures
    // left as calls, this took 1.2% of deep_bn's step in Chromium (V8's profiler).
    let mut totals = vec![0.0f64; cout * cin * XI];
    for (xi, sx) in sums.chunks_exact(cout * cin).enumerate() {
        for (pair, lanes) in sx.iter().enumerate() {
            totals[pair * XI + xi] = lanes.to_array().iter().sum::<f64>();
        }
    }
    let mut dw = vec![0.0f64; cout * cin * 9];
    for (s, g) in totals.chunks_exact(XI).zip(dw.chunks_exact_mut(9)) {
        let mut cols = [[0.0f64; 3]; 6];
        for b in 0..6 {
            let mut column = [0.0f64; 6];
            for a in 0..6 {
                column[a] = s[a * 6 + b];
            }
            cols[b] = kernel_transform_t(column);
        }
        for ky in 0..3 {
            let mut row = [0.0f64; 6];
            for b in 0..6 {
                row[b] = cols[b][ky];
            }
            g[ky * 3..ky * 3 + 3].copy_from_slice(&kernel_transform_t(row));
        }
    }
    dw
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_group_scan_finds_what_the_pixel_scan_finds() {
        // Planes of 8·k and of 8·k + 1..7 values (the scalar tail), from sparse to dense, so
        // that some images have a pixel zero in every channel and some do not; -0.0 counts as
        // zero, NaN does not.
        let mut state = 7u32;
        let mut next = || {
            state = state.wrapping_mul(1664525).wrapping_add(1013904223);
            state >> 8
        };
        let mut found = [0; 2];
        for round in 0..600 {
            let (channels, plane, zeros) = (1 + round % 5, 1 + round % 37, [4, 10, 15][round % 3]);
            let image: Vec<f64> = (0..channels * plane)
                .map(|_| match next() % 16 {
                    k if k < zeros => [0.0, -0.0][k as usize % 2],
                    k if k % 5 == 0 => f64::NAN,
                    _ => 0.25,
                })
                .collect();
            let by_pixel = (0..plane).any(|p| image.chunks_exact(plane).all(|values| values[p] == 0.0));
            assert_eq!(some_pixel_zero_in_all(&image, channels, plane), by_pixel, "round {round}");
            found[by_pixel as usize] += 1;
        }
        assert!(found.iter().all(|&n| n > 100), "both answers are tested: {found:?}");
    }
}
