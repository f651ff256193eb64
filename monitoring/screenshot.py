#!/usr/bin/env python3
"""Draws the Grafana dashboard from a running Prometheus, for the README's picture.

Grafana is not packaged in Debian, so this is not Grafana: it sends each panel's
queries of grafana/ovn-ic-controller.json to Prometheus's HTTP API, as Grafana
would with every job and instance selected, and draws the answers with matplotlib
at the panels' places, in Grafana's dark colours.  Stat, table and time-series
panels are drawn; value mappings, thresholds, legends and the table
transformations the dashboard uses are followed.

    screenshot.py http://127.0.0.1:9090 docs/images/dashboard.png --minutes 20

Needs matplotlib (not a dependency of the project: `pip install matplotlib` in any
virtualenv).  README.md, section "Monitoring", says how the committed picture
was made.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import time
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from PIL import Image  # noqa: E402 (comes with matplotlib)

DASHBOARD = Path(__file__).resolve().parent / "grafana" / "ovn-ic-controller.json"
VARIABLES = {"$job": ".+", "$instance": ".+", "$__rate_interval": "1m"}
WIDTH, CELL, GAP, HEADER = 1600, 30, 8, 44  # pixels; Grafana's grid: 24 columns, 30 px rows
BACKGROUND, PANEL, BORDER, TEXT, DIM = "#111217", "#181b1f", "#2c3235", "#ccccdc", "#8e8e9a"
COLORS = {"green": "#73bf69", "red": "#f2495c", "blue": "#5794f2", "orange": "#ff9830",
          "yellow": "#fade2a", "purple": "#b877d9", "text": TEXT}
PALETTE = ["#7eb26d", "#eab839", "#6ed0e0", "#ef843c", "#e24d42", "#1f78c1", "#ba43a9",
           "#705da0", "#508642", "#cca300", "#447ebc", "#c15c17"]


class Prometheus:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def get(self, path: str, **params) -> list[dict]:
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=30) as response:
            answer = json.load(response)
        assert answer["status"] == "success", answer
        return answer["data"]["result"]

    def instant(self, expr: str, at: float) -> list[dict]:
        return self.get("/api/v1/query", query=expr, time=at)

    def range(self, expr: str, start: float, end: float, step: float) -> list[dict]:
        return self.get("/api/v1/query_range", query=expr, start=start, end=end, step=step)


def substitute(expr: str) -> str:
    for name, value in VARIABLES.items():
        expr = expr.replace(name, value)
    return expr


def legend(template: str, labels: dict) -> str:
    if not template:
        return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "__name__")
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), template).strip()


def color(name: str) -> str:
    return COLORS.get(name, name)


def number(value: float, unit: str, decimals: int | None) -> str:
    if unit == "s":
        if value >= 3600:
            return f"{value / 3600:.1f} h"
        if value >= 60:
            return f"{value / 60:.1f} min"
        if value >= 1 or value == 0:
            return f"{value:.{0 if decimals is None else decimals}f} s"
        return f"{value * 1000:.1f} ms" if value >= 0.001 else f"{value * 1e6:.0f} µs"
    text = f"{value:.{decimals}f}" if decimals is not None else f"{value:.3g}"
    return text + (" /s" if unit == "ops" else "")


def mapped(value: float, mappings: list[dict]) -> tuple[str, str] | None:
    for mapping in mappings:
        hit = mapping["options"].get(str(int(value)) if value == int(value) else str(value))
        if hit:
            return hit["text"], color(hit["color"])
    return None


def threshold_color(value: float, field: dict) -> str:
    chosen = TEXT
    for step in field.get("thresholds", {}).get("steps", []):
        if step["value"] is None or value >= step["value"]:
            chosen = color(step["color"])
    return chosen


def overrides_for(name: str, panel: dict) -> dict:
    """Properties of the overrides that apply to field or series ``name``."""
    found = {}
    for override in panel["fieldConfig"].get("overrides", []):
        matcher = override["matcher"]
        if (matcher["id"] == "byName" and matcher["options"] == name
                or matcher["id"] == "byRegexp" and re.fullmatch(matcher["options"], name)):
            found.update({prop["id"]: prop["value"] for prop in override["properties"]})
    return found


class Renderer:
    def __init__(self, prometheus: Prometheus, dashboard: dict, minutes: float) -> None:
        self.prometheus, self.dashboard = prometheus, dashboard
        self.end = time.time()
        self.start = self.end - minutes * 60
        rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in dashboard["panels"])
        self.height = HEADER + rows * CELL + GAP
        self.figure = plt.figure(figsize=(WIDTH / 100, self.height / 100), dpi=100,
                                 facecolor=BACKGROUND)
        plt.rcParams.update({"font.size": 8, "font.family": "DejaVu Sans", "text.color": TEXT,
                             "axes.labelcolor": DIM, "xtick.color": DIM, "ytick.color": DIM})

    def box(self, left: float, top: float, width: float, height: float) -> list[float]:
        """Pixels (from the top left) to figure coordinates."""
        return [left / WIDTH, 1 - (top + height) / self.height, width / WIDTH,
                height / self.height]

    def text(self, left: float, top: float, text: str, **style) -> None:
        self.figure.text(left / WIDTH, 1 - top / self.height, text, **style)

    def draw(self, out: Path) -> None:
        start, end = datetime.fromtimestamp(self.start), datetime.fromtimestamp(self.end)
        span = f"{start:%H:%M} to {end:%H:%M}"
        self.text(GAP, 14, self.dashboard["title"], fontsize=13, va="top", color="#d8d9da")
        self.text(WIDTH - GAP, 16, f"job: All   instance: All   {span}", fontsize=9, va="top",
                  ha="right", color=DIM)
        column = WIDTH / 24
        for panel in self.dashboard["panels"]:
            pos = panel["gridPos"]
            left, top = pos["x"] * column + GAP / 2, HEADER + pos["y"] * CELL + GAP / 2
            width, height = pos["w"] * column - GAP, pos["h"] * CELL - GAP
            self.figure.add_artist(Rectangle(self.box(left, top, width, height)[:2],
                                             width / WIDTH, height / self.height,
                                             transform=self.figure.transFigure, facecolor=PANEL,
                                             edgecolor=BORDER, linewidth=0.8, zorder=-1))
            self.text(left + 8, top + 8, panel["title"], fontsize=9.5, va="top", weight="bold",
                      color="#d8d9da")
            inner = (left + 8, top + 28, width - 16, height - 36)
            getattr(self, panel["type"])(panel, *inner)
        self.figure.savefig(out, facecolor=BACKGROUND)
        # A palette PNG: the same picture at a third of the size.
        Image.open(out).convert("RGB").quantize(colors=128).save(out, optimize=True)

    # ------------------------------------------------------------ panel types
    def timeseries(self, panel: dict, left: float, top: float, width: float,
                   height: float) -> None:
        step = max(15, (self.end - self.start) / 240)
        lines = []
        for target in panel["targets"]:
            for series in self.prometheus.range(substitute(target["expr"]), self.start,
                                                self.end, step):
                times = [datetime.fromtimestamp(float(t)) for t, _ in series["values"]]
                values = [float(v) for _, v in series["values"]]
                lines.append((legend(target.get("legendFormat", ""), series["metric"]),
                              times, values))
        columns = max(1, int(width // 190))
        fits = columns * int(height * 0.4 // 13)  # the legend takes at most 40 % of the panel
        shown = lines if len(lines) <= fits else lines[:fits - 1]
        legend_height = math.ceil((len(shown) + (shown != lines)) / columns) * 13 + 4
        axes = self.figure.add_axes(self.box(left + 44, top, width - 48,
                                             height - legend_height - 18))
        axes.set_facecolor(PANEL)
        for side in axes.spines.values():
            side.set_visible(False)
        axes.grid(color=BORDER, linewidth=0.6)
        axes.tick_params(length=0, labelsize=7.5)
        axes.set_xlim(datetime.fromtimestamp(self.start), datetime.fromtimestamp(self.end))
        axes.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
        unit = panel["fieldConfig"]["defaults"].get("unit", "short")
        axes.yaxis.set_major_formatter(lambda value, _pos: number(value, unit, None))
        if not lines:
            axes.text(0.5, 0.5, "No data", transform=axes.transAxes, ha="center", color=DIM)
        for index, (name, times, values) in enumerate(lines):
            tint = PALETTE[index % len(PALETTE)]
            axes.plot(times, values, color=tint, linewidth=1.2)
            axes.fill_between(times, values, color=tint, alpha=0.05)
            if index < len(shown):
                self.legend_entry(index, columns, name, tint, left, top + height - legend_height,
                                  width)
        if shown != lines:
            self.legend_entry(len(shown), columns, f"and {len(lines) - len(shown)} more", None,
                              left, top + height - legend_height, width)
        if lines:
            axes.set_ylim(bottom=min(0, *(min(v) for _, _, v in lines)))

    def legend_entry(self, index: int, columns: int, name: str, tint: str | None,
                     left: float, top: float, width: float) -> None:
        row, col = divmod(index, columns)
        x, y = left + 4 + col * (width / columns), top + row * 13 + 4
        if tint:
            self.figure.add_artist(Rectangle(self.box(x, y + 3, 12, 3)[:2], 12 / WIDTH,
                                             3 / self.height, facecolor=tint,
                                             transform=self.figure.transFigure))
        self.text(x + 16, y, name[:int(width / columns / 5.2)], fontsize=7.5, va="top",
                  color=TEXT if tint else DIM)

    def stat(self, panel: dict, left: float, top: float, width: float, height: float) -> None:
        field = panel["fieldConfig"]["defaults"]
        target = panel["targets"][0]
        cells = []
        for series in self.prometheus.instant(substitute(target["expr"]), self.end):
            name = legend(target.get("legendFormat", ""), series["metric"])
            value = float(series["value"][1])
            text, tint = mapped(value, field.get("mappings", [])) or (
                number(value, field.get("unit", "short"), field.get("decimals")),
                threshold_color(value, field))
            fixed = overrides_for(name, panel).get("color")
            cells.append((name, text, color(fixed["fixedColor"]) if fixed else tint))
        if not cells:
            self.text(left + width / 2, top + height / 2 - 10, field.get("noValue", "No data"),
                      fontsize=16, ha="center", va="center", color=DIM)
            return
        cells.sort()
        shape = max(((c, math.ceil(len(cells) / c)) for c in range(1, len(cells) + 1)),
                    key=lambda s: min(width / s[0] / 2.2, height / s[1]))
        cell_w, cell_h = width / shape[0], height / shape[1]
        only_name = panel["options"].get("textMode") == "name"
        for index, (name, text, tint) in enumerate(cells):
            row, col = divmod(index, shape[0])
            x, y = left + col * cell_w, top + row * cell_h
            self.figure.add_artist(Rectangle(self.box(x + 2, y + 2, cell_w - 4, cell_h - 4)[:2],
                                             (cell_w - 4) / WIDTH, (cell_h - 4) / self.height,
                                             transform=self.figure.transFigure, facecolor=tint))
            size = max(8.0, min(20.0, cell_h / 3.2, cell_w / max(len(text), len(name) / 2) / 1.1))
            if only_name:
                self.text(x + cell_w / 2, y + cell_h / 2, name, fontsize=size * 0.7,
                          ha="center", va="center", color="white", weight="bold")
                continue
            self.text(x + cell_w / 2, y + cell_h * 0.3, name, fontsize=min(9, size * 0.55),
                      ha="center", va="center", color="white")
            self.text(x + cell_w / 2, y + cell_h * 0.66, text, fontsize=size, ha="center",
                      va="center", color="white", weight="bold")

    def table(self, panel: dict, left: float, top: float, width: float, height: float) -> None:
        hidden, shown = set(), None
        for transformation in panel.get("transformations", []):
            options = transformation["options"]
            if transformation["id"] == "organize":
                hidden |= set(options["excludeByName"])
            elif transformation["id"] == "filterFieldsByName":
                shown = options["include"]["names"]
        rows = []
        for target in panel["targets"]:
            for series in self.prometheus.instant(substitute(target["expr"]), self.end):
                rows.append(dict(series["metric"], Value=series["value"][1]))
        first = ("job", "instance")
        names = shown or sorted({key for row in rows for key in row} - hidden,
                                key=lambda k: (first.index(k) if k in first
                                               else 2 + (k == "Value"), k))
        if not rows:
            self.text(left + width / 2, top + height / 2 - 10, "No data", fontsize=11,
                      ha="center", va="center", color=DIM)
            return
        headers = [overrides_for(n, panel).get("displayName", n) for n in names]
        widths = [max(len(header), *(len(str(row.get(n, ""))) for row in rows))
                  for n, header in zip(names, headers, strict=True)]
        scale = width / max(1, sum(w + 2 for w in widths))
        x_at = [left + sum(w + 2 for w in widths[:i]) * scale for i in range(len(names))]
        for x, header in zip(x_at, headers, strict=True):
            self.text(x + 4, top + 4, header, fontsize=8, va="top", color="#6e9fff",
                      weight="bold")
        for index, row in enumerate(rows[: int((height - 24) // 20)]):
            y = top + 24 + index * 20
            self.figure.add_artist(Rectangle(self.box(left, y, width, 1)[:2], width / WIDTH,
                                             1 / self.height, facecolor=BORDER,
                                             transform=self.figure.transFigure))
            for x, name in zip(x_at, names, strict=True):
                value, tint = str(row.get(name, "")), TEXT
                mappings = overrides_for(name, panel).get("mappings")
                if mappings and value:
                    value, tint = mapped(float(value), mappings) or (value, TEXT)
                self.text(x + 4, y + 5, value, fontsize=8, va="top", color=tint)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("prometheus", help="Prometheus URL, e.g. http://127.0.0.1:9090")
    parser.add_argument("out", type=Path, help="PNG to write")
    parser.add_argument("--minutes", type=float, default=20, help="time range to show")
    args = parser.parse_args()
    dashboard = json.loads(DASHBOARD.read_text())
    Renderer(Prometheus(args.prometheus), dashboard, args.minutes).draw(args.out)


if __name__ == "__main__":
    main()
