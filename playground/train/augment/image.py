"""Image augmentations (batches shaped (B, C, H, W)): shifts, rotations, flips and cutout.

Each is a pure function of the batch and explicit per-image parameters (tested directly) plus
a registry class that draws those parameters from the run's generator.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from playground.train.augment.base import Augmentation


def shift_images(x: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
    """Move each image by whole pixels: `dx` (B,) to the right, `dy` (B,) down; pixels that
    come in from outside are 0. Exact (an index gather, no interpolation)."""
    _, _, h, w = x.shape
    m = int(max(h, w))
    padded = F.pad(x, (m, m, m, m))
    rows = torch.arange(h, device=x.device) + m - dy.clamp(-m, m)[:, None]  # (B, H)
    cols = torch.arange(w, device=x.device) + m - dx.clamp(-m, m)[:, None]  # (B, W)
    b = torch.arange(len(x), device=x.device)[:, None, None]
    # (B, Hp, Wp, C) indexed by (B, H, W) -> (B, H, W, C)
    moved = padded.permute(0, 2, 3, 1)[b, rows[:, :, None], cols[:, None, :]]
    return moved.permute(0, 3, 1, 2).contiguous()


def rotate_images(x: torch.Tensor, degrees: torch.Tensor) -> torch.Tensor:
    """Rotate each image about its centre by `degrees` (B,), anticlockwise as displayed
    (row 0 at the top), bilinear, 0 outside."""
    _, _, h, w = x.shape
    angle = degrees * (math.pi / 180.0)
    cos, sin = torch.cos(angle), torch.sin(angle)
    zero = torch.zeros_like(cos)
    # The grid says where each output pixel reads from, in coordinates scaled to [-1, 1]
    # per axis (rows down); the h/w factors keep a non-square image's turn a rotation.
    theta = torch.stack(
        [
            torch.stack([cos, -sin * (h / w), zero], dim=-1),
            torch.stack([sin * (w / h), cos, zero], dim=-1),
        ],
        dim=1,
    ).to(x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def flip_images(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mirror left-right the images where `mask` (B,) is True."""
    return torch.where(mask[:, None, None, None], x.flip(-1), x)


def cutout_images(
    x: torch.Tensor, side: int, top: torch.Tensor, left: torch.Tensor
) -> torch.Tensor:
    """Zero a `side` x `side` square in each image, its top-left corner at (`top`, `left`)
    (B,) (it may hang over an edge)."""
    _, _, h, w = x.shape
    rows = torch.arange(h, device=x.device)[None, :] - top[:, None]  # (B, H)
    cols = torch.arange(w, device=x.device)[None, :] - left[:, None]  # (B, W)
    inside = ((rows >= 0) & (rows < side))[:, :, None] & ((cols >= 0) & (cols < side))[:, None, :]
    return x.masked_fill(inside[:, None], 0.0)


class Shift(Augmentation):
    name = "shift"
    title = "random shift"
    unit = "pixels"
    help = (
        "Move each training image up to this many whole pixels up/down and left/right "
        "(each direction drawn separately); what comes in from the edge is blank. "
        "Teaches the model that a digit one pixel over is the same digit."
    )
    kinds = ("image",)
    suggested, step, limit, whole = 1.0, 1.0, 8.0, True

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        k = int(self.strength)
        offsets = torch.randint(-k, k + 1, (2, len(x)), generator=generator, device=x.device)
        return shift_images(x, offsets[0], offsets[1])


class Rotate(Augmentation):
    name = "rotate"
    title = "random rotation"
    unit = "degrees"
    help = (
        "Turn each training image by an angle drawn evenly between minus and plus this many "
        "degrees. Small angles (5-15) mimic handwriting's slant; large ones can turn a 6 "
        "into a 9."
    )
    kinds = ("image",)
    suggested, step, limit = 10.0, 5.0, 180.0

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        u = torch.rand(len(x), generator=generator, device=x.device)
        return rotate_images(x, (2 * u - 1) * self.strength)


class Flip(Augmentation):
    name = "flip"
    title = "horizontal flip"
    unit = "probability"
    help = (
        "Mirror each training image left-right with this probability. Off by default and "
        "wrong for digits and letters (a mirrored 2 or 7 is not a digit); use it only where "
        "a mirror image means the same thing (photos of objects)."
    )
    kinds = ("image",)
    suggested, step, limit = 0.5, 0.1, 1.0

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        mask = torch.rand(len(x), generator=generator, device=x.device) < self.strength
        return flip_images(x, mask)


class Cutout(Augmentation):
    name = "cutout"
    title = "cutout"
    unit = "pixels (square side)"
    help = (
        "Blank a square of this side at a random place in each training image, so the model "
        "cannot rely on any one small region."
    )
    kinds = ("image",)
    suggested, step, limit, whole = 2.0, 1.0, 32.0, True

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        side = int(self.strength)
        _, _, h, w = x.shape
        # The square's centre is anywhere in the image, so edges are blanked as often as
        # the middle (the square may hang over).
        centres = torch.rand(2, len(x), generator=generator, device=x.device)
        top = (centres[0] * h).long() - side // 2
        left = (centres[1] * w).long() - side // 2
        return cutout_images(x, side, top, left)
