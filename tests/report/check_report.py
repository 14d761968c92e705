#!/usr/bin/env python3
"""Loads an rlpipe HTML report in headless Chromium and checks what a person would see.

  check_report.py REPORT.html [--expect CHART[|SERIES]=N ...] [--screenshot OUT.png]

Checks, on the DOM Chromium built (--dump-dom), not on the file's text:
  - Chromium loaded it with no console error and no network request (the page is
    self-contained: no script, no external stylesheet, font or image);
  - every chart named by --expect exists and has a plotted path; N is the number of points of the
    series (or, without /SERIES, of all series of the chart) as written in data-points, and the
    path's `d` really holds that many points;
  - no chart named by --expect is empty ("no data" or a path without points).
With --screenshot, also renders the page to a PNG and checks it is a real, non-blank image.
Exits 0 when everything holds, 1 with one line per problem otherwise.
"""
import argparse
import html.parser
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync",
                  "--disable-quic", "--disable-default-apps", "--mute-audio"]


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("check_report: chromium not found (scripts/install-deps.sh --test installs it)")


def run_chromium(args, profile):
    command = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr",
               "--v=0", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


class Charts(html.parser.HTMLParser):
    """Collects every <svg class="chart">: its series paths and whether it says "no data"."""

    def __init__(self):
        super().__init__()
        self.charts = {}
        self.current = None
        self.in_no_data = False
        self.scripts = 0
        self.external = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        for key in ("src", "href"):
            value = a.get(key, "")
            if tag != "a" and re.match(r"^(https?:)?//", value):
                self.external.append(f"<{tag} {key}={value}>")
        if tag == "link":
            self.external.append(f"<link href={a.get('href')}>")
        if tag == "svg" and "chart" in a.get("class", "").split():
            self.current = a.get("data-chart", "")
            self.charts[self.current] = {"series": [], "no_data": False}
        elif tag == "path" and self.current is not None and a.get("class") == "series":
            d = a.get("d", "")
            self.charts[self.current]["series"].append(
                {"label": a.get("data-series", ""), "points": int(a.get("data-points", "0")),
                 "drawn": len(re.findall(r"[ML]", d))})
        elif tag == "text" and self.current is not None and a.get("class") == "no-data":
            self.charts[self.current]["no_data"] = True

    def handle_endtag(self, tag):
        if tag == "svg":
            self.current = None


def png_is_not_blank(path):
    """True when the PNG decodes and holds more than one colour (a rendered page, not a blank)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return False
    pos, idat, width, height, colour = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, _, colour = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    channels = {2: 3, 6: 4}.get(colour, 3)
    stride = width * channels + 1
    colours = set()
    for row in range(0, height, max(1, height // 50)):
        line = raw[row * stride + 1:(row + 1) * stride]
        for x in range(0, len(line) - channels, channels * max(1, width // 50)):
            colours.add(line[x:x + 3])
    return width > 100 and height > 100 and len(colours) > 3


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("report")
    parser.add_argument("--expect", action="append", default=[])
    parser.add_argument("--screenshot")
    args = parser.parse_args()
    url = "file://" + os.path.abspath(args.report)
    problems = []
    profile = tempfile.mkdtemp(prefix="rlpipe_chromium_")
    try:
        result = run_chromium(["--dump-dom", url], profile)
        if result.returncode != 0 or "<svg" not in result.stdout and "<html" not in result.stdout:
            problems.append(f"chromium failed to load {url}: exit {result.returncode}: "
                            f"{result.stderr[-500:]}")
        # Console messages (script errors, failed loads) are logged as CONSOLE lines.
        for line in result.stderr.splitlines():
            if ":CONSOLE" in line or "Failed to load resource" in line:
                problems.append("console: " + line.strip())
        charts = Charts()
        charts.feed(result.stdout)
        if charts.scripts:
            problems.append(f"{charts.scripts} <script> element(s): the report must have none")
        for ref in charts.external:
            problems.append("external resource: " + ref)
        for expectation in args.expect:
            target, _, count = expectation.rpartition("=")
            chart, _, series = target.partition("|")
            if chart not in charts.charts:
                problems.append(f"chart '{chart}' missing (charts: {sorted(charts.charts)})")
                continue
            info = charts.charts[chart]
            paths = [s for s in info["series"] if not series or s["label"] == series]
            points = sum(s["points"] for s in paths)
            if info["no_data"] or not paths or points == 0:
                problems.append(f"chart '{chart}' is empty (no plotted path)")
                continue
            for s in paths:
                if s["drawn"] != s["points"]:
                    problems.append(f"chart '{chart}' series '{s['label']}': data-points "
                                    f"{s['points']} but its path draws {s['drawn']}")
            if points != int(count):
                problems.append(f"chart '{chart}'{' series ' + repr(series) if series else ''}: "
                                f"{points} points plotted, expected {count}")
        if args.screenshot:
            shot = run_chromium([f"--screenshot={os.path.abspath(args.screenshot)}",
                                 "--window-size=1400,2600", "--hide-scrollbars", url], profile)
            if not os.path.exists(args.screenshot) or not png_is_not_blank(args.screenshot):
                problems.append(f"no usable screenshot: exit {shot.returncode} {shot.stderr[-300:]}")
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    for problem in problems:
        print(problem)
    if not problems:
        print(f"ok: {len(args.expect)} chart expectation(s) hold in Chromium")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
