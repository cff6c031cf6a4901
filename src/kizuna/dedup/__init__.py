"""名寄せ: finding the records that describe the same person or company.

``find_matches`` scores pairs of records, ``cluster`` groups them; see
docs/dedup.md for how the score works.
"""
