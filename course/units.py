"""Unit constants. Everything in ``course`` is in SI base units unless a name says otherwise."""

KILO = 1e3
MEGA = 1e6
GIGA = 1e9
TERA = 1e12
PETA = 1e15

SECONDS_PER_HOUR = 3600.0
SECONDS_PER_DAY = 86_400.0

BYTES_BF16 = 2
BYTES_FP8 = 1

TOKENS_PER_MILLION = 1e6
