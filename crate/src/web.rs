//! The JavaScript API (`www/pkg/initlab.js`): only the wasm-bindgen surface lives here.
//!
//! ```js
//! import init, { availableBackends, Experiment } from "./pkg/initlab.js";
//! await init();
//! const exp = await Experiment.create({ init: "zeros" }, "flex");
//! const record = await exp.step(); // {step, loss, conv1_mean, ...}
//! exp.free();
//! ```
//!
//! Every promise rejects with an `Error` whose message names the field (or the file) and the
//! allowed range. A step never overlaps another on the same object: a second call while one
//! is in flight is rejected instead of corrupting the first.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Object, Promise, Reflect};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::backend::BackendKind;
use crate::config::{ExperimentConfig, FieldValue, keys};
use crate::facts;
use crate::inputs::InitialTensors;
use crate::train;

// The constructors the linker gathers into `__wasm_call_ctors` (the full module has 4,892:
// `inventory` registrations in pliron, under cubecl's WebGPU compiler). A module that never
// calls it is linked "command-style": every export runs all of them first, including the
// allocator and the externref table's, which serde_wasm_bindgen calls once per number. A stack
// snapshot of 7,776 numbers took 1.7 to 4.6 s in Chromium that way (against 1 to 16 ms in the
// flex module, which has no constructors), and the depth lab's lessons on ndarray about 2 s a
// step. Calling it here, once, is what `inventory`'s documentation prescribes.
unsafe extern "C" {
    fn __wasm_call_ctors();
}

#[wasm_bindgen(start)]
fn start() {
    // SAFETY: the glue calls `start` once, right after instantiation and before any other
    // export, which is when the constructors have to run.
    unsafe { __wasm_call_ctors() };
    console_error_panic_hook::set_once();
}

/// The backends this browser can run: the CPU ones always, `"webgpu"` when an adapter is given.
#[wasm_bindgen(js_name = availableBackends)]
pub async fn available_backends() -> Vec<String> {
    let mut names: Vec<String> = BackendKind::CPU.iter().map(|b| b.name().to_string()).collect();
    if cfg!(feature = "webgpu") && gpu::adapter_available().await {
        names.push(BackendKind::Webgpu.name().to_string());
    }
    names
}

/// The config keys, from the engine's one table (see [`facts::config_fields`]).
#[wasm_bindgen(js_name = configFields)]
pub fn config_fields() -> Result<JsValue, JsError> {
    to_js(&facts::config_fields())
}

/// Every table the page imports from `www/pkg/facts.js` (see [`facts::facts`]).
#[wasm_bindgen(js_name = engineFacts)]
pub fn engine_facts() -> Result<JsValue, JsError> {
    to_js(&facts::facts())
}

/// Checks a config and returns it complete (missing keys filled with the defaults).
#[wasm_bindgen(js_name = validateConfig)]
pub fn validate_config(config: JsValue) -> Result<JsValue, JsError> {
    to_js(&parse_config(&config)?.to_json())
}

/// The conv weight gradient on `backend` against the CPU for an image of `height × width`:
/// `{stock, ours}`, the largest relative error of burn's own kernel and of ours. A check of the
/// wgpu hazard described in docs/wgpu-conv-weight-grad.md.
#[wasm_bindgen(js_name = checkConvWeightGrad)]
pub async fn check_conv_weight_grad(backend: String, height: u32, width: u32) -> Result<JsValue, JsError> {
    if !(1..=1024).contains(&height) || !(1..=1024).contains(&width) {
        return Err(JsError::new("height, width: integers from 1 to 1024"));
    }
    let mut choices = BackendKind::CPU.to_vec();
    if cfg!(feature = "webgpu") {
        choices.push(BackendKind::Webgpu);
    }
    let backend = BackendKind::parse(&backend, &choices).map_err(|e| JsError::new(&e))?;
    let device = match backend.device() {
        Some(device) => device,
        None => gpu::device().await.map_err(|e| JsError::new(&e))?,
    };
    let (stock, ours) = crate::diagnostics::conv_weight_grad_errors(&device, height as usize, width as usize)
        .await
        .map_err(|e| JsError::new(&e))?;
    to_js(&serde_json::json!({ "stock": stock, "ours": ours }))
}

/// Gets the seed's step optimised before the first click: every round of [`WarmUp`] at once.
#[wasm_bindgen(js_name = warmUp)]
pub fn warm_up() {
    crate::train::warm_up();
}

/// The warm-up a round at a time (see `train::WarmUp`), so that a worker answers messages
/// between rounds.
#[wasm_bindgen]
pub struct WarmUp(crate::train::WarmUp);

#[wasm_bindgen]
impl WarmUp {
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> WarmUp {
        WarmUp(crate::train::WarmUp::new())
    }

    /// One round; whether rounds remain.
    pub fn round(&mut self) -> bool {
        self.0.round()
    }
}

/// Traps the wasm instance on purpose: the page's tests use it to check that a dead worker is
/// replaced and that the results on screen survive.
#[wasm_bindgen(js_name = debugTrap)]
pub fn debug_trap() {
    core::arch::wasm32::unreachable()
}

#[wasm_bindgen]
pub struct Experiment {
    inner: Rc<RefCell<train::Experiment>>,
    busy: Rc<Cell<bool>>,
    backend: BackendKind,
}

#[wasm_bindgen]
impl Experiment {
    /// An experiment from the config's seed, on `backend` (default: the fastest CPU backend).
    pub async fn create(config: JsValue, backend: Option<String>) -> Result<Experiment, JsError> {
        let config = parse_config(&config)?;
        let inputs = InitialTensors::from_seed(&config);
        Self::build(config, &inputs, backend).await
    }

    /// An experiment whose image and initial conv weights come from safetensors bytes
    /// (tensors `image` and every `conv{i}.weight`, as in the PyTorch fixtures).
    #[wasm_bindgen(js_name = fromSafetensors)]
    pub async fn from_safetensors(
        config: JsValue,
        bytes: Vec<u8>,
        backend: Option<String>,
    ) -> Result<Experiment, JsError> {
        let config = parse_config(&config)?;
        let inputs = InitialTensors::from_safetensors(&bytes, &config)
            .map_err(|e| JsError::new(&format!("file: {e}")))?;
        Self::build(config, &inputs, backend).await
    }

    async fn build(
        config: ExperimentConfig,
        inputs: &InitialTensors,
        backend: Option<String>,
    ) -> Result<Experiment, JsError> {
        let mut choices = BackendKind::CPU.to_vec();
        if cfg!(feature = "webgpu") {
            choices.push(BackendKind::Webgpu);
        }
        let backend = match backend.as_deref() {
            None | Some("") => BackendKind::Flex,
            Some(name) => BackendKind::parse(name, &choices).map_err(|e| JsError::new(&e))?,
        };
        let device = match backend.device() {
            Some(device) => device,
            None => gpu::device().await.map_err(|e| JsError::new(&e))?,
        };
        Ok(Experiment {
            inner: Rc::new(RefCell::new(train::Experiment::new(config, inputs, backend, &device))),
            busy: Rc::new(Cell::new(false)),
            backend,
        })
    }

    /// One training step. Resolves to the fixtures' keys: `{step, loss, conv1_mean, conv1_var,
    /// conv2_mean, conv2_var, conv1_grad_norm, conv2_grad_norm}` for the seed arches, `{step,
    /// loss, accuracy, conv_mean: [...], conv_var, conv_grad_norm, bias_grad_norm (with
    /// biases), act_mean, act_std, act_grad_norm}` for a stack; rejects once all epochs are done
    /// ("finished: …"), on divergence ("diverged at step k: …"), or if a step is in flight.
    pub fn step(&self) -> Promise {
        if self.busy.replace(true) {
            return reject("step: the previous step of this experiment has not finished; await it first");
        }
        let (inner, busy) = (self.inner.clone(), self.busy.clone());
        future_to_promise(async move {
            let result = {
                let mut experiment = inner.borrow_mut();
                experiment.step_async().await
            };
            busy.set(false);
            match result {
                Ok(record) => to_js(&record).map_err(JsValue::from),
                Err(e) => {
                    // The kind as the Error's name: the page classifies outcomes by it, not by text.
                    let error = js_sys::Error::new(&e.to_string());
                    error.set_name(e.kind());
                    Err(error.into())
                }
            }
        })
    }

    /// The backend this experiment runs on: "flex", "ndarray" or "webgpu".
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.backend.name().to_string()
    }

    /// The complete config (missing keys filled in).
    #[wasm_bindgen(getter)]
    pub fn config(&self) -> Result<JsValue, JsError> {
        to_js(&self.borrow()?.config().to_json())
    }

    /// Steps recorded so far.
    #[wasm_bindgen(getter, js_name = stepsDone)]
    pub fn steps_done(&self) -> Result<f64, JsError> {
        Ok(self.borrow()?.steps_done() as f64)
    }

    /// The forward pass's maps for the first image with the given parameters (a snapshot's
    /// `params`, to look at any recorded step): `{height, width, image, conv1, conv2_input,
    /// conv2, logits}`, each a Float32Array `[3, H, W]` (`conv1` null in single_conv).
    #[wasm_bindgen(js_name = featureMaps)]
    pub fn feature_maps(&self, params: JsValue) -> Promise {
        let params = match named_values(params) {
            Ok(p) => p,
            Err(e) => return reject(&e),
        };
        if self.busy.replace(true) {
            return reject("featureMaps: a step of this experiment is in flight; await it first");
        }
        let (inner, busy) = (self.inner.clone(), self.busy.clone());
        future_to_promise(async move {
            let result = {
                let experiment = inner.borrow();
                experiment.feature_maps_async(&params).await
            };
            busy.set(false);
            let maps = result.map_err(|e| JsValue::from(js_sys::Error::new(&e)))?;
            let out = Object::new();
            let set = |key: &str, value: &JsValue| Reflect::set(&out, &key.into(), value).map(|_| ());
            set("height", &(maps.height as f64).into())?;
            set("width", &(maps.width as f64).into())?;
            let array = |v: &[f32]| JsValue::from(js_sys::Float32Array::from(v));
            set("image", &array(&maps.image))?;
            set("conv1", &maps.conv1.as_deref().map_or(JsValue::NULL, array))?;
            set("conv2_input", &array(&maps.conv2_input))?;
            set("conv2", &array(&maps.conv2))?;
            set("logits", &array(&maps.logits))?;
            Ok(out.into())
        })
    }

    /// Every block's maps for the first image with the given parameters (a snapshot's
    /// `params`): `{height, width, blocks: [{channels, conv, conv_grad, output, output_grad}]}`,
    /// each map a Float32Array `[channels, H, W]`: the conv's output f and ∂L/∂f, the block's
    /// output and ∂L/∂(output), from one forward and backward pass over the whole batch.
    #[wasm_bindgen(js_name = blockMaps)]
    pub fn block_maps(&self, params: JsValue) -> Promise {
        let params = match named_values(params) {
            Ok(p) => p,
            Err(e) => return reject(&e),
        };
        if self.busy.replace(true) {
            return reject("blockMaps: a step of this experiment is in flight; await it first");
        }
        let (inner, busy) = (self.inner.clone(), self.busy.clone());
        future_to_promise(async move {
            let result = {
                let experiment = inner.borrow();
                experiment.block_maps_async(&params).await
            };
            busy.set(false);
            let maps = result.map_err(|e| JsValue::from(js_sys::Error::new(&e)))?;
            let out = Object::new();
            Reflect::set(&out, &"height".into(), &(maps.height as f64).into())?;
            Reflect::set(&out, &"width".into(), &(maps.width as f64).into())?;
            let blocks = js_sys::Array::new();
            for block in &maps.blocks {
                let b = Object::new();
                Reflect::set(&b, &"channels".into(), &(block.channels as f64).into())?;
                for (key, values) in [
                    ("conv", &block.conv),
                    ("conv_grad", &block.conv_grad),
                    ("output", &block.output),
                    ("output_grad", &block.output_grad),
                ] {
                    Reflect::set(&b, &key.into(), &js_sys::Float32Array::from(&values[..]).into())?;
                }
                blocks.push(&b);
            }
            Reflect::set(&out, &"blocks".into(), &blocks)?;
            Ok(out.into())
        })
    }

    /// Every parameter at the last recorded step, with the gradient its update used:
    /// `{step, params: [{name, value, grad}]}` (`grad` null where the parameter is outside
    /// the graph), or null before the first step.
    pub fn snapshot(&self) -> Result<JsValue, JsError> {
        to_js(&self.borrow()?.snapshot())
    }
}

#[derive(serde::Deserialize)]
struct NamedValues {
    name: String,
    value: Vec<f64>,
}

/// A snapshot's `params` from JavaScript.
fn named_values(params: JsValue) -> Result<Vec<(String, Vec<f64>)>, String> {
    let params: Vec<NamedValues> = serde_wasm_bindgen::from_value(params)
        .map_err(|e| format!("params: must be a snapshot's params [{{name, value}}] ({e})"))?;
    Ok(params.into_iter().map(|p| (p.name, p.value)).collect())
}

impl Experiment {
    fn borrow(&self) -> Result<std::cell::Ref<'_, train::Experiment>, JsError> {
        self.inner.try_borrow().map_err(|_| JsError::new("experiment: a step is in flight; await it first"))
    }
}

/// Reads a plain JavaScript object into a config. Numbers stay f64 so NaN and ±Infinity reach
/// validation and are named there, rather than turning into null on the way.
fn parse_config(value: &JsValue) -> Result<ExperimentConfig, JsError> {
    if value.is_undefined() || value.is_null() {
        return Ok(ExperimentConfig::default());
    }
    if !value.is_object() || js_sys::Array::is_array(value) {
        return Err(JsError::new(&format!("config: must be an object with some of the keys {}", keys())));
    }
    let mut fields = Vec::new();
    for entry in Object::entries(value.unchecked_ref()).iter() {
        let key = Reflect::get_u32(&entry, 0).ok().and_then(|k| k.as_string()).unwrap_or_default();
        let v = Reflect::get_u32(&entry, 1).unwrap_or(JsValue::UNDEFINED);
        let field = if let Some(x) = v.as_f64() {
            FieldValue::Number(x)
        } else if let Some(s) = v.as_string() {
            FieldValue::Text(s)
        } else if let Some(b) = v.as_bool() {
            FieldValue::Bool(b)
        } else if v.is_null() || v.is_undefined() {
            FieldValue::Null
        } else {
            FieldValue::Text(format!("a value of type {}", v.js_typeof().as_string().unwrap_or_default()))
        };
        fields.push((key, field));
    }
    ExperimentConfig::from_fields(fields).map_err(|e| JsError::new(&e.to_string()))
}

fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&e.to_string()))
}

fn reject(message: &str) -> Promise {
    Promise::reject(&js_sys::Error::new(message).into())
}

/// WebGPU: whether the browser gives an adapter, and burn's device on it (made once).
mod gpu {
    use std::cell::RefCell;

    use burn::prelude::Device;
    use js_sys::{Function, Promise, Reflect};
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    thread_local! {
        static DEVICE: RefCell<Option<Device>> = const { RefCell::new(None) };
    }

    /// `navigator.gpu.requestAdapter()` resolves to an adapter (works in pages and workers).
    pub async fn adapter_available() -> bool {
        let Ok(gpu) = Reflect::get(&js_sys::global(), &"navigator".into())
            .and_then(|nav| Reflect::get(&nav, &"gpu".into()))
        else {
            return false;
        };
        if gpu.is_undefined() || gpu.is_null() {
            return false;
        }
        let Some(request) =
            Reflect::get(&gpu, &"requestAdapter".into()).ok().and_then(|f| f.dyn_into::<Function>().ok())
        else {
            return false;
        };
        let Ok(promise) = request.call0(&gpu).and_then(|p| p.dyn_into::<Promise>()) else {
            return false;
        };
        matches!(JsFuture::from(promise).await, Ok(adapter) if !adapter.is_null() && !adapter.is_undefined())
    }

    /// burn's wgpu device on the browser's WebGPU, initialised on first use.
    #[cfg(feature = "webgpu")]
    pub async fn device() -> Result<Device, String> {
        if let Some(device) = DEVICE.with(|d| d.borrow().clone()) {
            return Ok(device);
        }
        if !adapter_available().await {
            return Err("backend: \"webgpu\" is not available in this browser (no WebGPU adapter)".into());
        }
        let device = Device::wgpu_options()
            .graphics_api(burn::tensor::wgpu::WgpuBackend::WebGpu)
            .init_async()
            .await
            .map_err(|e| format!("backend: WebGPU could not start ({e:?})"))?;
        DEVICE.with(|d| *d.borrow_mut() = Some(device.clone()));
        Ok(device)
    }

    #[cfg(not(feature = "webgpu"))]
    pub async fn device() -> Result<Device, String> {
        Err("backend: this build has no WebGPU support".into())
    }
}
