"""Random `stack_*` fixtures for a parity study beyond tests/fixtures (needs torch; never runs
in CI): depth, width, norm, activation, init, target, batch, size, learning rate, momentum and
the rest drawn at random, each run written by bench/make_stack_fixture.py. Runs PyTorch sends
to inf or NaN are dropped.

    python bench/random_stack_fixtures.py 80 --seed 7 --out /tmp/study
    for f in /tmp/study/*.json; do cargo run -q -p initlab -- replay "$f" --check >/dev/null || echo "$f"; done

Each line of output is a fixture's name and the arguments it was made with.
"""

import argparse
import json
import math
import random
import subprocess
import sys
from pathlib import Path

MAKE = Path(__file__).with_name("make_stack_fixture.py")


def draw(rng):
    """The arguments of one random run."""
    depth, channels = rng.choice([1, 2, 2, 3, 4, 5, 6, 8, 10, 12]), rng.choice([1, 2, 3, 4, 5, 6, 8, 8, 12, 16])
    norm = rng.choice(["batch", "none"])
    activation = rng.choice(["relu", "relu", "tanh", "sigmoid", "linear"])
    init = rng.choice(["zeros", "constant", "normal", "kaiming_normal", "kaiming_normal", "kaiming_uniform",
                       "xavier_normal", "xavier_uniform", "orthogonal"])
    args = ["--depth", depth, "--channels", channels, "--norm", norm, "--activation", activation, "--init", init,
            "--target", rng.choice(["constant", "input_argmax"]), "--batch", rng.choice([1, 1, 2, 3]),
            "--height", rng.choice([8, 12, 16, 20, 24, 32]), "--width", rng.choice([8, 12, 16, 20, 24, 32]),
            "--lr", rng.choice([0.01, 0.05, 0.1, 0.2]), "--momentum", rng.choice([0.0, 0.1, 0.5, 0.9]),
            "--epochs", rng.choice([20, 30, 40]), "--seed", rng.randrange(1000), "--label", rng.randrange(3)]
    if init == "constant":
        args += ["--init-value", rng.choice([0.5, 1.0, 5.0, 0.1])]
    if init == "normal":
        args += ["--init-value", rng.choice([0.1, 0.3, 1.0])]
    if rng.random() < 0.3:
        args += ["--init-noise", rng.choice([1e-4, 0.01, 0.1])]
    if rng.random() < 0.3:
        args += ["--bias"]
    if rng.random() < 0.25:
        args += ["--no-head-activation"]
    if rng.random() < 0.5:
        args += ["--zero-grad"]
    trainable = rng.random()
    if trainable < 0.15 and norm == "batch":
        args += ["--trainable", "norm_only"]
    elif trainable < 0.3:
        args += ["--trainable", "conv_only"]
    return [str(a) for a in args]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("count", type=int)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", default="/tmp/study")
    a = p.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(a.seed)
    made, tried = 0, 0
    while made < a.count:
        tried += 1
        name = f"study_{a.seed}_{tried:03d}"
        args = draw(rng)
        subprocess.run([sys.executable, str(MAKE), name, "--out", str(out)] + args, check=True, capture_output=True)
        fixture = json.loads((out / f"{name}.json").read_text())
        if not all(math.isfinite(v) for run in ("trajectory", "float64_trajectory") for v in fixture[run]["loss"]):
            (out / f"{name}.json").unlink()
            (out / f"{name}.safetensors").unlink()
            continue
        made += 1
        print(name, " ".join(args), flush=True)


if __name__ == "__main__":
    main()
