"""The one backoff curve (``core/backoff.py``) and the callers that use it with their budget."""

from __future__ import annotations

import ast
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from issue_core.backends._http.retry import RetryPolicy
from issue_core.core.backoff import EQUAL_JITTER, backoff
from issue_core.core.errors import RateLimited

PACKAGE = Path(__file__).resolve().parents[2] / "issue_core"

steps = st.integers(min_value=-3, max_value=40)
seconds = st.floats(min_value=0.01, max_value=100.0)
unit = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)


@given(steps, seconds, seconds, unit)
def test_the_jittered_wait_stays_within_its_spread_of_the_capped_curve(step, base, cap, r):
    ceiling = min(base * 2 ** max(step, 0), cap)
    delay = backoff(step, base=base, cap=cap, spread=(0.8, 1.2), rand=lambda: r)
    assert 0.8 * ceiling - 1e-9 <= delay <= 1.2 * ceiling + 1e-9
    assert backoff(step, base=base, cap=cap) == ceiling


@given(steps, seconds, seconds, st.floats(min_value=0.0, max_value=1000.0))
def test_a_rate_limit_s_hint_wins_only_when_longer(step, base, cap, hint):
    limited = RateLimited("slow down", retry_after=hint)
    assert backoff(step, base=base, cap=cap, exc=limited) == max(
        min(base * 2 ** max(step, 0), cap), hint
    )


@given(st.integers(min_value=1, max_value=12), unit)
def test_the_http_retry_policy_is_the_curve_with_equal_jitter(retry_number, r):
    policy = RetryPolicy(base_delay=0.5, max_delay=8.0, rand=lambda: r)
    expected = backoff(retry_number - 1, base=0.5, cap=8.0, spread=EQUAL_JITTER, rand=lambda: r)
    assert policy.delay(retry_number) == expected
    ceiling = min(0.5 * 2 ** (retry_number - 1), 8.0)
    assert ceiling / 2 <= policy.delay(retry_number) <= ceiling  # half fixed, half random


def test_no_module_writes_an_exponential_curve_of_its_own():
    """One backoff: an exponent of 2 (``2 ** n``) appears only in core/backoff.py."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "backoff.py" and path.parent.name == "core":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.BinOp)
                and isinstance(node.op, ast.Pow)
                and isinstance(node.left, ast.Constant)
                and node.left.value == 2
                and not isinstance(node.right, ast.Constant)  # 2**63 is a limit, not a curve
            ):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert found == []
