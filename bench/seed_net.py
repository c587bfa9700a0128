"""The blog's network in PyTorch, shared by the fixture generator and the speed comparison."""

import torch
import torch.nn as nn


class Net(nn.Module):
    """conv1 → BN → ReLU → conv2 → BN → ReLU (arch two_conv), or conv2 alone (single_conv)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 3, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(3)
        self.conv2 = nn.Conv2d(3, 3, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(3)

    def forward(self, x, arch="two_conv"):
        if arch == "single_conv":
            return self.conv2(x)
        x = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(x)))
