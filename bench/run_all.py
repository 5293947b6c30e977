"""Run every benchmark in bench/ and print one table: figure, target, measured, pass/fail.

Every `bench/*.py` except this file and names starting with `_` is a benchmark. Each is run in its own
process as `python bench/NAME.py --json [its QUICK_ARGS with --quick]`; by the convention in
bench/README.md its last line of output is {"figures": [{"name", "target", "measured", "unit", "pass"}]}.
A script that does not follow the convention (yet) still gets a row saying so, with its exit code
and the tail of its output, so nothing is silently left out.

    .venv/bin/python bench/run_all.py [--quick] [--only endpoint,startup] [--markdown PATH]

Exit 0 when every figure with a target passed and every script ran; 1 otherwise.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent


def scripts(only: Sequence[str] = (), folder: Path = BENCH) -> list[Path]:
    found = sorted(p for p in folder.glob("*.py") if p.name != Path(__file__).name and not p.name.startswith("_"))
    if only:
        found = [p for p in found if p.stem in only]
    return found


def module_constant(path: Path, name: str) -> Any:
    """A literal module-level constant (e.g. QUICK_ARGS), read without importing the script."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, OSError):
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            try:
                return ast.literal_eval(node.value)
            except ValueError:
                return None
    return None


def parse_figures(stdout: str) -> list[dict[str, Any]] | None:
    """The figures from the last non-empty line, or None when it is not the convention's object."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        return None
    try:
        obj = json.loads(lines[-1])
    except ValueError:
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("figures"), list):
        return None
    out = []
    for f in obj["figures"]:
        if not isinstance(f, dict) or "name" not in f or "measured" not in f:
            return None
        out.append({"name": str(f["name"]), "target": f.get("target"), "measured": f["measured"],
                    "unit": f.get("unit") or "", "pass": f.get("pass")})
    return out


def run_script(path: Path, quick: bool, timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, str(path), "--json"]
    quick_args = module_constant(path, "QUICK_ARGS") if quick else None
    if quick_args:
        cmd += [str(a) for a in quick_args]
    t0 = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout)
        code, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        code, out, err = None, exc.stdout or "", f"timed out after {timeout:g} s"
        out = out.decode() if isinstance(out, bytes) else out
    figures = parse_figures(out)
    return {"script": path.stem, "cmd": cmd, "code": code, "figures": figures, "stdout": out, "stderr": err,
            "seconds": time.monotonic() - t0}


def fmt_measured(f: dict[str, Any]) -> str:
    m = f["measured"]
    if isinstance(m, float):
        m = f"{m:.3f}".rstrip("0").rstrip(".") if abs(m) < 1000 else f"{m:.0f}"
    return f"{m} {f['unit']}".strip()


def verdict(f: dict[str, Any]) -> str:
    return "-" if f["pass"] is None else ("PASS" if f["pass"] else "FAIL")


def rows(results: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    out = []
    for r in results:
        if r["figures"] is None:
            tail = (r["stderr"].strip() or r["stdout"].strip()).splitlines()[-1:] or [""]
            why = "timed out" if r["code"] is None else f"exit {r['code']}"
            out.append((f"{r['script']}: no figures (not the bench/README.md convention; {why})", "-",
                        tail[0][:60], "ERROR"))
            continue
        for f in r["figures"]:
            name = f["name"] if f["name"].lower().startswith(r["script"].replace("_", " ")) or \
                f["name"].lower().startswith(r["script"]) else f"{r['script']}: {f['name']}"
            out.append((name, f["target"] or "-", fmt_measured(f), verdict(f)))
        if r["code"] not in (0, 1):
            out.append((f"{r['script']}: exit code", "0 or 1", str(r["code"]), "ERROR"))
    return out


def table(rs: list[tuple[str, str, str, str]]) -> str:
    head = ("figure", "target", "measured", "pass/fail")
    widths = [max(len(x[i]) for x in [head, *rs]) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(head, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rs]
    return "\n".join(lines)


def markdown(rs: list[tuple[str, str, str, str]]) -> str:
    lines = ["| figure | target | measured | pass/fail |", "| --- | --- | --- | --- |"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rs]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="pass each script its QUICK_ARGS (a short run)")
    ap.add_argument("--only", default="", help="comma-separated script names (e.g. endpoint,startup)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per script (default 1800)")
    ap.add_argument("--markdown", metavar="PATH", help="also write the table as Markdown")
    ap.add_argument("--dir", type=Path, default=BENCH, help=argparse.SUPPRESS)   # tests
    args = ap.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    todo = scripts(only, args.dir)
    if not todo:
        print("no benchmark scripts found", file=sys.stderr)
        return 1
    results = []
    # Wall-clock figures depend on what else the machine does: say how busy it was around each script.
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, "
          f"{'--quick' if args.quick else 'full run'}", file=sys.stderr, flush=True)
    for path in todo:
        load0 = os.getloadavg()[0]
        print(f"# running {path.name} (load average {load0:.1f}) ...", file=sys.stderr, flush=True)
        r = run_script(path, args.quick, args.timeout)
        print(f"#   {path.name}: exit {r['code']} in {r['seconds']:.0f} s (load average {load0:.1f} -> "
              f"{os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)
        results.append(r)
    rs = rows(results)
    print(table(rs))
    if args.markdown:
        Path(args.markdown).write_text(markdown(rs), encoding="utf-8")
    return 0 if all(r[3] in ("PASS", "-") for r in rs) else 1


if __name__ == "__main__":
    sys.exit(main())
