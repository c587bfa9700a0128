"""Writes a `stack_*` reference fixture (shared/reference, "The generalised network") with
PyTorch (CPU, float32, 1 thread) plus its float64 rerun: the depth lab's ground truth beyond the
shared nine. Needs torch and safetensors; never runs in CI.

    python bench/make_stack_fixture.py NAME --depth 12 --channels 8 --norm none --activation relu \
        --init kaiming_normal --target input_argmax --height 32 --width 32 --lr 0.05 \
        --momentum 0.9 --epochs 30 --zero-grad --seed 31
"""

import argparse
import json
from pathlib import Path

import torch
import torch.nn as nn
from safetensors.torch import save_file

SCALARS = ["loss", "accuracy"]
LAYERS = ["conv_mean", "conv_var", "conv_grad_norm", "bias_grad_norm", "act_mean", "act_std", "act_grad_norm"]
GAINS = {"relu": 2 ** 0.5, "tanh": 5 / 3, "sigmoid": 1.0, "linear": 1.0}


class Stack(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["depth"]
        widths = [3] + [c["channels"]] * (d - 1) + [3]
        self.c = c
        for i in range(d):
            setattr(self, f"conv{i + 1}", nn.Conv2d(widths[i], widths[i + 1], 3, padding=1, bias=c["bias"]))
            if c["norm"] == "batch":
                setattr(self, f"bn{i + 1}", nn.BatchNorm2d(widths[i + 1]))

    def act(self, x):
        a = self.c["activation"]
        return {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "linear": lambda v: v}[a](x)

    def forward(self, x):
        outs = []
        d = self.c["depth"]
        for i in range(1, d + 1):
            x = getattr(self, f"conv{i}")(x)
            if self.c["norm"] == "batch":
                x = getattr(self, f"bn{i}")(x)
            if i < d or self.c["head_activation"]:
                x = self.act(x)
            x.retain_grad()
            outs.append(x)
        return x, outs


def init_weights(model, c):
    for i in range(1, c["depth"] + 1):
        w = getattr(model, f"conv{i}").weight
        gain = GAINS[c["activation"]]
        init = c["init"]
        if init == "zeros":
            nn.init.zeros_(w)
        elif init == "constant":
            nn.init.constant_(w, c["init_value"])
        elif init == "normal":
            nn.init.normal_(w, 0.0, c["init_value"])
        elif init == "kaiming_normal":
            nn.init.normal_(w, 0.0, gain / (w[0].numel()) ** 0.5)
        elif init == "kaiming_uniform":
            b = gain * (3.0 / w[0].numel()) ** 0.5
            nn.init.uniform_(w, -b, b)
        elif init == "xavier_normal":
            nn.init.xavier_normal_(w)
        elif init == "xavier_uniform":
            nn.init.xavier_uniform_(w)
        elif init == "orthogonal":
            nn.init.orthogonal_(w)
        if c["init_noise"] > 0:
            with torch.no_grad():
                w.add_(c["init_noise"] * torch.randn_like(w))
        if c["bias"]:
            nn.init.zeros_(getattr(model, f"conv{i}").bias)


def run(c, image, weights, dtype):
    model = Stack(c).to(dtype).train()
    with torch.no_grad():
        for i, w in enumerate(weights):
            conv = getattr(model, f"conv{i + 1}")
            conv.weight.copy_(w.to(dtype))
            if conv.bias is not None:
                conv.bias.zero_()  # biases start at 0 (nn.Conv2d draws them at random)
    x = image.to(dtype)
    if c["target"] == "constant":
        label = torch.full((c["batch"], c["height"], c["width"]), c["label"], dtype=torch.long)
    else:
        label = image.argmax(1)
    params = [p for n, p in model.named_parameters()
              if c["trainable"] == "all" or (c["trainable"] == "norm_only") == n.startswith("bn")]
    opt = torch.optim.SGD(params, lr=c["lr"], momentum=c["momentum"])
    crit = nn.CrossEntropyLoss()
    keys = SCALARS + [k for k in LAYERS if c["bias"] or k != "bias_grad_norm"]
    traj = {k: [] for k in keys}
    for _ in range(c["epochs"]):
        if c["zero_grad"]:
            model.zero_grad()
        logits, outs = model(x)
        loss = crit(logits, label)
        loss.backward()
        traj["loss"].append(loss.item())
        traj["accuracy"].append((logits.argmax(1) == label).to(torch.float64).mean().item())
        row = {k: [] for k in LAYERS}
        for i, out in enumerate(outs):
            conv = getattr(model, f"conv{i + 1}")
            w = conv.weight.detach()
            row["conv_mean"].append(w.mean().item())
            row["conv_var"].append(w.var().item())
            row["conv_grad_norm"].append(conv.weight.grad.norm().item())
            if c["bias"]:
                row["bias_grad_norm"].append(conv.bias.grad.norm().item())
            o = out.detach()
            row["act_mean"].append(o.mean().item())
            row["act_std"].append(o.std(unbiased=False).item())
            row["act_grad_norm"].append(out.grad.norm().item())
        for k in keys[2:]:
            traj[k].append(row[k])
        opt.step()
    final = {n: p.detach().flatten().tolist() for n, p in model.named_parameters()}
    return traj, final


def main():
    p = argparse.ArgumentParser()
    p.add_argument("name")
    p.add_argument("--out", default="tests/fixtures")
    for key, default in (("depth", 2), ("channels", 3), ("batch", 1), ("height", 32), ("width", 32), ("label", 2),
                         ("epochs", 40), ("seed", 0)):
        p.add_argument(f"--{key}", type=int, default=default)
    for key, default in (("norm", "batch"), ("activation", "relu"), ("target", "constant"), ("init", "kaiming_normal"),
                         ("trainable", "all")):
        p.add_argument(f"--{key}", default=default)
    p.add_argument("--init-value", type=float, default=None)
    p.add_argument("--init-noise", type=float, default=0.0)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--momentum", type=float, default=0.1)
    p.add_argument("--bias", action="store_true")
    p.add_argument("--no-head-activation", action="store_true")
    p.add_argument("--zero-grad", action="store_true")
    p.add_argument("--tensors", help="take the image and initial weights from this safetensors file (a check)")
    a = p.parse_args()
    c = {"arch": "stack", "depth": a.depth, "channels": a.channels, "norm": a.norm, "activation": a.activation,
         "bias": a.bias, "head_activation": not a.no_head_activation, "target": a.target, "init": a.init,
         "init_value": a.init_value, "init_noise": a.init_noise, "trainable": a.trainable, "batch": a.batch,
         "height": a.height, "width": a.width, "label": a.label, "lr": a.lr, "momentum": a.momentum,
         "epochs": a.epochs, "zero_grad": a.zero_grad, "seed": a.seed}
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    image = torch.randn(a.batch, 3, a.height, a.width)
    model = Stack(c)
    init_weights(model, c)
    weights = [getattr(model, f"conv{i + 1}").weight.detach().clone() for i in range(a.depth)]
    if a.tensors:
        from safetensors.torch import load_file
        loaded = load_file(a.tensors)
        image = loaded["image"]
        weights = [loaded[f"conv{i + 1}.weight"] for i in range(a.depth)]
    out = Path(a.out)
    tensors = {"image": image.contiguous()}
    tensors.update({f"conv{i + 1}.weight": w.contiguous() for i, w in enumerate(weights)})
    save_file(tensors, out / f"{a.name}.safetensors", metadata={"fixture": a.name})
    t32, final = run(c, image, weights, torch.float32)
    t64, _ = run(c, image, weights, torch.float64)

    def gap(k):
        if k in SCALARS:
            return max(abs(x - y) for x, y in zip(t32[k], t64[k]))
        return [max(abs(x[i] - y[i]) for x, y in zip(t32[k], t64[k])) for i in range(a.depth)]

    fixture = {"name": a.name, "description": "generated by bench/make_stack_fixture.py", "config": c,
               "tensors": f"{a.name}.safetensors", "trajectory": t32, "final": final, "float64_trajectory": t64,
               "max_abs_f32_vs_f64": {k: gap(k) for k in t32}, "torch_version": torch.__version__}
    (out / f"{a.name}.json").write_text(json.dumps(fixture))
    print(a.name, "loss", t32["loss"][0], "->", t32["loss"][-1])


if __name__ == "__main__":
    main()
