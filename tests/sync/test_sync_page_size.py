"""The request's optional `page_size` (a phone on a link that keeps dropping asks for small
pull pages): it lowers the server's page, never raises it, and a bad value is a 400 that
applies nothing."""
import pytest
from sqlalchemy import func, select

from sync.engine import process_sync
from sync.errors import EnvelopeError
from sync.models import Resident
from sync_kit import NOW


def _sync(kit, client, mutations=(), *, cursor=None, page_size=None, server_page=200):
    body = kit.body(client, mutations, cursor)
    if page_size is not None:
        body["page_size"] = page_size
    response = process_sync(kit.session, actor=kit.actor(client.user_id), client=client,
                            body=body, now=NOW, page_size=server_page)
    kit.session.commit()
    return response


def test_page_size_lowers_the_page_and_paging_resumes_from_the_cursor(session, kit):
    client = kit.client(user_id=1)
    mutations = [kit.mutation(client, "register_resident", kit.register_args()) for _ in range(5)]
    first = _sync(kit, client, mutations, page_size=2)
    assert first["last_mutation_id"] == 5  # every mutation applied, only the page is small
    assert (len(first["changes"]["residents"]), first["more"]) == (2, True)
    seen = [r["resident_id"] for r in first["changes"]["residents"]]
    cursor = first["cursor"]
    while True:
        page = _sync(kit, client, cursor=cursor, page_size=2)
        seen += [r["resident_id"] for r in page["changes"]["residents"]]
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert sorted(seen) == sorted(m["args"]["resident_id"] for m in mutations)
    assert len(seen) == len(set(seen))


def test_page_size_never_raises_the_servers_page(session, kit):
    client = kit.client(user_id=1)
    mutations = [kit.mutation(client, "register_resident", kit.register_args()) for _ in range(3)]
    response = _sync(kit, client, mutations, page_size=500, server_page=2)
    assert (len(response["changes"]["residents"]), response["more"]) == (2, True)


@pytest.mark.parametrize("bad", [0, 501, "5", 2.5, -1])
def test_a_bad_page_size_is_refused_and_applies_nothing(session, kit, bad):
    client = kit.client(user_id=1)
    mutation = kit.mutation(client, "register_resident", kit.register_args())
    with pytest.raises(EnvelopeError) as caught:
        _sync(kit, client, [mutation], page_size=bad)
    assert caught.value.code == "validation_error"
    assert "page_size" in caught.value.fields
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Resident)) == 0
