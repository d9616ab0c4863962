"""Derive the demo's token-size shapes from the Azure LLM inference traces.

Run once, by hand, where the traces are available; the result ships as
``token_shapes.json`` beside this file, so the demo never needs the raw data::

    python -m telemetry.demo.derive_shapes ../shared/data/azure-llm-inference-2023

The two columns are nearly independent in the source (Spearman |rho| < 0.1), so
the file keeps one marginal distribution per column: 101 quantiles (0 %, 1 %,
... 100 %) that the generator samples by inverse CDF.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

SHAPES_PATH = Path(__file__).with_name("token_shapes.json")
SERVICES = ("code", "conv")
COLUMNS = ("ContextTokens", "GeneratedTokens")
ATTRIBUTION = (
    "Derived from the Azure LLM inference trace 2023 (Azure/AzurePublicDataset, "
    "data/AzureLLMInferenceTrace_{code,conv}.csv), licensed CC-BY 4.0. "
    'Attribution: Patel et al., "Splitwise: Efficient generative LLM inference '
    'using phase splitting", ISCA 2024.'
)


def quantiles(values: list[int], count: int = 101) -> list[float]:
    """``count`` evenly spaced quantiles with linear interpolation between order statistics."""
    ordered = sorted(values)
    last = len(ordered) - 1
    result = []
    for step in range(count):
        position = last * step / (count - 1)
        low = int(position)
        high = min(low + 1, last)
        fraction = position - low
        value = ordered[low] + (ordered[high] - ordered[low]) * fraction
        result.append(round(value, 2))
    return result


def read_columns(path: Path) -> dict[str, list[int]]:
    columns: dict[str, list[int]] = {name: [] for name in COLUMNS}
    with path.open(newline="") as handle:
        for line_number, row in enumerate(csv.DictReader(handle), start=2):
            try:
                for name in COLUMNS:
                    columns[name].append(int(row[name]))
            except (KeyError, TypeError, ValueError):
                raise ValueError(
                    f"{path}:{line_number}: expected integer {' and '.join(COLUMNS)} columns"
                ) from None
    return columns


def derive(source_dir: Path) -> dict:
    shapes: dict = {"attribution": ATTRIBUTION, "quantiles": 101, "services": {}}
    for service in SERVICES:
        path = source_dir / f"AzureLLMInferenceTrace_{service}.csv"
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found; pass the azure-llm-inference-2023 folder")
        columns = read_columns(path)
        shapes["services"][service] = {
            "requests": len(columns[COLUMNS[0]]),
            **{name: quantiles(values) for name, values in columns.items()},
        }
    return shapes


def to_json(shapes: dict) -> str:
    """Indented JSON with every quantile list on one line, to keep the file short and diffable."""
    text = json.dumps(shapes, indent=1)
    return re.sub(r"\[[^\[\]{}]*\]", lambda m: json.dumps(json.loads(m.group(0))), text) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m telemetry.demo.derive_shapes",
        description="Write token_shapes.json from the Azure LLM inference trace CSV files.",
    )
    parser.add_argument("source", type=Path, help="folder holding AzureLLMInferenceTrace_*.csv")
    parser.add_argument("--out", type=Path, default=SHAPES_PATH, help="where to write the JSON")
    args = parser.parse_args(argv)
    try:
        shapes = derive(args.source)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    args.out.write_text(to_json(shapes))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
