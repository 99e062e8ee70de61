"""Pure models of LLM inference economics, one module per idea.

- ``roofline``: one decode step, batch size, cost per token, precision, step models (segment 1)
- ``memory``: HBM capacity: largest batch, longest context, fewest chips
- ``expert_reads``: expected MoE weight bytes read per decode step
- ``prefill``: prefill vs decode, input-token cost, continuous batching, prefix caching
- ``kv_cache``: KV bytes per token from a model's attention shape (MHA, GQA, MLA)
- ``moe``: all-to-all traffic inside vs across a scale-up domain, node-limited routing (segment 2)
- ``pipeline``: bubbles, sequences in flight, memory per stage (segment 3)
- ``imbalance``: stage load imbalance and cross-stage residual traffic (segment 4)
- ``compute_budget``: pre-training, RL and inference compute (segment 5)
- ``context_cost``: cost vs context length and what prices imply (segment 6)
- ``diffusion``: avalanche of a toy cipher and a small neural net (segment 7)

No plotting here; all quantities in SI units (seconds, bytes, FLOPs).
"""
