"""The one stage label table and its helpers."""
import pytest

from sync.stages import STAGE_LABELS, STAGE_ORDER, STAGES, is_forward, stage_label, stage_rank


def test_labels_are_the_interface_table():
    assert STAGE_LABELS == {
        "listed": "Belum Ditemukan", "found": "Terdata", "verified": "Terverifikasi", "rejected": "Ditolak",
        "picked_up": "Dijemput", "recorded": "Sudah Rekam",
        "sent_to_registry": "Diserahkan ke Disdukcapil", "card_collected": "KTP Diambil",
        "delivered": "KTP Diserahkan",
    }
    assert set(STAGES) == set(STAGE_LABELS)


def test_rank_and_direction():
    assert [stage_rank(code) for code in STAGE_ORDER] == list(range(len(STAGE_ORDER)))
    assert stage_rank("listed") == 0 and stage_rank("rejected") == -1
    assert is_forward("found", "recorded") and not is_forward("recorded", "verified")
    assert is_forward("listed", "found")
    assert not is_forward("rejected", "verified") and not is_forward("found", "rejected")
    assert stage_label("picked_up") == "Dijemput" and stage_label(None) == ""
    with pytest.raises(ValueError):
        stage_rank("lost")
