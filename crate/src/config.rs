//! What one experiment is: the keys of the PyTorch reference configs, their defaults (the
//! blog's setup) and the range each may take, stated once, in [`FIELDS`].
//!
//! Configs arrive from four places (the CLI, fixture JSON, a JavaScript object, the page URL),
//! so parsing goes through one loosely typed form, [`FieldValue`], and every rejection names
//! the field and its allowed range. The table drives validation, the CLI's flags and help, and
//! `configFields()` for the page, in the spirit of TensorFlow Playground's `PROPS`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Most pixels (batch × height × width) one experiment may hold. A seed step keeps about 25
/// activation-sized f32 buffers alive (3 channels each), so 2^20 pixels stay near 300 MB.
pub const MAX_PIXELS: u64 = 1 << 20;
/// Most activations (batch × height × width × the sum of the block widths) a stack may hold.
/// A stack's step keeps several f64 buffers of that size alive (the forward's saved maps, their
/// gradients, the backward's temporaries, the maps read for the record): at the bound, two
/// tanh blocks of 32 channels at 488² peaked at 468 MB natively (`/usr/bin/time -v`), 16 blocks
/// of 32 channels at 132² less, well inside a browser tab. (2^24, the bound while stacks ran
/// in f32, took that two-block net to 929 MB in f64.)
pub const MAX_ACTIVATIONS: u64 = 1 << 23;
/// Most activations a stack may hold counted as its f64 kernels store them, each map padded to
/// whole 4 × 4 tiles in rows of 16 pixels (`kernels::winograd`'s layout; the direct kernels pad
/// less): (⌈H/4⌉·4 + 2) × (⌈W/16⌉·16 + 4) per plane. Twice [`MAX_ACTIVATIONS`], which
/// ordinary images never reach (64² pads to 1.1 times its pixels, 8² to 3.1 times on a small
/// count); a thin image does: 441,505 × 1 at 16 channels passed the plain bound and took 2.3 GB
/// natively, 2.7 GB in wasm.
pub const MAX_PADDED_ACTIVATIONS: u64 = 2 * MAX_ACTIVATIONS;
/// Most training steps one experiment may run.
pub const MAX_EPOCHS: u64 = 100_000;
/// Largest learning rate. Far beyond any useful value on purpose: with BatchNorm in the way,
/// float32 only overflows (and the run diverges) for steps this large. Try lr 1e30.
pub const MAX_LR: f64 = 1e30;
/// Largest |init_value| (the constant, or the std of `normal`) and `init_noise`.
pub const MAX_INIT_VALUE: f64 = 1e6;
/// Seeds are JavaScript-safe integers, so that a URL round trip keeps them exact.
pub const MAX_SEED: u64 = (1 << 53) - 1;
/// Most blocks, and most channels per hidden block, of a stack.
pub const MAX_DEPTH: u64 = 32;
pub const MAX_CHANNELS: u64 = 32;
/// Number of classes: the image's channels and the logits' channels.
pub const CLASSES: usize = 3;

/// An enum whose variants are named in configs, with `ALL`, `NAMES`, `name()` and `parse()`.
macro_rules! choices {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name { $($(#[$vmeta])* $variant,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];
            pub const NAMES: &'static [&'static str] = &[$($text,)+];

            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|c| c.name() == text)
            }
        }
    };
}

choices! {
    /// Which network.
    Arch {
        /// conv1 → bn1 → relu → conv2 → bn2 → relu: the blog's network.
        TwoConv = "two_conv",
        /// logits = conv2(image): the blog's one-layer control experiment.
        SingleConv = "single_conv",
        /// `depth` blocks of conv → [norm] → activation: the depth lab.
        Stack = "stack",
    }
}

choices! {
    /// How every conv weight starts.
    Init {
        Zeros = "zeros",
        /// Every weight equals `init_value`.
        Constant = "constant",
        /// N(0, init_value²).
        Normal = "normal",
        /// N(0, gain²/fan_in): PyTorch's `kaiming_normal_(mode="fan_in")`, gain for the activation.
        KaimingNormal = "kaiming_normal",
        /// U(±gain·√(3/fan_in)).
        KaimingUniform = "kaiming_uniform",
        /// N(0, 2/(fan_in+fan_out)).
        XavierNormal = "xavier_normal",
        /// U(±√(6/(fan_in+fan_out))).
        XavierUniform = "xavier_uniform",
        /// A random orthogonal matrix on the weight viewed as `[out, in·9]` (gain 1).
        Orthogonal = "orthogonal",
    }
}

choices! {
    /// What follows each conv before the activation.
    Norm {
        /// Train-mode BatchNorm2d (batch statistics, ε = 1e-5).
        Batch = "batch",
        None = "none",
    }
}

choices! {
    /// The nonlinearity of every block.
    Activation {
        Relu = "relu",
        Tanh = "tanh",
        Sigmoid = "sigmoid",
        /// The identity.
        Linear = "linear",
    }
}

choices! {
    /// What each pixel is labelled with.
    Target {
        /// Every pixel is `label` (the seed).
        Constant = "constant",
        /// The argmax over the image's 3 channels at that pixel (first index on ties).
        InputArgmax = "input_argmax",
    }
}

choices! {
    /// Which parameters the optimizer updates (all of them get gradients either way).
    Trainable {
        All = "all",
        /// Only BatchNorm's weights and biases.
        NormOnly = "norm_only",
        /// Only the conv weights and biases.
        ConvOnly = "conv_only",
    }
}

impl Init {
    /// Whether this init reads `init_value`.
    pub fn uses_value(self) -> bool {
        matches!(self, Init::Constant | Init::Normal)
    }
}

impl Activation {
    /// PyTorch's `calculate_gain`, squared: what Kaiming's inits scale by.
    pub fn gain_squared(self) -> f64 {
        match self {
            Activation::Relu => 2.0,
            Activation::Tanh => 25.0 / 9.0,
            Activation::Sigmoid | Activation::Linear => 1.0,
        }
    }

    /// act(0) = 0: a zero input stays zero through the block.
    pub fn keeps_zero(self) -> bool {
        !matches!(self, Activation::Sigmoid)
    }
}

/// One experiment. Field names and meanings are those of `shared/reference/*.json` configs.
/// The stack keys (`depth` … `trainable`) hold the seed's values for the two seed arches,
/// where they cannot be set.
#[derive(Clone, Debug, PartialEq)]
pub struct ExperimentConfig {
    pub arch: Arch,
    pub depth: u64,
    /// Width of the hidden blocks (unused at depth 1).
    pub channels: u64,
    pub norm: Norm,
    pub activation: Activation,
    /// Conv biases (starting at 0).
    pub bias: bool,
    /// Whether the last block ends in the activation too (the seed's ReLU on the logits).
    pub head_activation: bool,
    pub target: Target,
    pub init: Init,
    pub init_value: Option<f64>,
    /// `init_noise · N(0, 1)` is added to every conv weight after the init.
    pub init_noise: f64,
    pub trainable: Trainable,
    pub batch: u64,
    pub height: u64,
    pub width: u64,
    /// The class every pixel is labelled with (target "constant").
    pub label: u64,
    pub lr: f64,
    pub momentum: f64,
    pub epochs: u64,
    /// `false` reproduces the original script: gradients accumulate from step to step.
    pub zero_grad: bool,
    pub seed: u64,
}

impl Default for ExperimentConfig {
    /// The blog's setup: Kaiming normal, one 3×224×224 image, label 2, SGD(0.01, momentum 0.1),
    /// 40 epochs, no `zero_grad`.
    fn default() -> Self {
        Self {
            arch: Arch::TwoConv,
            depth: 2,
            channels: CLASSES as u64,
            norm: Norm::Batch,
            activation: Activation::Relu,
            bias: false,
            head_activation: true,
            target: Target::Constant,
            init: Init::KaimingNormal,
            init_value: None,
            init_noise: 0.0,
            trainable: Trainable::All,
            batch: 1,
            height: 224,
            width: 224,
            label: 2,
            lr: 0.01,
            momentum: 0.1,
            epochs: 40,
            zero_grad: false,
            seed: 0,
        }
    }
}

/// A config value before it is checked: what JSON, a JavaScript object or a URL can hold.
/// Numbers stay `f64` so that NaN and ±Infinity from JavaScript reach validation intact.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    Number(f64),
    Text(String),
    Bool(bool),
    Null,
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Number(x) => write!(f, "{x}"),
            FieldValue::Text(s) => write!(f, "{s:?}"),
            FieldValue::Bool(b) => write!(f, "{b}"),
            FieldValue::Null => f.write_str("null"),
        }
    }
}

impl From<serde_json::Value> for FieldValue {
    fn from(value: serde_json::Value) -> Self {
        match value {
            serde_json::Value::Null => FieldValue::Null,
            serde_json::Value::Bool(b) => FieldValue::Bool(b),
            serde_json::Value::Number(n) => FieldValue::Number(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => FieldValue::Text(s),
            other => FieldValue::Text(other.to_string()),
        }
    }
}

impl From<&FieldValue> for serde_json::Value {
    fn from(value: &FieldValue) -> Self {
        match value {
            FieldValue::Number(x) => serde_json::json!(x),
            FieldValue::Text(s) => serde_json::json!(s),
            FieldValue::Bool(b) => serde_json::json!(b),
            FieldValue::Null => serde_json::Value::Null,
        }
    }
}

/// A rejected config: which field, and what it may be.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    pub field: String,
    pub message: String,
}

impl ConfigError {
    fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: field.to_string(), message: message.into() }
    }

    /// The field as the message names it: plain for our keys, quoted for anything else (an
    /// empty or odd unknown key still reads as a name).
    pub fn shown_field(&self) -> String {
        let plain =
            !self.field.is_empty() && self.field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if plain { self.field.clone() } else { format!("{:?}", self.field) }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.shown_field(), self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The kind of value a field takes, for forms and flags.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Choice(&'static [&'static str]),
    Integer {
        min: u64,
        max: u64,
    },
    /// A number (or, for `init_value`, null); [`Field::allowed`] states its range.
    Number,
    Bool,
}

/// One config key: the single place its range, parsing and meaning are stated.
pub struct Field {
    pub key: &'static str,
    /// One line for `--help` and the page's forms.
    pub help: &'static str,
    pub kind: Kind,
    /// Only `arch: "stack"` reads it; a seed arch refuses it.
    pub stack_only: bool,
    allowed: fn() -> String,
    /// Stores a value, or `None` if it is out of range.
    set: fn(&mut ExperimentConfig, &FieldValue) -> Option<()>,
    get: fn(&ExperimentConfig) -> FieldValue,
}

impl Field {
    /// The allowed values, as the error messages and the README state them.
    pub fn allowed(&self) -> String {
        (self.allowed)()
    }

    /// This field's value in `config`.
    pub fn get(&self, config: &ExperimentConfig) -> FieldValue {
        (self.get)(config)
    }

    fn set(&self, config: &mut ExperimentConfig, value: &FieldValue) -> Result<(), ConfigError> {
        (self.set)(config, value).ok_or_else(|| reject(self.key, value))
    }
}

fn text(s: &str) -> FieldValue {
    FieldValue::Text(s.to_string())
}

fn choice<T>(value: &FieldValue, parse: fn(&str) -> Option<T>) -> Option<T> {
    match value {
        FieldValue::Text(s) => parse(s),
        _ => None,
    }
}

fn one_of(names: &[&str]) -> String {
    format!("one of {}", names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", "))
}

/// The config keys, in the reference fixtures' order. Adding a key means one entry here and
/// one field of [`ExperimentConfig`]; validation, the CLI and the page follow.
pub const FIELDS: &[Field] = &[
    Field {
        key: "arch",
        help: "two_conv (the blog's net), single_conv (its one-conv control) or stack (the depth lab)",
        kind: Kind::Choice(Arch::NAMES),
        stack_only: false,
        allowed: || one_of(Arch::NAMES),
        set: |c, v| choice(v, Arch::parse).map(|x| c.arch = x),
        get: |c| text(c.arch.name()),
    },
    Field {
        key: "depth",
        help: "blocks of conv → [norm] → activation",
        kind: Kind::Integer { min: 1, max: MAX_DEPTH },
        stack_only: true,
        allowed: || format!("an integer from 1 to {MAX_DEPTH}"),
        set: |c, v| integer(v, 1, MAX_DEPTH).map(|x| c.depth = x),
        get: |c| FieldValue::Number(c.depth as f64),
    },
    Field {
        key: "channels",
        help: "width of the hidden blocks (the image has 3 channels, the logits 3)",
        kind: Kind::Integer { min: 1, max: MAX_CHANNELS },
        stack_only: true,
        allowed: || format!("an integer from 1 to {MAX_CHANNELS}"),
        set: |c, v| integer(v, 1, MAX_CHANNELS).map(|x| c.channels = x),
        get: |c| FieldValue::Number(c.channels as f64),
    },
    Field {
        key: "norm",
        help: "batch (train-mode BatchNorm after every conv) or none",
        kind: Kind::Choice(Norm::NAMES),
        stack_only: true,
        allowed: || one_of(Norm::NAMES),
        set: |c, v| choice(v, Norm::parse).map(|x| c.norm = x),
        get: |c| text(c.norm.name()),
    },
    Field {
        key: "activation",
        help: "the nonlinearity of every block",
        kind: Kind::Choice(Activation::NAMES),
        stack_only: true,
        allowed: || one_of(Activation::NAMES),
        set: |c, v| choice(v, Activation::parse).map(|x| c.activation = x),
        get: |c| text(c.activation.name()),
    },
    Field {
        key: "bias",
        help: "conv biases (starting at 0)",
        kind: Kind::Bool,
        stack_only: true,
        allowed: || "true or false".to_string(),
        set: |c, v| boolean(v).map(|x| c.bias = x),
        get: |c| FieldValue::Bool(c.bias),
    },
    Field {
        key: "head_activation",
        help: "the activation after the last block too (the seed's ReLU on the logits)",
        kind: Kind::Bool,
        stack_only: true,
        allowed: || "true or false".to_string(),
        set: |c, v| boolean(v).map(|x| c.head_activation = x),
        get: |c| FieldValue::Bool(c.head_activation),
    },
    Field {
        key: "target",
        help: "constant (every pixel is `label`) or input_argmax (each pixel's argmax over the image's channels)",
        kind: Kind::Choice(Target::NAMES),
        stack_only: true,
        allowed: || one_of(Target::NAMES),
        set: |c, v| choice(v, Target::parse).map(|x| c.target = x),
        get: |c| text(c.target.name()),
    },
    Field {
        key: "init",
        help: "how every conv weight starts",
        kind: Kind::Choice(Init::NAMES),
        stack_only: false,
        allowed: || one_of(Init::NAMES),
        set: |c, v| choice(v, Init::parse).map(|x| c.init = x),
        get: |c| text(c.init.name()),
    },
    Field {
        key: "init_value",
        help: "the constant (init constant) or the std (init normal)",
        kind: Kind::Number,
        stack_only: false,
        allowed: || {
            format!(
                "a number from -{MAX_INIT_VALUE:e} to {MAX_INIT_VALUE:e} (init \"constant\"), from 0 to {MAX_INIT_VALUE:e} (init \"normal\", the std), or null"
            )
        },
        set: |c, v| {
            c.init_value = match v {
                FieldValue::Null => None,
                other => Some(number(other).filter(|x| x.abs() <= MAX_INIT_VALUE)?),
            };
            Some(())
        },
        get: |c| c.init_value.map_or(FieldValue::Null, FieldValue::Number),
    },
    Field {
        key: "init_noise",
        help: "the std of N(0, 1) noise added to every conv weight after the init (breaks symmetry)",
        kind: Kind::Number,
        stack_only: true,
        allowed: || format!("a number from 0 to {MAX_INIT_VALUE:e}"),
        set: |c, v| number(v).filter(|x| (0.0..=MAX_INIT_VALUE).contains(x)).map(|x| c.init_noise = x),
        get: |c| FieldValue::Number(c.init_noise),
    },
    Field {
        key: "trainable",
        help: "which parameters the optimizer updates: all, norm_only (BatchNorm's) or conv_only",
        kind: Kind::Choice(Trainable::NAMES),
        stack_only: true,
        allowed: || one_of(Trainable::NAMES),
        set: |c, v| choice(v, Trainable::parse).map(|x| c.trainable = x),
        get: |c| text(c.trainable.name()),
    },
    Field {
        key: "batch",
        help: "images in the batch",
        kind: Kind::Integer { min: 1, max: MAX_PIXELS },
        stack_only: false,
        allowed: pixels_allowed,
        set: |c, v| integer(v, 1, MAX_PIXELS).map(|x| c.batch = x),
        get: |c| FieldValue::Number(c.batch as f64),
    },
    Field {
        key: "height",
        help: "image height in pixels",
        kind: Kind::Integer { min: 1, max: MAX_PIXELS },
        stack_only: false,
        allowed: pixels_allowed,
        set: |c, v| integer(v, 1, MAX_PIXELS).map(|x| c.height = x),
        get: |c| FieldValue::Number(c.height as f64),
    },
    Field {
        key: "width",
        help: "image width in pixels",
        kind: Kind::Integer { min: 1, max: MAX_PIXELS },
        stack_only: false,
        allowed: pixels_allowed,
        set: |c, v| integer(v, 1, MAX_PIXELS).map(|x| c.width = x),
        get: |c| FieldValue::Number(c.width as f64),
    },
    Field {
        key: "label",
        help: "the class of every pixel (target constant)",
        kind: Kind::Integer { min: 0, max: CLASSES as u64 - 1 },
        stack_only: false,
        allowed: || format!("an integer from 0 to {}", CLASSES - 1),
        set: |c, v| integer(v, 0, CLASSES as u64 - 1).map(|x| c.label = x),
        get: |c| FieldValue::Number(c.label as f64),
    },
    Field {
        key: "lr",
        help: "SGD's learning rate",
        kind: Kind::Number,
        stack_only: false,
        allowed: || format!("a number > 0 and ≤ {MAX_LR:e}"),
        set: |c, v| number(v).filter(|&lr| lr > 0.0 && lr <= MAX_LR).map(|x| c.lr = x),
        get: |c| FieldValue::Number(c.lr),
    },
    Field {
        key: "momentum",
        help: "SGD's momentum (PyTorch's form, no dampening)",
        kind: Kind::Number,
        stack_only: false,
        allowed: || "a number ≥ 0 and < 1".to_string(),
        set: |c, v| number(v).filter(|m| (0.0..1.0).contains(m)).map(|x| c.momentum = x),
        get: |c| FieldValue::Number(c.momentum),
    },
    Field {
        key: "epochs",
        help: "training steps",
        kind: Kind::Integer { min: 1, max: MAX_EPOCHS },
        stack_only: false,
        allowed: || format!("an integer from 1 to {MAX_EPOCHS}"),
        set: |c, v| integer(v, 1, MAX_EPOCHS).map(|x| c.epochs = x),
        get: |c| FieldValue::Number(c.epochs as f64),
    },
    Field {
        key: "zero_grad",
        help: "clear gradients before each step (the fix the original script lacks)",
        kind: Kind::Bool,
        stack_only: false,
        allowed: || "true or false".to_string(),
        set: |c, v| boolean(v).map(|x| c.zero_grad = x),
        get: |c| FieldValue::Bool(c.zero_grad),
    },
    Field {
        key: "seed",
        help: "seeds the image and the weights (the same on every backend)",
        kind: Kind::Integer { min: 0, max: MAX_SEED },
        stack_only: false,
        allowed: || format!("an integer from 0 to {MAX_SEED}"),
        set: |c, v| integer(v, 0, MAX_SEED).map(|x| c.seed = x),
        get: |c| FieldValue::Number(c.seed as f64),
    },
];

fn pixels_allowed() -> String {
    format!("an integer ≥ 1, with batch × height × width ≤ {MAX_PIXELS} pixels")
}

/// The field named `key`.
pub fn field(key: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.key == key)
}

/// Every key, comma-separated, for messages.
pub fn keys() -> String {
    FIELDS.iter().map(|f| f.key).collect::<Vec<_>>().join(", ")
}

/// The allowed range of `key`, as the error messages and the README state it.
pub fn allowed(key: &str) -> String {
    field(key).map_or_else(|| format!("one of the keys {}", keys()), Field::allowed)
}

fn reject(key: &str, got: &FieldValue) -> ConfigError {
    ConfigError::new(key, format!("must be {}, got {got}", allowed(key)))
}

impl ExperimentConfig {
    /// Builds a config from `(key, value)` pairs; missing keys keep the blog's defaults (the
    /// stack keys: the blog's two_conv written as a stack).
    pub fn from_fields<K: AsRef<str>>(
        fields: impl IntoIterator<Item = (K, FieldValue)>,
    ) -> Result<Self, ConfigError> {
        let mut config = Self::default();
        let mut stack_keys = Vec::new();
        for (key, value) in fields {
            let key = key.as_ref();
            let Some(field) = field(key) else {
                return Err(ConfigError::new(key, format!("unknown field; the keys are {}", keys())));
            };
            field.set(&mut config, &value)?;
            if field.stack_only {
                stack_keys.push(field.key);
            }
        }
        if let (Some(key), false) = (stack_keys.first(), config.arch == Arch::Stack) {
            return Err(ConfigError::new(
                key,
                format!(
                    "only for arch \"stack\"; arch \"{}\" is the blog's fixed network",
                    config.arch.name()
                ),
            ));
        }
        config.validate()?;
        Ok(config)
    }

    /// Parses a JSON object such as a fixture's `config`.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, ConfigError> {
        let Some(object) = value.as_object() else {
            return Err(ConfigError::new(
                "config",
                format!("must be a JSON object with the keys {}", keys()),
            ));
        };
        Self::from_fields(object.iter().map(|(key, value)| (key.as_str(), FieldValue::from(value.clone()))))
    }

    /// Sets one field from a loosely typed value, checking its own range. Cross-field rules
    /// are checked by [`Self::validate`].
    pub fn set(&mut self, key: &str, value: &FieldValue) -> Result<(), ConfigError> {
        match field(key) {
            Some(field) => field.set(self, value),
            None => Err(ConfigError::new(key, format!("unknown field; the keys are {}", keys()))),
        }
    }

    /// The fields this config's arch reads, in table order.
    pub fn fields(&self) -> impl Iterator<Item = &'static Field> + '_ {
        FIELDS.iter().filter(|f| self.arch == Arch::Stack || !f.stack_only)
    }

    /// Checks every field (a struct literal skips [`Self::set`]) and the rules that tie fields
    /// together.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for field in FIELDS {
            field.set(&mut self.clone(), &field.get(self))?;
        }
        if self.arch != Arch::Stack && *self != self.clone().with_seed_layout() {
            let differs = FIELDS
                .iter()
                .find(|f| f.stack_only && f.get(self) != f.get(&self.clone().with_seed_layout()));
            let key = differs.map_or("arch", |f| f.key);
            return Err(ConfigError::new(
                key,
                format!("only for arch \"stack\"; arch \"{}\" is the blog's fixed network", self.arch.name()),
            ));
        }
        let pixels = self.batch.checked_mul(self.height).and_then(|p| p.checked_mul(self.width));
        if pixels.is_none_or(|p| p > MAX_PIXELS) {
            let got = FieldValue::Text(format!("{} × {} × {}", self.batch, self.height, self.width));
            // Name the largest factor: that is the one worth shrinking.
            let key = if self.batch >= self.height.max(self.width) {
                "batch"
            } else if self.height >= self.width {
                "height"
            } else {
                "width"
            };
            return Err(reject(key, &got));
        }
        let block_widths = self.widths()[1..].iter().sum::<usize>() as u64;
        let activations = pixels.unwrap_or(u64::MAX).saturating_mul(block_widths);
        if self.arch == Arch::Stack && activations > MAX_ACTIVATIONS {
            let key = if self.depth >= self.channels { "depth" } else { "channels" };
            return Err(ConfigError::new(
                key,
                format!(
                    "batch × height × width × the sum of the block widths must be ≤ {MAX_ACTIVATIONS} activations (about 470 MB in a step), got {} × {} × {} × {block_widths} = {activations}; reduce batch, height, width, depth or channels",
                    self.batch, self.height, self.width
                ),
            ));
        }
        let (padded_rows, padded_columns) =
            (self.height.div_ceil(4) * 4 + 2, self.width.div_ceil(16) * 16 + 4);
        let padded = self
            .batch
            .saturating_mul(padded_rows)
            .saturating_mul(padded_columns)
            .saturating_mul(block_widths);
        if self.arch == Arch::Stack && padded > MAX_PADDED_ACTIVATIONS {
            let key = if self.height >= self.width { "height" } else { "width" };
            return Err(ConfigError::new(
                key,
                format!(
                    "a stack's kernels pad each map to whole 4 × 4 tiles in rows of 16 pixels, and batch × (⌈height/4⌉·4 + 2) × (⌈width/16⌉·16 + 4) × the sum of the block widths must be ≤ {MAX_PADDED_ACTIVATIONS}, got {} × {padded_rows} × {padded_columns} × {block_widths} = {padded}; an image this thin wastes most of that: make it squarer, or reduce batch, height, width, depth or channels",
                    self.batch
                ),
            ));
        }
        if self.trainable == Trainable::NormOnly && self.norm == Norm::None {
            return Err(ConfigError::new(
                "trainable",
                "\"norm_only\" needs norm \"batch\": with norm \"none\" there is no BatchNorm parameter to train",
            ));
        }
        match (self.init, self.init_value) {
            (Init::Constant | Init::Normal, None) => Err(ConfigError::new(
                "init_value",
                format!("init \"{}\" needs a value: {}", self.init.name(), allowed("init_value")),
            )),
            (Init::Normal, Some(v)) if v < 0.0 => Err(reject("init_value", &FieldValue::Number(v))),
            _ => Ok(()),
        }
    }

    /// The stack keys set to the blog's network, which both seed arches are built from.
    fn with_seed_layout(self) -> Self {
        let seed = Self::default();
        Self {
            depth: seed.depth,
            channels: seed.channels,
            norm: seed.norm,
            activation: seed.activation,
            bias: seed.bias,
            head_activation: seed.head_activation,
            target: seed.target,
            init_noise: seed.init_noise,
            trainable: seed.trainable,
            ..self
        }
    }

    pub fn pixels(&self) -> usize {
        (self.batch * self.height * self.width) as usize
    }

    /// Channels from the image to the logits: `c[0] = 3`, `c[1] .. c[depth-1] = channels`,
    /// `c[depth] = 3`. The seed arches hold two 3 → 3 convs (single_conv runs only conv2).
    pub fn widths(&self) -> Vec<usize> {
        let depth = self.depth as usize;
        (0..=depth).map(|i| if i == 0 || i == depth { CLASSES } else { self.channels as usize }).collect()
    }

    /// Shape of the input image batch, `[N, 3, H, W]`.
    pub fn image_shape(&self) -> [usize; 4] {
        [self.batch as usize, CLASSES, self.height as usize, self.width as usize]
    }

    /// Shape of conv `i`'s weight (0-based), `[out, in, 3, 3]`.
    pub fn weight_shape(&self, i: usize) -> [usize; 4] {
        let c = self.widths();
        [c[i + 1], c[i], 3, 3]
    }

    /// Number of conv layers the model holds.
    pub fn convs(&self) -> usize {
        self.depth as usize
    }

    /// The config as the fixtures' JSON object: the keys its arch reads.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(self.fields().map(|f| (f.key.to_string(), (&f.get(self)).into())).collect())
    }
}

impl<'de> Deserialize<'de> for ExperimentConfig {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        Self::from_json(&value).map_err(serde::de::Error::custom)
    }
}

impl Serialize for ExperimentConfig {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

/// A finite number. Text is accepted where it parses completely (URL values are text).
fn number(value: &FieldValue) -> Option<f64> {
    let x = match value {
        FieldValue::Number(x) => *x,
        FieldValue::Text(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    x.is_finite().then_some(x)
}

fn integer(value: &FieldValue, lo: u64, hi: u64) -> Option<u64> {
    let x = number(value)?;
    (x.fract() == 0.0 && x >= lo as f64 && x <= hi as f64).then_some(x as u64)
}

fn boolean(value: &FieldValue) -> Option<bool> {
    match value {
        FieldValue::Bool(b) => Some(*b),
        FieldValue::Text(s) if s == "true" || s == "1" => Some(true),
        FieldValue::Text(s) if s == "false" || s == "0" => Some(false),
        FieldValue::Number(x) if *x == 1.0 => Some(true),
        FieldValue::Number(x) if *x == 0.0 => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_blogs_setup() {
        let c = ExperimentConfig::default();
        assert_eq!(c.image_shape(), [1, 3, 224, 224]);
        assert_eq!((c.label, c.lr, c.momentum, c.epochs), (2, 0.01, 0.1, 40));
        assert!(!c.zero_grad);
        assert_eq!(c.widths(), [3, 3, 3]);
        c.validate().unwrap();
    }

    #[test]
    fn json_round_trip_keeps_every_field() {
        let seed = ExperimentConfig {
            arch: Arch::SingleConv,
            init: Init::Constant,
            init_value: Some(0.5),
            batch: 2,
            height: 16,
            width: 20,
            label: 0,
            lr: 0.2,
            momentum: 0.9,
            epochs: 7,
            zero_grad: true,
            seed: 42,
            ..Default::default()
        };
        let stack = ExperimentConfig {
            arch: Arch::Stack,
            depth: 5,
            channels: 7,
            norm: Norm::None,
            activation: Activation::Tanh,
            bias: true,
            head_activation: false,
            target: Target::InputArgmax,
            init_noise: 0.25,
            trainable: Trainable::ConvOnly,
            ..seed.clone()
        };
        for c in [seed, stack] {
            assert_eq!(ExperimentConfig::from_json(&c.to_json()).unwrap(), c);
        }
    }

    #[test]
    fn seed_arches_write_no_stack_key() {
        let json = ExperimentConfig::default().to_json();
        assert!(FIELDS.iter().filter(|f| f.stack_only).all(|f| json.get(f.key).is_none()), "{json}");
    }
}
