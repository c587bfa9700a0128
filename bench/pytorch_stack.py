"""The depth lab's benchmark workloads in PyTorch, for speed ratios (needs torch; never in CI).

    python bench/pytorch_stack.py [--steps 30] [--threads 1] [--workloads seed,deep,deep_bn]

Prints JSON: the median ms per step of each workload of crate/src/seed.rs (forward, loss,
backward, the per-layer record the engine makes, SGD), Kaiming normal, constant target 2,
lr 0.01, momentum 0.1, no zero_grad, like the engine's defaults.
"""

import argparse
import json
import statistics
import time

import torch
import torch.nn as nn

WORKLOADS = {
    "seed": dict(depth=2, channels=3, norm=True, size=224),
    "deep": dict(depth=12, channels=8, norm=False, size=32),
    "deep_bn": dict(depth=8, channels=16, norm=True, size=64),
}


def stack(depth, channels, norm):
    widths = [3] + [channels] * (depth - 1) + [3]
    blocks = []
    for i in range(depth):
        conv = nn.Conv2d(widths[i], widths[i + 1], 3, padding=1, bias=False)
        nn.init.kaiming_normal_(conv.weight, mode="fan_in", nonlinearity="relu")
        blocks.append(nn.Sequential(conv, nn.BatchNorm2d(widths[i + 1]) if norm else nn.Identity(), nn.ReLU()))
    return nn.ModuleList(blocks)


def time_workload(depth, channels, norm, size, steps):
    torch.manual_seed(0)
    image = torch.randn(1, 3, size, size)
    blocks = stack(depth, channels, norm).train()
    label = torch.full((1, size, size), 2, dtype=torch.long)
    opt = torch.optim.SGD(blocks.parameters(), lr=0.01, momentum=0.1)
    crit = nn.CrossEntropyLoss()
    times = []
    for _ in range(steps + 3):
        start = time.perf_counter()
        x, outputs = image, []
        for block in blocks:
            x = block(x)
            x.retain_grad()
            outputs.append(x)
        loss = crit(x, label)
        loss.backward()
        # The record: loss, accuracy, per-layer weight stats, gradient norms, activation stats.
        record = [loss.item(), (x.argmax(1) == label).float().mean().item()]
        for block, out in zip(blocks, outputs):
            w = block[0].weight
            record += [w.mean().item(), w.var().item(), w.grad.norm().item()]
            record += [out.mean().item(), out.std(unbiased=False).item(), out.grad.norm().item()]
        opt.step()
        times.append((time.perf_counter() - start) * 1e3)
    return times[3:]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated, of " + ", ".join(WORKLOADS))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out = {"system": f"PyTorch {torch.__version__}, CPU, {args.threads} thread(s)"}
    for name in args.workloads.split(","):
        w = WORKLOADS[name]
        times = time_workload(w["depth"], w["channels"], w["norm"], w["size"], args.steps)
        out[name] = {"median_ms": statistics.median(times), "min_ms": min(times), "steps": args.steps}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
