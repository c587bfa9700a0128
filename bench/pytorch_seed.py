"""The seed workload in PyTorch, for speed ratios (optional: needs torch; never run in CI).

    python bench/pytorch_seed.py [--steps 30] [--size 224] [--threads 1]

Prints JSON: the median ms per step of the Kaiming experiment (forward, loss, backward,
stats, SGD, exactly the original script's loop) and the time of the whole 4 x 40-step seed run.
"""

import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
from seed_net import Net


def experiment(init, single, size, steps, image):
    torch.manual_seed(0)
    model = Net().train()
    for conv in (model.conv1, model.conv2):
        if init == "zeros":
            nn.init.zeros_(conv.weight)
        elif init == "constant5":
            nn.init.constant_(conv.weight, 5.0)
        else:
            nn.init.kaiming_normal_(conv.weight, mode="fan_in", nonlinearity="relu")
    label = torch.full((1, size, size), 2, dtype=torch.long)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.1)
    crit = nn.CrossEntropyLoss()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        loss = crit(model(image, "single_conv" if single else "two_conv"), label)
        loss.backward()  # no zero_grad: the original accumulates
        # The record the page shows: loss, conv means and variances, gradient norms.
        record = [loss.item()]
        for conv in (model.conv1, model.conv2):
            w = conv.weight.detach()
            record += [w.mean().item(), w.var().item()]
            record.append(0.0 if conv.weight.grad is None else conv.weight.grad.norm().item())
        opt.step()
        times.append((time.perf_counter() - start) * 1e3)
    return times


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    image = torch.randn(1, 3, args.size, args.size)
    experiment("kaiming", False, args.size, 3, image)  # warm-up
    times = experiment("kaiming", False, args.size, args.steps, image)
    start = time.perf_counter()
    for init, single in (("zeros", False), ("zeros", True), ("constant5", False), ("kaiming", False)):
        experiment(init, single, args.size, 40, image)
    seed_run = (time.perf_counter() - start) * 1e3
    print(json.dumps({
        "system": f"PyTorch {torch.__version__}, CPU, {args.threads} thread(s)",
        "size": args.size,
        "median_ms": statistics.median(times),
        "min_ms": min(times),
        "seed_run_ms": seed_run,
    }))


if __name__ == "__main__":
    main()
