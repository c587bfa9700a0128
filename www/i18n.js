// Every word of the interface, in English and Chinese. Keys missing from either language are a
// test failure (tests/i18n.test.mjs), so the two stay complete.
//
// `{name}` marks a value filled in at run time (always from a live run, never typed here).

export const STRINGS = {
  en: {
    title: "Init Lab",
    tagline: "Why a CNN cannot learn from all-zero weights",
    langToggle: "中文",
    experiments: "Experiments",
    runAll: "Run all",
    step: "Step",
    play: "Play",
    pause: "Pause",
    reset: "Reset",
    runCustom: "Run these settings",
    settings: "Settings",
    settingsHint: "Settings apply to the next run; the presets set arch and init themselves.",
    logLoss: "Log-scale loss",
    layout: "Layout",
    viewCompare: "Compare",
    viewBlog: "As in the blog",
    dataTables: "Chart data as tables",
    loading: "Loading the engine…",
    ready: "Ready. Backend: {backend}.",
    loadFailed: "The engine could not start: {message}",
    statusStep: "{run}: step {step} of {epochs}, loss {loss}",
    statusDone: "{run}: finished {epochs} epochs, last loss {loss}",
    statusStopped: "{run}: {message}",
    diverged: "diverged at step {step}",
    crashed: "The engine crashed ({message}); it was restarted and the results so far are kept.",
    invalid: "Not applied: {message}",
    // experiments
    "preset.zeros": "Zero init",
    "preset.single_conv_zeros": "Zero init, conv2 only",
    "preset.constant5": "Constant 5",
    "preset.kaiming": "Kaiming normal",
    "preset.zeros.note": "Two layers from zero: nothing moves.",
    "preset.single_conv_zeros.note": "One layer from zero: it learns.",
    "preset.constant5.note": "Every weight 5: it trains, symmetrically.",
    "preset.kaiming.note": "Random weights, scaled for ReLU.",
    customRun: "Custom {n}",
    remove: "Remove {run}",
    toggleSeries: "Show or hide {run}",
    // charts
    "chart.loss": "Loss",
    "chart.conv1_mean": "conv1 weight mean",
    "chart.conv1_var": "conv1 weight variance",
    "chart.conv2_mean": "conv2 weight mean",
    "chart.conv2_var": "conv2 weight variance",
    "chart.conv1_grad_norm": "conv1 gradient norm",
    "chart.conv2_grad_norm": "conv2 gradient norm",
    epoch: "epoch",
    noRuns: "No run yet: press “Run all”.",
    // settings
    "field.arch": "Architecture",
    "field.init": "Initialization",
    "field.init_value": "Init value",
    "field.batch": "Batch",
    "field.height": "Height",
    "field.width": "Width",
    "field.label": "Label (class)",
    "field.lr": "Learning rate",
    "field.momentum": "Momentum",
    "field.epochs": "Epochs",
    "field.zero_grad": "zero_grad each step (the fix)",
    "field.seed": "Seed",
    "field.backend": "Backend",
    "arch.two_conv": "conv→BN→ReLU ×2",
    "arch.single_conv": "conv2 only",
    "init.zeros": "zeros",
    "init.constant": "constant",
    "init.kaiming_normal": "Kaiming normal",
    "init.kaiming_uniform": "Kaiming uniform",
    "init.xavier_normal": "Xavier normal",
    "init.xavier_uniform": "Xavier uniform",
    "init.normal": "normal (std = value)",
    "backend.flex": "CPU (burn-flex, wasm SIMD)",
    "backend.ndarray": "CPU (burn-ndarray)",
    "backend.webgpu": "GPU (burn-wgpu, WebGPU)",
    "table.step": "epoch",
  },
  zh: {
    title: "Init Lab 初始化实验室",
    tagline: "为什么 CNN 无法从全零权重开始学习",
    langToggle: "English",
    experiments: "实验",
    runAll: "全部运行",
    step: "单步",
    play: "播放",
    pause: "暂停",
    reset: "重置",
    runCustom: "按当前设置运行",
    settings: "设置",
    settingsHint: "设置对下一次运行生效；四个预设会自行设定结构和初始化。",
    logLoss: "损失用对数坐标",
    layout: "布局",
    viewCompare: "对比",
    viewBlog: "按原文排列",
    dataTables: "以表格查看图表数据",
    loading: "正在加载引擎……",
    ready: "就绪。后端：{backend}。",
    loadFailed: "引擎无法启动：{message}",
    statusStep: "{run}：第 {step} 步，共 {epochs} 步，损失 {loss}",
    statusDone: "{run}：已完成 {epochs} 个 epoch，最终损失 {loss}",
    statusStopped: "{run}：{message}",
    diverged: "在第 {step} 步发散",
    crashed: "引擎崩溃（{message}），已重新启动，已有结果保留。",
    invalid: "未应用：{message}",
    "preset.zeros": "全零初始化",
    "preset.single_conv_zeros": "全零初始化，仅 conv2",
    "preset.constant5": "常数 5",
    "preset.kaiming": "Kaiming 正态",
    "preset.zeros.note": "两层从零开始：纹丝不动。",
    "preset.single_conv_zeros.note": "一层从零开始：可以学习。",
    "preset.constant5.note": "所有权重为 5：能训练，但保持对称。",
    "preset.kaiming.note": "随机权重，按 ReLU 缩放。",
    customRun: "自定义 {n}",
    remove: "移除 {run}",
    toggleSeries: "显示或隐藏 {run}",
    "chart.loss": "损失",
    "chart.conv1_mean": "conv1 权重均值",
    "chart.conv1_var": "conv1 权重方差",
    "chart.conv2_mean": "conv2 权重均值",
    "chart.conv2_var": "conv2 权重方差",
    "chart.conv1_grad_norm": "conv1 梯度范数",
    "chart.conv2_grad_norm": "conv2 梯度范数",
    epoch: "epoch",
    noRuns: "还没有运行：请点击“全部运行”。",
    "field.arch": "网络结构",
    "field.init": "初始化方式",
    "field.init_value": "初始化数值",
    "field.batch": "批大小",
    "field.height": "高度",
    "field.width": "宽度",
    "field.label": "标签（类别）",
    "field.lr": "学习率",
    "field.momentum": "动量",
    "field.epochs": "轮数（epoch）",
    "field.zero_grad": "每步 zero_grad（修正）",
    "field.seed": "随机种子",
    "field.backend": "后端",
    "arch.two_conv": "卷积→BN→ReLU ×2",
    "arch.single_conv": "仅 conv2",
    "init.zeros": "全零",
    "init.constant": "常数",
    "init.kaiming_normal": "Kaiming 正态",
    "init.kaiming_uniform": "Kaiming 均匀",
    "init.xavier_normal": "Xavier 正态",
    "init.xavier_uniform": "Xavier 均匀",
    "init.normal": "正态（标准差 = 数值）",
    "backend.flex": "CPU（burn-flex，wasm SIMD）",
    "backend.ndarray": "CPU（burn-ndarray）",
    "backend.webgpu": "GPU（burn-wgpu，WebGPU）",
    "table.step": "epoch",
  },
};

export const LANGS = Object.keys(STRINGS);

let current = "en";

/** The language to start in: the URL's, else the browser's (Chinese for any zh-*). */
export function initialLang(fromUrl) {
  if (LANGS.includes(fromUrl)) return fromUrl;
  const preferred = navigator.languages?.length ? navigator.languages : [navigator.language || "en"];
  return preferred.some((l) => /^zh\b/i.test(l)) ? "zh" : "en";
}

export function setLang(lang) {
  current = LANGS.includes(lang) ? lang : "en";
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  return current;
}

export function lang() {
  return current;
}

/** The string for `key` in the current language, with `{name}` filled from `values`. */
export function t(key, values = {}) {
  const text = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in values ? String(values[name]) : m));
}
