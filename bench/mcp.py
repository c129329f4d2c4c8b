"""``issue mcp``: what its tools cost a model's context, and how fast it answers (issue 14).

* **Context cost**: the ``tools/list`` answer as the server writes it on stdio (the default
  tool set and ``--read-only``), in characters, characters / 4, and tokens of a real tokenizer
  when one loads (tiktoken's ``o200k_base`` / ``cl100k_base``: it fetches its encoding files
  once, so offline it needs them in ``$TIKTOKEN_CACHE_DIR``; tiktoken is not a dependency),
  beside each tool's own size. Target: at most 2,000 tokens.
* **A list page**: ``issues_list`` on a store of 1,000 issues with the default fields, as
  the model reads it (the text content; the structured content on the wire is the same JSON):
  the default page (30) and pages at the cap (100) walked with the cursor over every issue.
  Target: at most 4,000 tokens a page.
* **Warm latency**: one ``issue mcp`` over stdio driven by the SDK's client, ``--calls`` calls
  per tool family (list, read, write: a comment, claim: each a different issue), round-robin
  so the machine's load hits each family alike, after a warm-up; ``tools/list`` (answered
  from memory, no backend) is the transport's floor. Target: median at most 20 ms.
* **Cold start**: from the process start to the answer to the first ``tools/list`` (after
  the ``initialize`` handshake a client makes), as a ratio to the interpreter floor
  (``python -I -c pass``) measured in the same run, round-robin with it and with the SDK's own
  import (``python -I -c 'import mcp.server'``), medians of ``--runs``. No target: reported.

The machine's load average is printed before and after. Run with the venv's python:

    .venv/bin/python bench/mcp.py [--calls 100] [--runs 15] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TOOLS_TOKENS = 2_000
PAGE_TOKENS = 4_000
CALL_MS = 20.0
HANDSHAKE_VERSION = "2025-11-25"  # the newest revision reached through initialize


def _import_path() -> None:
    """Run as ``python bench/mcp.py``, this folder is first on sys.path and this file would
    shadow the SDK's ``mcp`` package: modules are found from the repository's root instead."""
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def _json(data: Any) -> str:
    """Compact JSON, as the SDK writes it on the wire."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def tokenizers() -> dict[str, Callable[[str], int]]:
    """The real tokenizers that load here (none offline without tiktoken's files)."""
    try:
        import tiktoken
    except ImportError:
        return {}
    found: dict[str, Callable[[str], int]] = {}
    for name in ("o200k_base", "cl100k_base"):
        try:
            encoding = tiktoken.get_encoding(name)
        except Exception:  # no network and no cached file: that tokenizer is not counted
            continue
        found[name] = lambda text, e=encoding: len(e.encode(text))
    return found


# -- the server over stdio, spoken to by hand (the cold start and the wire's exact bytes) ---


class RawServer:
    """``issue mcp`` in a subprocess, spoken to in JSON-RPC lines."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            command, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((_json(message) + "\n").encode("utf-8"))
        self.process.stdin.flush()

    def answer(self, request_id: int) -> dict[str, Any]:
        assert self.process.stdout is not None
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("the server ended before it answered")
            message = json.loads(line)
            if message.get("id") == request_id:
                if "error" in message:
                    raise RuntimeError(f"the server answered an error: {message['error']}")
                return dict(message["result"])

    def tools_list(self) -> dict[str, Any]:
        """The handshake a client makes, then ``tools/list``: its result."""
        self.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": HANDSHAKE_VERSION, "capabilities": {},
            "clientInfo": {"name": "bench", "version": "0"}}})  # fmt: skip
        self.answer(1)
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        self.send({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        return self.answer(2)

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()  # end of input: the server ends
        self.process.wait(timeout=30)


def context_cost(issue: str, cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    counters = tokenizers()

    def sizes(text: str) -> dict[str, Any]:
        return {"chars": len(text), "chars/4": round(len(text) / 4),
                **{name: count(text) for name, count in counters.items()}}  # fmt: skip

    answer: dict[str, Any] = {"tokenizers": list(counters)}
    for label, extra in (("default", []), ("--read-only", ["--read-only"])):
        server = RawServer([issue, "mcp", *extra], cwd, env)
        try:
            result = server.tools_list()
        finally:
            server.close()
        answer[label] = {
            "whole": sizes(_json(result)),
            "tools": {tool["name"]: sizes(_json(tool)) for tool in result["tools"]},
        }
    return answer


def cold_start(issue: str, cwd: Path, env: dict[str, str], runs: int) -> dict[str, Any]:
    python = sys.executable
    plain: dict[str, list[str]] = {
        "python -I -c pass (floor)": [python, "-I", "-c", "pass"],
        "python -I -c 'import mcp.server' (the SDK's import)": [
            python, "-I", "-c", "import mcp.server"],
        "issue --version": [issue, "--version"],
    }  # fmt: skip
    served = "issue mcp: start -> first tools/list answer"
    samples: dict[str, list[float]] = {name: [] for name in [*plain, served]}
    for round_ in range(runs + 1):  # round 0 warms the OS cache and is not counted
        for name, command in plain.items():
            start = time.perf_counter()
            subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, check=True)
            if round_:
                samples[name].append(time.perf_counter() - start)
        start = time.perf_counter()
        server = RawServer([issue, "mcp"], cwd, env)
        server.tools_list()
        elapsed = time.perf_counter() - start
        server.close()
        if round_:
            samples[served].append(elapsed)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    floor = medians["python -I -c pass (floor)"]
    return {name: {"median_ms": round(s * 1000, 1), "ratio": round(s / floor, 2)}
            for name, s in medians.items()}  # fmt: skip


# -- the server over stdio, driven by the SDK's client (pages and warm latency) -------------


def _text(result: Any) -> str:
    if result.is_error:
        raise RuntimeError(f"tool error: {result.content[0].text}")
    return str(result.content[0].text)


async def list_pages(client: Any, counters: dict[str, Callable[[str], int]]) -> dict[str, Any]:
    def sizes(texts: list[str]) -> dict[str, Any]:
        longest = max(texts, key=len)
        return {"pages": len(texts), "max_chars": len(longest),
                "max_chars/4": round(len(longest) / 4),
                **{f"max_{name}": count(longest) for name, count in counters.items()}}  # fmt: skip

    default = _text(await client.call_tool("issues_list", {}))
    seen: list[int] = []
    texts: list[str] = []
    args: dict[str, Any] = {"state": "all", "limit": 100}
    while True:
        text = _text(await client.call_tool("issues_list", args))
        page = json.loads(text)
        texts.append(text)
        seen += [issue["number"] for issue in page["issues"]]
        if page["next_cursor"] is None:
            break
        args = {**args, "cursor": page["next_cursor"]}
    assert sorted(seen) == list(range(1, len(seen) + 1)), "the cursor skipped or repeated"
    default_page = json.loads(default)["issues"]
    return {
        "default (30, not closed)": {**sizes([default]), "issues": len(default_page)},
        "at the cap (100, state all, cursor)": {**sizes(texts), "issues": len(seen)},
    }


async def latency(client: Any, calls: int, open_numbers: list[int]) -> dict[str, Any]:
    warm_up = 10
    claims = iter(open_numbers)
    count = iter(range(10**9))

    def read() -> Awaitable[Any]:
        return client.call_tool("issue_read", {"number": 1 + next(count) % 1000})

    families: dict[str, Callable[[], Awaitable[Any]]] = {
        "tools/list (no backend: the floor)": lambda: client.list_tools(),
        "list: issues_list {}": lambda: client.call_tool("issues_list", {}),
        "read: issue_read details": read,
        "write: issue_write comment": lambda: client.call_tool(
            "issue_write", {"method": "comment", "number": 500, "body": "bench comment"}
        ),
        "claim: work claim": lambda: client.call_tool(
            "work", {"method": "claim", "number": next(claims)}
        ),
    }
    samples: dict[str, list[float]] = {name: [] for name in families}
    for round_ in range(warm_up + calls):
        for name, call in families.items():
            start = time.perf_counter()
            result = await call()
            elapsed = time.perf_counter() - start
            if getattr(result, "is_error", False):
                raise RuntimeError(f"{name}: {result.content[0].text}")
            if round_ >= warm_up:
                samples[name].append(elapsed)
    answer = {}
    for name, values in samples.items():
        ordered = sorted(values)
        answer[name] = {
            "median_ms": round(statistics.median(values) * 1000, 2),
            "p90_ms": round(ordered[int(len(ordered) * 0.9) - 1] * 1000, 2),
            "max_ms": round(ordered[-1] * 1000, 2),
        }
    return answer


def warm_server(
    issue: str, cwd: Path, env: dict[str, str], calls: int, open_numbers: list[int]
) -> dict[str, Any]:
    import anyio
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(
        command=issue, args=["--as", "bench-agent", "mcp"], cwd=str(cwd), env=env
    )
    found: dict[str, Any] = {}

    async def main() -> None:
        # No response cache: every tools/list of the floor reaches the server.
        async with Client(params, cache=None) as client:
            found["protocol"] = client.protocol_version
            found["pages"] = await list_pages(client, tokenizers())
            found["latency"] = await latency(client, calls, open_numbers)

    anyio.run(main)
    return found


def open_issues(folder: Path, count: int) -> list[int]:
    """``count`` open issue numbers of the store (each claimed once by the bench)."""
    from issue_core.backends.local import LocalBackend
    from issue_core.core.models import IssueFilter, IssueState

    backend = LocalBackend()
    backend.connect({"path": str(folder / ".issue-core" / "issues.db"), "identity": "bench"})
    try:
        found = backend.list_issues(IssueFilter(state=[IssueState.OPEN], limit=count))
    finally:
        backend.close()
    if len(found) < count:
        raise SystemExit(f"the store has {len(found)} open issues, the bench claims {count}")
    return [issue.number for issue in found]


# -- the report -----------------------------------------------------------------------------


def report(figures: dict[str, Any]) -> bool:
    """Print the tables; whether every target is met."""
    met = True
    cost = figures["context"]
    names = cost["tokenizers"]
    print(f"load average before: {figures['load_before']}, after: {figures['load_after']}")
    print(f"tokenizers: {', '.join(names) or 'none loaded (chars/4 only)'}\n")
    head = " | ".join(["chars", "chars/4", *names])
    print(f"| tools/list | {head} |\n|---|" + "---:|" * (2 + len(names)))
    for label in ("default", "--read-only"):
        rows = [(f"**{label}: whole answer**", cost[label]["whole"])]
        if label == "default":
            rows += [(f"`{name}`", size) for name, size in cost[label]["tools"].items()]
        for title, size in rows:
            cells = " | ".join(f"{size[key]:,}" for key in ["chars", "chars/4", *names])
            print(f"| {title} | {cells} |")
    whole = cost["default"]["whole"]
    worst = max(whole[key] for key in ["chars/4", *names])
    ok = worst <= TOOLS_TOKENS
    met &= ok
    print(f"\ndefault tools/list: at most {worst:,} tokens (target ≤ {TOOLS_TOKENS:,} "
          f"{'✅' if ok else '❌'})\n")  # fmt: skip

    print("| issues_list on 1,000 issues | issues | pages | largest page chars | chars/4 | "
          + " | ".join(names) + " |")  # fmt: skip
    print("|---|" + "---:|" * (4 + len(names)))
    for label, size in figures["pages"].items():
        cells = [size["issues"], size["pages"], size["max_chars"], size["max_chars/4"]]
        cells += [size[f"max_{name}"] for name in names]
        print(f"| {label} | " + " | ".join(f"{c:,}" for c in cells) + " |")
        worst = max([size["max_chars/4"], *(size[f"max_{name}"] for name in names)])
        met &= worst <= PAGE_TOKENS
    print(f"(target ≤ {PAGE_TOKENS:,} tokens a page)\n")

    print(f"| warm server over stdio ({figures['protocol']}), {figures['calls']} calls each "
          "| median ms | p90 ms | "
          "max ms | target |\n|---|---:|---:|---:|---|")  # fmt: skip
    for name, row in figures["latency"].items():
        target = ""
        if not name.startswith("tools/list"):
            ok = row["median_ms"] <= CALL_MS
            met &= ok
            target = f"≤ {CALL_MS:g} ms {'✅' if ok else '❌'}"
        print(f"| {name} | {row['median_ms']} | {row['p90_ms']} | {row['max_ms']} | {target} |")

    print(f"\n| cold start, median of {figures['runs']} | median ms | x floor |\n|---|---:|---:|")
    for name, row in figures["cold"].items():
        print(f"| `{name}` | {row['median_ms']} | {row['ratio']} |")
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100, help="calls per tool family")
    parser.add_argument("--runs", type=int, default=15, help="cold starts")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    _import_path()
    from bench.startup import build_store

    python = sys.executable
    # Measure what an installed package does: with bytecode, never recompiling per process.
    subprocess.run([python, "-m", "compileall", "-q", str(ROOT / "issue_core")], check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    issue = str(Path(python).with_name("issue"))
    work = Path(tempfile.mkdtemp(prefix="issue-core-bench-mcp-"))
    store = work / "store"
    store.mkdir()
    build_store(store, 1_000)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ISSUE_CORE_")},
        "ISSUE_CORE_CONFIG_DIR": str(work / "config"),
        "ISSUE_CORE_USER": "bench",
        "ISSUE_CORE_CACHE_DIR": str(work / "cache"),
    }
    figures: dict[str, Any] = {
        "calls": args.calls,
        "runs": args.runs,
        "load_before": [round(x, 2) for x in os.getloadavg()],
    }
    figures["context"] = context_cost(issue, store, env)
    figures.update(warm_server(issue, store, env, args.calls, open_issues(store, 10 + args.calls)))
    figures["cold"] = cold_start(issue, store, env, args.runs)
    figures["load_after"] = [round(x, 2) for x in os.getloadavg()]
    met = report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
