"""A connection cut by the link at a chosen byte: after the whole request went up (the server
committed, the answer is lost) or in the middle of the request (the server applied nothing).
The retry of the very same request then reports duplicates, or applies; never twice.
"""
import pytest

from bench import data
from bench.harness import free_port, seed_for_first_cut
from bench.phone import RawPhone

TIME_LIMIT = 60
DROP_PROB = 0.5


def _count(server, table):
    return server.sql(f"select count(*) from {table}")[0][0]


@pytest.mark.parametrize("cut", ["after_request", "mid_request"])
def test_cut_connection_then_retry_applies_once(cut, database_url, servers, proxies):
    server = servers(database_url, workers=1)
    phone = RawPhone.login(server.port)
    for args in data.registrations(5, seed=11):
        phone.queue("register_resident", args)
    bad = data.registrations(1, seed=12)[0] | {"nik": "12345"}  # rejected: NIK not 16 digits
    phone.queue("register_resident", bad)

    # One request, sent twice byte for byte (the phone re-sends the same outbox).
    envelope = phone.envelope(phone.outbox)
    port = free_port()  # known before the link starts: the Host header is part of the size
    size = phone.request_size(envelope, port=port)
    window = (size + 1, size + 60) if cut == "after_request" else (size // 2, size - 1)
    max_bytes = window[1]
    seed = seed_for_first_cut(DROP_PROB, max_bytes, *window, then_clean=2)
    link = proxies(server.port, port=port, kbps=0, rtt_ms=0, drop_prob=DROP_PROB,
                   drop_max_bytes=max_bytes, seed=seed)

    first = phone.post(None, port=link.port, envelope=envelope)
    assert first.status is None, f"the link should have cut this request: {first}"
    phone.absorb(first)
    assert len(phone.outbox) == 6, "nothing was acknowledged: the outbox keeps everything"

    server_last = server.sql("select last_mutation_id from clients where client_id = :c",
                             c=phone.client_id)[0][0]
    if cut == "after_request":
        # The server committed the whole batch; only its answer was lost.
        assert server_last == 6
        assert _count(server, "residents") == 5
        assert _count(server, "rejected_mutations") == 1
    else:
        assert server_last == 0
        assert _count(server, "residents") == 0

    retry = phone.post(None, port=link.port, envelope=envelope)
    assert retry.status == 200, retry
    results = {r["id"]: r for r in retry.data["results"]}
    expected = "duplicate" if cut == "after_request" else None
    for mid in range(1, 6):
        assert results[mid]["status"] == (expected or "applied")
    # The rejection is repeated with its reason, so "perlu perbaikan" is never lost.
    assert results[6]["status"] == (expected or "rejected")
    assert results[6]["code"] == "validation_error" and "nik" in results[6]["fields"]
    phone.absorb(retry)
    assert phone.outbox == []

    assert _count(server, "residents") == 5
    assert _count(server, "resident_events") == 5
    assert _count(server, "rejected_mutations") == 1

    stats = link.stop()
    assert stats["connections_dropped"] == 1 and stats["tcp_connections"] == 2, stats
