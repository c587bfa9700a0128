//! The engine's tables that the page needs before any engine has started: the config fields
//! (keys, defaults, ranges, choices), the seed's four experiments, the series keys and the
//! browser's backends. The page does not copy them: `cargo xtask build` asks the built flex
//! module (`engineFacts()` in `web.rs`) and writes the answer to `www/pkg/facts.js`, which the
//! page's modules import. So each of these facts is stated once, in Rust.

use serde_json::{Value, json};

use crate::backend::BackendKind;
use crate::config::{ExperimentConfig, FIELDS, Kind};
use crate::record::{SEED_KEYS, STACK_LAYER_KEYS, STACK_SCALAR_KEYS};
use crate::seed::PRESETS;

/// Every config field: `{key, default, allowed, help, stack_only, kind, choices?, min?, max?}`.
pub fn config_fields() -> Vec<Value> {
    let defaults = ExperimentConfig::default();
    FIELDS
        .iter()
        .map(|f| {
            let mut field = json!({
                "key": f.key,
                "default": Value::from(&f.get(&defaults)),
                "allowed": f.allowed(),
                "help": f.help,
                "stack_only": f.stack_only,
            });
            let kind = match f.kind {
                Kind::Choice(names) => json!({ "kind": "choice", "choices": names }),
                Kind::Integer { min, max } => json!({ "kind": "integer", "min": min, "max": max }),
                Kind::Number => json!({ "kind": "number" }),
                Kind::Bool => json!({ "kind": "bool" }),
            };
            field.as_object_mut().unwrap().extend(kind.as_object().unwrap().clone());
            field
        })
        .collect()
}

/// All of the tables: `{fields, seedPresets: [{key, config}], seedKeys, stackKeys: {scalar,
/// layer}, backends: {all, full, cpu}}`. `backends.full` are the ones only the page's second
/// module has (see `webgpu` and `ndarray` in Cargo.toml).
pub fn facts() -> Value {
    let presets: Vec<Value> = PRESETS
        .iter()
        .map(|p| {
            let config = json!({ "arch": p.arch.name(), "init": p.init.name(), "init_value": p.init_value });
            json!({ "key": p.key, "config": config })
        })
        .collect();
    let name = |b: BackendKind| b.name();
    let all = [BackendKind::Flex, BackendKind::Ndarray, BackendKind::Webgpu].map(name);
    let full = [BackendKind::Ndarray, BackendKind::Webgpu].map(name);
    json!({
        "fields": config_fields(),
        "seedPresets": presets,
        "seedKeys": SEED_KEYS,
        "stackKeys": { "scalar": STACK_SCALAR_KEYS, "layer": STACK_LAYER_KEYS },
        "backends": {
            "all": all,
            "full": full,
            "cpu": name(BackendKind::Flex),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_presets_set_only_their_keys_and_the_seed_keys_come_first() {
        let facts = facts();
        let presets = facts["seedPresets"].as_array().unwrap();
        let keys: Vec<&str> = presets.iter().map(|p| p["key"].as_str().unwrap()).collect();
        assert_eq!(keys, ["zeros", "single_conv_zeros", "constant5", "kaiming"]);
        assert_eq!(
            presets[2]["config"],
            json!({ "arch": "two_conv", "init": "constant", "init_value": 5.0 })
        );
        assert_eq!(presets[1]["config"]["init_value"], Value::Null);
        assert_eq!(facts["seedKeys"][0], "loss");
        assert_eq!(facts["fields"].as_array().unwrap().len(), FIELDS.len());
    }
}
