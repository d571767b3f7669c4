"""The demo build's one-step-ahead generation: same results as computing in turn, errors where they belong."""

from __future__ import annotations

import threading

import pytest

from daivi_data.demo import pricing
from daivi_data.demo.ahead import Ahead


def test_results_equal_direct_calls_and_the_next_step_runs_in_the_background():
    threads: list[str] = []

    def square(n: int) -> int:
        threads.append(threading.current_thread().name)
        return n * n

    ahead = Ahead(square, lambda args: (args[0] + 1,) if args[0] < 3 else None)
    assert [ahead(n) for n in range(4)] == [0, 1, 4, 9]
    assert threads[0] == threading.current_thread().name  # nothing was predicted for the first call
    assert all(name.startswith("demo-ahead") for name in threads[1:])  # every later step was computed ahead
    assert len(threads) == 4  # and nothing past the last step


def test_a_mispredicted_step_is_computed_for_the_arguments_asked():
    ahead = Ahead(lambda n: n * 10, lambda args: (args[0] + 1,))
    assert ahead(1) == 10
    assert ahead(5) == 50  # predicted 2, asked 5: the answer is for 5


def test_an_error_of_a_background_step_is_raised_by_the_call_that_asks_for_it():
    def fail_on_two(n: int) -> int:
        if n == 2:
            raise ValueError("step 2 failed")
        return n

    ahead = Ahead(fail_on_two, lambda args: (args[0] + 1,) if args[0] < 2 else None)
    assert ahead(1) == 1  # step 2 fails in the background: not yet anybody's error
    with pytest.raises(ValueError, match="step 2 failed"):
        ahead(2)


def test_prices_come_from_the_table_and_an_unknown_usage_is_refused():
    assert pricing.EC2_PRICES["m5.large"] == 0.096
    assert pricing.REGION_PREFIX["eu-west-1"] == "EU"
    assert pricing.usage_price("AWSLambda Request") == {"rate": 0.0000002,
                                                         "desc": "AWS Lambda - Total Requests - US East (N. Virginia)"}
    with pytest.raises(KeyError):
        pricing.usage_price("AmazonEC2 NoSuchUsage")
