-- The focus records' stored keys (not the batch's) small enough to pair on: their holders are
-- picked from the stored keys in Python (``identity.storedkeys``) as ``old_holders``.
SELECT h.kid FROM hsizes AS h JOIN wanted AS w ON w.kid = h.kid WHERE h.n <= h.cap
