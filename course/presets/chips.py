"""Accelerator presets (dense figures only, SI units: bytes, bytes/s, FLOP/s).

NVIDIA datasheets print "with sparsity" tensor figures that are twice the dense
ones; every FLOP/s figure below is the dense one. Where a figure is not in the
course's sources it is ``None`` and the code that needs it says so.

Sources are short tags; ``SOURCES`` spells each out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from course.units import GIGA, PETA, TERA

SOURCES = {
    "nvidia-h100": "NVIDIA H100 Tensor Core GPU datasheet, SXM column; sparse figures halved",
    "nvidia-h200": "NVIDIA H200 Tensor Core GPU datasheet; same compute as H100 SXM",
    "nvidia-b200": "NVIDIA DGX B200 / HGX B200 specifications (192 GB, 8 TB/s; some DGX pages say 180 GB, 7.7 TB/s)",
    "nvidia-gb200": "NVIDIA GB200 NVL72 specifications, rack totals divided by its 72 GPUs; sparse figures halved",
    "nvidia-rubin": "Lecture (Reiner Pope) and press reports of Vera Rubin: 288 GB HBM4, ~20 TB/s (reports range 13 to 22 TB/s), NVLink 6 3.6 TB/s",
    "google-tpu-v5e": "Google Cloud TPU v5e documentation; 'How To Scale Your Model' (jax-ml/scaling-book)",
    "google-tpu-v5p": "Google Cloud TPU v5p documentation; 'How To Scale Your Model' (jax-ml/scaling-book)",
    "nic-400g": "One 400 Gb/s NIC per GPU (ConnectX-7 class): 400e9 / 8 = 50 GB/s each way",
    "deepseek-infra": "DeepSeek open-infra-index, 2025-02 Open Source Week day 6: $2 per GPU-hour assumed (H800)",
}


@dataclass(frozen=True)
class Chip:
    """One accelerator, seen as a roofline: how fast it computes and how fast it reads memory.

    Attributes (SI units):
        name: display name.
        hbm_bytes: HBM capacity [bytes].
        hbm_bandwidth: HBM read bandwidth [bytes/s].
        dense_bf16_flops: dense bf16 tensor throughput [FLOP/s], or None if unpublished.
        dense_fp8_flops: dense fp8 tensor throughput [FLOP/s], or None.
        scale_up_bandwidth: bandwidth one chip can send into its scale-up fabric
            (NVLink, ICI), each way [bytes/s], or None.
        scale_up_domain: chips that share one scale-up fabric (an NVLink domain), or None.
        scale_out_bandwidth: bandwidth one chip can send over the scale-out network
            (InfiniBand/Ethernet, DCN), each way [bytes/s], or None.
        sources: tag in ``SOURCES`` for each field that has a number.
    """

    name: str
    hbm_bytes: float
    hbm_bandwidth: float
    dense_bf16_flops: float | None
    dense_fp8_flops: float | None
    scale_up_bandwidth: float | None
    scale_up_domain: int | None
    scale_out_bandwidth: float | None
    sources: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def has_roofline(self) -> bool:
        """True when both dense bf16 FLOP/s and HBM bandwidth are known."""
        return self.dense_bf16_flops is not None and self.hbm_bandwidth is not None


H100_SXM = Chip(
    name="H100 SXM",
    hbm_bytes=80 * GIGA,
    hbm_bandwidth=3.35 * TERA,
    dense_bf16_flops=989 * TERA,
    dense_fp8_flops=1.979 * PETA,
    scale_up_bandwidth=450 * GIGA,
    scale_up_domain=8,
    scale_out_bandwidth=50 * GIGA,
    sources={
        "hbm_bytes": "nvidia-h100", "hbm_bandwidth": "nvidia-h100",
        "dense_bf16_flops": "nvidia-h100", "dense_fp8_flops": "nvidia-h100",
        "scale_up_bandwidth": "nvidia-h100", "scale_up_domain": "nvidia-h100",
        "scale_out_bandwidth": "nic-400g",
    },
)

H200 = Chip(
    name="H200",
    hbm_bytes=141 * GIGA,
    hbm_bandwidth=4.8 * TERA,
    dense_bf16_flops=989 * TERA,
    dense_fp8_flops=1.979 * PETA,
    scale_up_bandwidth=450 * GIGA,
    scale_up_domain=8,
    scale_out_bandwidth=50 * GIGA,
    sources={
        "hbm_bytes": "nvidia-h200", "hbm_bandwidth": "nvidia-h200",
        "dense_bf16_flops": "nvidia-h200", "dense_fp8_flops": "nvidia-h200",
        "scale_up_bandwidth": "nvidia-h200", "scale_up_domain": "nvidia-h200",
        "scale_out_bandwidth": "nic-400g",
    },
)

B200 = Chip(
    name="B200",
    hbm_bytes=192 * GIGA,
    hbm_bandwidth=8 * TERA,
    dense_bf16_flops=2.25 * PETA,
    dense_fp8_flops=4.5 * PETA,
    scale_up_bandwidth=900 * GIGA,
    scale_up_domain=8,
    scale_out_bandwidth=50 * GIGA,
    sources={
        "hbm_bytes": "nvidia-b200", "hbm_bandwidth": "nvidia-b200",
        "dense_bf16_flops": "nvidia-b200", "dense_fp8_flops": "nvidia-b200",
        "scale_up_bandwidth": "nvidia-b200", "scale_up_domain": "nvidia-b200",
        "scale_out_bandwidth": "nic-400g",
    },
)

GB200_NVL72_GPU = Chip(
    name="GB200 NVL72 (per GPU)",
    hbm_bytes=13.5e12 / 72,  # rack: 13.4-13.8 TB of HBM over 72 GPUs, ~186 GB each
    hbm_bandwidth=576 * TERA / 72,  # rack: 576 TB/s aggregate -> 8 TB/s each
    dense_bf16_flops=180 * PETA / 72,  # rack: 360 PFLOP/s bf16 with sparsity -> 180 dense
    dense_fp8_flops=360 * PETA / 72,  # rack: 720 PFLOP/s fp8 with sparsity -> 360 dense
    scale_up_bandwidth=130 * TERA / 72 / 2,  # 130 TB/s NVLink domain, both ways -> 900 GB/s each way
    scale_up_domain=72,
    scale_out_bandwidth=50 * GIGA,
    sources={
        "hbm_bytes": "nvidia-gb200", "hbm_bandwidth": "nvidia-gb200",
        "dense_bf16_flops": "nvidia-gb200", "dense_fp8_flops": "nvidia-gb200",
        "scale_up_bandwidth": "nvidia-gb200", "scale_up_domain": "nvidia-gb200",
        "scale_out_bandwidth": "nic-400g",
    },
)

RUBIN = Chip(
    name="Rubin",
    hbm_bytes=288 * GIGA,
    hbm_bandwidth=20 * TERA,  # the lecture's figure; reports range 13 to 22 TB/s
    dense_bf16_flops=None,  # no dense bf16 figure in the course's sources
    dense_fp8_flops=None,
    scale_up_bandwidth=3.6 * TERA / 2,  # NVLink 6: 3.6 TB/s per GPU, both ways
    scale_up_domain=None,
    scale_out_bandwidth=None,
    sources={
        "hbm_bytes": "nvidia-rubin", "hbm_bandwidth": "nvidia-rubin",
        "scale_up_bandwidth": "nvidia-rubin",
    },
)

TPU_V5E = Chip(
    name="TPU v5e",
    hbm_bytes=16 * GIGA,
    hbm_bandwidth=0.82 * TERA,
    dense_bf16_flops=197 * TERA,
    dense_fp8_flops=None,
    scale_up_bandwidth=4 * 45 * GIGA,  # 2D torus: 4 ICI links of 45 GB/s each way
    scale_up_domain=256,
    scale_out_bandwidth=6.25 * GIGA,  # DCN
    sources={
        "hbm_bytes": "google-tpu-v5e", "hbm_bandwidth": "google-tpu-v5e",
        "dense_bf16_flops": "google-tpu-v5e", "scale_up_bandwidth": "google-tpu-v5e",
        "scale_up_domain": "google-tpu-v5e", "scale_out_bandwidth": "google-tpu-v5e",
    },
)

TPU_V5P = Chip(
    name="TPU v5p",
    hbm_bytes=96 * GIGA,
    hbm_bandwidth=2.8 * TERA,
    dense_bf16_flops=459 * TERA,
    dense_fp8_flops=None,
    scale_up_bandwidth=6 * 90 * GIGA,  # 3D torus: 6 ICI links of 90 GB/s each way
    scale_up_domain=8960,
    scale_out_bandwidth=None,
    sources={
        "hbm_bytes": "google-tpu-v5p", "hbm_bandwidth": "google-tpu-v5p",
        "dense_bf16_flops": "google-tpu-v5p", "scale_up_bandwidth": "google-tpu-v5p",
        "scale_up_domain": "google-tpu-v5p",
    },
)

CHIPS: dict[str, Chip] = {
    "h100": H100_SXM,
    "h200": H200,
    "b200": B200,
    "gb200": GB200_NVL72_GPU,
    "rubin": RUBIN,
    "tpu-v5e": TPU_V5E,
    "tpu-v5p": TPU_V5P,
}
"""All chip presets by short key."""

DEFAULT_PRICE_USD_PER_CHIP_HOUR = 2.0
"""Rental price used by the course unless a learner sets one [USD per chip-hour].

DeepSeek's inference-system overview assumes $2 per H800 GPU-hour
(source tag ``deepseek-infra``). Real prices vary by chip and provider: the
explorers expose it as a slider instead of pretending to know each chip's price.
"""


def roofline_chips() -> dict[str, Chip]:
    """The chips whose dense bf16 FLOP/s and bandwidth are both known, by key."""
    return {key: chip for key, chip in CHIPS.items() if chip.has_roofline}
