"""E-mail cells: clean → validate → match keys.

The e-mail we emit is what the customer typed, made canonical (local part lower-cased, domain
lower-cased and IDNA-encoded). The match key goes further: it folds what mail providers treat
as the same mailbox (Gmail dots, `+tags`, Yandex alias domains and `-`≡`.`) and fixes common
domain typos. Typos are corrected in the key only, so the e-mail stays true to the source.

>>> cell = parse_email_cell("Ivan.Petrov+shop@GMAIL.con")
>>> cell.emails, cell.keys, cell.flags
(('ivan.petrov+shop@gmail.con',), ('ivanpetrov@gmail.com',), ('email_domain_typo',))
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import polars as pl
from email_validator import EmailNotValidError, validate_email

FLAG_ORDER = ("email_invalid", "email_test", "email_role", "email_domain_typo", "email_multiple")
_SEP = "\x1f"  # joins list items on the way to polars; cannot occur in a valid address


@dataclass(frozen=True, slots=True)
class EmailCell:
    """Valid addresses in one raw cell, their match keys (aligned) and cell-level flags."""

    emails: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()


_EMPTY = EmailCell()

_MAILTO = re.compile(r"(?i)mailto:")
_AT = re.compile(r"\s*@\s*")
_SPLIT = re.compile(r"[,;\s]+")
_WRAPPERS = "<>\"'()[]{}«»“”„`:."
# A subset of what email-validator accepts; anything outside it goes through the library.
_SIMPLE = re.compile(
    r"^[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)
_SPECIAL_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Mailboxes of a company, not of a person: fine to keep, risky to merge people on.
_ROLE = _words(
    "info sales office zakaz mail support admin administrator hr buh buhgalter buhgalteria bux "
    "accounting finance secretary sekretar reception priem contact contacts hello manager "
    "marketing noreply no-reply pr press job jobs kadry order orders shop service team welcome "
    "director dir post postmaster webmaster abuse billing help feedback opt zakupki snab tender "
    "client clients partner partners inbox corp mailbox"
)
_TEST_LOCAL = re.compile(
    r"^(?:test\d*|testtest|tester|asdf+|asd|qwe|qwer|qwerty\d*|a+|x+|abc|abcd|fake|demo|sample"
    r"|example|no-?e?mail|none|null|empty|net|nety|нет)$"
)
_TEST_DOMAINS = _words(
    "example.com example.ru example.org example.net test.ru test.com tests.ru domain.ru "
    "domain.com site.ru site.com email.test mailinator.com noemail.ru nomail.ru"
)

# Alias domains that deliver to the same mailbox (not typos).
_ALIASES = {
    "ya.ru": "yandex.ru",
    "yandex.com": "yandex.ru",
    "yandex.by": "yandex.ru",
    "yandex.kz": "yandex.ru",
    "yandex.ua": "yandex.ru",
    "narod.ru": "yandex.ru",
    "googlemail.com": "gmail.com",
}
# Free-mail second-level labels and their one true top-level domain.
_KNOWN = {
    "mail": "ru",
    "bk": "ru",
    "inbox": "ru",
    "list": "ru",
    "internet": "ru",
    "yandex": "ru",
    "ya": "ru",
    "rambler": "ru",
    "gmail": "com",
    "icloud": "com",
    "outlook": "com",
    "hotmail": "com",
}
_LABEL_TYPOS = {
    **dict.fromkeys(["maill", "mial", "meil", "mael", "mali", "maiil"], "mail"),
    **dict.fromkeys(
        ["gmial", "gmai", "gmal", "gamil", "gmaill", "gnail", "gmil", "gmali", "gmaik"], "gmail"
    ),
    **dict.fromkeys(
        ["yandx", "yadex", "yanex", "yandeks", "jandex", "yndex", "yamdex", "yandexx"], "yandex"
    ),
    **dict.fromkeys(["rambel", "rambller", "ramber", "ramblet"], "rambler"),
}
_TLD_TYPOS = {
    "ru": frozenset({"ry", "ri", "rj", "tu", "r", "rr", "ruu", "ru.ru", "ru.com"}),
    "com": frozenset({"con", "cm", "co", "comm", "cpm", "vom", "xom", "om", "c0m", "com.ru"}),
}
# Cyrillic letters typed into a Latin domain (`yandeх.ru` with a Cyrillic х).
_HOMOGLYPHS = str.maketrans("аеорсхуікмнтв", "aeopcxyikmhtb")


def _validate(token: str) -> tuple[str, str, str] | None:
    """(lower-cased local part, IDNA domain, Unicode domain) or None when invalid."""
    lowered = token.lower()
    if (
        _SIMPLE.match(lowered)
        and "--" not in lowered.partition("@")[2]
        and len(lowered.partition("@")[0]) <= 64
        and len(lowered) <= 254
        and lowered.rpartition(".")[2] not in _SPECIAL_TLDS
    ):
        local, _, domain = lowered.partition("@")
        return local, domain, domain
    try:
        result = validate_email(token, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError:
        return None
    return result.local_part.lower(), result.ascii_domain, result.domain.lower()


def canonical_domain(domain: str) -> tuple[str, bool]:
    """Domain for the match key, and whether a typo was corrected (aliases are not typos)."""
    if domain in _ALIASES:
        return _ALIASES[domain], False
    folded = domain
    if not domain.isascii() and any("a" <= ch <= "z" for ch in domain):
        folded = domain.translate(_HOMOGLYPHS)  # mixed scripts only: почта.рф stays
    if not folded.isascii():
        return domain, False
    label, _, tld = folded.partition(".")
    fixed = _LABEL_TYPOS.get(label, label)
    canonical_tld = _KNOWN.get(fixed)
    if canonical_tld is None or (tld != canonical_tld and tld not in _TLD_TYPOS[canonical_tld]):
        return domain, False
    corrected = f"{fixed}.{canonical_tld}"
    return _ALIASES.get(corrected, corrected), corrected != domain


def is_role(local: str) -> bool:
    """True for shared company mailboxes such as info@, zakaz@, buh@."""
    return local.partition("+")[0] in _ROLE


def is_test(local: str, domain: str) -> bool:
    """True for placeholders: test@test.ru, asdf@…, 123@…, anything @example.com."""
    if domain in _TEST_DOMAINS or _TEST_LOCAL.match(local):
        return True
    return local.isdigit() and (len(local) <= 3 or len(set(local)) == 1 or local in "1234567890")


def email_key(local: str, ascii_domain: str, unicode_domain: str = "") -> tuple[str, bool]:
    """Match key for one valid address, and whether a domain typo was corrected.

    The Unicode form of the domain, when given, lets typos typed in Cyrillic be caught.
    """
    key_domain, typo = canonical_domain(unicode_domain or ascii_domain)
    if not typo and key_domain == (unicode_domain or ascii_domain):
        key_domain = ascii_domain
    head, plus, _tag = local.partition("+")
    key_local = head if plus and head else local
    if key_domain == "gmail.com":
        key_local = key_local.replace(".", "")
    elif key_domain == "yandex.ru":
        key_local = key_local.replace("-", ".")
    return f"{key_local}@{key_domain}", typo


def parse_email_cell(raw: str | None) -> EmailCell:
    """Every valid address in a raw cell with its match key; invalid and test ones are flagged."""
    if raw is None:
        return _EMPTY
    text = _AT.sub("@", _MAILTO.sub(" ", unicodedata.normalize("NFKC", raw)))
    tokens = [t.strip(_WRAPPERS) for t in _SPLIT.split(text)]
    tokens = [t for t in tokens if t]
    if not tokens:
        return _EMPTY
    addresses = [t for t in tokens if "@" in t]
    flags: set[str] = set() if addresses else {"email_invalid"}
    found: dict[str, str] = {}
    for token in addresses:
        parts = _validate(token)
        if parts is None:
            flags.add("email_invalid")
            continue
        local, ascii_domain, unicode_domain = parts
        if is_test(local, ascii_domain):
            flags.add("email_test")
            continue
        key, typo = email_key(local, ascii_domain, unicode_domain)
        if typo:
            flags.add("email_domain_typo")
        if is_role(local):
            flags.add("email_role")
        found.setdefault(f"{local}@{ascii_domain}", key)
    if len(found) > 1:
        flags.add("email_multiple")
    ordered = tuple(f for f in FLAG_ORDER if f in flags)
    return EmailCell(tuple(found), tuple(found.values()), ordered)


_LISTS = ("emails", "email_keys", "email_flags")


def _fast(uniques: pl.Series) -> pl.DataFrame:
    """One plain lower-case-able ASCII address per cell, checked and keyed in polars.

    The same rules as `parse_email_cell` on the cells it accepts (a test compares them);
    domains are canonicalised once per distinct domain. Anything else goes to the slow path.
    """
    frame = pl.DataFrame({"raw": uniques}).with_columns(
        email=pl.col("raw").str.strip_chars().str.to_lowercase()
    )
    email = pl.col("email")
    local = email.str.extract(r"^([^@]+)@", 1)
    domain = email.str.extract(r"@(.+)$", 1)
    frame = frame.with_columns(local=local, domain=domain).filter(
        email.str.contains(_SIMPLE.pattern)
        & ~pl.col("domain").str.contains("--", literal=True)
        & (pl.col("local").str.len_chars() <= 64)
        & (email.str.len_chars() <= 254)
        & ~pl.col("domain").str.extract(r"\.([a-z]+)$", 1).is_in(list(_SPECIAL_TLDS))
        & ~pl.col("local").str.contains(r"^[0-9]+$")  # digit rules stay in Python
    )
    domains = frame["domain"].unique().to_list()
    canon = [canonical_domain(d) for d in domains]
    table = pl.DataFrame(
        {"domain": domains, "key_domain": [c[0] for c in canon], "typo": [c[1] for c in canon]},
        schema={"domain": pl.String, "key_domain": pl.String, "typo": pl.Boolean},
    )
    frame = frame.join(table, on="domain", how="left")
    local, key_domain = pl.col("local"), pl.col("key_domain")
    head = local.str.extract(r"^([^+]*)", 1)
    untagged: pl.Expr = (
        pl.when(local.str.contains("+", literal=True) & (head != "")).then(head).otherwise(local)
    )
    key_local: pl.Expr = (
        pl.when(key_domain == "gmail.com")
        .then(untagged.str.replace_all(".", "", literal=True))
        .when(key_domain == "yandex.ru")
        .then(untagged.str.replace_all("-", ".", literal=True))
        .otherwise(untagged)
    )
    test = pl.col("domain").is_in(list(_TEST_DOMAINS)) | local.str.contains(_TEST_LOCAL.pattern)
    role = head.is_in(list(_ROLE))
    flags = pl.concat_str(
        [
            pl.when(test).then(pl.lit("email_test")),
            pl.when(~test & role).then(pl.lit("email_role")),
            pl.when(~test & pl.col("typo")).then(pl.lit("email_domain_typo")),
        ],
        separator=_SEP,
        ignore_nulls=True,
    )
    return frame.select(
        "raw",
        emails=pl.when(~test).then(email),
        email_keys=pl.when(~test).then(key_local + "@" + key_domain),
        email_flags=flags.replace("", None),
    )


def _slow(uniques: list[str]) -> pl.DataFrame:
    cells = [parse_email_cell(r) for r in uniques]
    return pl.DataFrame(
        {
            "raw": uniques,
            "emails": [_SEP.join(c.emails) or None for c in cells],
            "email_keys": [_SEP.join(c.keys) or None for c in cells],
            "email_flags": [_SEP.join(c.flags) or None for c in cells],
        },
        schema=dict.fromkeys(["raw", *_LISTS], pl.String),
    )


def normalize_emails(values: pl.Series) -> pl.DataFrame:
    """Vectorised `parse_email_cell`: one output row per input row, same order.

    Each distinct raw value is handled once: plain single addresses in polars, the rest by
    `parse_email_cell`, then joined back onto the rows.
    """
    raw = values.cast(pl.String).rename("raw")
    uniques = raw.drop_nulls().unique()
    fast = _fast(uniques)
    rest = uniques.filter(~uniques.is_in(fast["raw"].implode()))
    lookup = pl.concat([fast, _slow(rest.to_list())])
    joined = raw.to_frame().join(lookup, on="raw", how="left", maintain_order="left")
    return joined.select(pl.col(c).str.split(_SEP).fill_null([]) for c in _LISTS)
