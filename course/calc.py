"""The course's inference model as a command: ``python -m course.calc decode|kv|balance ...``.

Examples::

    python -m course.calc decode --chip h100 --chips 16 --model deepseek-v3 --batch 256 --context 1024
    python -m course.calc decode --chip b200 --active-params 70e9 --total-params 70e9 \\
        --kv-bytes-per-token 327680 --batch 64 --context 4096 --compute bf16 --price 2 --json
    python -m course.calc kv --model llama-3-70b --kv-bytes-per-value 1 --json
    python -m course.calc balance --chip h100 --compute bf16 --json

Precision: ``--compute`` picks the chip's dense bf16 or fp8 tensor FLOP/s;
``--weight-bytes`` the bytes per stored weight. Left out, they follow the
course's serving convention: fp8 weights on fp8 tensor cores where the chip
has fp8 (NVIDIA presets), else bf16; given one, the other follows it
(``--compute fp8`` means 1-byte weights, ``--weight-bytes 2`` bf16 compute).
8-bit weights with bf16 compute (``--weight-bytes 1 --compute bf16``) halve
the critical batch. KV values are bf16 (2 bytes) unless ``--kv-bytes-per-value 1``.

Every quantity is in SI units (seconds, bytes, tokens/s); in ``--json`` output
a limit that does not exist (a critical batch that is never reached, a batch
limit at context 0) is ``null``. Bad input exits with status 2 and a message.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from course.models import expert_reads, kv_cache, memory, roofline
from course.presets import chips, llms

EXIT_USAGE = 2
"""Exit status for unknown names or impossible input (argparse's own)."""


class CalcError(ValueError):
    """Input the calculator cannot compute: an unknown name or an impossible value."""


def _positive(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be zero or a positive number, got {text!r}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"must be a whole number of chips, got {text!r}") from error
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def _bytes_choice(text: str) -> float:
    value = float(text)
    if value not in (1.0, 2.0):
        raise argparse.ArgumentTypeError(f"must be 1 or 2 bytes, got {text!r}")
    return value


def _lower(text: str) -> str:
    return text.lower()


def chip_named(name: str) -> chips.Chip:
    """The chip preset with short name ``name`` (any case); CalcError naming the choices."""
    if name.lower() not in chips.CHIPS:
        raise CalcError(f"unknown chip {name!r}; choose one of {', '.join(chips.CHIPS)}")
    return chips.CHIPS[name.lower()]


def model_named(name: str) -> llms.LLM:
    """The model preset with short name ``name`` (any case); CalcError naming the choices."""
    if name.lower() not in llms.LLMS:
        raise CalcError(f"unknown model {name!r}; choose one of {', '.join(llms.LLMS)}")
    return llms.LLMS[name.lower()]


def precision_for(chip: chips.Chip, compute: str | None, weight_bytes: float | None,
                  kv_bytes_per_value: float = 2.0) -> roofline.Precision:
    """The precision the flags ask for, with the defaults the module docstring describes."""
    if compute is None and weight_bytes is None:
        compute = roofline.serving_precision(chip).compute
    if compute is None:
        compute = "fp8" if weight_bytes == 1 and chip.dense_fp8_flops is not None else "bf16"
    if weight_bytes is None:
        weight_bytes = 1.0 if compute == "fp8" else 2.0
    precision = roofline.custom_precision(weight_bytes_per_param=weight_bytes, compute=compute,
                                          kv_bytes_per_value=kv_bytes_per_value)
    precision.flops_per_s(chip)  # raises if the chip lacks this compute format
    return precision


def _model_shape(args) -> tuple[str, float, float, float, llms.LLM | None]:
    """(name, active, total, KV bytes/token, preset or None) from --model or the explicit parameter flags."""
    explicit = (args.active_params, args.total_params)
    if args.model is not None:
        if any(value is not None for value in explicit):
            raise CalcError("give either --model or --active-params/--total-params, not both")
        llm = model_named(args.model)
        active, total = llm.active_params, llm.total_params
        name = args.model.lower()
    else:
        if None in explicit:
            raise CalcError("give --model NAME, or both --active-params and --total-params")
        llm = None
        active, total = explicit
        name = "custom"
    if active > total:
        raise CalcError(f"active parameters ({active:g}) cannot exceed total parameters ({total:g})")
    if args.kv_bytes_per_token is not None:
        kv = args.kv_bytes_per_token
    elif llm is not None and llm.attention is not None:
        kv = kv_cache.kv_bytes_per_token(llm, args.kv_bytes_per_value)
    elif args.context == 0:
        kv = 0.0
    else:
        who = f"model {name!r} has no attention layout" if llm is not None else "custom parameters have no KV size"
        raise CalcError(f"{who}; give --kv-bytes-per-token (or --context 0)")
    return name, active, total, kv, llm


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def decode(args) -> dict:
    """Everything ``decode`` reports, as a dict of JSON-ready values [SI units]."""
    chip = chip_named(args.chip)
    name, active, total, kv, llm = _model_shape(args)
    precision = precision_for(chip, args.compute, args.weight_bytes, args.kv_bytes_per_value)
    weight_bytes_read = None
    if args.expert_reads == "expected":
        if llm is None or llm.routed_experts is None:
            raise CalcError("--expert-reads expected needs --model with routed experts (deepseek-v3)")
        weight_bytes_read = float(expert_reads.expected_weight_bytes_read(args.batch, llm, precision))
    step = roofline.decode_step(args.batch, active_params=active, total_params=total, context_tokens=args.context,
                                kv_bytes_per_token=kv, chip=chip, n_chips=args.chips, precision=precision,
                                step_model=args.step_model, weight_bytes_read=weight_bytes_read)
    critical = roofline.critical_batch(active_params=active, total_params=total, context_tokens=args.context,
                                       kv_bytes_per_token=kv, chip=chip, precision=precision,
                                       step_model=args.step_model)
    fits = memory.max_batch_that_fits(total_params=total, context_tokens=args.context, kv_bytes_per_token=kv,
                                      chip=chip, n_chips=args.chips, precision=precision)
    needed = memory.hbm_bytes_needed(args.batch, total_params=total, context_tokens=args.context,
                                     kv_bytes_per_token=kv, precision=precision)
    result = {
        "chip": args.chip.lower(), "chips": args.chips, "model": name,
        "batch": float(args.batch), "context": float(args.context),
        "compute": precision.compute, "weight_bytes_per_param": precision.weight_bytes_per_param,
        "kv_bytes_per_token": float(kv), "step_model": args.step_model, "expert_reads": args.expert_reads,
        "step_s": float(step.step_s), "compute_s": float(step.compute_s), "weights_s": float(step.weights_s),
        "kv_s": float(step.kv_s), "bound": "compute" if bool(step.compute_bound) else "memory",
        "tokens_per_s": float(step.tokens_per_s), "mfu": float(step.mfu),
        "critical_batch": _finite_or_none(critical),
        "max_batch_that_fits": _finite_or_none(fits),
        "fits": bool(needed <= memory.usable_hbm_bytes(chip, args.chips)),
        "hbm_bytes_needed": needed,
        "min_chips_to_serve": memory.min_chips_to_serve(args.batch, total_params=total, context_tokens=args.context,
                                                        kv_bytes_per_token=kv, chip=chip, precision=precision),
        "drain_s": roofline.drain_time_s(chip),
    }
    if args.price is not None:
        result["cost_usd_per_mtok"] = float(roofline.cost_per_million_tokens(step, args.price))
    return result


def kv(args) -> dict:
    """``kv``: KV bytes per token of a model preset [bytes/token]."""
    llm = model_named(args.model)
    layout = args.layout or llm.attention
    if layout is None:
        raise CalcError(f"model {args.model!r} has no attention layout in the presets; its KV size is unknown")
    return {"model": args.model.lower(), "layout": layout, "kv_bytes_per_value": args.kv_bytes_per_value,
            "kv_bytes_per_token": kv_cache.kv_bytes_per_token_as(llm, layout, args.kv_bytes_per_value)}


def balance(args) -> dict:
    """``balance``: FLOPs per HBM byte and the dense critical batch, KV ignored."""
    chip = chip_named(args.chip)
    precision = precision_for(chip, args.compute, args.weight_bytes)
    return {"chip": args.chip.lower(), "compute": precision.compute,
            "weight_bytes_per_param": precision.weight_bytes_per_param,
            "flops_per_byte": roofline.flops_per_byte(chip, precision),
            "critical_batch_dense": roofline.critical_batch_dense(chip, precision)}


LABELS = {
    "step_s": ("step time", 1e3, "ms"), "compute_s": ("  compute", 1e3, "ms"), "weights_s": ("  weight read", 1e3, "ms"),
    "kv_s": ("  KV read", 1e3, "ms"), "tokens_per_s": ("throughput", 1, "tokens/s"), "mfu": ("MFU", 100, "%"),
    "cost_usd_per_mtok": ("cost", 1, "USD per million output tokens"),
    "critical_batch": ("critical batch", 1, "sequences"), "max_batch_that_fits": ("largest batch that fits", 1,
                                                                                  "sequences"),
    "hbm_bytes_needed": ("HBM needed", 1e-9, "GB"), "min_chips_to_serve": ("fewest chips that hold it", 1, "chips"),
    "drain_s": ("HBM drain time", 1e3, "ms"), "kv_bytes_per_token": ("KV per token", 1, "bytes"),
    "flops_per_byte": ("FLOPs per HBM byte", 1, "FLOP/byte"),
    "critical_batch_dense": ("critical batch, dense, no KV", 1, "sequences"),
}


def human(result: dict) -> str:
    """A few aligned lines for people; the same numbers as ``--json``."""
    lines = []
    for key, value in result.items():
        label, scale, unit = LABELS.get(key, (key, None, ""))
        if value is None:
            text = "none (never reached / no limit)"
        elif scale is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
            shown = value * scale
            text = f"{shown:,.0f} {unit}" if abs(shown) >= 1000 else f"{shown:.4g} {unit}"
        else:
            text = str(value)
        lines.append(f"{label:<30} {text}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m course.calc``."""
    parser = argparse.ArgumentParser(prog="python -m course.calc", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    def precision_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--compute", type=_lower, choices=roofline.COMPUTE_FORMATS,
                       help="tensor format of the matmuls (default: fp8 where the chip has it, else bf16)")
        p.add_argument("--weight-bytes", type=_bytes_choice, help="bytes per stored weight, 1 or 2")

    d = sub.add_parser("decode", help="one decode step: times, bound, throughput, MFU, cost, memory")
    d.add_argument("--chip", required=True, type=_lower, help=f"one of {', '.join(chips.CHIPS)}")
    d.add_argument("--batch", required=True, type=_positive, help="sequences decoded together")
    d.add_argument("--context", required=True, type=_non_negative, help="tokens in each sequence's KV cache")
    d.add_argument("--chips", type=_count, default=1, help="chips sharing the step (default 1)")
    d.add_argument("--model", help=f"one of {', '.join(llms.LLMS)}")
    d.add_argument("--active-params", type=_positive, help="parameters used per token")
    d.add_argument("--total-params", type=_positive, help="parameters stored")
    d.add_argument("--kv-bytes-per-token", type=_non_negative, help="overrides the model's KV size [bytes/token]")
    d.add_argument("--kv-bytes-per-value", type=_bytes_choice, default=2.0, help="1 or 2 (default 2, bf16)")
    d.add_argument("--price", type=_non_negative, help="USD per chip-hour; adds cost_usd_per_mtok")
    d.add_argument("--step-model", choices=roofline.STEP_MODELS, default="overlap",
                   help="overlap: max(compute, weights + KV) (lecture, default); additive: KV + max(compute, weights)")
    d.add_argument("--expert-reads", choices=("full", "expected"), default="full",
                   help="MoE weight read per step: the full model (lecture, default) or the expected touched experts")
    precision_flags(d)
    d.add_argument("--json", action="store_true", help="print JSON")

    k = sub.add_parser("kv", help="KV-cache bytes per token of a model preset")
    k.add_argument("--model", required=True, help=f"one of {', '.join(llms.LLMS)}")
    k.add_argument("--kv-bytes-per-value", type=_bytes_choice, default=2.0, help="1 or 2 (default 2, bf16)")
    k.add_argument("--layout", type=_lower, choices=kv_cache.LAYOUTS,
                   help="attention layout to size (default: the model's own)")
    k.add_argument("--json", action="store_true", help="print JSON")

    b = sub.add_parser("balance", help="FLOPs per HBM byte and the dense critical batch of a chip")
    b.add_argument("--chip", required=True, type=_lower, help=f"one of {', '.join(chips.CHIPS)}")
    precision_flags(b)
    b.add_argument("--json", action="store_true", help="print JSON")
    return parser


COMMANDS = {"decode": decode, "kv": kv, "balance": balance}


def main(argv: list[str] | None = None) -> int:
    """Run the calculator; returns the exit status (0, or 2 for bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on unknown choices and malformed numbers
    try:
        result = COMMANDS[args.command](args)
    except ValueError as error:  # CalcError and the models' own checks
        parser.exit(EXIT_USAGE, f"{parser.prog} {args.command}: error: {error}\n")
    print(json.dumps(result, indent=2) if args.json else human(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
