//! What one experiment is: the keys of the PyTorch reference configs, their defaults (the
//! blog's setup) and the range each may take.
//!
//! Configs arrive from four places (the CLI, fixture JSON, a JavaScript object, the page URL),
//! so parsing goes through one loosely typed form, [`FieldValue`], and every rejection names
//! the field and its allowed range.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Most pixels (batch × height × width) one experiment may hold. A step keeps about 25
/// activation-sized f32 buffers alive (3 channels each), so 2^20 pixels stay near 300 MB,
/// far below the 4 GiB a wasm instance can address.
pub const MAX_PIXELS: u64 = 1 << 20;
/// Most training steps one experiment may run.
pub const MAX_EPOCHS: u64 = 100_000;
/// Largest learning rate. Far beyond any useful value on purpose: with BatchNorm in the way,
/// float32 only overflows (and the run diverges) for steps this large. Try lr 1e30.
pub const MAX_LR: f64 = 1e30;
/// Largest |init_value| (the constant, or the std of `normal`).
pub const MAX_INIT_VALUE: f64 = 1e6;
/// Seeds are JavaScript-safe integers, so that a URL round trip keeps them exact.
pub const MAX_SEED: u64 = (1 << 53) - 1;
/// Number of classes, which is also the number of channels of every layer.
pub const CLASSES: usize = 3;

/// Which layers the forward pass uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// conv1 → bn1 → relu → conv2 → bn2 → relu: the blog's network.
    TwoConv,
    /// logits = conv2(image): the blog's one-layer control experiment.
    SingleConv,
}

/// How both conv weights start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    Zeros,
    /// Every weight equals `init_value`.
    Constant,
    /// N(0, 2/fan_in): PyTorch's `kaiming_normal_(mode="fan_in", nonlinearity="relu")`.
    KaimingNormal,
    /// U(±√(6/fan_in)): `kaiming_uniform_` with the same gain.
    KaimingUniform,
    /// N(0, 2/(fan_in+fan_out)).
    XavierNormal,
    /// U(±√(6/(fan_in+fan_out))).
    XavierUniform,
    /// N(0, init_value²).
    Normal,
}

impl Arch {
    pub const ALL: [Arch; 2] = [Arch::TwoConv, Arch::SingleConv];

    pub fn name(self) -> &'static str {
        match self {
            Arch::TwoConv => "two_conv",
            Arch::SingleConv => "single_conv",
        }
    }
}

impl Init {
    pub const ALL: [Init; 7] = [
        Init::Zeros,
        Init::Constant,
        Init::KaimingNormal,
        Init::KaimingUniform,
        Init::XavierNormal,
        Init::XavierUniform,
        Init::Normal,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Init::Zeros => "zeros",
            Init::Constant => "constant",
            Init::KaimingNormal => "kaiming_normal",
            Init::KaimingUniform => "kaiming_uniform",
            Init::XavierNormal => "xavier_normal",
            Init::XavierUniform => "xavier_uniform",
            Init::Normal => "normal",
        }
    }

    /// Whether this init reads `init_value`.
    pub fn uses_value(self) -> bool {
        matches!(self, Init::Constant | Init::Normal)
    }
}

/// One experiment. Field names and meanings are those of `shared/reference/*.json` configs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExperimentConfig {
    pub arch: Arch,
    pub init: Init,
    pub init_value: Option<f64>,
    pub batch: u64,
    pub height: u64,
    pub width: u64,
    /// The class every pixel is labelled with.
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
            init: Init::KaimingNormal,
            init_value: None,
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

/// A rejected config: which field, and what it may be.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    pub field: String,
    pub message: String,
}

impl ConfigError {
    fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

impl ConfigError {
    /// The field as the message names it: plain for our keys, quoted for anything else (an
    /// empty or odd unknown key still reads as a name).
    pub fn shown_field(&self) -> String {
        let plain = !self.field.is_empty() && self.field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if plain { self.field.clone() } else { format!("{:?}", self.field) }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.shown_field(), self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The config keys, in the reference order.
pub const FIELDS: [&str; 12] = [
    "arch",
    "init",
    "init_value",
    "batch",
    "height",
    "width",
    "label",
    "lr",
    "momentum",
    "epochs",
    "zero_grad",
    "seed",
];

/// The allowed range of each field, as the error messages and the README state it.
pub fn allowed(field: &str) -> String {
    match field {
        "arch" => format!("one of {}", quoted(Arch::ALL.map(Arch::name))),
        "init" => format!("one of {}", quoted(Init::ALL.map(Init::name))),
        "init_value" => format!(
            "a number from -{MAX_INIT_VALUE:e} to {MAX_INIT_VALUE:e} (init \"constant\"), from 0 to {MAX_INIT_VALUE:e} (init \"normal\", the std), or null"
        ),
        "batch" | "height" | "width" => format!(
            "an integer ≥ 1, with batch × height × width ≤ {MAX_PIXELS} pixels"
        ),
        "label" => format!("an integer from 0 to {}", CLASSES - 1),
        "lr" => format!("a number > 0 and ≤ {MAX_LR:e}"),
        "momentum" => "a number ≥ 0 and < 1".to_string(),
        "epochs" => format!("an integer from 1 to {MAX_EPOCHS}"),
        "zero_grad" => "true or false".to_string(),
        "seed" => format!("an integer from 0 to {MAX_SEED}"),
        _ => format!("one of the keys {}", FIELDS.join(", ")),
    }
}

fn quoted<const N: usize>(names: [&str; N]) -> String {
    names.map(|n| format!("\"{n}\"")).join(", ")
}

fn reject(field: &str, got: &FieldValue) -> ConfigError {
    ConfigError::new(field, format!("must be {}, got {got}", allowed(field)))
}

impl ExperimentConfig {
    /// Builds a config from `(key, value)` pairs; missing keys keep the blog's defaults.
    pub fn from_fields<K: AsRef<str>>(
        fields: impl IntoIterator<Item = (K, FieldValue)>,
    ) -> Result<Self, ConfigError> {
        let mut config = Self::default();
        for (key, value) in fields {
            config.set(key.as_ref(), &value)?;
        }
        config.validate()?;
        Ok(config)
    }

    /// Parses a JSON object such as a fixture's `config`.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, ConfigError> {
        let Some(object) = value.as_object() else {
            return Err(ConfigError::new(
                "config",
                format!("must be a JSON object with the keys {}", FIELDS.join(", ")),
            ));
        };
        Self::from_fields(
            object
                .iter()
                .map(|(key, value)| (key.as_str(), FieldValue::from(value.clone()))),
        )
    }

    /// Sets one field from a loosely typed value, checking its own range. Cross-field rules
    /// (the pixel cap, `init_value` for the init) are checked by [`Self::validate`].
    pub fn set(&mut self, field: &str, value: &FieldValue) -> Result<(), ConfigError> {
        match field {
            "arch" => {
                self.arch = match_name(field, value, &Arch::ALL, |a| a.name())?;
            }
            "init" => {
                self.init = match_name(field, value, &Init::ALL, |i| i.name())?;
            }
            "init_value" => {
                self.init_value = match value {
                    FieldValue::Null => None,
                    other => Some(number(field, other)?),
                };
            }
            "batch" => self.batch = integer(field, value, 1, MAX_PIXELS)?,
            "height" => self.height = integer(field, value, 1, MAX_PIXELS)?,
            "width" => self.width = integer(field, value, 1, MAX_PIXELS)?,
            "label" => self.label = integer(field, value, 0, CLASSES as u64 - 1)?,
            "epochs" => self.epochs = integer(field, value, 1, MAX_EPOCHS)?,
            "seed" => self.seed = integer(field, value, 0, MAX_SEED)?,
            "lr" => {
                let lr = number(field, value)?;
                if !(lr > 0.0 && lr <= MAX_LR) {
                    return Err(reject(field, value));
                }
                self.lr = lr;
            }
            "momentum" => {
                let m = number(field, value)?;
                if !(0.0..1.0).contains(&m) {
                    return Err(reject(field, value));
                }
                self.momentum = m;
            }
            "zero_grad" => {
                self.zero_grad = match value {
                    FieldValue::Bool(b) => *b,
                    FieldValue::Text(s) if s == "true" || s == "1" => true,
                    FieldValue::Text(s) if s == "false" || s == "0" => false,
                    FieldValue::Number(x) if *x == 1.0 => true,
                    FieldValue::Number(x) if *x == 0.0 => false,
                    other => return Err(reject(field, other)),
                };
            }
            unknown => {
                return Err(ConfigError::new(
                    unknown,
                    format!("unknown field; the keys are {}", FIELDS.join(", ")),
                ));
            }
        }
        Ok(())
    }

    /// Checks every field and the rules that tie fields together.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let pixels = self
            .batch
            .checked_mul(self.height)
            .and_then(|p| p.checked_mul(self.width));
        if pixels.is_none_or(|p| p > MAX_PIXELS) {
            let got = FieldValue::Text(format!(
                "{} × {} × {}",
                self.batch, self.height, self.width
            ));
            // Name the largest factor: that is the one worth shrinking.
            let field = if self.batch >= self.height.max(self.width) {
                "batch"
            } else if self.height >= self.width {
                "height"
            } else {
                "width"
            };
            return Err(reject(field, &got));
        }
        for (field, value, lo, hi) in [
            ("batch", self.batch, 1, MAX_PIXELS),
            ("height", self.height, 1, MAX_PIXELS),
            ("width", self.width, 1, MAX_PIXELS),
            ("label", self.label, 0, CLASSES as u64 - 1),
            ("epochs", self.epochs, 1, MAX_EPOCHS),
            ("seed", self.seed, 0, MAX_SEED),
        ] {
            if !(lo..=hi).contains(&value) {
                return Err(reject(field, &FieldValue::Number(value as f64)));
            }
        }
        if !(self.lr > 0.0 && self.lr <= MAX_LR) {
            return Err(reject("lr", &FieldValue::Number(self.lr)));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(reject("momentum", &FieldValue::Number(self.momentum)));
        }
        match (self.init, self.init_value) {
            (Init::Constant | Init::Normal, None) => Err(ConfigError::new(
                "init_value",
                format!(
                    "init \"{}\" needs a value: {}",
                    self.init.name(),
                    allowed("init_value")
                ),
            )),
            (init, Some(v)) => {
                let lo = if init == Init::Normal { 0.0 } else { -MAX_INIT_VALUE };
                if v.is_finite() && (lo..=MAX_INIT_VALUE).contains(&v) {
                    Ok(())
                } else {
                    Err(reject("init_value", &FieldValue::Number(v)))
                }
            }
            (_, None) => Ok(()),
        }
    }

    pub fn pixels(&self) -> usize {
        (self.batch * self.height * self.width) as usize
    }

    /// Shape of the input image batch, `[N, 3, H, W]`.
    pub fn image_shape(&self) -> [usize; 4] {
        [
            self.batch as usize,
            CLASSES,
            self.height as usize,
            self.width as usize,
        ]
    }

    /// The config as the fixtures' JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a config always serializes")
    }
}

impl<'de> Deserialize<'de> for ExperimentConfig {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        Self::from_json(&value).map_err(serde::de::Error::custom)
    }
}

fn match_name<T: Copy>(
    field: &str,
    value: &FieldValue,
    all: &[T],
    name: impl Fn(T) -> &'static str,
) -> Result<T, ConfigError> {
    if let FieldValue::Text(text) = value {
        if let Some(found) = all.iter().copied().find(|&t| name(t) == text) {
            return Ok(found);
        }
    }
    Err(reject(field, value))
}

/// A finite number. Text is accepted where it parses completely (URL values are text).
fn number(field: &str, value: &FieldValue) -> Result<f64, ConfigError> {
    let x = match value {
        FieldValue::Number(x) => *x,
        FieldValue::Text(s) => s.trim().parse::<f64>().map_err(|_| reject(field, value))?,
        _ => return Err(reject(field, value)),
    };
    if x.is_finite() {
        Ok(x)
    } else {
        Err(reject(field, value))
    }
}

fn integer(field: &str, value: &FieldValue, lo: u64, hi: u64) -> Result<u64, ConfigError> {
    let x = number(field, value)?;
    if x.fract() != 0.0 || x < lo as f64 || x > hi as f64 {
        return Err(reject(field, value));
    }
    Ok(x as u64)
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
        c.validate().unwrap();
    }

    #[test]
    fn json_round_trip_keeps_every_field() {
        let c = ExperimentConfig {
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
        };
        let back = ExperimentConfig::from_json(&c.to_json()).unwrap();
        assert_eq!(back, c);
    }
}
