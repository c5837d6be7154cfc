"""The per-pair columns the comparison levels are read from, gathered from records prepared
once (:mod:`identity.prepared`).

Codes are gathered for both sides of each pair; string similarities come from the value-pair
memos; a list with more than one value (a second mobile, an old e-mail) is intersected the
usual way, for the few pairs that have one; birth dates are compared as digits.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from identity.pairsim import MISSING, Scorer, digit_edits, name_prefix, rapid, similarity
from identity.prepared import LISTS, Prepared, shares_of


def _intersections(prep: Prepared, lpos: np.ndarray, rpos: np.ndarray) -> dict[str, np.ndarray]:
    """Per list: does the pair share a value; for strong mobiles / e-mails also the TF share
    of the first shared one (what the TF adjustment reads)."""
    a = prep.arrays
    out: dict[str, np.ndarray] = {}
    for name in LISTS:
        first_l, first_r = a[f"{name}_1"][lpos], a[f"{name}_1"][rpos]
        long_rows = a[f"{name}_long"][lpos] | a[f"{name}_long"][rpos]
        shared = (first_l != MISSING) & (first_l == first_r) & ~long_rows
        rows = np.flatnonzero(long_rows)
        common = None
        if len(rows):
            lists = prep.lists.get_column(name)
            common = lists.gather(lpos[rows]).list.set_intersection(lists.gather(rpos[rows]))
            shared[rows] = (common.list.len() > 0).fill_null(False).to_numpy()
        out[name] = shared
        if name in prep.shares:
            share = np.zeros(len(shared), dtype=np.float32)
            share[shared] = prep.shares[name][first_l[shared]]
            if common is not None:
                share[rows] = shares_of(common.list.first(), prep.tables[name]).to_numpy()
            out[f"{name}_share"] = share
    return out


def _dates(prep: Prepared, lpos: np.ndarray, rpos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edit distances (capped at 2; 0 same, 99 missing) of the two birth dates written
    ``%Y%m%d`` and of their years, as the levels read them."""
    a = prep.arrays
    both = a["has_dob"][lpos] & a["has_dob"][rpos]
    odd = both & (a["odd_dob"][lpos] | a["odd_dob"][rpos])
    dl_dob = np.where(both, 0.0, 99.0)
    dl_year = dl_dob.copy()
    rows = np.flatnonzero(both & ~odd)
    left, right = a["ymd"][lpos[rows]], a["ymd"][rpos[rows]]
    dl_dob[rows] = digit_edits(left, right)
    dl_year[rows] = digit_edits(left[:, :4], right[:, :4])
    rows = np.flatnonzero(odd)
    if len(rows):
        dob = prep.frame.get_column("dob")
        edits = rapid(DamerauLevenshtein.distance)
        for fmt, out in (("%Y%m%d", dl_dob), ("%Y", dl_year)):
            texts_l = dob.gather(lpos[rows]).dt.strftime(fmt).to_numpy().astype(object)
            texts_r = dob.gather(rpos[rows]).dt.strftime(fmt).to_numpy().astype(object)
            out[rows] = edits(texts_l, texts_r)
    return dl_dob, dl_year


def pair_frame(
    prep: Prepared, lpos: np.ndarray, rpos: np.ndarray, *, typo_edits: int, near_edits: int
) -> pl.DataFrame:
    """Both records' columns (``_l`` / ``_r``) and the pair's similarities, for the pairs of
    record positions (``lpos[i]``, ``rpos[i]``). ``dl_el`` and ``dl_em`` are exact only where the
    e-mail level can depend on them (an e-mail typo needs the same digits and domain; a near
    address, no shared address, like against like, lengths within ``near_edits``): elsewhere
    they only say "further than ``typo_edits`` / ``near_edits``"."""
    a, v = prep.arrays, prep.values
    jw = rapid(JaroWinkler.normalized_similarity)

    def both(name: str) -> tuple[np.ndarray, np.ndarray]:
        return a[name][lpos], a[name][rpos]

    def sim(name: str, left: str, right: str, score: Scorer) -> np.ndarray:
        """Names and cities: 1 when equal, 0 when missing (as rapidfuzz's similarity says)."""
        memo = prep.memo(name, left, right)
        pair = (v[left], v[right])
        return similarity(
            a[left][lpos], a[right][rpos], pair, score, same=1.0, missing=0.0, memo=memo
        )

    shared = _intersections(prep, lpos, rpos)
    digits_l, digits_r = both("digits")
    domain_l, domain_r = both("domain")
    typo_only = (
        a["el_long"][lpos]
        & (digits_l != MISSING)
        & (digits_l == digits_r)
        & (domain_l != MISSING)
        & (domain_l == domain_r)
    )
    edits = DamerauLevenshtein.distance
    dl_el = similarity(
        *both("el"), (v["el"], v["el"]), rapid(edits, typo_edits), same=0, missing=99,
        only=typo_only, skipped=typo_edits + 1,
    )  # fmt: skip
    len_l, len_r = both("em_len")
    free_l, free_r = both("free")
    work_l, work_r = both("work")
    near_only = (
        ((free_l & free_r) | (work_l & work_r))
        & ~shared["mail"]
        & ~((dl_el <= typo_edits) & typo_only)
        & a["em_long"][lpos]
        & (np.abs(len_l - len_r) <= near_edits)
    )
    dl_em = similarity(
        *both("em"), (v["em"], v["em"]), rapid(edits, near_edits), same=0, missing=99,
        only=near_only, skipped=near_edits + 1,
    )  # fmt: skip
    dl_dob, dl_year = _dates(prep, lpos, rpos)
    left = prep.frame.select(pl.all().gather(lpos)).rename(lambda c: f"{c}_l")
    right = prep.frame.select(pl.all().gather(rpos)).rename(lambda c: f"{c}_r")
    pairs = pl.DataFrame(
        {
            "jw_fn": sim("jw_fn", "lfn", "lfn", jw),
            "jw_ln": sim("jw_ln", "lln", "lln", jw),
            "jw_city": sim("jw_city", "city", "city", jw),
            "jw_x1": sim("jw_x1", "lfn", "lln", jw),
            "jw_x2": sim("jw_x2", "lln", "lfn", jw),
            # equal names need no prefix: they agree at the typo level or better anyway
            "prefix": sim("prefix", "lfn", "lfn", name_prefix) > 0.5,
            "dl_year": dl_year,
            "dl_dob": dl_dob,
            "dl_el": dl_el,
            "dl_em": dl_em,
            "anyphone": shared["phone"],
            "mail": shared["mail"],
            "strong_mob": shared["mob"],
            "strong_mail": shared["smail"],
            "alts": shared["alts"],
            "tf_mobiles": shared["mob_share"],
            "tf_emails": shared["smail_share"],
        }
    )
    return pl.concat([left, right, pairs], how="horizontal")
