"""Checks of the identity numbers an applicant gives (申请者证件号码).

- 居民身份证 (GB 11643-1999 公民身份号码): the pure checks live in ``core.idnumbers`` (the data domain's
  quality rules use them too); they are re-exported here under their old names.
- 统一社会信用代码 (GB 32100-2015): ``org.service.uscc``.
"""

from __future__ import annotations

from countyos.core.idnumbers import CHECK, EARLIEST_BIRTH, WEIGHTS, resident_birth, resident_check_char, resident_id_ok

__all__ = ["CHECK", "EARLIEST_BIRTH", "WEIGHTS", "resident_birth", "resident_check_char", "resident_id_ok"]
