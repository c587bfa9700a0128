"""The depth lab's lessons (www/lab/presets.js) in PyTorch, over several seeds: the numbers each
lesson's sentence is about, to check that the sentence holds beyond one image before it goes
on the page. Needs torch; never runs in CI.

    python bench/lab_presets.py [--seeds 3]

The configs mirror presets.js (LAB_DEFAULTS and each lesson's base and variants); PyTorch draws
its own images, so the numbers differ from the page's, the verdicts should not.
"""

import argparse

import torch

from make_stack_fixture import Stack, init_weights, run

LAB = dict(arch="stack", depth=8, channels=8, norm="none", activation="relu", bias=False, head_activation=True,
           target="input_argmax", init="kaiming_normal", init_value=None, init_noise=0.0, trainable="all", batch=1,
           height=32, width=32, label=2, lr=0.05, momentum=0.9, epochs=30, zero_grad=True)
SEED_NET = dict(LAB, depth=2, channels=3, norm="batch", target="constant", height=224, width=224, lr=0.01,
                momentum=0.1, epochs=40, zero_grad=False)
LESSONS = {
    "zeros": (dict(LAB, depth=6, norm="batch", init="zeros", target="constant", lr=0.01, momentum=0.1,
                   zero_grad=False, epochs=20), [{}]),
    "sigmoid": (dict(LAB, depth=3, channels=4, activation="sigmoid", init="zeros", target="constant", height=24,
                     width=32, lr=0.5, epochs=40), [{}]),
    "tanh_bias": (dict(LAB, depth=4, channels=4, activation="tanh", bias=True, init="zeros", target="constant",
                       height=24, width=24, lr=0.1, momentum=0.1, zero_grad=False, epochs=40), [{}]),
    "no_head": (dict(SEED_NET, head_activation=False, init="zeros"), [{}]),
    "bn_fits": (dict(SEED_NET, init="constant", init_value=5.0), [{"trainable": "all"}, {"trainable": "norm_only"}]),
    "symmetry": (dict(LAB, depth=2, channels=3, norm="batch", init="constant", init_value=0.5, lr=0.5, epochs=100),
                 [{"init_noise": 0.0}, {"init_noise": 0.01}]),
    "he2015": (dict(LAB, depth=12, lr=0.1, epochs=40), [{"init": "xavier_normal"}, {"init": "kaiming_normal"}]),
    "glorot2010": (dict(LAB, activation="tanh"), [{"init": "normal", "init_value": 1.0}, {"init": "xavier_normal"}]),
}


def train(config, seed):
    c = dict(config, seed=seed)
    torch.manual_seed(seed)
    image = torch.randn(c["batch"], 3, c["height"], c["width"])
    model = Stack(c)
    init_weights(model, c)
    weights = [getattr(model, f"conv{i + 1}").weight.detach().clone() for i in range(c["depth"])]
    trajectory, final = run(c, image, weights, torch.float32)
    return c, trajectory, final


def spread(c, final):
    """Largest difference between two filters of a hidden layer, relative to the largest weight."""
    worst, scale = 0.0, 0.0
    for layer in range(1, c["depth"]):
        w = torch.tensor(final[f"conv{layer}.weight"]).view(c["channels"], -1)
        worst = max(worst, (w - w[0]).abs().max().item())
        scale = max(scale, w.abs().max().item())
    return worst / scale if scale else worst


def per_layer(std):
    hidden = std[:-1]
    return (hidden[-1] / hidden[0]) ** (1 / (len(hidden) - 1))


def verdict(name, runs):
    (c, t, f), *rest = runs
    if name == "zeros":
        return max(max(r) for r in t["conv_grad_norm"]) == 0, f"max grad {max(max(r) for r in t['conv_grad_norm'])}"
    if name == "sigmoid":
        first = t["conv_grad_norm"][0]
        return first[-1] > 0 and max(first[:-1]) == 0 and spread(c, f) <= 1e-4, f"top {first[-1]:.4g}, spread {spread(c, f):.2g}"
    if name == "tanh_bias":
        b = t["bias_grad_norm"]
        ok = max(max(r) for r in t["conv_grad_norm"]) == 0 and max(max(r[:-1]) for r in b) == 0 and b[0][-1] > 0
        return ok and t["loss"][-1] < t["loss"][0], f"last bias {b[0][-1]:.4g}, loss {t['loss'][0]:.4f} → {t['loss'][-1]:.4f}"
    if name == "no_head":
        moved = max(abs(v) for k in ("conv_grad_norm", "conv_mean", "conv_var") for r in t[k] for v in r)
        return t["loss"][-1] < t["loss"][0] and moved == 0, f"loss → {t['loss'][-1]:.4g}, convs {moved}"
    if name == "bn_fits":
        a, b = t["loss"][-1], rest[0][1]["loss"][-1]
        return abs(a - b) <= 0.01 * a, f"all {a:.5f}, BN only {b:.5f}"
    if name == "symmetry":
        a, b = t["accuracy"][-1], rest[0][1]["accuracy"][-1]
        return spread(c, f) <= 1e-4 and b > a, f"accuracy {a:.4f} vs {b:.4f}, spread {spread(c, f):.2g}"
    if name == "he2015":
        k = rest[0][1]
        rx, rk = per_layer(t["act_std"][0]), per_layer(k["act_std"][0])
        return rx < rk and k["loss"][-1] < t["loss"][-1], f"×{rx:.3f} vs ×{rk:.3f} per layer, loss {t['loss'][-1]:.4f} vs {k['loss'][-1]:.4f}"
    if name == "glorot2010":
        x = rest[0][1]
        mean = lambda v: sum(v[:-1]) / (len(v) - 1)  # noqa: E731
        span = lambda v: max(v) / min(v)  # noqa: E731
        sn, sx = mean(t["act_std"][0]), mean(x["act_std"][0])
        gn, gx = span(t["conv_grad_norm"][0]), span(x["conv_grad_norm"][0])
        ok = sn > sx and gn > gx and x["loss"][-1] < t["loss"][-1]
        return ok, f"std {sn:.3f} vs {sx:.3f}, grad span ×{gn:.3g} vs ×{gx:.3g}, loss {t['loss'][-1]:.4f} vs {x['loss'][-1]:.4f}"
    raise KeyError(name)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(1)
    for name, (base, variants) in LESSONS.items():
        for seed in range(a.seeds):
            runs = [train(dict(base, **v), seed) for v in variants]
            holds, numbers = verdict(name, runs)
            print(f"{name:11s} seed {seed}: {'holds' if holds else 'FAILS'}  {numbers}")


if __name__ == "__main__":
    main()
