"""Synthetic demo residents (made-up names and NIKs), registered through the sync engine."""
import uuid

# (name, sex, birth date, NIK or None, desa code, marital status, vulnerable category)
DEMO_RESIDENTS = (
    ("Siti Aminah (contoh)", "female", "2008-03-14", "6311045403080001", "6311042005", "single", None),
    ("Ahmad Fauzi (contoh)", "male", "2007-11-02", "6311040211070002", "6311042005", "single", None),
    ("Rahmah Wati (contoh)", "female", "1961-06-20", None, "6311042001", "widowed", "remote_community"),
    ("Muhammad Rizki (contoh)", "male", "2009-01-09", "6311040901090003", "6311042002", "single", None),
    ("Nur Hasanah (contoh)", "female", "1995-08-30", "6311017008950004", "6311042002", "married", "natural_disaster"),
)


def demo_mutations():
    """register_resident mutations numbered 1…n with fixed ids, so re-seeding applies nothing."""
    mutations = []
    for number, (name, sex, born, nik, desa, marital, vulnerable) in enumerate(DEMO_RESIDENTS, 1):
        mutations.append({
            "id": number, "name": "register_resident", "at": "2026-11-02T09:00:00+08:00",
            "args": {
                "resident_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"cah-demo-{number}")),
                "desa_code": desa, "name": name, "nik": nik, "kk_number": None, "sex": sex,
                "birth_place": "Balangan", "birth_date": born, "marital_status": marital,
                "address": f"Jalan Contoh No. {number}", "rt": "001", "rw": "002",
                "phone": None, "vulnerable_category": vulnerable, "disability": None,
                "notes": "Data contoh untuk demo; bukan orang sungguhan.",
            },
        })
    return mutations
