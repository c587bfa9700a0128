"""The depth lab's benchmark workloads in PyTorch, for speed ratios (needs torch; never in CI).

    python bench/pytorch_stack.py [--steps 30] [--threads 1] [--workloads seed,deep,deep_bn]
    python bench/pytorch_stack.py --serve     # steps on request: see serve()

Prints JSON: the median ms per step of each workload of crate/src/seed.rs (forward, loss,
backward, the per-layer record the engine makes, SGD), Kaiming normal, constant target 2,
lr 0.01, momentum 0.1, no zero_grad, like the engine's defaults.
"""

import argparse
import json
import statistics
import sys
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


# Untimed steps before a workload's timed ones.
WARM_UP = 3


class Workload:
    """One workload's model, optimizer and data, stepped on demand."""

    def __init__(self, depth, channels, norm, size):
        torch.manual_seed(0)
        self.image = torch.randn(1, 3, size, size)
        self.blocks = stack(depth, channels, norm).train()
        self.label = torch.full((1, size, size), 2, dtype=torch.long)
        self.opt = torch.optim.SGD(self.blocks.parameters(), lr=0.01, momentum=0.1)
        self.crit = nn.CrossEntropyLoss()

    def step(self):
        """One step (forward, loss, backward, the engine's record, SGD); its milliseconds."""
        start = time.perf_counter()
        x, outputs = self.image, []
        for block in self.blocks:
            x = block(x)
            x.retain_grad()
            outputs.append(x)
        loss = self.crit(x, self.label)
        loss.backward()
        # The record: loss, accuracy, per-layer weight stats, gradient norms, activation stats.
        record = [loss.item(), (x.argmax(1) == self.label).float().mean().item()]
        for block, out in zip(self.blocks, outputs):
            w = block[0].weight
            record += [w.mean().item(), w.var().item(), w.grad.norm().item()]
            record += [out.mean().item(), out.std(unbiased=False).item(), out.grad.norm().item()]
        self.opt.step()
        return (time.perf_counter() - start) * 1e3


def warmed_up(name):
    """Workload `name` of WORKLOADS, after WARM_UP untimed steps."""
    workload = Workload(**WORKLOADS[name])
    for _ in range(WARM_UP):
        workload.step()
    return workload


def serve():
    """Steps on request, for timings interleaved with another system's (bench/pairs.mjs): each
    line `WORKLOAD STEPS` on stdin runs that many steps of the workload (made, and warmed up, on
    its first request) and prints the milliseconds of the whole block."""
    workloads = {}
    for line in sys.stdin:
        name, steps = line.split()
        if name not in workloads:
            workloads[name] = warmed_up(name)
        start = time.perf_counter()
        for _ in range(int(steps)):
            workloads[name].step()
        print(json.dumps({"block_ms": (time.perf_counter() - start) * 1e3}), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated, of " + ", ".join(WORKLOADS))
    parser.add_argument("--serve", action="store_true", help="step on request from stdin (see serve())")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.serve:
        serve()
        return
    out = {"system": f"PyTorch {torch.__version__}, CPU, {args.threads} thread(s)"}
    for name in args.workloads.split(","):
        workload = warmed_up(name)
        times = [workload.step() for _ in range(args.steps)]
        out[name] = {"median_ms": statistics.median(times), "min_ms": min(times), "steps": args.steps}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
