"""Strong identifiers: the mobiles and non-role e-mails of each record that are not weak."""

import polars as pl

from identity.guards import strong_identifiers

RECORDS = pl.DataFrame(
    {
        "rid": [0, 1, 2, 3, 4],
        "mobiles": [["79160000001", "79160000002"], [], None, ["79990000000"], ["79160000002"]],
        "emails": [["a@mail.ru", "info@firm.ru"], ["x@bk.ru"], None, [], ["b@list.ru", None]],
        "eroles": [[False, True], [False], None, [], [False, None]],
    },
    schema_overrides={"rid": pl.UInt32},
)


def test_weak_values_role_mailboxes_and_nulls_are_left_out() -> None:
    weak = pl.Series(["79160000002", "x@bk.ru"])  # a shared mobile, a family mailbox
    out = strong_identifiers(RECORDS, weak)
    assert out["smobiles"].to_list() == [["79160000001"], [], [], ["79990000000"], []]
    assert out["semails"].to_list() == [["a@mail.ru"], [], [], [], ["b@list.ru"]]
    assert out.drop("smobiles", "semails").equals(RECORDS)


def test_a_slice_keeps_its_own_rows() -> None:
    # a slice shares its parent's buffers: only its own lists may be read
    out = strong_identifiers(RECORDS.slice(3, 2), pl.Series([], dtype=pl.String))
    assert out["smobiles"].to_list() == [["79990000000"], ["79160000002"]]
    assert out["semails"].to_list() == [[], ["b@list.ru"]]
