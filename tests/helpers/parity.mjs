// Parity with a PyTorch fixture, key by key, step by step and layer by layer, within the
// fixtures' rule: |ours − ref| ≤ 1e-6 + 10·max_abs_f32_vs_f64[key] + 1e-4·|ref| (times
// `scale`), plus three pixels' worth for `accuracy`. The same rule as crate/src/reference.rs.

/** Every value of `records` (the module's step() results) out of tolerance, as lines. */
export function compareTrajectory(fixture, records, scale = 1) {
  const failures = [];
  const { batch, height, width } = fixture.config;
  const flips = 3 / (batch * height * width);
  for (const [key, series] of Object.entries(fixture.trajectory)) {
    const noise = fixture.max_abs_f32_vs_f64[key] ?? 0;
    records.forEach((record, step) => {
      const ref = series[step];
      const refs = Array.isArray(ref) ? ref : [ref];
      const ours = Array.isArray(record[key]) ? record[key] : [record[key]];
      if (ours.length !== refs.length) {
        failures.push(`${fixture.name} step ${step} ${key}: ${ours.length} values, PyTorch ${refs.length}`);
        return;
      }
      refs.forEach((r, layer) => {
        const n = Array.isArray(noise) ? noise[layer] : noise;
        const tol = scale * (1e-6 + 10 * n + 1e-4 * Math.abs(r) + (key === "accuracy" ? flips : 0));
        if (!(Math.abs(ours[layer] - r) <= tol)) {
          const where = Array.isArray(ref) ? `[layer ${layer + 1}]` : "";
          failures.push(`${fixture.name} step ${step} ${key}${where}: ${ours[layer]} vs ${r} (tol ${tol})`);
        }
      });
    });
  }
  return failures;
}
