"""An officer's scope is their own kecamatan, whatever the assignment rows say."""
from sqlalchemy import select

from server.extensions import db
from server.models import Assignment, User

JUAI_DESA = "6311012001"


def _stray_assignment(app, username="petugas", desa=JUAI_DESA):
    # Written straight into the table: the forms and `create-user` refuse it, but data made
    # by older code or by hand must still not open another kecamatan.
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        db.session.add(Assignment(user_id=user.id, desa_code=desa))
        db.session.commit()


def test_stray_assignment_in_another_kecamatan_opens_nothing(app, device, make_registration):
    juai = device.login("petugas_juai")
    res = device.sync(juai, [make_registration(1, desa=JUAI_DESA, name="Warga Juai Uji")])
    assert res.get_json()["results"][0]["status"] == "applied"

    _stray_assignment(app)
    phone = device.login("petugas")
    assert JUAI_DESA not in {d["code"] for d in phone["desa"]}
    pulled = device.sync(phone).get_json()
    assert all(r["desa_code"].startswith("631104") for r in pulled["changes"]["residents"])
    assert "Warga Juai Uji" not in str(pulled)

    refused = device.sync(phone, [make_registration(1, desa=JUAI_DESA, name="Warga Salah")])
    result = refused.get_json()["results"][0]
    assert result["status"] == "rejected" and result["code"] == "desa_not_assigned"


def test_desa_codes_keep_only_the_users_kecamatan(app):
    _stray_assignment(app)
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == "petugas")).scalar_one()
        assert user.desa_codes == frozenset({"6311042005", "6311042001"})
