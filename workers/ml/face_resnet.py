"""dlib's 128-d face descriptor network, run by torch.

The `dlib-bin` wheel is built without BLAS, so dlib computes a descriptor in 110–150 ms on this
machine's CPU; torch's convolutions (oneDNN) compute the same network in a fraction of that. This
module reads the weights from dlib's own file (`dlib_face_recognition_resnet_model_v1.dat` of
face_recognition_models) and rebuilds the network of dlib's `dnn_face_recognition_ex.cpp`:

    input 150×150 RGB, (pixel − channel mean) / 256
    con 32 7×7 /2 → affine → relu → max_pool 3×3 /2
    3 × residual 32; residual_down 64 + 3 × residual 64; residual_down 128 + 2 × residual 128;
    residual_down 256 + 2 × residual 256; residual_down 256
    global average → fc 128 without bias

A residual block is con 3×3 → affine → relu → con 3×3 → affine, added to its input, then relu; a
residual_down block has a stride-2 first convolution and adds the input average-pooled 2×2 /2.
dlib adds two tensors of different sizes by aligning them at the first channel, row and column
and treating what one lacks as zeros; so does `_add`.

dlib serialises a network as its layers from the input up, each as a version string followed by
its fields; the parser finds the layer strings in order and reads the fields it needs: integers
in dlib's compact form (a control byte with the length and sign, then little-endian bytes),
floats as a compact mantissa and exponent, tensors as four dimensions and raw float32.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional

LAYER_NAMES = (b"input_rgb_image_sized", b"con_4", b"con_5", b"con_6", b"affine_", b"affine_2", b"relu_", b"relu_2",
               b"max_pool_2", b"avg_pool_2", b"add_prev_", b"fc_2", b"fc_3")
# a version string: dlib's compact length (control byte 1, one length byte) then the characters
_LAYER = re.compile(rb"\x01(?P<length>[\x04-\x15])(?P<name>" + b"|".join(re.escape(n) for n in LAYER_NAMES) + rb")")


class DlibFormatError(ValueError):
    """The file is not the network this module rebuilds."""


@dataclass
class _Layer:
    name: str
    params: np.ndarray | None = None  # flat float32
    shape: tuple[int, ...] = ()  # con: filters, channels, rows, cols; fc: outputs, inputs
    stride: int = 1
    padding: int = 0
    window: int = 0
    means: tuple[float, float, float] = (0.0, 0.0, 0.0)


class _Reader:
    def __init__(self, data: bytes, position: int):
        self.data, self.position = data, position

    def integer(self) -> int:
        control = self.data[self.position]
        size, negative = control & 0x0F, control & 0x80
        value = int.from_bytes(self.data[self.position + 1:self.position + 1 + size], "little")
        self.position += 1 + size
        return -value if negative else value

    def real(self) -> float:
        mantissa, exponent = self.integer(), self.integer()
        return float(np.ldexp(float(mantissa), exponent))

    def string(self) -> str:
        length = self.integer()
        text = self.data[self.position:self.position + length].decode()
        self.position += length
        return text

    def tensor(self) -> tuple[np.ndarray, tuple[int, int, int, int]]:
        if self.integer() != 2:
            raise DlibFormatError("unknown tensor version")
        dims = tuple(self.integer() for _ in range(4))
        count = int(np.prod(dims))
        values = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.position).astype(np.float32)
        self.position += 4 * count
        return values, dims


def read_layers(path: Path) -> list[_Layer]:
    """The network's layers from the input up, with the weights each needs."""
    data = Path(path).read_bytes()
    layers = []
    for match in _LAYER.finditer(data):
        if match["length"][0] != len(match["name"]):
            continue
        reader = _Reader(data, match.start())
        name = reader.string()
        layers.append(_parse(name, reader))
    return layers


def _parse(name: str, reader: _Reader) -> _Layer:
    if name == "input_rgb_image_sized":
        return _Layer("input", means=(reader.real(), reader.real(), reader.real()))
    if name.startswith("con_"):
        params, _ = reader.tensor()
        filters, rows, cols = reader.integer(), reader.integer(), reader.integer()
        stride_y, stride_x, padding_y, padding_x = (reader.integer() for _ in range(4))
        if rows != cols or stride_y != stride_x or padding_y != padding_x:
            raise DlibFormatError("non-square convolutions are not supported")
        channels = (params.size - filters) // (filters * rows * cols)
        return _Layer("con", params, (filters, channels, rows, cols), stride=stride_y, padding=padding_y)
    if name.startswith("affine_"):
        params, _ = reader.tensor()
        return _Layer("affine", params)
    if name.endswith("pool_2"):
        rows, cols = reader.integer(), reader.integer()
        stride_y, stride_x, padding_y, padding_x = (reader.integer() for _ in range(4))
        return _Layer(name[:-2], window=rows, stride=stride_y, padding=padding_y)
    if name.startswith("fc_"):
        outputs, inputs = reader.integer(), reader.integer()
        params, _ = reader.tensor()
        return _Layer("fc", params, (outputs, inputs))
    return _Layer(name.removesuffix("_2").rstrip("_"))  # relu, add_prev


def build_network(path: Path) -> "DescriptorNet":
    """A torch module computing dlib's descriptors of a batch of 150×150 RGB chips (N, 150, 150, 3) uint8."""
    layers = read_layers(path)
    if [layer.name for layer in layers[:5]] != ["input", "con", "affine", "relu", "max_pool"] or layers[-1].name != "fc":
        raise DlibFormatError(f"{path} is not dlib's face recognition ResNet")
    return DescriptorNet(layers).eval()


class DescriptorNet(nn.Module):
    def __init__(self, layers: list[_Layer]):
        super().__init__()
        self.register_buffer("means", torch.tensor(layers[0].means).view(1, 3, 1, 1))
        self.stem = ConvAffine(layers[1], layers[2])
        self.pool = layers[4]
        self.blocks = nn.ModuleList()
        position = 5
        while layers[position].name == "con":  # con affine relu con affine [avg_pool] add_prev relu
            down = layers[position + 5].name == "avg_pool"
            self.blocks.append(Residual(ConvAffine(layers[position], layers[position + 1]),
                                        ConvAffine(layers[position + 3], layers[position + 4]), down=down))
            position += 8 if down else 7
        if [layer.name for layer in layers[position:]] != ["avg_pool", "fc"]:
            raise DlibFormatError("unexpected layers after the residual blocks")
        outputs, inputs = layers[-1].shape
        weights = layers[-1].params[:inputs * outputs].reshape(inputs, outputs)
        self.register_buffer("fc", torch.from_numpy(weights.copy()))

    def forward(self, chips: torch.Tensor) -> torch.Tensor:
        x = (chips.permute(0, 3, 1, 2).float() - self.means) / 256.0
        x = functional.relu(self.stem(x))
        x = functional.max_pool2d(x, self.pool.window, self.pool.stride, self.pool.padding)
        for block in self.blocks:
            x = block(x)
        return x.mean(dim=(2, 3)) @ self.fc


class ConvAffine(nn.Module):
    """A convolution followed by dlib's affine layer (a frozen batch norm), folded into one."""

    def __init__(self, con: _Layer, affine: _Layer):
        super().__init__()
        filters, channels, rows, cols = con.shape
        size = filters * channels * rows * cols
        gamma, beta = affine.params[:filters], affine.params[filters:2 * filters]
        self.stride, self.padding = con.stride, con.padding
        self.register_buffer("weight", torch.from_numpy(con.params[:size].reshape(con.shape) * gamma[:, None, None, None]))
        self.register_buffer("bias", torch.from_numpy(con.params[size:size + filters] * gamma + beta))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return functional.conv2d(x, self.weight, self.bias, self.stride, self.padding)


class Residual(nn.Module):
    def __init__(self, first: ConvAffine, second: ConvAffine, *, down: bool):
        super().__init__()
        self.first, self.second, self.down = first, second, down

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = functional.avg_pool2d(x, 2, 2) if self.down else x
        return functional.relu(_add(self.second(functional.relu(self.first(x))), skip))


def _add(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """dlib's sum of two tensors of different sizes: aligned at the first channel, row and column,
    what one of them lacks counts as zeros."""
    channels, rows, cols = (max(a.shape[i], b.shape[i]) for i in (1, 2, 3))

    def padded(t: torch.Tensor) -> torch.Tensor:
        return functional.pad(t, (0, cols - t.shape[3], 0, rows - t.shape[2], 0, channels - t.shape[1]))

    return padded(a) + padded(b)
