from __future__ import annotations

import pytest

from tests.identity.tencent_standin import SECRET_ID, SECRET_KEY, FaceIdStandIn, serving


@pytest.fixture
def faceid(settings):
    """The FaceID stand-in, served, and MedBook configured to verify with it."""
    with serving(FaceIdStandIn()) as stand_in:
        settings.MEDBOOK_REALNAME_PROVIDER = "tencent"
        settings.MEDBOOK_TENCENT_SECRET_ID = SECRET_ID
        settings.MEDBOOK_TENCENT_SECRET_KEY = SECRET_KEY
        settings.MEDBOOK_TENCENT_FACEID_URL = stand_in.url
        settings.MEDBOOK_REALNAME_TIMEOUT_SECONDS = 1
        yield stand_in
