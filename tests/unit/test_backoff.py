"""The one retry policy: doubling delays up to a limit, starting over after a success."""

from ovn_ic_controller.backoff import Backoff


def test_delays_double_up_to_the_limit_and_a_success_starts_over():
    retry = Backoff(0.5, 8.0)
    assert not retry.waiting(0.0)
    assert [retry.failed(100.0) for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert retry.retry_at == 108.0
    assert retry.waiting(107.9) and not retry.waiting(108.0)
    retry.reset()
    assert not retry.waiting(100.0)
    assert retry.failed(200.0) == 0.5 and retry.retry_at == 200.5
