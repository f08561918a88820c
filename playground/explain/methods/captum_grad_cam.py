"""Grad-CAM (Selvaraju et al. 2017): a convolutional layer's feature maps weighted by the
average gradient of the output with respect to each map, summed, passed through ReLU and
upsampled to the image. Coarse (the layer's resolution) but class-specific."""

from __future__ import annotations

from captum.attr import LayerAttribution, LayerGradCam

from playground.explain import _captum_helpers as h
from playground.explain.base import Attribution, ExplainRequest, Progress, register_method
from playground.explain.context import ExplainContext
from playground.model.build import LayerRow

NAME = "grad_cam"


def map_rows(ctx: ExplainContext) -> list[LayerRow]:
    """Rows with feature maps (C, h, w): convolutions and the activations / pools after them."""
    return [r for r in h.layer_rows(ctx) if len(r.output_shape) == 3]


@register_method(
    NAME,
    "Grad-CAM",
    "captum",
    "Highlights the image regions a convolutional layer relied on for the explained class "
    "(coarse, at that layer's resolution, upsampled to the image).",
    ("image",),
    needs_layer=True,
    uses=("target", "layer"),
)
def grad_cam(ctx: ExplainContext, request: ExplainRequest, progress: Progress) -> Attribution:
    h.has_conv2d(ctx)
    allowed = map_rows(ctx)
    convs = [r for r in allowed if r.kind == "conv2d"]
    row, module = h.resolve_layer(ctx, request, allowed, convs[-1], "Grad-CAM")
    p = h.prepare(ctx, request)
    height, width = p.inputs.shape[-2:]
    method = LayerGradCam(p.forward, module)

    def run(sl: slice):
        cam = method.attribute(p.inputs[sl], target=p.targets[sl], relu_attributions=True)
        # (n, 1, h, w) -> the image's (n, H, W); bilinear as in the paper.
        up = LayerAttribution.interpolate(cam, (int(height), int(width)), "bilinear")
        return up[:, 0]

    parts = h.run_chunked(ctx, p, progress, "Grad-CAM", run)
    names = ctx.dataset.feature_names if len(ctx.dataset.feature_names) == height * width else None
    return h.finish(
        ctx,
        p,
        request,
        NAME,
        h.cat(parts),
        layer_map=True,
        feature_names=names or [f"pixel {i}" for i in range(int(height * width))],
        params={
            "layer": row.index,
            "layer_label": row.label,
            "layer_shape": list(row.output_shape),
        },
    )


h.requires(NAME, h.has_conv2d)
