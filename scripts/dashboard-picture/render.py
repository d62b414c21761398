#!/usr/bin/python3
"""Draws docs/images/dashboard.png from docs/images/dashboard-series.json (recorded by
record.run.ts: the answers of a real Prometheus to every query of monitoring/dashboard.json
over a real run). Same panels, titles, units, legends and layout (gridPos) as the Grafana
dashboard; drawn with matplotlib (Debian: apt-get install python3-matplotlib), not Grafana."""
import datetime as dt
import json
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERIES = os.path.join(ROOT, "docs/images/dashboard-series.json")
DASHBOARD = os.path.join(ROOT, "monitoring/dashboard.json")
OUT = os.path.join(ROOT, "docs/images/dashboard.png")

BG, PANEL, TEXT, GRID = "#111217", "#181b1f", "#ccccdc", "#2c3235"
COLORS = ["#73bf69", "#f2cc0c", "#5794f2", "#ff9830", "#b877d9", "#8ab8ff", "#f2495c", "#96d98d", "#ffcb7d", "#ca95e5"]


def human(v, unit):
    if unit == "percentunit":
        return f"{v * 100:.0f}%"
    if unit == "s":
        for size, name in ((86400, "d"), (3600, "h"), (60, "min")):
            if abs(v) >= size:
                return f"{v / size:.1f} {name}"
        return f"{v:.0f} s"
    if unit in ("bytes", "Bps"):
        suffix = "/s" if unit == "Bps" else ""
        for size, name in ((1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
            if abs(v) >= size:
                return f"{v / size:.1f} {name}{suffix}"
        return f"{v:.2g} B{suffix}"
    suffix = "/s" if unit == "ops" else ""
    if abs(v) >= 1000:
        return f"{v / 1000:.1f}k{suffix}"
    return f"{v:.2g}{suffix}" if v and abs(v) < 10 else f"{v:.0f}{suffix}"


def legend(fmt, metric):
    text = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: metric.get(m.group(1), ""), fmt or "")
    return re.sub(r"\s+", " ", text).strip() or json.dumps(metric)


def main():
    data = json.load(open(SERIES))
    dashboard = {p["id"]: p for p in json.load(open(DASHBOARD))["panels"]}
    panels = [p for p in data["panels"] if p["type"] != "row"]
    rows = [p for p in data["panels"] if p["type"] == "row"]
    height_units = max(dashboard[p["id"]]["gridPos"]["y"] + dashboard[p["id"]]["gridPos"]["h"] for p in data["panels"])
    unit_px = 0.36
    fig = plt.figure(figsize=(20, height_units * unit_px), facecolor=BG)
    start = dt.datetime.fromtimestamp(data["start"], dt.timezone.utc)
    end = dt.datetime.fromtimestamp(data["end"], dt.timezone.utc)
    fig.suptitle(
        f"mft-retention dashboard panels, real run {start:%Y-%m-%d %H:%M}-{end:%H:%M} UTC "
        "(queries of monitoring/dashboard.json answered by Prometheus, drawn with matplotlib)",
        color=TEXT, fontsize=12, y=0.998)

    def box(grid, left=0.032):
        # Room on the left of each panel for its axis labels (Grafana draws them inside the panel too).
        x, y, w, h = grid["x"], grid["y"], grid["w"], grid["h"]
        pad = 0.004
        return [x / 24 + pad + left, 1 - (y + h) / height_units + pad * 2, w / 24 - 2 * pad - left, h / height_units - pad * 5]

    for r in rows:
        g = dashboard[r["id"]]["gridPos"]
        fig.text(0.005, 1 - (g["y"] + 0.75) / height_units, r["title"], color=TEXT, fontsize=12, weight="bold")

    for p in panels:
        spec = dashboard[p["id"]]
        left = {"state-timeline": 0.16, "timeseries": 0.032}.get(p["type"], 0.0)
        ax = fig.add_axes(box(spec["gridPos"], left), facecolor=PANEL)
        ax.set_title(p["title"], color=TEXT, fontsize=10, loc="left", x=-left / (spec["gridPos"]["w"] / 24) if left else 0)
        for side in ax.spines.values():
            side.set_color(GRID)
        ax.tick_params(colors=TEXT, labelsize=7)
        dashed = {o["matcher"]["options"] for o in spec["fieldConfig"].get("overrides", []) if o["matcher"]["id"] == "byFrameRefID"}
        unit = p.get("unit") or "short"
        series = [(t, s) for t in p["targets"] for s in t["result"]]
        if p["type"] == "timeseries":
            for i, (t, s) in enumerate(series):
                xs = [dt.datetime.fromtimestamp(float(v[0]), dt.timezone.utc) for v in s["values"]]
                ys = [float(v[1]) for v in s["values"]]
                style = dict(color="#f2495c", linestyle="--", linewidth=1.2) if t["refId"] in dashed else dict(color=COLORS[i % len(COLORS)], linewidth=1.4)
                ax.plot(xs, ys, label=legend(t["legendFormat"], s["metric"]), **style)
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=dt.timezone.utc))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos, u=unit: human(v, u)))
            ax.grid(color=GRID, linewidth=0.5)
            ax.set_xlim(start, end)
            if series:
                ax.legend(fontsize=6.5, loc="upper left", facecolor=PANEL, edgecolor=GRID, labelcolor=TEXT, ncol=3 if len(series) > 4 else 1)
            else:
                ax.text(0.5, 0.5, "No data in this run", color=TEXT, ha="center", va="center", transform=ax.transAxes)
        elif p["type"] == "state-timeline":
            labels = []
            for i, (t, s) in enumerate(series):
                labels.append(legend(t["legendFormat"], s["metric"]))
                pts = [(float(v[0]), float(v[1])) for v in s["values"]]
                for j, (ts, val) in enumerate(pts):
                    nxt = pts[j + 1][0] if j + 1 < len(pts) else ts + data["step"]
                    color = "#f2495c" if val >= 1 else "#73bf69"
                    ax.barh(i, mdates.date2num(dt.datetime.fromtimestamp(nxt, dt.timezone.utc)) - mdates.date2num(dt.datetime.fromtimestamp(ts, dt.timezone.utc)),
                            left=mdates.date2num(dt.datetime.fromtimestamp(ts, dt.timezone.utc)), color=color, height=0.8)
            ax.set_yticks(range(len(labels)), labels, fontsize=7)
            ax.xaxis_date(tz=dt.timezone.utc)
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=dt.timezone.utc))
            ax.set_xlim(start, end)
            ax.text(0.995, 1.02, "red: raised  green: clear", color=TEXT, fontsize=7, ha="right", transform=ax.transAxes)
        else:
            ax.set_xticks([])
            ax.set_yticks([])
            lines = []
            for t, s in series:
                last = s["values"][-1][1] if s["values"] else "-"
                m = {k: v for k, v in s["metric"].items() if k != "__name__"}
                label = legend(t["legendFormat"], m) if t["legendFormat"] else ", ".join(f"{k}={v}" for k, v in sorted(m.items()))
                if "watched_since" in t["expr"] and last != "-":
                    last = dt.datetime.fromtimestamp(float(last) / 1000, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
                lines.append(f"{label}: {last}" if p["type"] == "table" else f"{label}  {last}")
            size = 16 if p["type"] == "stat" else 8
            ax.text(0.02, 0.92, "\n".join(lines) or "No data", color="#73bf69" if p["type"] == "stat" else TEXT, fontsize=size, va="top", family="monospace", transform=ax.transAxes)
    fig.savefig(OUT, dpi=80, facecolor=BG)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    sys.exit(main())
