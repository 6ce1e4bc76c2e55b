"""A case's short reference (`{case.ref}`, e.g. NW-7KQ2XM): what a customer can quote in a DM,
an email or on the phone, and what ingest looks up to find the case.

Derived from the case id alone, so the workflow, ingest and the store compute the same one.
Crockford base32 without I, L, O, U: nothing a person misreads or types wrong. Six characters
give about 10^9 codes: among a brand's thousand open cases the chance two share one is under
one in two thousand, and the store's mapping keeps the case that was opened last.
"""

import hashlib
import re

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 6
MAX_INITIALS = 3
MAX_REF_LENGTH = MAX_INITIALS + 1 + CODE_LENGTH
# A reference quoted in free text: initials, a dash (or a space), the code; any case.
REF_PATTERN = re.compile(rf"\b([A-Za-z]{{1,{MAX_INITIALS}}})[- ]?([0-9A-Za-z]{{{CODE_LENGTH}}})\b")


def initials(brand: str) -> str:
    """The brand's initials in capitals ("Northwind Air" -> "NA"); "CF" for a brand with none."""
    words = re.findall(r"[A-Za-z]+", brand)
    letters = "".join(w[0] for w in words)[:MAX_INITIALS].upper()
    return letters or "CF"


def case_ref(brand: str, case_id: str) -> str:
    """The short reference of case `case_id` of `brand`."""
    digest = int.from_bytes(hashlib.sha256(case_id.encode("utf-8")).digest()[:8], "big")
    code = ""
    for _ in range(CODE_LENGTH):
        digest, index = divmod(digest, len(ALPHABET))
        code += ALPHABET[index]
    return f"{initials(brand)}-{code}"


def refs_in(text: str, brand: str) -> list[str]:
    """The brand's case references quoted in `text`, normalised ("nw 7kq2xm" -> "NW-7KQ2XM")."""
    wanted = initials(brand)
    found: list[str] = []
    for match in REF_PATTERN.finditer(text[:20_000]):
        head, code = match[1].upper(), match[2].upper()
        code = code.replace("O", "0").replace("I", "1").replace("L", "1")
        if head == wanted and all(c in ALPHABET for c in code):
            ref = f"{head}-{code}"
            if ref not in found:
                found.append(ref)
    return found
