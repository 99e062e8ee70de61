"""Pure models of LLM inference economics, one module per idea.

- ``roofline``: one decode step, batch size, cost per token (segment 1)
- ``kv_cache``: KV bytes per token from a model's attention shape
- ``moe``: all-to-all traffic inside vs across a scale-up domain (segment 2)
- ``pipeline``: bubbles, sequences in flight, memory per stage (segment 3)
- ``imbalance``: stage load imbalance and cross-stage residual traffic (segment 4)
- ``compute_budget``: pre-training, RL and inference compute (segment 5)
- ``context_cost``: cost vs context length and what prices imply (segment 6)
- ``diffusion``: avalanche of a toy cipher and a small neural net (segment 7)

No plotting here; all quantities in SI units (seconds, bytes, FLOPs).
"""
